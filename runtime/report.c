// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * report.c - nascar-apply status and stats: read-only views of the pins
 * and the state directory.
 *
 * Neither takes the apply lock (lock.h): they may run at any time, also
 * during an apply.  The state file is replaced by rename, never written in
 * place, so a reader sees either the old one or the new one.  What the
 * kernel's maps say is the truth that status reports; the state file is
 * compared with it and any disagreement is listed as a problem.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "nascar_abi.h"
#include "nfc.h"
#include "attach.h"
#include "detach.h"
#include "load.h"
#include "lock.h"
#include "log.h"
#include "plan.h"
#include "rt.h"
#include "sched.h"
#include "state.h"

static int open_pins(struct rt_opts *o, struct rt_bpf *b, struct nascar_state *ns,
		     struct nascar_slot_cfg *cfg)
{
	char err[512];
	__u32 k = 0;

	load_init(b);
	if (!load_pins_exist(o->pin_dir))
		return -ENOENT;
	if (load_pinned(b, o->pin_dir, err, sizeof(err)) < 0) {
		pr_err("%s; the pins under %s are incomplete: apply again or detach", err,
		       o->pin_dir);
		return -EINVAL;
	}
	memset(ns, 0, sizeof(*ns));
	memset(cfg, 0, sizeof(*cfg));
	bpf_map_lookup_elem(b->map[NASCAR_M_STATE], &k, ns);
	k = ns->active_slot & 1;
	bpf_map_lookup_elem(b->map[NASCAR_M_SLOTS], &k, cfg);
	return 0;
}

/* ---- status ------------------------------------------------------------- */

#define MAX_PROBLEMS 16

struct problems {
	size_t n;
	char text[MAX_PROBLEMS][384];
};

static void problem(struct problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct problems *p, const char *fmt, ...)
{
	va_list ap;

	if (p->n >= MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(p->text[p->n++], sizeof(p->text[0]), fmt, ap);
	va_end(ap);
}

/* Compares the state file with the kernel's maps and the pins. */
static void check_state(const struct rt_opts *o, const struct rt_state *st, int st_ret,
			const char *st_err, const struct nascar_state *ns,
			const struct nascar_slot_cfg *cfg, const struct live *live, int any_hook,
			struct problems *p)
{
	unsigned int a = ns->active_slot & 1;
	char path[PATH_MAX + 8];
	DIR *d;
	struct dirent *de;

	if (!st->valid) {
		if (st_ret == -ENOENT)
			problem(p,
				"no state file in %s, but pins under %s: an apply was killed before it recorded anything, or the state was removed; apply again, or detach",
				o->state_dir, o->pin_dir);
		else
			problem(p, "the state file cannot be used (%s); apply again, or detach",
				st_err);
	} else {
		if (st->pin_dir[0] && strcmp(st->pin_dir, o->pin_dir) != 0)
			problem(p, "the state file in %s describes pin directory %s, not %s",
				o->state_dir, st->pin_dir, o->pin_dir);
		if (st->generation != ns->generation || st->active_slot != a)
			problem(p,
				"the kernel's maps are at generation %u (slot %u) but the state file says generation %u (slot %u): an apply did not finish; apply again",
				ns->generation, a, st->generation, st->active_slot);
		if (st->slot_hash[a] != cfg->source_hash) {
			char rec[32];

			if (st->slot_hash[a])
				snprintf(rec, sizeof(rec), "policy %016llx",
					 (unsigned long long)st->slot_hash[a]);
			else
				snprintf(rec, sizeof(rec), "no policy");
			problem(p,
				"slot %u of the kernel's maps holds policy %016llx but the state file records %s there: an apply did not finish; apply again",
				a, (unsigned long long)cfg->source_hash, rec);
		}
	}
	if (ns->generation == 0 && cfg->source_hash && any_hook)
		problem(p,
			"generation 0: no apply has finished its switch; slot %u holds policy %016llx, but the attached hooks hand every packet to the stack until one does; apply again to finish",
			a, (unsigned long long)cfg->source_hash);
	for (size_t i = 0; i < st->nifaces; i++) {
		const struct st_iface *s = &st->ifaces[i];

		if ((s->xdp && !live[i].xdp) || (s->tc && !live[i].tc))
			problem(p,
				"%s: a hook that the state file lists is gone (the device was re-created, or someone removed it); apply again",
				s->name);
		else if ((live[i].xdp && !s->xdp) || (live[i].tc && !s->tc))
			problem(p, "%s: a hook is attached that the state file does not list",
				s->name);
	}
	/* link pins that no interface of the state file explains */
	snprintf(path, sizeof(path), "%s/links", o->pin_dir);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char hook[8];
		int ifindex, known = 0;

		if (de->d_name[0] == '.')
			continue;
		if (sscanf(de->d_name, "%7[a-z]_%d", hook, &ifindex) != 2) {
			problem(p, "%s/%s is not a link nascar-apply pins", path, de->d_name);
			continue;
		}
		for (size_t i = 0; i < st->nifaces; i++)
			if (st->ifaces[i].ifindex == ifindex)
				known = 1;
		if (!known)
			problem(p,
				"%s/%s is pinned but the state file lists no interface with ifindex %d; detach removes it",
				path, de->d_name, ifindex);
	}
	if (d)
		closedir(d);
}

/*
 * A device whose state changed since the apply: a veth whose peer turned
 * GRO off no longer takes native XDP redirects, and XDP elsewhere would go
 * on redirecting into it while the kernel drops every such packet.
 */
static void check_devices(const struct rt_bpf *b, const struct rt_state *st,
			  const struct nascar_state *ns, const struct live *live,
			  struct problems *p)
{
	int native = 0;

	for (size_t i = 0; i < st->nifaces; i++)
		native |= live[i].xdp == XDP_NATIVE;
	if (!native)
		return;
	for (size_t i = 0; i < st->nifaces; i++) {
		const struct st_iface *s = &st->ifaces[i];
		struct nascar_ifkey k = {.ifindex = (__u32)s->ifindex, .slot = ns->active_slot & 1};
		struct nascar_iface v;
		struct probe_dev d;

		if (s->ifindex <= 0 || bpf_map_lookup_elem(b->map[NASCAR_M_IFACES], &k, &v) < 0)
			continue;
		if (probe_dev(s->name, &d) < 0 || d.kind == DEV_TAP ||
		    (v.flags & NASCAR_IF_NO_XDP_TX))
			continue;
		if (d.xdp_known && d.ndo_xmit)
			continue;
		problem(p,
			"%s no longer takes native XDP redirects (%s), but the policy in force was applied when it did: native XDP redirects into it are dropped by the kernel; apply the policy again, and XDP hands those packets to TC",
			s->name,
			d.kind == DEV_VETH
				? "a veth takes them only while its peer has GRO on or runs XDP"
				: "the kernel says so");
	}
}

int cmd_status(struct rt_opts *o)
{
	struct nascar_state ns;
	struct nascar_slot_cfg cfg;
	struct rt_state st;
	struct rt_bpf b;
	struct live live[ST_MAX_IFACES];
	struct problems probs;
	char err[512] = "";
	int ret, st_ret, busy, any_hook = 0;

	ret = open_pins(o, &b, &ns, &cfg);
	if (ret == -EINVAL)
		return 1;
	busy = lock_holder(o->pin_dir);
	st_ret = state_read(o->state_dir, &st, err, sizeof(err));
	if (st_ret < 0)
		memset(&st, 0, sizeof(st));
	if (ret == -ENOENT) {
		if (o->json) {
			printf("{\"applied\":false,\"pin_dir\":");
			json_str(stdout, o->pin_dir);
			printf(",\"busy_pid\":%d}\n", busy);
		} else {
			printf("no policy applied (no pins under %s)\n", o->pin_dir);
			if (busy)
				printf("busy: nascar-apply (pid %d) is changing this policy now\n",
				       busy);
		}
		return 0;
	}
	memset(&probs, 0, sizeof(probs));
	for (size_t i = 0; i < st.nifaces; i++) {
		live_hooks(o->pin_dir, st.ifaces[i].ifindex, &live[i]);
		any_hook |= live[i].xdp || live[i].tc;
	}
	check_state(o, &st, st_ret, err, &ns, &cfg, live, any_hook, &probs);
	check_devices(&b, &st, &ns, live, &probs);
	if (o->json) {
		printf("{\"applied\":true,\"pin_dir\":");
		json_str(stdout, o->pin_dir);
		printf(",\"state_dir\":");
		json_str(stdout, o->state_dir);
		printf(",\"source\":");
		json_str(stdout, st.source);
		printf(",\"source_hash\":\"%016llx\",\"generation\":%u,\"active_slot\":%u,\"flows\":%u,\"classes\":%u,\"busy_pid\":%d,\"consistent\":%s,\"problems\":[",
		       (unsigned long long)cfg.source_hash, ns.generation, ns.active_slot & 1,
		       cfg.nflows, cfg.nclasses, busy, probs.n ? "false" : "true");
		for (size_t i = 0; i < probs.n; i++) {
			printf("%s", i ? "," : "");
			json_str(stdout, probs.text[i]);
		}
		printf("],\"state\":{\"present\":%s,\"generation\":%u,\"active_slot\":%u,\"source_hash\":\"%016llx\"},\"interfaces\":[",
		       st.valid ? "true" : "false", st.generation, st.active_slot,
		       (unsigned long long)st.slot_hash[st.active_slot & 1]);
	} else {
		printf("pins:        %s\n", o->pin_dir);
		printf("state:       %s/%s\n", o->state_dir, NASCAR_STATE_FILE);
		printf("policy:      %016llx (%s)\n", (unsigned long long)cfg.source_hash,
		       st.source[0] ? st.source : "source unknown");
		printf("generation:  %u, active slot %u, %u flows, %u classes (from the kernel's maps)\n",
		       ns.generation, ns.active_slot & 1, cfg.nflows, cfg.nclasses);
		if (busy)
			printf("busy: nascar-apply (pid %d) is changing this policy now; what follows may change under it\n",
			       busy);
		for (size_t i = 0; i < probs.n; i++)
			printf("warning: %s\n", probs.text[i]);
	}
	for (size_t i = 0; i < st.nifaces; i++) {
		struct st_iface *s = &st.ifaces[i];
		const struct live *l = &live[i];

		if (o->json) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, s->name);
			printf(",\"ifindex\":%d,\"id\":%d,\"role\":\"%s\",\"policy_mode\":\"%s\",\"mode\":\"%s\",\"xdp\":\"%s\",\"xdp_prog_id\":%u,\"tc\":\"%s\",\"tc_prog_id\":%u,\"reason\":",
			       s->ifindex, s->id, s->role ? nfc_role_name(s->role) : "",
			       plan_mode_name(s->mode), plan_mode_name(s->eff_mode),
			       plan_xdp_name(l->xdp), l->xdp_prog, plan_tc_name(l->tc), l->tc_prog);
			json_str(stdout, s->reason);
			printf(",\"scheduler\":%s,\"scheduler_replaced\":",
			       s->sched ? "true" : "false");
			json_str(stdout, s->sched_prev);
			printf("}");
		} else {
			printf("%s (ifindex %d, %s): %s: xdp %s", s->name, s->ifindex,
			       s->role ? nfc_role_name(s->role) : "?", plan_mode_name(s->eff_mode),
			       plan_xdp_name(l->xdp));
			if (l->xdp_prog)
				printf(" prog %u", l->xdp_prog);
			printf(", tc %s", plan_tc_name(l->tc));
			if (l->tc_prog)
				printf(" prog %u", l->tc_prog);
			printf("\n    %s\n", s->reason);
			if (s->sched)
				printf("    egress: Nascar's scheduler (htb %x:, replaced %s)\n",
				       NASCAR_SCHED_MAJOR, s->sched_prev[0] ? s->sched_prev : "?");
		}
	}
	if (o->json)
		printf("]}\n");
	load_close(&b);
	return 0;
}

/* ---- stats -------------------------------------------------------------- */

static int ncpus;

static int sum_counters(int fd, __u32 key, struct nascar_counters *out)
{
	struct nascar_counters *v = calloc((size_t)ncpus, sizeof(*v));
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v) < 0) {
		ret = -errno;
	} else {
		for (int c = 0; c < ncpus; c++) {
			__u64 *d = (__u64 *)out;
			const __u64 *s = (const __u64 *)&v[c];

			for (size_t j = 0; j < sizeof(*out) / 8; j++)
				d[j] += s[j];
		}
	}
	free(v);
	return ret;
}

struct row {
	char name[NASCAR_FLOW_NAMSIZ + 16];
	const char *kind; /* flow, class, iface */
	const char *action;
	const char *cls;
	struct nascar_counters c;
};

struct snap {
	size_t n;
	struct row *rows;
	struct nascar_state ns;
	struct nascar_slot_cfg cfg;
	double t;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cmd_stats' state and policy, for the scheduler's figures */
static const struct rt_state *stats_st; /* cmd_stats' state, for the two below */
static const struct nfc_image *stats_img;

/* Drops of each Nascar class's HTB class, summed over every interface
 * with our scheduler: one `tc` run per interface, not per class. */
static void sched_drops(__u64 drops[NASCAR_MAX_CLASSES])
{
	static struct sched_class cls[NASCAR_MAX_CLASSES + 8];

	memset(drops, 0, NASCAR_MAX_CLASSES * sizeof(drops[0]));
	for (size_t i = 0; stats_st && i < stats_st->nifaces; i++) {
		int n;

		if (!stats_st->ifaces[i].sched)
			continue;
		n = sched_classes(stats_st->ifaces[i].name, cls, sizeof(cls) / sizeof(cls[0]));
		for (int j = 0; j < n; j++) {
			__u32 id = cls[j].minor - NASCAR_SCHED_MINOR_CLASS0;

			if (cls[j].minor >= NASCAR_SCHED_MINOR_CLASS0 && id < NASCAR_MAX_CLASSES)
				drops[id] += cls[j].drops;
		}
	}
}

static int take_snap(struct rt_opts *o, struct rt_bpf *b, struct nfc_image *img, int have_img,
		     struct snap *s)
{
	static __u64 shaper_drops[NASCAR_MAX_CLASSES];
	static __u16 rule_class[NASCAR_NRULES];
	struct nascar_rule ru;
	__u32 k = 0, slot;
	size_t cap, nflows, nclasses, nifaces;

	memset(s, 0, sizeof(*s));
	bpf_map_lookup_elem(b->map[NASCAR_M_STATE], &k, &s->ns);
	slot = s->ns.active_slot & 1;
	bpf_map_lookup_elem(b->map[NASCAR_M_SLOTS], &slot, &s->cfg);
	s->t = now_s();
	nflows = s->cfg.nflows;
	nclasses = s->cfg.nclasses;
	nifaces = s->cfg.nifaces;
	cap = nflows + 1 + nclasses + nifaces;
	s->rows = calloc(cap, sizeof(*s->rows));
	if (!s->rows)
		return -ENOMEM;
	for (size_t i = 0; i <= nflows; i++) {
		struct row *r = &s->rows[s->n++];
		__u32 rule = i == nflows ? NASCAR_RULE_DEFAULT : (__u32)i;
		const struct nfc_flow *f = NULL;

		if (have_img && i < img->nflows)
			f = &img->flows[i == nflows ? img->nflows - 1 : i];
		r->kind = "flow";
		if (i == nflows)
			snprintf(r->name, sizeof(r->name), "(default)");
		else if (f)
			snprintf(r->name, sizeof(r->name), "%.*s", NASCAR_FLOW_NAMSIZ, f->name);
		else
			snprintf(r->name, sizeof(r->name), "flow#%zu", i);
		r->action = f ? nfc_action_name(f->rule.action) : "";
		r->cls = "";
		if (f && f->rule.class_id != NASCAR_NO_CLASS && f->rule.class_id < img->nclasses)
			r->cls = img->classes[f->rule.class_id].name;
		sum_counters(b->map[NASCAR_M_FSTATS], nascar_rule_idx(slot, rule), &r->c);
		/* the rule's class as the data path saw it: a class's counts are
		 * the sum of its rules' (the data path counts each packet once,
		 * per rule; every count of a class comes with its rule) */
		ru.class_id = NASCAR_NO_CLASS;
		k = nascar_rule_idx(slot, rule);
		if (bpf_map_lookup_elem(b->map[NASCAR_M_RULES], &k, &ru) < 0)
			ru.class_id = NASCAR_NO_CLASS;
		rule_class[i] = ru.class_id;
	}
	sched_drops(shaper_drops);
	for (size_t i = 0; i < nclasses; i++) {
		struct row *r = &s->rows[s->n++];

		r->kind = "class";
		if (have_img && i < img->nclasses)
			snprintf(r->name, sizeof(r->name), "%.*s", NASCAR_CLASS_NAMSIZ,
				 img->classes[i].name);
		else
			snprintf(r->name, sizeof(r->name), "class#%zu", i);
		r->action = "";
		r->cls = "";
		memset(&r->c, 0, sizeof(r->c));
		for (size_t j = 0; j <= nflows; j++) {
			__u64 *d = (__u64 *)&r->c;
			const __u64 *f = (const __u64 *)&s->rows[j].c;

			if (rule_class[j] != i)
				continue;
			for (size_t w = 0; w < sizeof(r->c) / 8; w++)
				d[w] += f[w];
		}
		/* a shaped class's packets that waited too long in Nascar's
		 * scheduler count as policed too (nflow version 2) */
		r->c.police_pkts += i < NASCAR_MAX_CLASSES ? shaper_drops[i] : 0;
	}
	for (size_t i = 0; i < nifaces; i++) {
		struct row *r = &s->rows[s->n++];
		__u32 id = (__u32)i;

		r->kind = "iface";
		if (have_img && i < img->nifaces) {
			snprintf(r->name, sizeof(r->name), "%.*s", NASCAR_IFNAMSIZ,
				 img->ifaces[i].name);
			id = img->ifaces[i].val.id;
		} else {
			snprintf(r->name, sizeof(r->name), "iface#%zu", i);
		}
		r->action = "";
		r->cls = "";
		sum_counters(b->map[NASCAR_M_ISTATS], nascar_iface_idx(slot, id), &r->c);
	}
	(void)o;
	return 0;
}

/* The fields of struct nascar_counters, in order. */
#define CNAME_(id, field) #field "_pkts", #field "_bytes",
static const char *const cnames[2 * NASCAR_NCNT] = {NASCAR_CNTS(CNAME_)};
#undef CNAME_

/* ---- the egress scheduler's classes (sched.h) ---------------------------- */

static void sched_class_name(char *buf, size_t len, __u32 minor)
{
	if (minor == NASCAR_SCHED_MINOR_ROOT)
		snprintf(buf, len, "(line)");
	else if (minor == NASCAR_SCHED_MINOR_DEFAULT)
		snprintf(buf, len, "(not classified)");
	else if (stats_img && minor >= NASCAR_SCHED_MINOR_CLASS0 &&
		 minor - NASCAR_SCHED_MINOR_CLASS0 < stats_img->nclasses)
		snprintf(buf, len, "%s",
			 stats_img->classes[minor - NASCAR_SCHED_MINOR_CLASS0].name);
	else
		snprintf(buf, len, "class %u", minor - NASCAR_SCHED_MINOR_CLASS0);
}

static void print_sched(int json)
{
	static struct sched_class cls[NASCAR_MAX_CLASSES + 8];
	int first_if = 1;

	if (json)
		printf(",\"schedulers\":[");
	for (size_t i = 0; stats_st && i < stats_st->nifaces; i++) {
		const struct st_iface *s = &stats_st->ifaces[i];
		int n;

		if (!s->sched)
			continue;
		n = sched_classes(s->name, cls, sizeof(cls) / sizeof(cls[0]));
		if (n < 0)
			continue;
		if (json) {
			printf("%s{\"interface\":", first_if ? "" : ",");
			json_str(stdout, s->name);
			printf(",\"classes\":[");
		} else {
			printf("SCHEDULER %-14s %-12s %16s %12s %12s %12s\n", s->name, "HTB CLASS",
			       "SENT", "BACKLOG", "DROPPED", "OVERLIMITS");
		}
		first_if = 0;
		for (int j = 0; j < n; j++) {
			char name[NASCAR_CLASS_NAMSIZ + 16], id[16];

			sched_class_name(name, sizeof(name), cls[j].minor);
			snprintf(id, sizeof(id), "%x:%x", NASCAR_SCHED_MAJOR, cls[j].minor);
			if (json) {
				printf("%s{\"class\":", j ? "," : "");
				json_str(stdout, name);
				printf(",\"classid\":\"%s\",\"bytes\":%llu,\"packets\":%llu,\"drops\":%llu,\"overlimits\":%llu,\"backlog_bytes\":%llu,\"backlog_packets\":%llu}",
				       id, (unsigned long long)cls[j].bytes,
				       (unsigned long long)cls[j].pkts,
				       (unsigned long long)cls[j].drops,
				       (unsigned long long)cls[j].overlimits,
				       (unsigned long long)cls[j].backlog_bytes,
				       (unsigned long long)cls[j].backlog_pkts);
			} else {
				char sent[40];

				snprintf(sent, sizeof(sent), "%llu (%lluB)",
					 (unsigned long long)cls[j].pkts,
					 (unsigned long long)cls[j].bytes);
				printf("  %-23s %-12s %16s %10lluB %12llu %12llu\n", name, id, sent,
				       (unsigned long long)cls[j].backlog_bytes,
				       (unsigned long long)cls[j].drops,
				       (unsigned long long)cls[j].overlimits);
			}
		}
		if (json)
			printf("]}");
	}
	if (json)
		printf("]");
}

static void print_json(const struct snap *s, const struct snap *prev, double dt, const char *names)
{
	printf("{\"applied\":true,\"generation\":%u,\"active_slot\":%u,\"source_hash\":\"%016llx\",\"names\":",
	       s->ns.generation, s->ns.active_slot & 1, (unsigned long long)s->cfg.source_hash);
	json_str(stdout, names);
	if (prev)
		printf(",\"interval\":%.3f", dt);
	const char *kinds[] = {"flow", "class", "iface"};
	const char *keys[] = {"flows", "classes", "interfaces"};

	for (int k = 0; k < 3; k++) {
		int first = 1;

		printf(",\"%s\":[", keys[k]);
		for (size_t i = 0; i < s->n; i++) {
			const struct row *r = &s->rows[i];
			const __u64 *c = (const __u64 *)&r->c;

			if (strcmp(r->kind, kinds[k]) != 0)
				continue;
			printf("%s{\"name\":", first ? "" : ",");
			first = 0;
			json_str(stdout, r->name);
			if (k == 0) {
				printf(",\"action\":");
				json_str(stdout, r->action);
				printf(",\"class\":");
				json_str(stdout, r->cls);
			}
			for (size_t j = 0; j < 2 * NASCAR_NCNT; j++) {
				if (prev && i < prev->n) {
					const __u64 *p = (const __u64 *)&prev->rows[i].c;

					printf(",\"%s_per_s\":%.1f", cnames[j],
					       (double)(c[j] - p[j]) / dt);
				} else {
					printf(",\"%s\":%llu", cnames[j], (unsigned long long)c[j]);
				}
			}
			printf("}");
		}
		printf("]");
	}
	print_sched(1);
	printf("}\n");
	fflush(stdout);
}

static void human(char *buf, size_t len, double v)
{
	const char *u[] = {"", "k", "M", "G", "T"};
	int i = 0;

	while (v >= 10000 && i < 4) {
		v /= 1000;
		i++;
	}
	if (i == 0 && v == (double)(long long)v)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f%s", v, u[i]);
}

static void print_text(const struct snap *s, const struct snap *prev, double dt, const char *names)
{
	const char *kinds[] = {"flow", "class", "iface"};
	const char *heads[] = {"FLOW", "CLASS", "INTERFACE"};

	printf("generation %u, slot %u, policy %016llx%s%s%s\n", s->ns.generation,
	       s->ns.active_slot & 1, (unsigned long long)s->cfg.source_hash,
	       names[0] ? " (names from " : "", names, names[0] ? ")" : "");
	if (prev)
		printf("rates over %.1f s: packets/s (bytes/s)\n", dt);
	for (int k = 0; k < 3; k++) {
		printf("%-24s %-8s %-12s %16s %16s %16s %10s %10s %10s\n", heads[k],
		       k == 0 ? "ACTION" : "", k == 0 ? "CLASS" : "", "XDP", "TC", "STACK", "DROP",
		       "POLICED", "SPOOFED");
		for (size_t i = 0; i < s->n; i++) {
			const struct row *r = &s->rows[i];
			const __u64 *c = (const __u64 *)&r->c;
			char col[NASCAR_NCNT][40];

			_Static_assert(NASCAR_NCNT == 6, "a column per counter pair");

			if (strcmp(r->kind, kinds[k]) != 0)
				continue;
			for (int j = 0; j < NASCAR_NCNT; j++) {
				__u32 w = nascar_cnt_word((enum nascar_cnt)j);
				double pk = (double)c[w], by = (double)c[w + 1];
				char a[16], bb[16];

				if (prev && i < prev->n) {
					const __u64 *p = (const __u64 *)&prev->rows[i].c;

					pk = (double)(c[w] - p[w]) / dt;
					by = (double)(c[w + 1] - p[w + 1]) / dt;
				}
				human(a, sizeof(a), pk);
				human(bb, sizeof(bb), by);
				if (j <= NASCAR_CNT_STACK)
					snprintf(col[j], sizeof(col[j]), "%s (%sB)", a, bb);
				else
					snprintf(col[j], sizeof(col[j]), "%s", a);
			}
			printf("%-24s %-8s %-12s %16s %16s %16s %10s %10s %10s\n", r->name,
			       r->action, r->cls, col[0], col[1], col[2], col[3], col[4], col[5]);
		}
	}
	print_sched(0);
	fflush(stdout);
}

static volatile sig_atomic_t stop_stats;

static void on_sig(int sig)
{
	(void)sig;
	stop_stats = 1;
}

/* ---- stats --format prometheus, and the node_exporter textfile ------------ */

/* utf8_len: length of the valid UTF-8 sequence at s (1..4), 0 if none. */
static int utf8_len(const unsigned char *s)
{
	int n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0; /* overlong, a surrogate, or past U+10FFFF */
	return n;
}

/* A label as the text format wants it: backslash, double quote and line
 * feed escaped; a byte that is not UTF-8 (a hand-made .nfc) becomes '?'. */
static void prom_label(FILE *f, const char *key, const char *val, int first)
{
	const unsigned char *v = (const unsigned char *)val;

	fprintf(f, "%s%s=\"", first ? "" : ",", key);
	while (*v) {
		int n = utf8_len(v);

		if (*v == '\\' || *v == '"') {
			fprintf(f, "\\%c", *v);
		} else if (*v == '\n') {
			fputs("\\n", f);
		} else if (n == 0) {
			fputc('?', f);
			n = 1;
		} else {
			fwrite(v, 1, (size_t)n, f);
		}
		v += n ? n : 1;
	}
	fputc('"', f);
}

static void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The labels that name a row: flow (with its class and action), class or
 * interface. */
static void prom_row_labels(FILE *f, const struct row *r)
{
	if (!strcmp(r->kind, "flow")) {
		prom_label(f, "flow", r->name, 1);
		prom_label(f, "class", r->cls, 0);
		prom_label(f, "action", r->action, 0);
	} else if (!strcmp(r->kind, "class")) {
		prom_label(f, "class", r->name, 1);
	} else {
		prom_label(f, "interface", r->name, 1);
	}
}

static void prom_rows(FILE *f, const struct snap *s)
{
	static const char *const kinds[] = {"flow", "class", "iface"};
	static const char *const prefix[] = {"flow", "class", "interface"};
	static const char *const what[] = {"flow (first match)", "Nascar class",
					   "interface the packet arrived on"};
	static const struct {
		const char *name;
		enum nascar_cnt what;
	} paths[] = {{"xdp", NASCAR_CNT_XDP}, {"tc", NASCAR_CNT_TC}, {"stack", NASCAR_CNT_STACK}};
	static const struct {
		const char *name, *help;
		enum nascar_cnt what;
	} drops[] = {
		{"dropped", "dropped by a rule (action drop)", NASCAR_CNT_DROP},
		{"policed", "dropped by the class policer", NASCAR_CNT_POLICE},
		{"spoofed", "dropped as spoofed (allow-src)", NASCAR_CNT_SPOOF},
	};
	char name[96], help[256];

	for (int k = 0; k < 3; k++) {
		for (int unit = 0; unit < 2; unit++) {
			snprintf(name, sizeof(name), "nascar_%s_%s_total", prefix[k],
				 unit ? "bytes" : "packets");
			snprintf(
				help, sizeof(help),
				"%s per %s that Nascar forwarded by XDP or TC (path xdp, tc) or handed to the kernel's path (stack), since the policy was applied",
				unit ? "Bytes" : "Packets", what[k]);
			prom_head(f, name, "counter", help);
			for (size_t i = 0; i < s->n; i++) {
				const struct row *r = &s->rows[i];
				const __u64 *c = (const __u64 *)&r->c;

				if (strcmp(r->kind, kinds[k]) != 0)
					continue;
				for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
					__u64 v = c[nascar_cnt_word(paths[p].what) + unit];

					fprintf(f, "%s{", name);
					prom_row_labels(f, r);
					prom_label(f, "path", paths[p].name, 0);
					fprintf(f, "} %llu\n", (unsigned long long)v);
				}
			}
		}
		for (size_t d = 0; d < sizeof(drops) / sizeof(drops[0]); d++) {
			for (int unit = 0; unit < 2; unit++) {
				snprintf(name, sizeof(name), "nascar_%s_%s_%s_total", prefix[k],
					 drops[d].name, unit ? "bytes" : "packets");
				snprintf(help, sizeof(help), "%s per %s %s",
					 unit ? "Bytes" : "Packets", what[k], drops[d].help);
				prom_head(f, name, "counter", help);
				for (size_t i = 0; i < s->n; i++) {
					const struct row *r = &s->rows[i];
					const __u64 *c = (const __u64 *)&r->c;
					__u64 v = c[nascar_cnt_word(drops[d].what) + unit];

					if (strcmp(r->kind, kinds[k]) != 0)
						continue;
					fprintf(f, "%s{", name);
					prom_row_labels(f, r);
					fprintf(f, "} %llu\n", (unsigned long long)v);
				}
			}
		}
	}
}

/* The egress scheduler's classes on every interface that has it. */
static void prom_sched(FILE *f)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{"nascar_sched_packets_total", "counter",
		 "Packets sent by a class of Nascar's egress scheduler (HTB)"},
		{"nascar_sched_bytes_total", "counter",
		 "Bytes sent by a class of Nascar's egress scheduler (HTB)"},
		{"nascar_sched_dropped_packets_total", "counter",
		 "Packets dropped by a class of Nascar's egress scheduler (queue over its bound)"},
		{"nascar_sched_overlimits_total", "counter",
		 "Times a class of Nascar's egress scheduler was over its rate"},
		{"nascar_sched_backlog_bytes", "gauge",
		 "Bytes queued in a class of Nascar's egress scheduler"},
		{"nascar_sched_backlog_packets", "gauge",
		 "Packets queued in a class of Nascar's egress scheduler"},
	};
	static struct {
		char dev[IF_NAMESIZE];
		int n;
	} ifs[ST_MAX_IFACES];
	static struct sched_class all[ST_MAX_IFACES][NASCAR_MAX_CLASSES + 8];
	size_t nifs = 0;

	for (size_t i = 0; stats_st && i < stats_st->nifaces && nifs < ST_MAX_IFACES; i++) {
		const struct st_iface *s = &stats_st->ifaces[i];
		int n;

		if (!s->sched)
			continue;
		n = sched_classes(s->name, all[nifs], sizeof(all[0]) / sizeof(all[0][0]));
		if (n < 0)
			continue;
		snprintf(ifs[nifs].dev, sizeof(ifs[0].dev), "%s", s->name);
		ifs[nifs++].n = n;
	}
	if (!nifs)
		return;
	for (size_t m = 0; m < sizeof(fam) / sizeof(fam[0]); m++) {
		prom_head(f, fam[m].name, fam[m].type, fam[m].help);
		for (size_t i = 0; i < nifs; i++) {
			for (int j = 0; j < ifs[i].n; j++) {
				const struct sched_class *c = &all[i][j];
				const __u64 v[] = {c->pkts,	     c->bytes,
						   c->drops,	     c->overlimits,
						   c->backlog_bytes, c->backlog_pkts};
				char cname[NASCAR_CLASS_NAMSIZ + 16], id[16];

				sched_class_name(cname, sizeof(cname), c->minor);
				snprintf(id, sizeof(id), "%x:%x", NASCAR_SCHED_MAJOR, c->minor);
				fprintf(f, "%s{", fam[m].name);
				prom_label(f, "interface", ifs[i].dev, 1);
				prom_label(f, "class", cname, 0);
				prom_label(f, "classid", id, 0);
				fprintf(f, "} %llu\n", (unsigned long long)v[m]);
			}
		}
	}
}

static void prom_applied(FILE *f, int applied, __u32 generation)
{
	prom_head(f, "nascar_policy_applied", "gauge",
		  "1 when a Nascar policy is applied (pins in place), else 0");
	fprintf(f, "nascar_policy_applied %d\n", applied);
	prom_head(
		f, "nascar_policy_generation", "gauge",
		"Generation of the policy in force, from the kernel's maps (+1 per apply that switched)");
	fprintf(f, "nascar_policy_generation %u\n", generation);
}

/* prom_collect: one complete exposition into f, from the pins as they are
 * now (opened afresh: a re-apply or a detach between two writes of the
 * textfile is seen).  Returns 0, or -1 when the pins cannot be read (said
 * on stderr). */
static int prom_collect(struct rt_opts *o, FILE *f)
{
	static struct rt_state st;
	struct nascar_state ns;
	struct nascar_slot_cfg cfg;
	struct nfc_image img;
	struct rt_bpf b;
	struct snap s;
	char path[PATH_MAX], err[512];
	int ret, have_img = 0;

	ret = open_pins(o, &b, &ns, &cfg);
	if (ret == -ENOENT) {
		prom_applied(f, 0, 0);
		return 0;
	}
	if (ret < 0)
		return -1;
	state_nfc_path(path, sizeof(path), o->state_dir, ns.active_slot & 1);
	memset(&img, 0, sizeof(img));
	if (nfc_load_file(path, &img, err, sizeof(err)) == 0 &&
	    img.hdr->source_hash == cfg.source_hash)
		have_img = 1;
	stats_img = have_img ? &img : NULL;
	stats_st = state_read(o->state_dir, &st, err, sizeof(err)) == 0 ? &st : NULL;
	if (take_snap(o, &b, &img, have_img, &s) < 0) {
		pr_err("out of memory");
		nfc_image_free(&img);
		load_close(&b);
		return -1;
	}
	prom_applied(f, 1, s.ns.generation);
	prom_head(f, "nascar_policy_info", "gauge",
		  "The policy in force: its source hash and the active slot (value 1)");
	fprintf(f, "nascar_policy_info{source_hash=\"%016llx\",slot=\"%u\"} 1\n",
		(unsigned long long)s.cfg.source_hash, s.ns.active_slot & 1);
	prom_rows(f, &s);
	prom_sched(f);
	free(s.rows);
	stats_img = NULL;
	stats_st = NULL;
	nfc_image_free(&img);
	load_close(&b);
	return 0;
}

/* textfile_write: the exposition into a temporary file next to path, then
 * rename(2) over it: node_exporter reads the old file or the new one whole.
 * The temporary name ends in neither .prom nor anything the textfile
 * collector reads. */
static int textfile_write(struct rt_opts *o, const char *path)
{
	char tmp[PATH_MAX + 16];
	FILE *f;
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		pr_err("--textfile %s: path too long", path);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		pr_err("cannot create %s: %s; the textfile's directory must exist and be writable",
		       tmp, strerror(errno));
		return -1;
	}
	/* node_exporter usually runs as another user */
	if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w"))) {
		pr_err("cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	ret = prom_collect(o, f);
	if (fflush(f) != 0 || ferror(f)) {
		pr_err("cannot write %s: %s", tmp, strerror(errno));
		ret = -1;
	}
	if (fclose(f) != 0 && ret == 0) {
		pr_err("cannot write %s: %s", tmp, strerror(errno));
		ret = -1;
	}
	if (ret == 0 && rename(tmp, path) < 0) {
		pr_err("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		ret = -1;
	}
	if (ret < 0)
		unlink(tmp);
	return ret;
}

static int cmd_stats_prom(struct rt_opts *o)
{
	int writes = 0, ok_once = 0;

	if (!o->textfile)
		return prom_collect(o, stdout) < 0 ? 1 : 0;
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	for (;;) {
		int ret = textfile_write(o, o->textfile);

		if (ret < 0 && !ok_once)
			return 1; /* the first write says whether this can work at all */
		ok_once |= ret == 0;
		writes++;
		if (o->interval <= 0 || stop_stats || (o->count > 0 && writes >= o->count))
			break;
		{
			struct timespec ts = {
				.tv_sec = (time_t)o->interval,
				.tv_nsec = (long)((o->interval - (double)(long long)o->interval) *
						  1e9)};

			nanosleep(&ts, NULL);
		}
		if (stop_stats)
			break;
	}
	return 0;
}

int cmd_stats(struct rt_opts *o)
{
	struct nascar_state ns;
	struct nascar_slot_cfg cfg;
	struct nfc_image img;
	struct rt_bpf b;
	struct snap cur, prev;
	char path[PATH_MAX], err[512];
	int ret, have_img = 0, reports = 0;

	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		pr_err("cannot count the possible CPUs; check /sys/devices/system/cpu/possible");
		return 1;
	}
	if (o->prometheus)
		return cmd_stats_prom(o);
	ret = open_pins(o, &b, &ns, &cfg);
	if (ret == -ENOENT) {
		/* as status: nothing applied is an answer, not an error */
		if (o->json) {
			printf("{\"applied\":false,\"pin_dir\":");
			json_str(stdout, o->pin_dir);
			printf(",\"generation\":0,\"active_slot\":0,\"source_hash\":\"%016llx\",\"names\":\"\",\"flows\":[],\"classes\":[],\"interfaces\":[]}\n",
			       0ULL);
		} else {
			printf("no policy applied (no pins under %s)\n", o->pin_dir);
		}
		return 0;
	}
	if (ret < 0)
		return 1;
	state_nfc_path(path, sizeof(path), o->state_dir, ns.active_slot & 1);
	memset(&img, 0, sizeof(img));
	if (nfc_load_file(path, &img, err, sizeof(err)) == 0 &&
	    img.hdr->source_hash == cfg.source_hash)
		have_img = 1;
	else
		pr_warn("no copy of the applied policy in %s: flows are shown by number", path);
	if (!have_img)
		path[0] = '\0';

	{
		static struct rt_state st;
		char serr[512];

		if (state_read(o->state_dir, &st, serr, sizeof(serr)) == 0)
			stats_st = &st;
		stats_img = have_img ? &img : NULL;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	if (take_snap(o, &b, &img, have_img, &cur) < 0) {
		pr_err("out of memory");
		return 1;
	}
	if (o->interval <= 0) {
		if (o->json)
			print_json(&cur, NULL, 0, path);
		else
			print_text(&cur, NULL, 0, path);
		free(cur.rows);
	} else {
		while (!stop_stats && (o->count <= 0 || reports < o->count)) {
			struct timespec ts = {
				.tv_sec = (time_t)o->interval,
				.tv_nsec = (long)((o->interval - (double)(long long)o->interval) *
						  1e9)};

			nanosleep(&ts, NULL);
			prev = cur;
			if (take_snap(o, &b, &img, have_img, &cur) < 0)
				break;
			if (cur.ns.generation != prev.ns.generation) {
				/* a new policy: its counters start over */
				free(prev.rows);
				continue;
			}
			if (o->json)
				print_json(&cur, &prev, cur.t - prev.t, path);
			else
				print_text(&cur, &prev, cur.t - prev.t, path);
			free(prev.rows);
			reports++;
		}
		free(cur.rows);
	}
	nfc_image_free(&img);
	load_close(&b);
	return 0;
}
