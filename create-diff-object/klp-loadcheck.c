// SPDX-License-Identifier: GPL-2.0
/*
 * klp-loadcheck - the last step of kbuild-patch before a livepatch module
 * is written to the output directory: checks that every symbol the kernel
 * will resolve for the module (klp relocations, patched functions, plain
 * undefined symbols) resolves exactly once in the target kernel, with
 * loadcheck.c. A symbol that doesn't is a bug of the tools that wrote the
 * module: exit 4, an internal error.
 *
 * Exit: 0 everything resolves, 1 input or usage error, 4 internal error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diff.h"
#include "loadcheck.h"
#include "log.h"
#include "readfile.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: klp-loadcheck [options] MODULE.ko\n"
"\n"
"Checks that every symbol the kernel resolves when it loads the livepatch\n"
"MODULE.ko resolves exactly once in the target kernel.\n"
"\n"
"  -s, --symbols FILE        the target's vmlinux (symbol table) or a\n"
"                            /proc/kallsyms dump (required)\n"
"  -e, --symvers FILE        Module.symvers: exports, CRCs, namespaces\n"
"  -m, --module NAME=FILE    the target module NAME's .ko, for the klp\n"
"                            symbols of NAME (repeatable)\n"
"  -f, --funcs FILE          \"OBJNAME<TAB>NAME<TAB>SYMPOS\" lines: the\n"
"                            functions the module's klp_func tables patch\n"
"  -n, --name NAME           the module's name in messages\n"
"  -d, --debug               debug output\n"
"  -h, --help                this help\n"
"\n"
"Exit status: 0 every symbol resolves, 1 input or usage error,\n"
"4 internal error: a symbol doesn't resolve (a bug: please report).\n");
}

static int add_module(struct kbp_loadcheck *lc, char *arg)
{
	struct kbp_lc_module *m;
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg || !eq[1]) {
		ERROR("--module %s: not NAME=FILE", arg);
		return -1;
	}
	m = realloc(lc->mods, (lc->nr_mods + 1) * sizeof(*m));
	if (!m) {
		ERROR("out of memory");
		return -1;
	}
	lc->mods = m;
	*eq = 0;
	m[lc->nr_mods].name = arg;
	m[lc->nr_mods].syms = kbp_symbols_load(eq + 1);
	if (!m[lc->nr_mods].syms)
		return -1;
	lc->nr_mods++;
	return 0;
}

int main(int argc, char **argv)
{
	/* getopt's table: the shared options are KBP_OPTIONS_SYMBOL_SOURCES. */
	static const struct option opts[] = {
		KBP_OPTIONS_SYMBOL_SOURCES,
		{ "module", required_argument, NULL, 'm' },
		{ "funcs", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		KBP_OPTIONS_END,
	};
	const char *symbols = NULL, *symvers = NULL, *funcs = NULL;
	struct kbp_loadcheck lc = { 0 };
	char *funcs_buf = NULL;
	char **modargs = NULL;
	size_t nr_modargs = 0, i;
	int c, ret = KBP_EXIT_ERROR;

	kbp_progname = "klp-loadcheck";
	kbp_internal_errors = 0;
	while ((c = getopt_long(argc, argv, "s:e:m:f:n:dh", opts, NULL)) != -1) {
		switch (c) {
		case 's': symbols = optarg; break;
		case 'e': symvers = optarg; break;
		case 'm': {
			char **m = realloc(modargs, (nr_modargs + 1) *
					   sizeof(*m));

			if (!m) {
				ERROR("out of memory");
				goto out;
			}
			modargs = m;
			modargs[nr_modargs++] = optarg;
			break;
		}
		case 'f': funcs = optarg; break;
		case 'n': lc.display = optarg; break;
		case 'd': kbp_debug = true; break;
		case 'h': usage(stdout); ret = 0; goto out;
		default: usage(stderr); goto out;
		}
	}
	if (argc - optind != 1 || !symbols) {
		usage(stderr);
		goto out;
	}
	if (!lc.display)
		lc.display = argv[optind];
	lc.ko = kbp_elf_open(argv[optind], true);
	if (!lc.ko || !(lc.vmlinux = kbp_symbols_load(symbols)))
		goto out;
	if (symvers && !(lc.symvers = kbp_symvers_load(symvers)))
		goto out;
	for (i = 0; i < nr_modargs; i++)
		if (add_module(&lc, modargs[i]))
			goto out;
	if (funcs && !(funcs_buf = kbp_read_file(funcs, "the patched functions",
						 NULL)))
		goto out;
	if (kbp_loadcheck_module(&lc) ||
	    (funcs_buf && kbp_loadcheck_funcs(&lc, funcs_buf, funcs)))
		goto out;
	if (lc.nr_failed || kbp_internal_errors) {
		fprintf(stderr, "%s: %s: %zu of %zu symbols don't resolve in the target kernel\n",
			kbp_progname, lc.display, lc.nr_failed,
			lc.nr_klp + lc.nr_funcs + lc.nr_undef);
		kbp_internal_hint();
		ret = KBP_EXIT_INTERNAL;
		goto out;
	}
	printf("%s: %s: all %zu symbols resolve: %zu of klp relocations, %zu patched functions, %zu exports\n",
	       kbp_progname, lc.display, lc.nr_klp + lc.nr_funcs + lc.nr_undef,
	       lc.nr_klp, lc.nr_funcs, lc.nr_undef);
	ret = 0;
out:
	for (i = 0; i < lc.nr_mods; i++)
		kbp_symbols_free(lc.mods[i].syms);
	free(lc.mods);
	free(modargs);
	free(funcs_buf);
	kbp_symvers_free(lc.symvers);
	kbp_symbols_free(lc.vmlinux);
	kbp_elf_close(lc.ko);
	return ret;
}
