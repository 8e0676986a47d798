// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * names.c - the words of the language for roles, modes, egress modes,
 * actions and protocols, and their values: one list each, read by the
 * checker (word -> value), the dump, classify and nascar-apply (value ->
 * word).  The order is the one diagnostics list them in.
 */
#include <string.h>

#include "nfc.h"

#define WORDS(name, ...)                                            \
	static const struct nfc_word name##_list[] = {__VA_ARGS__}; \
	const struct nfc_words name = {name##_list, sizeof(name##_list) / sizeof(name##_list[0])}

WORDS(nfc_roles, {"guest", NASCAR_ROLE_GUEST}, {"uplink", NASCAR_ROLE_UPLINK});
WORDS(nfc_modes, {"auto", NASCAR_MODE_AUTO}, {"xdp", NASCAR_MODE_XDP}, {"tc", NASCAR_MODE_TC},
      {"hybrid", NASCAR_MODE_HYBRID});
WORDS(nfc_egresses, {"auto", NASCAR_EGRESS_AUTO}, {"keep", NASCAR_EGRESS_KEEP},
      {"replace", NASCAR_EGRESS_REPLACE});
WORDS(nfc_actions, {"forward", NASCAR_ACT_FORWARD}, {"drop", NASCAR_ACT_DROP},
      {"stack", NASCAR_ACT_STACK});
WORDS(nfc_protos, {"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58});

const char *nfc_word_name(const struct nfc_words *t, int value)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->w[i].value == value)
			return t->w[i].name;
	return NULL;
}

int nfc_word_value(const struct nfc_words *t, const char *name, int *value)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (!strcmp(t->w[i].name, name)) {
			*value = t->w[i].value;
			return 0;
		}
	}
	return -1;
}

static const char *or_what(const char *s)
{
	return s ? s : "?";
}

const char *nfc_action_name(int action)
{
	return or_what(nfc_word_name(&nfc_actions, action));
}

const char *nfc_mode_name(int mode)
{
	return or_what(nfc_word_name(&nfc_modes, mode));
}

const char *nfc_role_name(int role)
{
	return or_what(nfc_word_name(&nfc_roles, role));
}

const char *nfc_egress_name(int egress)
{
	return or_what(nfc_word_name(&nfc_egresses, egress));
}
