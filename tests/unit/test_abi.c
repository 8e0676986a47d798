// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_abi.c - the tables of nascar_abi.h agree with themselves: the map
 * table (NASCAR_MAPS) with the NASCAR_MAP_* names and with what
 * nascar-apply assumes of the names, the index helpers with the sizes of
 * the maps they index, the counter pairs with struct nascar_counters.
 * (tests/bpf checks the loaded BPF object against the same table.)
 */
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "nascar_abi.h"

/* Each row's C identifier is its NASCAR_MAP_<ID> pin name. */
static void test_map_names(void)
{
#define ROW_NAME_(id, name, ...)                                                                \
	CHECK(!strcmp(NASCAR_MAP_##id, #name), "NASCAR_MAP_%s is \"%s\", its row says %s", #id, \
	      NASCAR_MAP_##id, #name);
	NASCAR_MAPS(ROW_NAME_)
#undef ROW_NAME_
}

/* The descriptors: one per id, in order, names fit a pin and a BPF object
 * name and start with "nascar_" (load_unpin_all() removes pins by that
 * prefix), no name twice. */
static void test_map_desc(void)
{
	unsigned int i, j;

	CHECK(nascar_map_desc(NASCAR_NMAPS) == NULL, "past the table");
	for (i = 0; i < NASCAR_NMAPS; i++) {
		const struct nascar_map_desc *d = nascar_map_desc(i);

		CHECK(d && d->name, "row %u", i);
		if (!d || !d->name)
			continue;
		CHECK(strlen(d->name) <= 15, "%s: longer than BPF_OBJ_NAME_LEN - 1", d->name);
		CHECK(!strncmp(d->name, "nascar_", 7), "%s: not nascar_*", d->name);
		CHECK(d->key_size && d->value_size && d->max_entries, "%s: sizes", d->name);
		for (j = 0; j < i; j++)
			CHECK(strcmp(d->name, nascar_map_desc(j)->name), "%s twice", d->name);
	}
	CHECK(nascar_map_desc(NASCAR_M_STATE)->fill && !nascar_map_desc(NASCAR_M_FLOWS)->fill &&
		      !nascar_map_desc(NASCAR_M_DEVMAP)->fill,
	      "fill column");
}

/* idx(slot, 0) .. idx(slot, n - 1) of each slot tile [0, max_entries). */
static void check_tiles(enum nascar_map_id id, __u32 (*idx)(__u32 slot, __u32 i), __u32 n)
{
	const struct nascar_map_desc *d = nascar_map_desc(id);
	__u32 slot;

	CHECK(d->type == BPF_MAP_TYPE_ARRAY || d->type == BPF_MAP_TYPE_PERCPU_ARRAY,
	      "%s: not an array", d->name);
	CHECK(d->key_size == sizeof(__u32), "%s: key", d->name);
	CHECK(d->max_entries == NASCAR_SLOTS * n, "%s: %u entries, %u per slot", d->name,
	      d->max_entries, n);
	for (slot = 0; slot < NASCAR_SLOTS; slot++) {
		CHECK(idx(slot, 0) == slot * n, "%s: slot %u starts at %u", d->name, slot,
		      idx(slot, 0));
		CHECK(idx(slot, n - 1) == (slot + 1) * n - 1, "%s: slot %u ends at %u", d->name,
		      slot, idx(slot, n - 1));
	}
}

static __u32 ports_src(__u32 slot, __u32 i)
{
	/* both dims of a slot: dim DST follows dim SRC */
	return i < NASCAR_NPORTS ? nascar_port_idx(slot, NASCAR_DIM_SRC, i)
				 : nascar_port_idx(slot, NASCAR_DIM_DST, i - NASCAR_NPORTS);
}

static void test_index_helpers(void)
{
	check_tiles(NASCAR_M_PORTS, ports_src, 2 * NASCAR_NPORTS);
	check_tiles(NASCAR_M_PROTO, nascar_proto_idx, NASCAR_NPROTOS);
	check_tiles(NASCAR_M_INIF, nascar_iface_idx, NASCAR_MAX_IFACES);
	check_tiles(NASCAR_M_BITS, nascar_bitmap_idx, NASCAR_MAX_BITMAPS);
	check_tiles(NASCAR_M_RULES, nascar_rule_idx, NASCAR_NRULES);
	check_tiles(NASCAR_M_CLASSES, nascar_class_idx, NASCAR_MAX_CLASSES);
	check_tiles(NASCAR_M_POLICE, nascar_class_idx, NASCAR_MAX_CLASSES);
	check_tiles(NASCAR_M_FSTATS, nascar_rule_idx, NASCAR_NRULES);
	check_tiles(NASCAR_M_ISTATS, nascar_iface_idx, NASCAR_MAX_IFACES);
	CHECK(nascar_map_desc(NASCAR_M_SLOTS)->max_entries == NASCAR_SLOTS, "slots");
	CHECK(nascar_map_desc(NASCAR_M_STATE)->max_entries == 1, "state");
}

/* Counting pair NASCAR_CNT_X adds to the x_pkts and x_bytes fields. */
static void test_counter_pairs(void)
{
	static const struct {
		enum nascar_cnt what;
		size_t pkts, bytes;
	} pairs[] = {
		{NASCAR_CNT_XDP, offsetof(struct nascar_counters, xdp_pkts),
		 offsetof(struct nascar_counters, xdp_bytes)},
		{NASCAR_CNT_TC, offsetof(struct nascar_counters, tc_pkts),
		 offsetof(struct nascar_counters, tc_bytes)},
		{NASCAR_CNT_STACK, offsetof(struct nascar_counters, stack_pkts),
		 offsetof(struct nascar_counters, stack_bytes)},
		{NASCAR_CNT_DROP, offsetof(struct nascar_counters, drop_pkts),
		 offsetof(struct nascar_counters, drop_bytes)},
		{NASCAR_CNT_POLICE, offsetof(struct nascar_counters, police_pkts),
		 offsetof(struct nascar_counters, police_bytes)},
		{NASCAR_CNT_SPOOF, offsetof(struct nascar_counters, spoof_pkts),
		 offsetof(struct nascar_counters, spoof_bytes)},
	};
	size_t i;

	CHECK(sizeof(pairs) / sizeof(pairs[0]) == NASCAR_NCNT, "every pair");
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		CHECK(nascar_cnt_word(pairs[i].what) * 8 == pairs[i].pkts, "pair %zu packets", i);
		CHECK((nascar_cnt_word(pairs[i].what) + 1) * 8 == pairs[i].bytes, "pair %zu bytes",
		      i);
	}
}

int main(void)
{
	TEST(test_map_names);
	TEST(test_map_desc);
	TEST(test_index_helpers);
	TEST(test_counter_pairs);
	return TEST_EXIT();
}
