// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-cdo.c - libFuzzer harness for create-diff-object: runs the tool's
 * own main() in process on a pair of objects, one of them the fuzz input
 * and the other a fixed valid object.
 *
 * Environment (read once):
 *   KBP_FUZZ_OTHER    the fixed object (required)
 *   KBP_FUZZ_SIDE     "orig": the input is ORIG.o; else it is PATCHED.o
 *   KBP_FUZZ_SYMBOLS  optional --symbols file (a vmlinux)
 *   KBP_FUZZ_SYMVERS  optional --symvers file
 *   KBP_FUZZ_OBJNAME  optional --objname (default vmlinux)
 *
 * Every input must end in one of the documented exit codes (0-3), with
 * no sanitizer report, crash, hang or leak.
 */

#include "fuzz-common.h"

#define main kbp_cdo_main
#include "create-diff-object.c"
#undef main

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char in[300], out[300], man[300];
	const char *other = getenv("KBP_FUZZ_OTHER");
	const char *side = getenv("KBP_FUZZ_SIDE");
	const char *symbols = getenv("KBP_FUZZ_SYMBOLS");
	const char *symvers = getenv("KBP_FUZZ_SYMVERS");
	const char *objname = getenv("KBP_FUZZ_OBJNAME");
	char *argv[16];
	int argc = 0, ret;
	bool orig_side = side && !strcmp(side, "orig");

	if (!other) {
		fprintf(stderr, "fuzz-cdo: set KBP_FUZZ_OTHER to a valid object\n");
		abort();
	}
	if (!in[0]) {
		fuzz_path(in, sizeof(in), "in.o");
		fuzz_path(out, sizeof(out), "out.o");
		fuzz_path(man, sizeof(man), "manifest");
	}
	fuzz_write(in, data, size);

	argv[argc++] = "create-diff-object";
	if (symbols) {
		argv[argc++] = "--symbols";
		argv[argc++] = (char *)symbols;
	}
	if (symvers) {
		argv[argc++] = "--symvers";
		argv[argc++] = (char *)symvers;
	}
	if (objname) {
		argv[argc++] = "--objname";
		argv[argc++] = (char *)objname;
	}
	argv[argc++] = "--manifest";
	argv[argc++] = man;
	argv[argc++] = orig_side ? in : (char *)other;
	argv[argc++] = orig_side ? (char *)other : in;
	argv[argc++] = out;
	argv[argc] = NULL;

	fuzz_reset_getopt();
	ret = kbp_cdo_main(argc, argv);
	fuzz_check_status("create-diff-object", ret, KBP_EXIT_NO_CHANGE);
	unlink(out);
	unlink(man);
	return 0;
}
