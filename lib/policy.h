/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * policy.h - a checked .nflow policy, as the front end (parser + semantic
 * pass) hands it to the lowering pass.
 *
 * Contract: everything here has already been validated (names resolved,
 * ranges checked, families consistent, limits respected).  lower_policy()
 * trusts it and only builds tables.  Order of flows[] is file order.
 */
#ifndef NASCAR_POLICY_H
#define NASCAR_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include "nascar_abi.h"

struct pol_prefix {
	uint8_t family;	  /* 0 = any address, NASCAR_FAM_V4 or NASCAR_FAM_V6 */
	uint8_t len;	  /* prefix length; host bits of addr are zero */
	uint8_t addr[16]; /* network order; IPv4 in addr[0..3] */
};

struct pol_iface {
	char name[NASCAR_IFNAMSIZ];
	uint8_t role;	   /* NASCAR_ROLE_* */
	uint8_t mode;	   /* NASCAR_MODE_* */
	unsigned int line; /* where it was declared */
	size_t nallow;	   /* 0: no allow-src check */
	struct pol_prefix *allow;
	uint64_t rate;	/* version 2: line rate, bytes per second (uplink), 0 none */
	uint8_t egress; /* version 2: NASCAR_EGRESS_* */
};

struct pol_class {
	char name[NASCAR_CLASS_NAMSIZ];
	uint8_t priority; /* 0..7 */
	uint8_t dscp;	  /* 0..63 or NASCAR_DSCP_KEEP */
	uint64_t rate;	  /* bytes per second, 0 = no policer */
	uint32_t burst;	  /* bytes (default already applied when rate > 0) */
	uint8_t police;	  /* version 2: `police;` (drop over the rate, never shape) */
	unsigned int line;
};

#define POL_PROTO_ANY (-1)
#define POL_IFACE_ANY (-1)
#define POL_CLASS_NONE (-1)

struct pol_flow {
	char name[NASCAR_FLOW_NAMSIZ];
	int quoted; /* name was written as a "string" */
	struct pol_prefix src, dst;
	uint16_t sport_lo, sport_hi; /* 0..65535 when no port was given */
	uint16_t dport_lo, dport_hi;
	int proto;     /* IP protocol number or POL_PROTO_ANY */
	int in_iface;  /* index into ifaces[] or POL_IFACE_ANY */
	int action;    /* NASCAR_ACT_* */
	int class_idx; /* index into classes[] or POL_CLASS_NONE */
	unsigned int line;
};

struct policy {
	struct pol_iface *ifaces;
	size_t nifaces;
	struct pol_class *classes;
	size_t nclasses;
	struct pol_flow *flows;
	size_t nflows;
	int default_action;   /* NASCAR_ACT_* (stack when no default block) */
	int default_class;    /* POL_CLASS_NONE unless action is forward */
	uint64_t source_hash; /* nfc_fnv1a64() of the source bytes */
};

void policy_free(struct policy *p);

#endif /* NASCAR_POLICY_H */
