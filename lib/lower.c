// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lower.c - a checked policy becomes the classifier tables (.nfc).
 *
 * For each of the six match fields we split the field's value space into
 * pieces on which every flow either matches or does not, and give each piece
 * the bitmap of the flows that match it:
 *   - ingress interface: one piece per interface id;
 *   - protocol: one piece per protocol number;
 *   - ports: the elementary intervals between all range boundaries;
 *   - addresses: one piece per distinct prefix (plus /0); the LPM lookup
 *     returns the longest piece containing the address, so a prefix's bitmap
 *     holds every flow whose prefix contains that prefix.
 * Identical bitmaps are stored once.  Everything is produced in a fixed
 * order from the policy alone, so the output is byte-for-byte reproducible.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nfc.h"

struct bitset_table {
	struct nascar_bitmap *v;
	size_t n, cap;
	uint32_t *hash; /* open addressing: index + 1, 0 = empty */
	size_t hcap;
};

struct lower {
	const struct policy *p;
	struct bitset_table bt;
	struct nfc_addr_entry *addr;
	size_t naddr, addr_cap;
	struct nfc_port_range *ports;
	size_t nports, ports_cap;
	__u32 proto[256];
	__u32 inif[NASCAR_MAX_IFACES];
	int oom;
};

static inline void bit_set(struct nascar_bitmap *b, size_t i)
{
	b->w[i / 64] |= 1ULL << (i % 64);
}

/* Interns b; returns its index, or UINT32_MAX when over the limit. */
static uint32_t bt_intern(struct lower *l, const struct nascar_bitmap *b)
{
	struct bitset_table *t = &l->bt;
	uint64_t h = nfc_fnv1a64(b, sizeof(*b));
	size_t i;

	if (!t->hash) {
		t->hcap = 1024;
		t->hash = calloc(t->hcap, sizeof(*t->hash));
		if (!t->hash)
			goto oom;
	}
	for (i = h & (t->hcap - 1); t->hash[i]; i = (i + 1) & (t->hcap - 1))
		if (!memcmp(&t->v[t->hash[i] - 1], b, sizeof(*b)))
			return t->hash[i] - 1;
	if (t->n >= NASCAR_MAX_BITMAPS)
		return UINT32_MAX;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void *v = realloc(t->v, cap * sizeof(*t->v));

		if (!v)
			goto oom;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n] = *b;
	t->hash[i] = (uint32_t)++t->n;
	if (t->n * 2 > t->hcap) {
		size_t ncap = t->hcap * 2, j;
		uint32_t *nh = calloc(ncap, sizeof(*nh));

		if (!nh)
			goto oom;
		for (j = 0; j < t->n; j++) {
			size_t k = nfc_fnv1a64(&t->v[j], sizeof(t->v[j])) & (ncap - 1);

			while (nh[k])
				k = (k + 1) & (ncap - 1);
			nh[k] = (uint32_t)j + 1;
		}
		free(t->hash);
		t->hash = nh;
		t->hcap = ncap;
	}
	return (uint32_t)t->n - 1;
oom:
	l->oom = 1;
	return UINT32_MAX;
}

static int prefix_contains(const struct pol_prefix *outer, uint8_t family, uint8_t len,
			   const uint8_t *addr)
{
	size_t i;

	if (outer->family == 0)
		return 1;
	if (outer->family != family || outer->len > len)
		return 0;
	for (i = 0; i < outer->len / 8; i++)
		if (outer->addr[i] != addr[i])
			return 0;
	if (outer->len % 8) {
		uint8_t mask = (uint8_t)(0xff << (8 - outer->len % 8));

		if ((outer->addr[i] ^ addr[i]) & mask)
			return 0;
	}
	return 1;
}

static const struct pol_prefix *flow_prefix(const struct pol_flow *f, int dim)
{
	return dim == NASCAR_DIM_SRC ? &f->src : &f->dst;
}

static int add_addr(struct lower *l, int dim, uint8_t family, uint8_t len, const uint8_t *addr)
{
	const struct policy *p = l->p;
	struct nascar_bitmap b;
	struct nfc_addr_entry *e;
	size_t i;
	uint32_t idx;

	/* The same prefix may be named by several flows: one entry. */
	for (i = 0; i < l->naddr; i++) {
		e = &l->addr[i];
		if (e->key.dim == dim && e->key.family == family && e->key.prefixlen == 32u + len &&
		    !memcmp(e->key.addr, addr, 16))
			return 0;
	}
	memset(&b, 0, sizeof(b));
	for (i = 0; i < p->nflows; i++)
		if (prefix_contains(flow_prefix(&p->flows[i], dim), family, len, addr))
			bit_set(&b, i);
	idx = bt_intern(l, &b);
	if (idx == UINT32_MAX)
		return -E2BIG;
	if (l->naddr == l->addr_cap) {
		size_t cap = l->addr_cap ? l->addr_cap * 2 : 16;
		void *v = realloc(l->addr, cap * sizeof(*l->addr));

		if (!v)
			return -ENOMEM;
		l->addr = v;
		l->addr_cap = cap;
	}
	e = &l->addr[l->naddr++];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = 32u + len;
	e->key.dim = (uint8_t)dim;
	e->key.family = family;
	memcpy(e->key.addr, addr, 16);
	e->bitmap = idx;
	return 0;
}

static int lower_addrs(struct lower *l)
{
	static const uint8_t zero[16];
	const struct policy *p = l->p;
	int dim, fam, ret;
	size_t i;

	for (dim = NASCAR_DIM_SRC; dim <= NASCAR_DIM_DST; dim++) {
		for (fam = 0; fam < 2; fam++) {
			uint8_t family = fam ? NASCAR_FAM_V6 : NASCAR_FAM_V4;

			ret = add_addr(l, dim, family, 0, zero);
			if (ret)
				return ret;
			for (i = 0; i < p->nflows; i++) {
				const struct pol_prefix *pp = flow_prefix(&p->flows[i], dim);

				if (pp->family != family)
					continue;
				ret = add_addr(l, dim, family, pp->len, pp->addr);
				if (ret)
					return ret;
			}
		}
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int lower_ports(struct lower *l, int dim)
{
	const struct policy *p = l->p;
	uint32_t *bounds;
	size_t nb = 0, i, j, k;
	int ret = 0;

	bounds = malloc((2 * p->nflows + 2) * sizeof(*bounds));
	if (!bounds)
		return -ENOMEM;
	bounds[nb++] = 0;
	bounds[nb++] = 65536;
	for (i = 0; i < p->nflows; i++) {
		const struct pol_flow *f = &p->flows[i];

		bounds[nb++] = dim == NASCAR_DIM_SRC ? f->sport_lo : f->dport_lo;
		bounds[nb++] = (dim == NASCAR_DIM_SRC ? f->sport_hi : f->dport_hi) + 1u;
	}
	qsort(bounds, nb, sizeof(*bounds), cmp_u32);
	for (i = 1, k = 1; i < nb; i++)
		if (bounds[i] != bounds[k - 1])
			bounds[k++] = bounds[i];
	nb = k;

	for (j = 0; j + 1 < nb; j++) {
		uint32_t lo = bounds[j], hi = bounds[j + 1] - 1, idx;
		struct nascar_bitmap b;

		memset(&b, 0, sizeof(b));
		for (i = 0; i < p->nflows; i++) {
			const struct pol_flow *f = &p->flows[i];
			uint32_t flo = dim == NASCAR_DIM_SRC ? f->sport_lo : f->dport_lo;
			uint32_t fhi = dim == NASCAR_DIM_SRC ? f->sport_hi : f->dport_hi;

			if (flo <= lo && hi <= fhi)
				bit_set(&b, i);
		}
		idx = bt_intern(l, &b);
		if (idx == UINT32_MAX) {
			ret = -E2BIG;
			break;
		}
		/* Neighbouring intervals with the same flows become one range. */
		if (l->nports && l->ports[l->nports - 1].dim == dim &&
		    l->ports[l->nports - 1].bitmap == idx) {
			l->ports[l->nports - 1].hi = (uint16_t)hi;
			continue;
		}
		if (l->nports == l->ports_cap) {
			size_t cap = l->ports_cap ? l->ports_cap * 2 : 16;
			void *v = realloc(l->ports, cap * sizeof(*l->ports));

			if (!v) {
				ret = -ENOMEM;
				break;
			}
			l->ports = v;
			l->ports_cap = cap;
		}
		memset(&l->ports[l->nports], 0, sizeof(l->ports[0]));
		l->ports[l->nports].lo = (uint16_t)lo;
		l->ports[l->nports].hi = (uint16_t)hi;
		l->ports[l->nports].dim = (uint8_t)dim;
		l->ports[l->nports].bitmap = idx;
		l->nports++;
	}
	free(bounds);
	return ret;
}

static int lower_small(struct lower *l)
{
	const struct policy *p = l->p;
	struct nascar_bitmap b;
	size_t i;
	int v;

	for (v = 0; v < 256; v++) {
		memset(&b, 0, sizeof(b));
		for (i = 0; i < p->nflows; i++)
			if (p->flows[i].proto == POL_PROTO_ANY || p->flows[i].proto == v)
				bit_set(&b, i);
		l->proto[v] = bt_intern(l, &b);
		if (l->proto[v] == UINT32_MAX)
			return -E2BIG;
	}
	for (v = 0; v < NASCAR_MAX_IFACES; v++) {
		memset(&b, 0, sizeof(b));
		for (i = 0; i < p->nflows; i++)
			if (p->flows[i].in_iface == POL_IFACE_ANY || p->flows[i].in_iface == v)
				bit_set(&b, i);
		l->inif[v] = bt_intern(l, &b);
		if (l->inif[v] == UINT32_MAX)
			return -E2BIG;
	}
	return 0;
}

static void fill_flow(struct nfc_flow *o, const struct pol_flow *f)
{
	memcpy(o->name, f->name, sizeof(o->name));
	o->name[sizeof(o->name) - 1] = '\0';
	o->rule.action = (uint8_t)f->action;
	o->rule.class_id = f->class_idx < 0 ? NASCAR_NO_CLASS : (uint16_t)f->class_idx;
	o->flags = f->quoted ? NFC_FLOW_QUOTED : 0;
	o->in_iface = f->in_iface < 0 ? NFC_FLOW_IN_ANY : (uint8_t)f->in_iface;
	o->proto_any = f->proto == POL_PROTO_ANY;
	o->proto = f->proto == POL_PROTO_ANY ? 0 : (uint8_t)f->proto;
	o->src_family = f->src.family;
	o->src_len = f->src.len;
	memcpy(o->src, f->src.addr, 16);
	o->dst_family = f->dst.family;
	o->dst_len = f->dst.len;
	memcpy(o->dst, f->dst.addr, 16);
	o->sport_lo = f->sport_lo;
	o->sport_hi = f->sport_hi;
	o->dport_lo = f->dport_lo;
	o->dport_hi = f->dport_hi;
	o->line = f->line;
}

struct out {
	char *buf;
	size_t size;
	struct nfc_section secs[NFC_SEC_MAX];
	unsigned int nsec;
};

static size_t align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Plans a section; payload copied later by put(). */
static void plan(struct out *o, size_t *off, uint32_t type, uint32_t esz, size_t count)
{
	struct nfc_section *s = &o->secs[o->nsec++];

	s->type = type;
	s->entry_size = esz;
	s->count = (uint32_t)count;
	s->offset = *off;
	*off = align8(*off + esz * count);
}

static void *sec_ptr(struct out *o, uint32_t type)
{
	unsigned int i;

	for (i = 0; i < o->nsec; i++)
		if (o->secs[i].type == type)
			return o->buf + o->secs[i].offset;
	return NULL;
}

int nfc_build(const struct policy *p, void **bufp, size_t *sizep, char *err, size_t errlen)
{
	struct lower l;
	struct out o;
	struct nfc_header *hdr;
	struct nascar_slot_cfg *cfg;
	struct nfc_iface *ifs;
	struct nascar_allow_key *allow;
	struct nfc_class *cls;
	struct nfc_ifqos *qos;
	struct nfc_flow *flows;
	size_t nallow = 0, i, j, off;
	int ret;

	*bufp = NULL;
	*sizep = 0;
	if (p->nflows > NASCAR_MAX_FLOWS)
		return nfc_fail(err, errlen, -E2BIG, "too many flows (%zu; the limit is %d)",
				p->nflows, NASCAR_MAX_FLOWS);
	if (p->nclasses > NASCAR_MAX_CLASSES)
		return nfc_fail(err, errlen, -E2BIG, "too many classes (%zu; the limit is %d)",
				p->nclasses, NASCAR_MAX_CLASSES);
	if (p->nifaces > NASCAR_MAX_IFACES)
		return nfc_fail(err, errlen, -E2BIG, "too many interfaces (%zu; the limit is %d)",
				p->nifaces, NASCAR_MAX_IFACES);
	for (i = 0; i < p->nifaces; i++)
		nallow += p->ifaces[i].nallow;
	if (nallow > NASCAR_MAX_ALLOW)
		return nfc_fail(err, errlen, -E2BIG,
				"too many allow-src prefixes (%zu; the limit is %d in all)", nallow,
				NASCAR_MAX_ALLOW);

	memset(&l, 0, sizeof(l));
	l.p = p;
	ret = lower_small(&l);
	if (!ret)
		ret = lower_ports(&l, NASCAR_DIM_SRC);
	if (!ret)
		ret = lower_ports(&l, NASCAR_DIM_DST);
	if (!ret)
		ret = lower_addrs(&l);
	if (l.oom)
		ret = -ENOMEM;
	if (ret) {
		if (ret == -E2BIG)
			nfc_fail(
				err, errlen, ret,
				"policy needs more than %d distinct match bitmaps; merge flows with the same addresses or ports",
				NASCAR_MAX_BITMAPS);
		else
			nfc_fail(err, errlen, ret, "out of memory");
		goto out;
	}

	memset(&o, 0, sizeof(o));
	off = sizeof(struct nfc_header) + NFC_SEC_MAX * sizeof(struct nfc_section);
	off = align8(off);
	plan(&o, &off, NFC_SEC_CONFIG, sizeof(struct nascar_slot_cfg), 1);
	plan(&o, &off, NFC_SEC_IFACES, sizeof(struct nfc_iface), p->nifaces);
	plan(&o, &off, NFC_SEC_ALLOW, sizeof(struct nascar_allow_key), nallow);
	plan(&o, &off, NFC_SEC_CLASSES, sizeof(struct nfc_class), p->nclasses);
	plan(&o, &off, NFC_SEC_FLOWS, sizeof(struct nfc_flow), p->nflows + 1);
	plan(&o, &off, NFC_SEC_ADDR, sizeof(struct nfc_addr_entry), l.naddr);
	plan(&o, &off, NFC_SEC_PORTS, sizeof(struct nfc_port_range), l.nports);
	plan(&o, &off, NFC_SEC_PROTO, sizeof(__u32), 256);
	plan(&o, &off, NFC_SEC_INIF, sizeof(__u32), NASCAR_MAX_IFACES);
	plan(&o, &off, NFC_SEC_BITMAPS, sizeof(struct nascar_bitmap), l.bt.n);
	plan(&o, &off, NFC_SEC_IFQOS, sizeof(struct nfc_ifqos), p->nifaces);
	o.size = off;
	o.buf = calloc(1, o.size);
	if (!o.buf) {
		ret = nfc_fail(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}

	hdr = (struct nfc_header *)o.buf;
	hdr->magic = NFC_MAGIC;
	hdr->abi_version = NASCAR_ABI_VERSION;
	hdr->nsections = o.nsec;
	hdr->total_size = o.size;
	hdr->source_hash = p->source_hash;
	memcpy(hdr + 1, o.secs, o.nsec * sizeof(o.secs[0]));

	cfg = sec_ptr(&o, NFC_SEC_CONFIG);
	cfg->nflows = (uint32_t)p->nflows;
	cfg->nwords = (uint32_t)((p->nflows + 63) / 64);
	cfg->nbitmaps = (uint32_t)l.bt.n;
	cfg->nclasses = (uint32_t)p->nclasses;
	cfg->nifaces = (uint32_t)p->nifaces;
	cfg->source_hash = p->source_hash;

	ifs = sec_ptr(&o, NFC_SEC_IFACES);
	allow = sec_ptr(&o, NFC_SEC_ALLOW);
	qos = sec_ptr(&o, NFC_SEC_IFQOS);
	for (i = 0; i < p->nifaces; i++) {
		const struct pol_iface *pi = &p->ifaces[i];

		if (qos) {
			qos[i].rate = pi->rate;
			qos[i].egress = pi->egress;
		}

		memcpy(ifs[i].name, pi->name, NASCAR_IFNAMSIZ);
		ifs[i].name[NASCAR_IFNAMSIZ - 1] = '\0';
		ifs[i].val.id = (uint8_t)i;
		ifs[i].val.role = pi->role;
		ifs[i].val.mode = pi->mode;
		ifs[i].val.flags = pi->nallow ? NASCAR_IF_ALLOW_SRC : 0;
		for (j = 0; j < pi->nallow; j++, allow++) {
			allow->prefixlen = 32u + pi->allow[j].len;
			allow->iface = (uint8_t)i;
			allow->family = pi->allow[j].family;
			memcpy(allow->addr, pi->allow[j].addr, 16);
		}
	}
	cls = sec_ptr(&o, NFC_SEC_CLASSES);
	for (i = 0; i < p->nclasses; i++) {
		const struct pol_class *pc = &p->classes[i];

		memcpy(cls[i].name, pc->name, NASCAR_CLASS_NAMSIZ);
		cls[i].name[NASCAR_CLASS_NAMSIZ - 1] = '\0';
		cls[i].val.priority = pc->priority;
		cls[i].val.dscp = pc->dscp;
		cls[i].val.rate = pc->rate;
		cls[i].val.burst = pc->rate ? pc->burst : 0;
		cls[i].val.flags = pc->rate && pc->police ? NASCAR_CLASS_POLICE : 0;
	}
	flows = sec_ptr(&o, NFC_SEC_FLOWS);
	for (i = 0; i < p->nflows; i++)
		fill_flow(&flows[i], &p->flows[i]);
	flows[p->nflows].rule.action = (uint8_t)p->default_action;
	flows[p->nflows].rule.class_id =
		p->default_class < 0 ? NASCAR_NO_CLASS : (uint16_t)p->default_class;
	flows[p->nflows].in_iface = NFC_FLOW_IN_ANY;
	flows[p->nflows].proto_any = 1;
	flows[p->nflows].sport_hi = 65535;
	flows[p->nflows].dport_hi = 65535;

	memcpy(sec_ptr(&o, NFC_SEC_ADDR), l.addr, l.naddr * sizeof(*l.addr));
	memcpy(sec_ptr(&o, NFC_SEC_PORTS), l.ports, l.nports * sizeof(*l.ports));
	memcpy(sec_ptr(&o, NFC_SEC_PROTO), l.proto, sizeof(l.proto));
	memcpy(sec_ptr(&o, NFC_SEC_INIF), l.inif, sizeof(l.inif));
	memcpy(sec_ptr(&o, NFC_SEC_BITMAPS), l.bt.v, l.bt.n * sizeof(*l.bt.v));
	hdr->checksum = nfc_crc32c(o.buf + sizeof(*hdr), o.size - sizeof(*hdr));

	*bufp = o.buf;
	*sizep = o.size;
	ret = 0;
out:
	free(l.bt.v);
	free(l.bt.hash);
	free(l.addr);
	free(l.ports);
	return ret;
}
