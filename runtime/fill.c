// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fill.c - .nfc image -> BPF maps of one policy slot, and the switch.
 * See fill.h for the protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fill.h"

int fill_maps_from_obj(struct fill_maps *m, struct bpf_object *obj)
{
	unsigned int i;

	for (i = 0; i < NASCAR_NMAPS; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, nascar_map_desc(i)->name);

		m->fd[i] = map ? bpf_map__fd(map) : -1;
		if (m->fd[i] < 0 && nascar_map_desc(i)->fill)
			return -ENOENT;
	}
	m->owned = 0;
	return 0;
}

int fill_maps_from_pins(struct fill_maps *m, const char *dir)
{
	char path[4096];
	unsigned int i;
	int err;

	for (i = 0; i < NASCAR_NMAPS; i++)
		m->fd[i] = -1;
	m->owned = 1;
	for (i = 0; i < NASCAR_NMAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, nascar_map_desc(i)->name);
		m->fd[i] = bpf_obj_get(path);
		if (m->fd[i] < 0 && nascar_map_desc(i)->fill) {
			err = -errno;
			fill_maps_close(m);
			return err;
		}
	}
	return 0;
}

void fill_maps_close(struct fill_maps *m)
{
	unsigned int i;

	if (!m->owned)
		return;
	for (i = 0; i < NASCAR_NMAPS; i++) {
		if (m->fd[i] >= 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
	m->owned = 0;
}

/* Updates n entries, in batches where the kernel has them (5.6+). */
static int update_many(int fd, const void *keys, size_t ksize, const void *vals, size_t vsize,
		       size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = 0, .flags = 0);
	size_t i, done = 0;
	int err;

	while (done < n) {
		__u32 count = (__u32)(n - done > 4096 ? 4096 : n - done);

		err = bpf_map_update_batch(fd, (const char *)keys + done * ksize,
					   (const char *)vals + done * vsize, &count, &opts);
		if (err) {
			if (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP &&
			    errno != ENOTTY)
				return -errno;
			break; /* no batch support: one by one */
		}
		done += count;
	}
	for (i = done; i < n; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * ksize,
					(const char *)vals + i * vsize, BPF_ANY))
			return -errno;
	return 0;
}

/* Array indexes base..base+n-1 get vals[0..n-1]. */
static int update_range(int fd, __u32 base, const void *vals, size_t vsize, size_t n)
{
	__u32 *keys = malloc(n * sizeof(*keys));
	size_t i;
	int err;

	if (!keys)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		keys[i] = base + (__u32)i;
	err = update_many(fd, keys, sizeof(*keys), vals, vsize, n);
	free(keys);
	return err;
}

/* Deletes every key of a hash or LPM map whose slot field (at slot_off,
 * slot_size bytes) equals slot. */
static int clear_slot_keys(int fd, size_t ksize, size_t slot_off, size_t slot_size, int slot)
{
	unsigned char *keys = NULL, *cur, *next;
	size_t n = 0, cap = 0, i;
	int err = 0, first = 1;

	cur = calloc(2, ksize);
	if (!cur)
		return -ENOMEM;
	next = cur + ksize;
	for (;;) {
		__u32 s;

		if (bpf_map_get_next_key(fd, first ? NULL : cur, next)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		first = 0;
		memcpy(cur, next, ksize);
		s = slot_size == 1 ? cur[slot_off] : *(__u32 *)(cur + slot_off);
		if ((int)s != slot)
			continue;
		if (n == cap) {
			void *p;

			cap = cap ? cap * 2 : 256;
			p = realloc(keys, cap * ksize);
			if (!p) {
				err = -ENOMEM;
				break;
			}
			keys = p;
		}
		memcpy(keys + n * ksize, cur, ksize);
		n++;
	}
	for (i = 0; !err && i < n; i++)
		if (bpf_map_delete_elem(fd, keys + i * ksize) && errno != ENOENT)
			err = -errno;
	free(keys);
	free(cur);
	return err;
}

static int zero_percpu(int fd, __u32 base, size_t n, size_t vsize)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t sz;
	void *z;
	int err;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	sz = ((vsize + 7) & ~(size_t)7) * (size_t)ncpu;
	z = calloc(n, sz);
	if (!z)
		return -ENOMEM;
	err = update_range(fd, base, z, sz, n);
	free(z);
	return err;
}

#define CHECK(call, what)                                                            \
	do {                                                                         \
		err = (call);                                                        \
		if (err) {                                                           \
			nfc_fail(errbuf, errlen, err, "slot %d: %s: %s", slot, what, \
				 strerror(-err));                                    \
			goto out;                                                    \
		}                                                                    \
	} while (0)

int fill_slot_ex(struct fill_maps *m, const struct nfc_image *img, int slot,
		 const int *ifindex_of_iface, const __u8 *attach_flags, char *errbuf, size_t errlen)
{
	struct nascar_rule *rules = NULL;
	struct nascar_class *classes = NULL;
	struct nascar_police *police = NULL;
	__u32 *ports = NULL;
	size_t i;
	int err = 0;

	if (slot < 0 || slot >= NASCAR_SLOTS)
		return nfc_fail(errbuf, errlen, -EINVAL, "slot %d out of range", slot);
	if (!img || !img->cfg || img->nifaces > NASCAR_MAX_IFACES ||
	    img->nclasses > NASCAR_MAX_CLASSES || img->nflows > NASCAR_MAX_FLOWS ||
	    img->nbitmaps > NASCAR_MAX_BITMAPS || img->nallow > NASCAR_MAX_ALLOW)
		return nfc_fail(errbuf, errlen, -E2BIG, "slot %d: policy image over the map limits",
				slot);
	for (i = 0; i < img->nifaces; i++) {
		if (!ifindex_of_iface || ifindex_of_iface[i] <= 0)
			return nfc_fail(errbuf, errlen, -ENODEV,
					"slot %d: no ifindex for interface '%.*s'", slot,
					NASCAR_IFNAMSIZ, img->ifaces[i].name);
	}

	/* interfaces and LPM entries left by the slot's previous policy */
	CHECK(clear_slot_keys(m->fd[NASCAR_M_IFACES], sizeof(struct nascar_ifkey),
			      offsetof(struct nascar_ifkey, slot), 4, slot),
	      NASCAR_MAP_IFACES " (clear)");
	CHECK(clear_slot_keys(m->fd[NASCAR_M_ALLOW], sizeof(struct nascar_allow_key),
			      offsetof(struct nascar_allow_key, slot), 1, slot),
	      NASCAR_MAP_ALLOW " (clear)");
	CHECK(clear_slot_keys(m->fd[NASCAR_M_ADDR], sizeof(struct nascar_addr_key),
			      offsetof(struct nascar_addr_key, slot), 1, slot),
	      NASCAR_MAP_ADDR " (clear)");

	for (i = 0; i < img->naddr; i++) {
		struct nascar_addr_key k = img->addr[i].key;
		__u32 v = img->addr[i].bitmap;

		k.slot = (__u8)slot;
		k.pad0 = 0;
		if (bpf_map_update_elem(m->fd[NASCAR_M_ADDR], &k, &v, BPF_ANY)) {
			err = -errno;
			nfc_fail(errbuf, errlen, err, "slot %d: %s: %s", slot, NASCAR_MAP_ADDR,
				 strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < img->nallow; i++) {
		struct nascar_allow_key k = img->allow[i];
		__u32 v = 1;

		k.slot = (__u8)slot;
		k.pad0 = 0;
		if (bpf_map_update_elem(m->fd[NASCAR_M_ALLOW], &k, &v, BPF_ANY)) {
			err = -errno;
			nfc_fail(errbuf, errlen, err, "slot %d: %s: %s", slot, NASCAR_MAP_ALLOW,
				 strerror(errno));
			goto out;
		}
	}

	/* ports: the ranges cover 0..65535 once per dim; laid out as slot 0's */
	ports = calloc(2 * NASCAR_NPORTS, sizeof(*ports));
	if (!ports) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < img->nports; i++) {
		const struct nfc_port_range *r = &img->ports[i];
		__u32 p;

		for (p = r->lo; p <= r->hi; p++)
			ports[nascar_port_idx(0, r->dim & 1, p)] = r->bitmap;
	}
	CHECK(update_range(m->fd[NASCAR_M_PORTS], nascar_port_idx((__u32)slot, 0, 0), ports,
			   sizeof(__u32), 2 * NASCAR_NPORTS),
	      NASCAR_MAP_PORTS);
	CHECK(update_range(m->fd[NASCAR_M_PROTO], nascar_proto_idx((__u32)slot, 0), img->proto,
			   sizeof(__u32), NASCAR_NPROTOS),
	      NASCAR_MAP_PROTO);
	CHECK(update_range(m->fd[NASCAR_M_INIF], nascar_iface_idx((__u32)slot, 0), img->inif,
			   sizeof(__u32), NASCAR_MAX_IFACES),
	      NASCAR_MAP_INIF);
	if (img->nbitmaps)
		CHECK(update_range(m->fd[NASCAR_M_BITS], nascar_bitmap_idx((__u32)slot, 0),
				   img->bitmaps, sizeof(struct nascar_bitmap), img->nbitmaps),
		      NASCAR_MAP_BITS);

	/* rules: flows in order, the default (last in the image) at its index */
	rules = calloc(NASCAR_NRULES, sizeof(*rules));
	classes = calloc(NASCAR_MAX_CLASSES, sizeof(*classes));
	police = calloc(NASCAR_MAX_CLASSES, sizeof(*police));
	if (!rules || !classes || !police) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < NASCAR_NRULES; i++)
		rules[i].class_id = NASCAR_NO_CLASS;
	for (i = 0; i < img->nflows; i++)
		rules[i] = img->flows[i].rule;
	rules[NASCAR_RULE_DEFAULT] = img->flows[img->nflows].rule;
	CHECK(update_range(m->fd[NASCAR_M_RULES], nascar_rule_idx((__u32)slot, 0), rules,
			   sizeof(*rules), NASCAR_NRULES),
	      NASCAR_MAP_RULES);
	for (i = 0; i < NASCAR_MAX_CLASSES; i++)
		classes[i].dscp = NASCAR_DSCP_KEEP;
	for (i = 0; i < img->nclasses; i++) {
		classes[i] = img->classes[i].val;
		police[i].tokens = classes[i].burst; /* full; last_ns 0 = long ago */
	}
	CHECK(update_range(m->fd[NASCAR_M_CLASSES], nascar_class_idx((__u32)slot, 0), classes,
			   sizeof(*classes), NASCAR_MAX_CLASSES),
	      NASCAR_MAP_CLASSES);
	CHECK(update_range(m->fd[NASCAR_M_POLICE], nascar_class_idx((__u32)slot, 0), police,
			   sizeof(*police), NASCAR_MAX_CLASSES),
	      NASCAR_MAP_POLICE);

	CHECK(zero_percpu(m->fd[NASCAR_M_FSTATS], nascar_rule_idx((__u32)slot, 0), NASCAR_NRULES,
			  sizeof(struct nascar_counters)),
	      NASCAR_MAP_FSTATS);
	CHECK(zero_percpu(m->fd[NASCAR_M_ISTATS], nascar_iface_idx((__u32)slot, 0),
			  NASCAR_MAX_IFACES, sizeof(struct nascar_counters)),
	      NASCAR_MAP_ISTATS);

	{
		__u32 k = (__u32)slot;

		if (bpf_map_update_elem(m->fd[NASCAR_M_SLOTS], &k, img->cfg, BPF_ANY)) {
			err = -errno;
			nfc_fail(errbuf, errlen, err, "slot %d: %s: %s", slot, NASCAR_MAP_SLOTS,
				 strerror(errno));
			goto out;
		}
	}

	for (i = 0; i < img->nifaces; i++) {
		struct nascar_ifkey k = {.ifindex = (__u32)ifindex_of_iface[i],
					 .slot = (__u32)slot};
		struct nascar_iface v = img->ifaces[i].val;

		v.id = (__u8)i;
		v.pad0 = 0;
		if (attach_flags)
			v.flags |= attach_flags[i];
		if (bpf_map_update_elem(m->fd[NASCAR_M_IFACES], &k, &v, BPF_ANY)) {
			err = -errno;
			nfc_fail(errbuf, errlen, err, "slot %d: %s: %s", slot, NASCAR_MAP_IFACES,
				 strerror(errno));
			goto out;
		}
	}
out:
	free(police);
	free(classes);
	free(rules);
	free(ports);
	return err;
}

int fill_slot(struct fill_maps *m, const struct nfc_image *img, int slot,
	      const int *ifindex_of_iface, char *err, size_t errlen)
{
	return fill_slot_ex(m, img, slot, ifindex_of_iface, NULL, err, errlen);
}

int fill_switch(struct fill_maps *m, int slot, __u32 generation)
{
	struct nascar_state st = {.active_slot = (__u32)slot, .generation = generation};
	__u32 k = 0;

	if (slot < 0 || slot >= NASCAR_SLOTS)
		return -EINVAL;
	if (bpf_map_update_elem(m->fd[NASCAR_M_STATE], &k, &st, BPF_ANY))
		return -errno;
	return 0;
}

int fill_read_state(struct fill_maps *m, struct nascar_state *st)
{
	__u32 k = 0;

	if (bpf_map_lookup_elem(m->fd[NASCAR_M_STATE], &k, st))
		return -errno;
	return 0;
}

int fill_devmap_add(struct fill_maps *m, int ifindex)
{
	__u32 k = (__u32)ifindex, v = (__u32)ifindex;

	if (m->fd[NASCAR_M_DEVMAP] < 0)
		return -ENOENT;
	if (bpf_map_update_elem(m->fd[NASCAR_M_DEVMAP], &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

int fill_devmap_del(struct fill_maps *m, int ifindex)
{
	__u32 k = (__u32)ifindex;

	if (m->fd[NASCAR_M_DEVMAP] < 0)
		return -ENOENT;
	if (bpf_map_delete_elem(m->fd[NASCAR_M_DEVMAP], &k) && errno != ENOENT)
		return -errno;
	return 0;
}
