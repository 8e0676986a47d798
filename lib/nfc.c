// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nfc.c - read, validate and write compiled policies.
 *
 * nfc_parse() is the only door into an .nfc image: everything the data path
 * or the userspace classifier will index with (bitmap numbers, interface
 * ids, class ids, port ranges) is range-checked here, so a corrupt or
 * hostile file gets an error and never an out-of-bounds read later.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nfc.h"

uint64_t nfc_fnv1a64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint32_t crc32c_table[256];

static void crc32c_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ 0x82f63b78U : c >> 1;
		crc32c_table[i] = c;
	}
}

uint32_t nfc_crc32c(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xffffffffU;

	if (!crc32c_table[1])
		crc32c_init();
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffU;
}

int nfc_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

struct sec_rule {
	uint32_t type;
	uint32_t entry_size;
	uint32_t max_count;
	const char *name;
};

static const struct sec_rule sec_rules[NFC_SEC_MAX + 1] = {
	[NFC_SEC_CONFIG] = {NFC_SEC_CONFIG, sizeof(struct nascar_slot_cfg), 1, "config"},
	[NFC_SEC_IFACES] = {NFC_SEC_IFACES, sizeof(struct nfc_iface), NASCAR_MAX_IFACES,
			    "interfaces"},
	[NFC_SEC_ALLOW] = {NFC_SEC_ALLOW, sizeof(struct nascar_allow_key), NASCAR_MAX_ALLOW,
			   "allow-src"},
	[NFC_SEC_CLASSES] = {NFC_SEC_CLASSES, sizeof(struct nfc_class), NASCAR_MAX_CLASSES,
			     "classes"},
	[NFC_SEC_FLOWS] = {NFC_SEC_FLOWS, sizeof(struct nfc_flow), NASCAR_NRULES, "flows"},
	[NFC_SEC_ADDR] = {NFC_SEC_ADDR, sizeof(struct nfc_addr_entry), 4 * (NASCAR_MAX_FLOWS + 1),
			  "address table"},
	[NFC_SEC_PORTS] = {NFC_SEC_PORTS, sizeof(struct nfc_port_range),
			   2 * (2 * NASCAR_MAX_FLOWS + 1), "port table"},
	[NFC_SEC_PROTO] = {NFC_SEC_PROTO, sizeof(__u32), 256, "protocol table"},
	[NFC_SEC_INIF] = {NFC_SEC_INIF, sizeof(__u32), NASCAR_MAX_IFACES, "interface table"},
	[NFC_SEC_BITMAPS] = {NFC_SEC_BITMAPS, sizeof(struct nascar_bitmap), NASCAR_MAX_BITMAPS,
			     "bitmaps"},
	[NFC_SEC_IFQOS] = {NFC_SEC_IFQOS, sizeof(struct nfc_ifqos), NASCAR_MAX_IFACES,
			   "interface qos"},
};

static int name_ok(const char *s, size_t n)
{
	return s[0] != '\0' && memchr(s, '\0', n) != NULL;
}

/* A table key's prefix: a real family and 32 + at most the family's bits. */
static int key_prefix_ok(uint8_t family, uint32_t prefixlen, const uint8_t *addr);

static int prefix_ok(uint8_t family, uint8_t len, const uint8_t *addr)
{
	size_t bits = family == NASCAR_FAM_V4 ? 32 : family == NASCAR_FAM_V6 ? 128 : 0;
	size_t i;

	if (family != NASCAR_FAM_V4 && family != NASCAR_FAM_V6)
		return family == 0 && len == 0;
	if (len > bits)
		return 0;
	/* Host bits must be zero and nothing past the address. */
	for (i = len; i < 128; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

static int key_prefix_ok(uint8_t family, uint32_t prefixlen, const uint8_t *addr)
{
	if (family != NASCAR_FAM_V4 && family != NASCAR_FAM_V6)
		return 0;
	if (prefixlen < 32 || prefixlen > 32 + (family == NASCAR_FAM_V4 ? 32u : 128u))
		return 0;
	return prefix_ok(family, (uint8_t)(prefixlen - 32), addr);
}

static int check_tables(struct nfc_image *img, char *err, size_t errlen)
{
	const struct nascar_slot_cfg *cfg = img->cfg;
	size_t i;
	uint32_t next[2] = {0, 0};
	int seen_root[2][2][2] = {{{0}}};

	if (cfg->nflows > NASCAR_MAX_FLOWS || img->nflows != cfg->nflows + 1)
		return nfc_fail(err, errlen, -EINVAL, "flow table has %zu entries for %u flows",
				img->nflows, cfg->nflows);
	img->nflows = cfg->nflows;
	if (cfg->nwords != (cfg->nflows + 63) / 64)
		return nfc_fail(err, errlen, -EINVAL, "bitmap width %u does not fit %u flows",
				cfg->nwords, cfg->nflows);
	if (cfg->nbitmaps != img->nbitmaps || cfg->nclasses != img->nclasses ||
	    cfg->nifaces != img->nifaces)
		return nfc_fail(err, errlen, -EINVAL, "section counts disagree with the header");
	if (cfg->source_hash != img->hdr->source_hash)
		return nfc_fail(err, errlen, -EINVAL, "source hash disagrees with the header");

	for (i = 0; i < img->nifaces; i++) {
		const struct nfc_iface *f = &img->ifaces[i];

		if (!name_ok(f->name, sizeof(f->name)) || f->val.id != i ||
		    (f->val.role != NASCAR_ROLE_GUEST && f->val.role != NASCAR_ROLE_UPLINK) ||
		    f->val.mode > NASCAR_MODE_HYBRID || (f->val.flags & ~NASCAR_IF_ALLOW_SRC))
			return nfc_fail(err, errlen, -EINVAL, "interface entry %zu is malformed",
					i);
	}
	for (i = 0; i < img->nallow; i++) {
		const struct nascar_allow_key *k = &img->allow[i];

		if (k->slot != 0 || k->iface >= img->nifaces || k->pad0 ||
		    !key_prefix_ok(k->family, k->prefixlen, k->addr) ||
		    !(img->ifaces[k->iface].val.flags & NASCAR_IF_ALLOW_SRC))
			return nfc_fail(err, errlen, -EINVAL, "allow-src entry %zu is malformed",
					i);
	}
	for (i = 0; i < img->nclasses; i++) {
		const struct nfc_class *c = &img->classes[i];

		if (!name_ok(c->name, sizeof(c->name)) || c->val.priority > 7 ||
		    (c->val.dscp > 63 && c->val.dscp != NASCAR_DSCP_KEEP) ||
		    (c->val.rate && !c->val.burst))
			return nfc_fail(err, errlen, -EINVAL, "class entry %zu is malformed", i);
	}
	for (i = 0; i <= img->nflows; i++) {
		const struct nfc_flow *f = &img->flows[i];
		int last = i == img->nflows;

		if ((!last && !name_ok(f->name, sizeof(f->name))) ||
		    memchr(f->name, '\0', sizeof(f->name)) == NULL ||
		    f->rule.action > NASCAR_ACT_DROP ||
		    (f->rule.class_id != NASCAR_NO_CLASS && f->rule.class_id >= img->nclasses) ||
		    (f->rule.action == NASCAR_ACT_FORWARD && f->rule.class_id == NASCAR_NO_CLASS) ||
		    (f->in_iface != NFC_FLOW_IN_ANY && f->in_iface >= img->nifaces) ||
		    !prefix_ok(f->src_family, f->src_len, f->src) ||
		    !prefix_ok(f->dst_family, f->dst_len, f->dst) || f->sport_lo > f->sport_hi ||
		    f->dport_lo > f->dport_hi)
			return nfc_fail(err, errlen, -EINVAL, "flow entry %zu is malformed", i);
	}
	for (i = 0; i < img->naddr; i++) {
		const struct nfc_addr_entry *a = &img->addr[i];
		int fam = a->key.family == NASCAR_FAM_V6;

		if (a->key.slot != 0 || a->key.dim > NASCAR_DIM_DST || a->key.pad0 ||
		    !key_prefix_ok(a->key.family, a->key.prefixlen, a->key.addr) ||
		    a->bitmap >= img->nbitmaps)
			return nfc_fail(err, errlen, -EINVAL, "address entry %zu is malformed", i);
		if (a->key.prefixlen == 32)
			seen_root[a->key.dim][fam][0] = 1;
	}
	for (i = 0; i < 4; i++)
		if (!seen_root[i / 2][i % 2][0])
			return nfc_fail(err, errlen, -EINVAL, "address table lacks a /0 entry");
	for (i = 0; i < img->nports; i++) {
		const struct nfc_port_range *r = &img->ports[i];

		if (r->dim > NASCAR_DIM_DST || r->bitmap >= img->nbitmaps || r->lo > r->hi ||
		    r->lo != next[r->dim] || (r->dim == 1 && next[0] != 65536))
			return nfc_fail(err, errlen, -EINVAL, "port range %zu is malformed", i);
		next[r->dim] = (uint32_t)r->hi + 1;
	}
	if (next[0] != 65536 || next[1] != 65536)
		return nfc_fail(err, errlen, -EINVAL, "port table does not cover every port");
	for (i = 0; i < 256; i++)
		if (img->proto[i] >= img->nbitmaps)
			return nfc_fail(err, errlen, -EINVAL, "protocol entry %zu is malformed", i);
	for (i = 0; i < NASCAR_MAX_IFACES; i++)
		if (img->inif[i] >= img->nbitmaps)
			return nfc_fail(err, errlen, -EINVAL,
					"interface table entry %zu is malformed", i);
	/* Bits past the last flow must be clear, or the classifier could
	 * return a rule index with no rule behind it. */
	for (i = 0; i < img->nbitmaps; i++) {
		uint32_t w;

		for (w = 0; w < NASCAR_BITMAP_WORDS; w++) {
			uint64_t valid;
			uint32_t lo = w * 64;

			if (lo >= cfg->nflows)
				valid = 0;
			else if (cfg->nflows - lo >= 64)
				valid = ~0ULL;
			else
				valid = (1ULL << (cfg->nflows - lo)) - 1;
			if (img->bitmaps[i].w[w] & ~valid)
				return nfc_fail(err, errlen, -EINVAL,
						"bitmap %zu names a flow that does not exist", i);
		}
	}
	return 0;
}

int nfc_parse(void *buf, size_t size, struct nfc_image *img, char *err, size_t errlen)
{
	const struct nfc_header *hdr = buf;
	const struct nfc_section *secs;
	const void *ptr[NFC_SEC_MAX + 1] = {0};
	uint32_t cnt[NFC_SEC_MAX + 1] = {0};
	uint32_t i;

	memset(img, 0, sizeof(*img));
	if (size < sizeof(*hdr))
		return nfc_fail(err, errlen, -EINVAL, "file is truncated (%zu bytes)", size);
	if (hdr->magic != NFC_MAGIC)
		return nfc_fail(err, errlen, -EINVAL, "not a compiled nascar policy (bad magic)");
	if (hdr->abi_version != NASCAR_ABI_VERSION)
		return nfc_fail(
			err, errlen, -EPROTO,
			"compiled for ABI version %u, this build reads version %u; recompile it with this nascarc",
			hdr->abi_version, NASCAR_ABI_VERSION);
	if (hdr->total_size != size)
		return nfc_fail(err, errlen, -EINVAL,
				"file is truncated or padded (%zu of %llu bytes)", size,
				(unsigned long long)hdr->total_size);
	if (nfc_crc32c((const char *)buf + sizeof(*hdr), size - sizeof(*hdr)) != hdr->checksum)
		return nfc_fail(err, errlen, -EBADMSG, "checksum mismatch: the file is corrupt");
	if (hdr->nsections == 0 || hdr->nsections > NFC_SEC_MAX ||
	    sizeof(*hdr) + (size_t)hdr->nsections * sizeof(*secs) > size)
		return nfc_fail(err, errlen, -EINVAL, "bad section count %u", hdr->nsections);

	secs = (const struct nfc_section *)(hdr + 1);
	for (i = 0; i < hdr->nsections; i++) {
		const struct nfc_section *s = &secs[i];
		const struct sec_rule *r;

		if (s->type == 0 || s->type > NFC_SEC_MAX)
			return nfc_fail(err, errlen, -EINVAL, "unknown section type %u", s->type);
		r = &sec_rules[s->type];
		if (ptr[s->type])
			return nfc_fail(err, errlen, -EINVAL, "%s section appears twice", r->name);
		if (s->entry_size != r->entry_size)
			return nfc_fail(err, errlen, -EINVAL,
					"%s entries are %u bytes, expected %u", r->name,
					s->entry_size, r->entry_size);
		if (s->count > r->max_count)
			return nfc_fail(err, errlen, -EINVAL,
					"%s section has %u entries (limit %u)", r->name, s->count,
					r->max_count);
		if (s->offset % 8 || s->offset > size ||
		    (uint64_t)s->count * s->entry_size > size - s->offset)
			return nfc_fail(err, errlen, -EINVAL, "%s section lies outside the file",
					r->name);
		ptr[s->type] = (const char *)buf + s->offset;
		cnt[s->type] = s->count;
	}
	for (i = 1; i <= NFC_SEC_MAX; i++)
		if (!ptr[i] && i != NFC_SEC_ALLOW && i != NFC_SEC_IFACES && i != NFC_SEC_CLASSES &&
		    i != NFC_SEC_IFQOS)
			return nfc_fail(err, errlen, -EINVAL, "%s section is missing",
					sec_rules[i].name);
	if (cnt[NFC_SEC_CONFIG] != 1 || cnt[NFC_SEC_PROTO] != 256 ||
	    cnt[NFC_SEC_INIF] != NASCAR_MAX_IFACES || cnt[NFC_SEC_BITMAPS] == 0 ||
	    cnt[NFC_SEC_FLOWS] == 0 ||
	    (ptr[NFC_SEC_IFQOS] && cnt[NFC_SEC_IFQOS] != cnt[NFC_SEC_IFACES]))
		return nfc_fail(err, errlen, -EINVAL, "a fixed-size section has the wrong size");
	if (ptr[NFC_SEC_IFQOS]) {
		const struct nfc_ifqos *q = ptr[NFC_SEC_IFQOS];

		for (i = 0; i < cnt[NFC_SEC_IFQOS]; i++)
			if (q[i].egress > NASCAR_EGRESS_REPLACE)
				return nfc_fail(err, errlen, -EINVAL,
						"interface %u has an unknown egress mode %u", i,
						q[i].egress);
	}

	img->buf = buf;
	img->size = size;
	img->hdr = hdr;
	img->cfg = ptr[NFC_SEC_CONFIG];
	img->ifaces = ptr[NFC_SEC_IFACES];
	img->nifaces = cnt[NFC_SEC_IFACES];
	img->allow = ptr[NFC_SEC_ALLOW];
	img->nallow = cnt[NFC_SEC_ALLOW];
	img->classes = ptr[NFC_SEC_CLASSES];
	img->nclasses = cnt[NFC_SEC_CLASSES];
	img->flows = ptr[NFC_SEC_FLOWS];
	img->nflows = cnt[NFC_SEC_FLOWS];
	img->addr = ptr[NFC_SEC_ADDR];
	img->naddr = cnt[NFC_SEC_ADDR];
	img->ports = ptr[NFC_SEC_PORTS];
	img->nports = cnt[NFC_SEC_PORTS];
	img->proto = ptr[NFC_SEC_PROTO];
	img->inif = ptr[NFC_SEC_INIF];
	img->bitmaps = ptr[NFC_SEC_BITMAPS];
	img->nbitmaps = cnt[NFC_SEC_BITMAPS];
	img->ifqos = cnt[NFC_SEC_IFQOS] ? ptr[NFC_SEC_IFQOS] : NULL;

	if (check_tables(img, err, errlen) < 0) {
		memset(img, 0, sizeof(*img));
		return -EINVAL;
	}
	return 0;
}

int nfc_load_file(const char *path, struct nfc_image *img, char *err, size_t errlen)
{
	struct stat st;
	void *buf;
	size_t off = 0;
	int fd, ret;

	memset(img, 0, sizeof(*img));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return nfc_fail(err, errlen, -errno, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return nfc_fail(err, errlen, -EINVAL, "not a regular file");
	}
	if (st.st_size > (off_t)256 << 20) {
		close(fd);
		return nfc_fail(err, errlen, -EFBIG, "file is too large to be a policy");
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return nfc_fail(err, errlen, -ENOMEM, "out of memory");
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)buf + off, (size_t)st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			close(fd);
			free(buf);
			return nfc_fail(err, errlen, ret, "read error: %s", strerror(-ret));
		}
		off += (size_t)n;
	}
	close(fd);
	ret = nfc_parse(buf, off, img, err, errlen);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	return 0;
}

void nfc_image_free(struct nfc_image *img)
{
	if (!img)
		return;
	nfc_lpm_free(img->lpm);
	free(img->buf);
	memset(img, 0, sizeof(*img));
}

static int write_all(int fd, const void *buf, size_t size)
{
	const char *p = buf;

	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

int nfc_write_file(const char *path, const void *buf, size_t size, char *err, size_t errlen)
{
	char *tmp;
	int fd, ret;

	if (strcmp(path, "-") == 0) {
		ret = write_all(STDOUT_FILENO, buf, size);
		if (ret < 0)
			return nfc_fail(err, errlen, ret, "cannot write standard output: %s",
					strerror(-ret));
		return 0;
	}
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return nfc_fail(err, errlen, -ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		free(tmp);
		return nfc_fail(err, errlen, ret, "cannot write '%s': %s", path, strerror(-ret));
	}
	ret = write_all(fd, buf, size);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		free(tmp);
		return nfc_fail(err, errlen, ret, "cannot write '%s': %s", path, strerror(-ret));
	}
	free(tmp);
	return 0;
}
