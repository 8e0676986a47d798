/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * nfc.h - the compiled policy (.nfc): build, write, read, validate, dump,
 * classify.  Shared by nascarc, nascar-apply and the tests (libnascar.a).
 *
 * Errors: functions return 0 or a negative errno and, where they take
 * err/errlen, leave one human-readable line there (no trailing newline).
 */
#ifndef NASCAR_NFC_H
#define NASCAR_NFC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "nascar_abi.h"
#include "policy.h"

/* Where "nascarc compile" and "nascar-apply" look when given no file. */
#define NASCAR_DEFAULT_POLICY "/etc/nascar/policy.nflow"
#define NASCAR_DEFAULT_NFC "/var/lib/nascar/policy.nfc"

/* A validated .nfc image; pointers point into buf. */
struct nfc_image {
	void *buf;
	size_t size;
	const struct nfc_header *hdr;
	const struct nascar_slot_cfg *cfg;
	const struct nfc_iface *ifaces;
	size_t nifaces;
	const struct nascar_allow_key *allow;
	size_t nallow;
	const struct nfc_class *classes;
	size_t nclasses;
	const struct nfc_flow *flows; /* nflows + 1 entries, default last */
	size_t nflows;
	const struct nfc_addr_entry *addr;
	size_t naddr;
	const struct nfc_port_range *ports;
	size_t nports;
	const __u32 *proto; /* 256 */
	const __u32 *inif;  /* NASCAR_MAX_IFACES */
	const struct nascar_bitmap *bitmaps;
	size_t nbitmaps;
	const struct nfc_ifqos *ifqos; /* nifaces entries, or NULL: rate 0, egress auto */
	void *lpm;		       /* userspace lookup structure, built on demand */
};

/* Formats one error line into err (if given) and returns ret. */
int nfc_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

uint64_t nfc_fnv1a64(const void *data, size_t len);
uint32_t nfc_crc32c(const void *data, size_t len);

/* lower.c: checked policy -> .nfc bytes (malloc'd, caller frees). */
int nfc_build(const struct policy *p, void **buf, size_t *size, char *err, size_t errlen);

/* nfc.c */
int nfc_parse(void *buf, size_t size, struct nfc_image *img, char *err, size_t errlen);
int nfc_load_file(const char *path, struct nfc_image *img, char *err, size_t errlen);
void nfc_image_free(struct nfc_image *img);
/* Frees the lookup structure nfc_classify() builds (internal). */
void nfc_lpm_free(void *lpm);
/* Writes atomically (temp file + rename); path "-" is standard output. */
int nfc_write_file(const char *path, const void *buf, size_t size, char *err, size_t errlen);

/* names.c: the language's words for roles, modes, egress modes, actions
 * and protocols, with their values (NASCAR_ROLE_*, NASCAR_MODE_*, ...,
 * protocol numbers), in the order diagnostics list them. */
struct nfc_word {
	const char *name;
	int value;
};
struct nfc_words {
	const struct nfc_word *w;
	size_t n;
};
extern const struct nfc_words nfc_roles, nfc_modes, nfc_egresses, nfc_actions, nfc_protos;
/* The word for value, or NULL. */
const char *nfc_word_name(const struct nfc_words *t, int value);
/* 0 and *value set, or -1 if name is not in t. */
int nfc_word_value(const struct nfc_words *t, const char *name, int *value);
/* The word for a value, or "?" for one that has none. */
const char *nfc_action_name(int action);
const char *nfc_mode_name(int mode);
const char *nfc_role_name(int role);
const char *nfc_egress_name(int egress);

/* dump.c */
void nfc_dump_text(const struct nfc_image *img, FILE *out);
void nfc_dump_json(const struct nfc_image *img, FILE *out);
/* Prints a flow name as classify and stats show it: plain, or "quoted". */
void nfc_print_flow_name(const struct nfc_flow *f, FILE *out);

/* classify.c: the userspace twin of the BPF classifier. */
struct nfc_pkt {
	uint8_t family; /* NASCAR_FAM_V4 / NASCAR_FAM_V6 */
	uint8_t proto;
	uint16_t sport, dport; /* host order; 0 for protocols without ports */
	uint8_t src[16], dst[16];
};

struct nfc_verdict {
	uint32_t rule;	   /* flow index, or NASCAR_RULE_DEFAULT */
	int matched_iface; /* 0: interface not declared (verdict is stack) */
	int spoofed;	   /* allow-src refused the source: action is drop */
	int action;	   /* NASCAR_ACT_* */
	int class_id;	   /* or -1 */
};

/* ifname may be any string; an undeclared one gives action stack, rule default. */
int nfc_classify(struct nfc_image *img, const char *ifname, const struct nfc_pkt *pkt,
		 struct nfc_verdict *v);
/* Same, but by interface id (-1 = undeclared). */
int nfc_classify_id(struct nfc_image *img, int ifid, const struct nfc_pkt *pkt,
		    struct nfc_verdict *v);

/* Parses "ADDR", "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6). */
int nfc_parse_endpoint(const char *s, uint8_t *family, uint8_t addr[16], uint16_t *port,
		       int *has_port);

#endif /* NASCAR_NFC_H */
