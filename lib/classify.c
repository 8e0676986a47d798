// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * classify.c - the userspace twin of the BPF classifier.
 *
 * The BPF programs look the six field bitmaps up in maps; here the same
 * compiled tables are looked up in memory (a binary trie stands in for the
 * kernel's LPM trie, a flat array for the port array map), and the first
 * match is taken by the very same nascar_first_match() the BPF object uses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nascar_classify.h"
#include "nfc.h"

/* Binary trie node; child index 0 = none.  value UINT32_MAX = no prefix ends here. */
struct trie_node {
	uint32_t child[2];
	uint32_t value;
};

struct trie {
	struct trie_node *n;
	size_t len, cap;
};

struct nfc_lpm {
	struct trie addr[2][2]; /* [dim][family v4=0 v6=1] */
	struct trie allow[NASCAR_MAX_IFACES][2];
	uint32_t ports[2][65536];
};

void nfc_lpm_free(void *lpm)
{
	struct nfc_lpm *l = lpm;
	int i, j;

	if (!l)
		return;
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			free(l->addr[i][j].n);
	for (i = 0; i < NASCAR_MAX_IFACES; i++)
		for (j = 0; j < 2; j++)
			free(l->allow[i][j].n);
	free(l);
}

static int trie_node(struct trie *t, uint32_t *idx)
{
	if (t->len == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void *v = realloc(t->n, cap * sizeof(*t->n));

		if (!v)
			return -ENOMEM;
		t->n = v;
		t->cap = cap;
	}
	t->n[t->len].child[0] = t->n[t->len].child[1] = 0;
	t->n[t->len].value = UINT32_MAX;
	*idx = (uint32_t)t->len++;
	return 0;
}

static int trie_insert(struct trie *t, const uint8_t *addr, unsigned int len, uint32_t value)
{
	uint32_t cur = 0, nx;
	unsigned int i;

	if (!t->len && trie_node(t, &cur))
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		int bit = (addr[i / 8] >> (7 - i % 8)) & 1;

		if (!t->n[cur].child[bit]) {
			if (trie_node(t, &nx))
				return -ENOMEM;
			t->n[cur].child[bit] = nx;
		}
		cur = t->n[cur].child[bit];
	}
	t->n[cur].value = value;
	return 0;
}

/* Longest-prefix match; UINT32_MAX when nothing matches. */
static uint32_t trie_lookup(const struct trie *t, const uint8_t *addr, unsigned int bits)
{
	uint32_t cur = 0, best = UINT32_MAX;
	unsigned int i;

	if (!t->len)
		return UINT32_MAX;
	for (i = 0;; i++) {
		if (t->n[cur].value != UINT32_MAX)
			best = t->n[cur].value;
		if (i == bits)
			break;
		cur = t->n[cur].child[(addr[i / 8] >> (7 - i % 8)) & 1];
		if (!cur)
			break;
	}
	return best;
}

static struct nfc_lpm *lpm_build(const struct nfc_image *img)
{
	struct nfc_lpm *l = calloc(1, sizeof(*l));
	size_t i;
	uint32_t p;

	if (!l)
		return NULL;
	for (i = 0; i < img->naddr; i++) {
		const struct nascar_addr_key *k = &img->addr[i].key;

		if (trie_insert(&l->addr[k->dim][k->family == NASCAR_FAM_V6], k->addr,
				k->prefixlen - 32, img->addr[i].bitmap))
			goto err;
	}
	for (i = 0; i < img->nallow; i++) {
		const struct nascar_allow_key *k = &img->allow[i];

		if (trie_insert(&l->allow[k->iface][k->family == NASCAR_FAM_V6], k->addr,
				k->prefixlen - 32, 1))
			goto err;
	}
	for (i = 0; i < img->nports; i++)
		for (p = img->ports[i].lo; p <= img->ports[i].hi; p++)
			l->ports[img->ports[i].dim][p] = img->ports[i].bitmap;
	return l;
err:
	nfc_lpm_free(l);
	return NULL;
}

int nfc_classify_id(struct nfc_image *img, int ifid, const struct nfc_pkt *pkt,
		    struct nfc_verdict *v)
{
	struct nfc_lpm *l;
	struct nascar_fields f;
	unsigned int bits = pkt->family == NASCAR_FAM_V6 ? 128 : 32;
	int fam = pkt->family == NASCAR_FAM_V6;
	uint32_t src, dst;
	const struct nascar_rule *rule;

	memset(v, 0, sizeof(*v));
	v->rule = NASCAR_RULE_DEFAULT;
	v->class_id = -1;
	v->action = NASCAR_ACT_STACK;
	if (pkt->family != NASCAR_FAM_V4 && pkt->family != NASCAR_FAM_V6)
		return -EINVAL;
	if (ifid < 0 || (size_t)ifid >= img->nifaces)
		return 0;
	v->matched_iface = 1;

	if (!img->lpm) {
		img->lpm = lpm_build(img);
		if (!img->lpm)
			return -ENOMEM;
	}
	l = img->lpm;

	if ((img->ifaces[ifid].val.flags & NASCAR_IF_ALLOW_SRC) &&
	    trie_lookup(&l->allow[ifid][fam], pkt->src, bits) == UINT32_MAX) {
		v->spoofed = 1;
		v->action = NASCAR_ACT_DROP;
		return 0;
	}

	src = trie_lookup(&l->addr[NASCAR_DIM_SRC][fam], pkt->src, bits);
	dst = trie_lookup(&l->addr[NASCAR_DIM_DST][fam], pkt->dst, bits);
	if (src == UINT32_MAX || dst == UINT32_MAX)
		return -EINVAL; /* nfc_parse guarantees /0 entries */
	f.b[0] = &img->bitmaps[img->inif[ifid]];
	f.b[1] = &img->bitmaps[img->proto[pkt->proto]];
	f.b[2] = &img->bitmaps[src];
	f.b[3] = &img->bitmaps[dst];
	f.b[4] = &img->bitmaps[l->ports[NASCAR_DIM_SRC][pkt->sport]];
	f.b[5] = &img->bitmaps[l->ports[NASCAR_DIM_DST][pkt->dport]];

	v->rule = nascar_first_match(&f, img->cfg->nwords);
	rule = &img->flows[v->rule == NASCAR_RULE_DEFAULT ? img->nflows : v->rule].rule;
	v->action = rule->action;
	v->class_id = rule->class_id == NASCAR_NO_CLASS ? -1 : rule->class_id;
	return 0;
}

int nfc_classify(struct nfc_image *img, const char *ifname, const struct nfc_pkt *pkt,
		 struct nfc_verdict *v)
{
	size_t i;

	for (i = 0; i < img->nifaces; i++)
		if (!strncmp(img->ifaces[i].name, ifname, NASCAR_IFNAMSIZ))
			return nfc_classify_id(img, (int)i, pkt, v);
	return nfc_classify_id(img, -1, pkt, v);
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int nfc_parse_endpoint(const char *s, uint8_t *family, uint8_t addr[16], uint16_t *port,
		       int *has_port)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *colon;
	size_t n;

	memset(addr, 0, 16);
	*port = 0;
	*has_port = 0;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		n = close ? (size_t)(close - s - 1) : 0;
		if (!close || n == 0 || n >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, addr) != 1)
			return -EINVAL;
		*family = NASCAR_FAM_V6;
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return -EINVAL;
		*has_port = 1;
		return parse_port(close + 2, port);
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = NASCAR_FAM_V6;
		return 0;
	}
	colon = strchr(s, ':');
	n = colon ? (size_t)(colon - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, addr) != 1)
		return -EINVAL;
	*family = NASCAR_FAM_V4;
	if (!colon)
		return 0;
	*has_port = 1;
	return parse_port(colon + 1, port);
}
