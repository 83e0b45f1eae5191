// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-cdo.c - libFuzzer harness for create-diff-object: runs the tool's
 * own main() in process on a pair of objects, one of them the fuzz input
 * and the other a fixed valid object.
 *
 * Environment (read once):
 *   KBP_FUZZ_OTHER    the fixed object (required)
 *   KBP_FUZZ_SIDE     "orig": the input is ORIG.o; "patched" (default):
 *                     it is PATCHED.o; "symbols", "sealed", "symvers":
 *                     it is the --symbols vmlinux, the --ibt-sealed
 *                     vmlinux.o or the Module.symvers, and the pair is
 *                     KBP_FUZZ_OTHER and KBP_FUZZ_PATCHED
 *   KBP_FUZZ_SYMBOLS  optional --symbols file (a vmlinux)
 *   KBP_FUZZ_SYMVERS  optional --symvers file
 *   KBP_FUZZ_OBJNAME  optional --objname (default vmlinux)
 *   KBP_FUZZ_PATCHED  PATCHED.o when the input is another file
 *
 * Every input must end in one of the exit codes an input can cause (0-3),
 * with no sanitizer report, crash, hang or leak. Exit 4, an internal
 * error, is documented too, but no input may reach it: it is a bug.
 */

#include "fuzz-common.h"

#define main kbp_cdo_main
#include "create-diff-object.c"
#undef main

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Append "OPT VALUE" to argv at argc when VALUE is set; the new argc. */
static int fuzz_opt(char **argv, int argc, const char *opt, const char *value)
{
	if (value) {
		argv[argc++] = (char *)opt;
		argv[argc++] = (char *)value;
	}
	return argc;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static char in[300], out[300], man[300];
	const char *other = getenv("KBP_FUZZ_OTHER");
	const char *side = getenv("KBP_FUZZ_SIDE");
	const char *symbols = getenv("KBP_FUZZ_SYMBOLS");
	const char *symvers = getenv("KBP_FUZZ_SYMVERS");
	const char *objname = getenv("KBP_FUZZ_OBJNAME");
	const char *patched = getenv("KBP_FUZZ_PATCHED");
	const char *sealed = NULL;
	char *argv[20];
	int argc = 0, ret;
	bool orig_side = side && !strcmp(side, "orig");
	bool other_file = side && (!strcmp(side, "symbols") ||
				   !strcmp(side, "sealed") ||
				   !strcmp(side, "symvers"));

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
	if (other_file) {
		if (!patched) {
			fprintf(stderr, "fuzz-cdo: set KBP_FUZZ_PATCHED\n");
			abort();
		}
		if (!strcmp(side, "symbols"))
			symbols = in;
		else if (!strcmp(side, "sealed"))
			sealed = in;
		else
			symvers = in;
	}

	argv[argc++] = "create-diff-object";
	argc = fuzz_opt(argv, argc, "--symbols", symbols);
	argc = fuzz_opt(argv, argc, "--symvers", symvers);
	argc = fuzz_opt(argv, argc, "--ibt-sealed", sealed);
	argc = fuzz_opt(argv, argc, "--objname", objname);
	argv[argc++] = "--manifest";
	argv[argc++] = man;
	if (other_file) {
		argv[argc++] = (char *)other;
		argv[argc++] = (char *)patched;
	} else {
		argv[argc++] = orig_side ? in : (char *)other;
		argv[argc++] = orig_side ? (char *)other : in;
	}
	argv[argc++] = out;
	argv[argc] = NULL;

	fuzz_reset_getopt();
	ret = kbp_cdo_main(argc, argv);
	fuzz_check_status("create-diff-object", ret, KBP_EXIT_NO_CHANGE);
	unlink(out);
	unlink(man);
	return 0;
}
