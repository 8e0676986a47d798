// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fuzz_parse.c - libFuzzer target for the nascarc front end: any bytes go
 * through the lexer, the parser (with its error recovery), the semantic
 * pass and the diagnostics renderer; policies that check cleanly are also
 * lowered to .nfc bytes and read back.  Built by `make $(O)/fuzz/fuzz_parse`
 * (clang, ASan+UBSan); run by tests/compiler/test_fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "frontend.h"
#include "nfc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct policy pol;
	struct diag d;

	if (size > 65536)
		return 0;
	if (!sink)
		sink = fopen("/dev/null", "w");
	diag_init(&d, "fuzz.nflow", (const char *)data, size);
	d.max_errors = 0;
	if (nflow_compile_buffer((const char *)data, size, &d, &pol) == 0) {
		void *buf = NULL;
		size_t len = 0;
		char err[256];

		if (nfc_build(&pol, &buf, &len, err, sizeof(err)) == 0) {
			struct nfc_image img;

			if (nfc_parse(buf, len, &img, err, sizeof(err)) == 0) {
				if (sink)
					nfc_dump_text(&img, sink);
				nfc_image_free(&img);
			} else {
				free(buf);
			}
		}
		policy_free(&pol);
	}
	if (sink)
		diag_print(&d, sink);
	else
		diag_free(&d);
	return 0;
}
