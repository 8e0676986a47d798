// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * udp_rr.c - request/response latency over UDP, as a control loop sends:
 * one small request at a time, paced, each answered by an echo server.
 *
 *   udp_rr server --port P [--seconds S]
 *       echoes every datagram back to its sender; exits after S seconds
 *       (default 60).
 *   udp_rr client --addr A --port P [--rate R] [--count N] [--seconds S]
 *                 [--size B] [--prio P] [--tos T] [--timeout-ms T]
 *       sends a request of B bytes (default 64) every 1/R seconds (default
 *       1000/s) with SO_PRIORITY P (default 7) and IP TOS T (default 0xb8,
 *       DSCP EF), waits up to T ms (default 100) for its echo (one request in
 *       flight: a late echo is discarded), stops after N requests (default
 *       10000) or S seconds (default 30), whichever comes first.  Prints
 *       "rr: sent=N recv=N lost=N min_us=.. p50_us=.. p90_us=.. p99_us=..
 *       p999_us=.. max_us=.. mean_us=..".
 * Every wait is bounded.  IPv4 and IPv6 addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct msg {
	uint64_t seq;
	uint64_t t_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void set_timeout(int fd, uint64_t ns)
{
	struct timeval tv = {.tv_sec = (time_t)(ns / 1000000000ULL),
			     .tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000)};

	if (!tv.tv_sec && !tv.tv_usec)
		tv.tv_usec = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int parse_addr(const char *a, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	return -1;
}

static int server(int port, double seconds)
{
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9), n = 0;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), off = 0;
	char buf[2048];

	if (fd < 0) {
		perror("udp_rr: socket");
		return 1;
	}
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("udp_rr: bind");
		return 1;
	}
	set_timeout(fd, 200000000ULL);
	printf("rr-server: listening on port %d\n", port);
	fflush(stdout);
	while (now_ns() < end) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (r < 0)
			continue;
		sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&from, fl);
		n++;
	}
	printf("rr-server: echoed=%llu\n", (unsigned long long)n);
	return 0;
}

static uint64_t pct(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(p * (double)n);
	if (i >= n)
		i = n - 1;
	return v[i];
}

static int client(const char *addr, int port, double rate, long count, double seconds, int size,
		  int prio, int tos, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fam = parse_addr(addr, port, &ss, &sl), fd;
	uint64_t *rtt, start, end, next, period, sum = 0;
	long sent = 0, got = 0;
	char buf[2048], rbuf[2048];

	if (fam < 0) {
		fprintf(stderr, "udp_rr: bad address %s\n", addr);
		return 2;
	}
	if (size < (int)sizeof(struct msg))
		size = sizeof(struct msg);
	if (size > (int)sizeof(buf))
		size = sizeof(buf);
	fd = socket(fam, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl)) {
		perror("udp_rr: socket/connect");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)))
		perror("udp_rr: SO_PRIORITY");
	if (fam == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	rtt = calloc((size_t)count, sizeof(*rtt));
	if (!rtt)
		return 1;
	memset(buf, 'x', sizeof(buf));
	period = (uint64_t)(1e9 / rate);
	start = now_ns();
	end = start + (uint64_t)(seconds * 1e9);
	next = start;
	while (sent < count && now_ns() < end) {
		struct msg m = {.seq = (uint64_t)sent, .t_ns = now_ns()};
		uint64_t deadline = m.t_ns + (uint64_t)timeout_ms * 1000000ULL, t;

		memcpy(buf, &m, sizeof(m));
		if (send(fd, buf, (size_t)size, 0) < 0) {
			/* e.g. ECONNREFUSED from an earlier ICMP error: counts as lost */
			sent++;
			goto pace;
		}
		sent++;
		for (;;) {
			ssize_t r;
			struct msg e;

			t = now_ns();
			if (t >= deadline)
				break;
			set_timeout(fd, deadline - t);
			r = recv(fd, rbuf, sizeof(rbuf), 0);
			if (r < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				continue;
			}
			if (r < (ssize_t)sizeof(e))
				continue;
			memcpy(&e, rbuf, sizeof(e));
			if (e.seq != m.seq)
				continue; /* a late echo of an earlier request */
			rtt[got] = now_ns() - m.t_ns;
			sum += rtt[got];
			got++;
			break;
		}
	pace:
		next += period;
		t = now_ns();
		if (next > t) {
			struct timespec ts = {.tv_sec = (time_t)((next - t) / 1000000000ULL),
					      .tv_nsec = (long)((next - t) % 1000000000ULL)};

			nanosleep(&ts, NULL);
		} else if (t - next > 100 * period) {
			next = t; /* far behind (a long stall): do not burst to catch up */
		}
	}
	qsort(rtt, (size_t)got, sizeof(*rtt), cmp_u64);
	printf("rr: sent=%ld recv=%ld lost=%ld min_us=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f "
	       "p999_us=%.1f max_us=%.1f mean_us=%.1f seconds=%.2f\n",
	       sent, got, sent - got, got ? rtt[0] / 1e3 : 0.0, pct(rtt, (size_t)got, 0.5) / 1e3,
	       pct(rtt, (size_t)got, 0.9) / 1e3, pct(rtt, (size_t)got, 0.99) / 1e3,
	       pct(rtt, (size_t)got, 0.999) / 1e3, got ? rtt[got - 1] / 1e3 : 0.0,
	       got ? (double)sum / (double)got / 1e3 : 0.0, (double)(now_ns() - start) / 1e9);
	free(rtt);
	return got ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"addr", required_argument, NULL, 'a'},
		{"port", required_argument, NULL, 'p'},
		{"rate", required_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'n'},
		{"seconds", required_argument, NULL, 's'},
		{"size", required_argument, NULL, 'b'},
		{"prio", required_argument, NULL, 'P'},
		{"tos", required_argument, NULL, 't'},
		{"timeout-ms", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	const char *addr = NULL;
	int port = 7777, size = 64, prio = 7, tos = 0xb8, timeout_ms = 100, c;
	double rate = 1000, seconds = -1;
	long count = 10000;

	if (argc < 2) {
		fprintf(stderr, "usage: udp_rr server --port P [--seconds S]\n"
				"       udp_rr client --addr A --port P [--rate R] [--count N] "
				"[--seconds S] [--size B] [--prio P] [--tos T] [--timeout-ms T]\n");
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'b':
			size = atoi(optarg);
			break;
		case 'P':
			prio = atoi(optarg);
			break;
		case 't':
			tos = (int)strtol(optarg, NULL, 0);
			break;
		case 'T':
			timeout_ms = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (rate <= 0 || count <= 0 || timeout_ms <= 0) {
		fprintf(stderr, "udp_rr: rate, count and timeout must be positive\n");
		return 2;
	}
	if (!strcmp(argv[1], "server"))
		return server(port, seconds > 0 ? seconds : 60);
	if (!strcmp(argv[1], "client") && addr)
		return client(addr, port, rate, count, seconds > 0 ? seconds : 30, size, prio, tos,
			      timeout_ms);
	fprintf(stderr, "udp_rr: server or client --addr A\n");
	return 2;
}
