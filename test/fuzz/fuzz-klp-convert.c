// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-klp-convert.c - libFuzzer harness for klp-convert: runs the tool's
 * own main() in process on the fuzz input as IN.ko. Every input must end
 * in exit code 0 or 1, with no sanitizer report, crash, hang or leak:
 * exit 4, an internal error, is a bug that no input may reach.
 */

#include "fuzz-common.h"

#define main kbp_klp_convert_main
#include "klp-convert.c"
#undef main

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char in[300], out[300];
	char *argv[4];
	int ret;

	if (!in[0]) {
		fuzz_path(in, sizeof(in), "in.ko");
		fuzz_path(out, sizeof(out), "out.ko");
	}
	fuzz_write(in, data, size);
	argv[0] = "klp-convert";
	argv[1] = in;
	argv[2] = out;
	argv[3] = NULL;
	fuzz_reset_getopt();
	ret = kbp_klp_convert_main(3, argv);
	fuzz_check_status("klp-convert", ret, 1);
	unlink(out);
	return 0;
}
