// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nfc.h"
#include "plan.h"
#include "state.h"

void state_escape(char *buf, size_t len, const char *pin_dir)
{
	size_t j = 0;

	if (len == 0)
		return;
	for (const char *p = pin_dir; *p && j + 1 < len; p++) {
		if (*p == '/' && (j == 0 || p[1] == '\0'))
			continue;
		buf[j++] = *p == '/' ? '-' : *p;
	}
	buf[j] = '\0';
}

void state_default_dir(char *buf, size_t len, const char *pin_dir)
{
	char esc[PATH_MAX];

	if (strcmp(pin_dir, NASCAR_DEFAULT_PIN_DIR) == 0) {
		snprintf(buf, len, "%s", NASCAR_DEFAULT_STATE_DIR);
		return;
	}
	state_escape(esc, sizeof(esc), pin_dir);
	snprintf(buf, len, "%s/%s", NASCAR_DEFAULT_STATE_DIR, esc);
}

void state_link_path(char *buf, size_t len, const char *pin_dir, const char *hook, int ifindex)
{
	snprintf(buf, len, "%s/links/%s_%d", pin_dir, hook, ifindex);
}

void state_nfc_path(char *buf, size_t len, const char *state_dir, unsigned int slot)
{
	snprintf(buf, len, "%s/applied-%u.nfc", state_dir, slot);
}

struct st_iface *state_find(struct rt_state *st, const char *name)
{
	for (size_t i = 0; i < st->nifaces; i++)
		if (strcmp(st->ifaces[i].name, name) == 0)
			return &st->ifaces[i];
	return NULL;
}

struct st_iface *state_add(struct rt_state *st, const char *name)
{
	struct st_iface *s = state_find(st, name);

	if (s)
		return s;
	if (st->nifaces >= ST_MAX_IFACES)
		return NULL;
	s = &st->ifaces[st->nifaces++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->id = -1;
	return s;
}

void state_del(struct rt_state *st, struct st_iface *s)
{
	size_t i = (size_t)(s - st->ifaces);

	if (i >= st->nifaces)
		return;
	memmove(&st->ifaces[i], &st->ifaces[i + 1], (st->nifaces - i - 1) * sizeof(*s));
	st->nifaces--;
}

static int parse_kv(struct st_iface *s, const char *k, const char *v)
{
	if (!strcmp(k, "ifindex"))
		s->ifindex = atoi(v);
	else if (!strcmp(k, "id"))
		s->id = atoi(v);
	else if (!strcmp(k, "role"))
		s->role = atoi(v);
	else if (!strcmp(k, "mode"))
		s->mode = atoi(v);
	else if (!strcmp(k, "eff"))
		s->eff_mode = atoi(v);
	else if (!strcmp(k, "xdp"))
		s->xdp = !strcmp(v, "native")	 ? XDP_NATIVE
			 : !strcmp(v, "generic") ? XDP_GENERIC
						 : 0;
	else if (!strcmp(k, "tc"))
		s->tc = !strcmp(v, "tcx") ? TC_TCX : !strcmp(v, "netlink") ? TC_NETLINK : 0;
	else if (!strcmp(k, "xdp_prog"))
		s->xdp_prog_id = (__u32)strtoul(v, NULL, 0);
	else if (!strcmp(k, "tc_prog"))
		s->tc_prog_id = (__u32)strtoul(v, NULL, 0);
	else if (!strcmp(k, "clsact_created"))
		s->clsact_created = atoi(v);
	else if (!strcmp(k, "sched"))
		s->sched = atoi(v);
	else if (!strcmp(k, "vlan_map"))
		s->vlan_map = atoi(v);
	else if (!strcmp(k, "vlan_prev"))
		snprintf(s->vlan_prev, sizeof(s->vlan_prev), "%s", strcmp(v, "-") ? v : "");
	else if (!strcmp(k, "sched_prev"))
		snprintf(s->sched_prev, sizeof(s->sched_prev), "%s", strcmp(v, "-") ? v : "");
	return 0;
}

int state_read(const char *dir, struct rt_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX], line[2048];
	FILE *f;
	int lineno = 0;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/%s", dir, NASCAR_STATE_FILE);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return -ENOENT;
		return nfc_fail(err, errlen, -errno, "cannot read %s", path);
	}
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n'), *tok, *save = NULL;

		lineno++;
		if (nl)
			*nl = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (lineno == 1 && strcmp(line, "nascar-state 1") != 0) {
			fclose(f);
			return nfc_fail(err, errlen, -EINVAL, "not a nascar-apply state file: %s",
					path);
		}
		if (!strncmp(line, "pin_dir ", 8)) {
			snprintf(st->pin_dir, sizeof(st->pin_dir), "%s", line + 8);
		} else if (!strncmp(line, "source ", 7)) {
			snprintf(st->source, sizeof(st->source), "%s", line + 7);
		} else if (!strncmp(line, "generation ", 11)) {
			st->generation = (__u32)strtoul(line + 11, NULL, 0);
		} else if (!strncmp(line, "active_slot ", 12)) {
			st->active_slot = (__u32)strtoul(line + 12, NULL, 0) & 1;
		} else if (!strncmp(line, "slot ", 5)) {
			unsigned int slot, csum, gen;
			unsigned long long hash;

			if (sscanf(line + 5, "%u hash=%llx checksum=%x generation=%u", &slot, &hash,
				   &csum, &gen) == 4 &&
			    slot < NASCAR_SLOTS) {
				st->slot_hash[slot] = hash;
				st->slot_csum[slot] = csum;
				st->slot_gen[slot] = gen;
			}
		} else if (!strncmp(line, "iface ", 6)) {
			char *reason = strstr(line, " reason=");
			struct st_iface *s;

			if (reason) {
				*reason = '\0';
				reason += 8;
			}
			tok = strtok_r(line + 6, " ", &save);
			if (!tok || !(s = state_add(st, tok)))
				continue;
			if (reason)
				snprintf(s->reason, sizeof(s->reason), "%s", reason);
			while ((tok = strtok_r(NULL, " ", &save))) {
				char *eq = strchr(tok, '=');

				if (!eq)
					continue;
				*eq = '\0';
				parse_kv(s, tok, eq + 1);
			}
		}
	}
	fclose(f);
	if (lineno == 0)
		return nfc_fail(err, errlen, -EINVAL, "empty state file %s", path);
	st->valid = 1;
	return 0;
}

int state_write(const char *dir, const struct rt_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	FILE *f;
	int ret;

	ret = mkdir_p(dir, 0755);
	if (ret < 0)
		return nfc_fail(err, errlen, ret, "cannot create %s", dir);
	snprintf(path, sizeof(path), "%s/%s", dir, NASCAR_STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return nfc_fail(err, errlen, -errno, "cannot write %s", tmp);
	fprintf(f, "nascar-state 1\n");
	fprintf(f, "# written by nascar-apply; read by status, stats and detach; do not edit\n");
	fprintf(f, "pin_dir %s\n", st->pin_dir);
	fprintf(f, "source %s\n", st->source);
	fprintf(f, "generation %u\n", st->generation);
	fprintf(f, "active_slot %u\n", st->active_slot);
	for (unsigned int i = 0; i < NASCAR_SLOTS; i++)
		fprintf(f, "slot %u hash=%016llx checksum=%08x generation=%u\n", i,
			(unsigned long long)st->slot_hash[i], st->slot_csum[i], st->slot_gen[i]);
	for (size_t i = 0; i < st->nifaces; i++) {
		const struct st_iface *s = &st->ifaces[i];

		fprintf(f,
			"iface %s ifindex=%d id=%d role=%d mode=%d eff=%d xdp=%s tc=%s xdp_prog=%u tc_prog=%u clsact_created=%d sched=%d sched_prev=%s vlan_map=%d vlan_prev=%s reason=%s\n",
			s->name, s->ifindex, s->id, s->role, s->mode, s->eff_mode,
			plan_xdp_name(s->xdp), plan_tc_name(s->tc), s->xdp_prog_id, s->tc_prog_id,
			s->clsact_created, s->sched, s->sched_prev[0] ? s->sched_prev : "-",
			s->vlan_map, s->vlan_prev[0] ? s->vlan_prev : "-", s->reason);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		ret = -errno;
		fclose(f);
		unlink(tmp);
		return nfc_fail(err, errlen, ret, "cannot write %s", tmp);
	}
	fclose(f);
	if (rename(tmp, path) < 0) {
		ret = -errno;
		unlink(tmp);
		return nfc_fail(err, errlen, ret, "cannot rename to %s", path);
	}
	return 0;
}

int state_remove(const char *dir)
{
	char path[PATH_MAX];

	for (unsigned int i = 0; i < NASCAR_SLOTS; i++) {
		state_nfc_path(path, sizeof(path), dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, NASCAR_STATE_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s.tmp", dir, NASCAR_STATE_FILE);
	unlink(path);
	/* Only removes the directory when empty; the default /run/nascar stays
	 * if other pin directories keep their state in it. */
	rmdir(dir);
	return 0;
}
