// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_nfc.c - libFuzzer target for the .nfc reader: any bytes go through
 * nfc_parse(); an image it accepts is dumped (text and JSON) and a few
 * packets are classified with it, which would read every table index the
 * validation let through.  The checksum is patched in before parsing, so
 * the fuzzer explores the validation behind it rather than the CRC.
 * Run by tests/compiler/test_fuzz_nfc.sh from compiled example policies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct nfc_image img;
	char err[256];
	void *buf;

	if (!sink)
		sink = fopen("/dev/null", "w");
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (size >= sizeof(struct nfc_header)) {
		struct nfc_header *h = buf;

		h->checksum = nfc_crc32c((char *)buf + sizeof(*h), size - sizeof(*h));
	}
	if (nfc_parse(buf, size, &img, err, sizeof(err)) == 0) {
		/* one packet a line */
		/* clang-format off */
		static const struct nfc_pkt pkts[] = {
			{ .family = NASCAR_FAM_V4, .proto = 17, .sport = 5000, .dport = 29536,
			  .src = { 172, 16, 0, 42 }, .dst = { 10, 0, 0, 10 } },
			{ .family = NASCAR_FAM_V6, .proto = 6, .sport = 1, .dport = 13400,
			  .src = { 0xfd, 0, 0, 0x16 }, .dst = { 0xfd, 0, 0, 0x10 } },
			{ .family = NASCAR_FAM_V4, .proto = 1 },
		};
		/* clang-format on */
		struct nfc_verdict v;
		size_t i;
		int id;

		if (sink) {
			nfc_dump_text(&img, sink);
			nfc_dump_json(&img, sink);
		}
		for (id = -1; id < (int)img.nifaces; id++)
			for (i = 0; i < sizeof(pkts) / sizeof(pkts[0]); i++)
				nfc_classify_id(&img, id, &pkts[i], &v);
		nfc_image_free(&img); /* frees buf */
		return 0;
	}
	free(buf);
	return 0;
}
