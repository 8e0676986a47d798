// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_maps.c - the loaded BPF object has the maps of the ABI's table
 * (NASCAR_MAPS in nascar_abi.h), as nascar-apply and the runtime see them:
 * each row's name, type, key and value sizes, max_entries and flags, in
 * the object (libbpf) and in the kernel, and fill_maps_from_obj() hands out
 * those very maps.  bpf/maps.h defines the maps from the table, so this
 * catches a definition that stops following it, or a BPF build that sizes
 * a key or value differently from userspace.
 */
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"
#include "nascar.skel.h"

int test_maps(struct env *e)
{
	struct bpf_map *map;
	unsigned int i, nobj = 0;

	for (i = 0; i < NASCAR_NMAPS; i++) {
		const struct nascar_map_desc *d = nascar_map_desc(i);
		struct bpf_map_info info;
		__u32 len = sizeof(info);
		char name[96];
		int ok = 1;

		snprintf(name, sizeof(name), "maps: %s in the object as in the ABI table", d->name);
		map = bpf_object__find_map_by_name(e->skel->obj, d->name);
		EXPECT(map);
		if (!map) {
			result(name, ok);
			continue;
		}
		EXPECT_EQ(bpf_map__type(map), d->type);
		EXPECT_EQ(bpf_map__key_size(map), d->key_size);
		EXPECT_EQ(bpf_map__value_size(map), d->value_size);
		EXPECT_EQ(bpf_map__max_entries(map), d->max_entries);
		EXPECT_EQ(bpf_map__map_flags(map), d->map_flags);
		EXPECT_EQ(bpf_map__fd(map), e->m.fd[i]);

		memset(&info, 0, sizeof(info));
		EXPECT(!bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len));
		EXPECT(!strcmp(info.name, d->name));
		EXPECT_EQ(info.type, d->type);
		EXPECT_EQ(info.key_size, d->key_size);
		EXPECT_EQ(info.value_size, d->value_size);
		EXPECT_EQ(info.max_entries, d->max_entries);
		/* the kernel adds BPF_F_RDONLY_PROG to devmaps */
		EXPECT_EQ(info.map_flags & ~(__u32)BPF_F_RDONLY_PROG, d->map_flags);
		result(name, ok);
	}

	/* Every map of the table is there, each once; the others are the
	 * programs' own (nascar_scratch, nascar_ifcache) or libbpf's
	 * (.rodata). */
	bpf_object__for_each_map(map, e->skel->obj)
	{
		for (i = 0; i < NASCAR_NMAPS; i++)
			if (!strcmp(bpf_map__name(map), nascar_map_desc(i)->name))
				nobj++;
	}
	{
		int ok = 1;

		EXPECT_EQ(nobj, NASCAR_NMAPS);
		result("maps: the object has each map of the ABI table once", ok);
	}
	return 0;
}
