// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dump.c - a compiled policy, printed for people (text) and programs (JSON).
 * Both outputs are deterministic: golden tests diff them.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "nfc.h"
#include "util.h"

static int plain_name(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '.' || *s == '-'))
			return 0;
	return 1;
}

void nfc_print_flow_name(const struct nfc_flow *f, FILE *out)
{
	const char *s;

	if (!(f->flags & NFC_FLOW_QUOTED) || plain_name(f->name)) {
		fputs(f->name, out);
		return;
	}
	fputc('"', out);
	for (s = f->name; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void print_prefix(FILE *out, uint8_t family, uint8_t len, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (family == 0) {
		fputs("any", out);
		return;
	}
	inet_ntop(family == NASCAR_FAM_V4 ? AF_INET : AF_INET6, addr, buf, sizeof(buf));
	fprintf(out, "%s/%u", buf, len);
}

static void print_ports(FILE *out, uint16_t lo, uint16_t hi)
{
	if (lo == 0 && hi == 65535)
		return;
	if (lo == hi)
		fprintf(out, " port %u", lo);
	else
		fprintf(out, " port %u-%u", lo, hi);
}

static void print_proto(FILE *out, const struct nfc_flow *f)
{
	const char *n = nfc_word_name(&nfc_protos, f->proto);

	if (f->proto_any)
		fputs("any", out);
	else if (n)
		fputs(n, out);
	else
		fprintf(out, "%u", f->proto);
}

/* Flow numbers set in a bitmap, as ranges: "0-3,7". */
static void print_bits(FILE *out, const struct nascar_bitmap *b, uint32_t nflows)
{
	uint32_t i = 0, start;
	int first = 1;

	while (i < nflows) {
		if (!(b->w[i / 64] & (1ULL << (i % 64)))) {
			i++;
			continue;
		}
		start = i;
		while (i + 1 < nflows && (b->w[(i + 1) / 64] & (1ULL << ((i + 1) % 64))))
			i++;
		fprintf(out, "%s%u", first ? "" : ",", start);
		if (i > start)
			fprintf(out, "-%u", i);
		first = 0;
		i++;
	}
	if (first)
		fputs("none", out);
}

/* A rated class is shaped where TC can shape it, unless `police;` says drop. */
static void print_rate(FILE *out, const struct nascar_class *c)
{
	if (!c->rate)
		return;
	fprintf(out, ", rate %" PRIu64 " bytes/s, burst %u bytes, %s", (uint64_t)c->rate, c->burst,
		c->flags & NASCAR_CLASS_POLICE ? "police" : "shaped");
}

/* An interface's version-2 statements; a file without the section has the defaults. */
static struct nfc_ifqos iface_qos(const struct nfc_image *img, size_t i)
{
	struct nfc_ifqos q = {.rate = 0, .egress = NASCAR_EGRESS_AUTO};

	if (img->ifqos)
		q = img->ifqos[i];
	return q;
}

void nfc_dump_text(const struct nfc_image *img, FILE *out)
{
	const struct nascar_slot_cfg *cfg = img->cfg;
	const struct nfc_flow *def = &img->flows[img->nflows];
	size_t i, j;

	fprintf(out, "nfc abi %u, source fnv1a64 %016" PRIx64 ", %u bytes\n", img->hdr->abi_version,
		(uint64_t)img->hdr->source_hash, (unsigned int)img->size);
	fprintf(out, "%u interfaces, %u classes, %u flows, %u bitmaps of %u words\n", cfg->nifaces,
		cfg->nclasses, cfg->nflows, cfg->nbitmaps, cfg->nwords);

	for (i = 0; i < img->nifaces; i++) {
		const struct nfc_iface *f = &img->ifaces[i];
		struct nfc_ifqos qos;
		int any = 0;

		fprintf(out, "interface %s: id %u, role %s, mode %s", f->name, f->val.id,
			nfc_role_name(f->val.role), nfc_mode_name(f->val.mode));
		for (j = 0; j < img->nallow; j++) {
			if (img->allow[j].iface != i)
				continue;
			fputs(any ? ", " : ", allow-src ", out);
			print_prefix(out, img->allow[j].family,
				     (uint8_t)(img->allow[j].prefixlen - 32), img->allow[j].addr);
			any = 1;
		}
		/* only what is not the default, so version-1 policies dump as before */
		qos = iface_qos(img, i);
		if (qos.rate)
			fprintf(out, ", rate %" PRIu64 " bytes/s", (uint64_t)qos.rate);
		if (qos.egress != NASCAR_EGRESS_AUTO)
			fprintf(out, ", egress %s", nfc_egress_name(qos.egress));
		fputc('\n', out);
	}
	for (i = 0; i < img->nclasses; i++) {
		const struct nfc_class *c = &img->classes[i];

		fprintf(out, "class %s: id %zu, priority %u, dscp ", c->name, i, c->val.priority);
		if (c->val.dscp == NASCAR_DSCP_KEEP)
			fputs("unchanged", out);
		else
			fprintf(out, "%u", c->val.dscp);
		print_rate(out, &c->val);
		fputc('\n', out);
	}
	for (i = 0; i < img->nflows; i++) {
		const struct nfc_flow *f = &img->flows[i];

		fprintf(out, "flow %zu ", i);
		nfc_print_flow_name(f, out);
		fprintf(out, " (line %u): in %s, proto ", f->line,
			f->in_iface == NFC_FLOW_IN_ANY ? "any" : img->ifaces[f->in_iface].name);
		print_proto(out, f);
		fputs(", from ", out);
		print_prefix(out, f->src_family, f->src_len, f->src);
		print_ports(out, f->sport_lo, f->sport_hi);
		fputs(", to ", out);
		print_prefix(out, f->dst_family, f->dst_len, f->dst);
		print_ports(out, f->dport_lo, f->dport_hi);
		fprintf(out, ", action %s", nfc_action_name(f->rule.action));
		if (f->rule.class_id != NASCAR_NO_CLASS)
			fprintf(out, ", class %s", img->classes[f->rule.class_id].name);
		fputc('\n', out);
	}
	fprintf(out, "default: action %s", nfc_action_name(def->rule.action));
	if (def->rule.class_id != NASCAR_NO_CLASS)
		fprintf(out, ", class %s", img->classes[def->rule.class_id].name);
	fputc('\n', out);

	fputs("table inif:", out);
	for (i = 0; i < img->nifaces; i++)
		fprintf(out, " %zu->b%u", i, img->inif[i]);
	fputc('\n', out);
	fputs("table proto:", out);
	for (i = 0; i < 256; i++)
		if (i == 0 || img->proto[i] != img->proto[0])
			fprintf(out, " %zu->b%u", i, img->proto[i]);
	fputs(" (others as 0)\n", out);
	for (i = 0; i < img->nports; i++) {
		const struct nfc_port_range *r = &img->ports[i];

		fprintf(out, "table %s %u-%u -> b%u\n",
			r->dim == NASCAR_DIM_SRC ? "sport" : "dport", r->lo, r->hi, r->bitmap);
	}
	for (i = 0; i < img->naddr; i++) {
		const struct nfc_addr_entry *a = &img->addr[i];

		fprintf(out, "table %s ", a->key.dim == NASCAR_DIM_SRC ? "src" : "dst");
		print_prefix(out, a->key.family, (uint8_t)(a->key.prefixlen - 32), a->key.addr);
		fprintf(out, " -> b%u\n", a->bitmap);
	}
	for (i = 0; i < img->nbitmaps; i++) {
		fprintf(out, "bitmap b%zu: ", i);
		print_bits(out, &img->bitmaps[i], cfg->nflows);
		fputc('\n', out);
	}
}

static void json_prefix(FILE *out, uint8_t family, uint8_t len, const uint8_t *addr)
{
	fputc('"', out);
	print_prefix(out, family, len, addr);
	fputc('"', out);
}

void nfc_dump_json(const struct nfc_image *img, FILE *out)
{
	const struct nascar_slot_cfg *cfg = img->cfg;
	const struct nfc_flow *def = &img->flows[img->nflows];
	size_t i, j;

	fprintf(out, "{\"abi_version\":%u,\"source_hash\":\"%016" PRIx64 "\",\"size\":%zu,",
		img->hdr->abi_version, (uint64_t)img->hdr->source_hash, img->size);
	fprintf(out, "\"bitmaps\":%u,\"interfaces\":[", cfg->nbitmaps);
	for (i = 0; i < img->nifaces; i++) {
		const struct nfc_iface *f = &img->ifaces[i];
		struct nfc_ifqos qos;
		int any = 0;

		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, f->name);
		fprintf(out, ",\"id\":%u,\"role\":\"%s\",\"mode\":\"%s\",\"allow_src\":[",
			f->val.id, nfc_role_name(f->val.role), nfc_mode_name(f->val.mode));
		for (j = 0; j < img->nallow; j++) {
			if (img->allow[j].iface != i)
				continue;
			if (any)
				fputc(',', out);
			json_prefix(out, img->allow[j].family,
				    (uint8_t)(img->allow[j].prefixlen - 32), img->allow[j].addr);
			any = 1;
		}
		qos = iface_qos(img, i);
		fprintf(out, "],\"rate_bytes_per_s\":%" PRIu64 ",\"egress\":\"%s\"}",
			(uint64_t)qos.rate, nfc_egress_name(qos.egress));
	}
	fputs("],\"classes\":[", out);
	for (i = 0; i < img->nclasses; i++) {
		const struct nfc_class *c = &img->classes[i];

		fprintf(out, "%s{\"name\":", i ? "," : "");
		json_str(out, c->name);
		fprintf(out, ",\"id\":%zu,\"priority\":%u,\"dscp\":", i, c->val.priority);
		if (c->val.dscp == NASCAR_DSCP_KEEP)
			fputs("null", out);
		else
			fprintf(out, "%u", c->val.dscp);
		fprintf(out, ",\"rate_bytes_per_s\":%" PRIu64 ",\"burst_bytes\":%u,\"police\":%s}",
			(uint64_t)c->val.rate, c->val.burst,
			c->val.flags & NASCAR_CLASS_POLICE ? "true" : "false");
	}
	fputs("],\"flows\":[", out);
	for (i = 0; i < img->nflows; i++) {
		const struct nfc_flow *f = &img->flows[i];

		fprintf(out, "%s{\"index\":%zu,\"name\":", i ? "," : "", i);
		json_str(out, f->name);
		fprintf(out, ",\"line\":%u,\"in\":", f->line);
		if (f->in_iface == NFC_FLOW_IN_ANY)
			fputs("null", out);
		else
			json_str(out, img->ifaces[f->in_iface].name);
		fputs(",\"proto\":", out);
		if (f->proto_any)
			fputs("null", out);
		else
			fprintf(out, "%u", f->proto);
		fputs(",\"from\":", out);
		json_prefix(out, f->src_family, f->src_len, f->src);
		fprintf(out, ",\"sport\":[%u,%u],\"to\":", f->sport_lo, f->sport_hi);
		json_prefix(out, f->dst_family, f->dst_len, f->dst);
		fprintf(out, ",\"dport\":[%u,%u],\"action\":\"%s\",\"class\":", f->dport_lo,
			f->dport_hi, nfc_action_name(f->rule.action));
		if (f->rule.class_id == NASCAR_NO_CLASS)
			fputs("null", out);
		else
			json_str(out, img->classes[f->rule.class_id].name);
		fputc('}', out);
	}
	fprintf(out,
		"],\"default\":{\"action\":\"%s\",\"class\":", nfc_action_name(def->rule.action));
	if (def->rule.class_id == NASCAR_NO_CLASS)
		fputs("null", out);
	else
		json_str(out, img->classes[def->rule.class_id].name);
	fputs("}}\n", out);
}
