// SPDX-License-Identifier: GPL-2.0
/*
 * create-diff-object - compares an original and a patched build of one
 * kernel object and writes a diff object holding only what changed,
 * plus a manifest of the functions to patch. The stages, in the order
 * run() below calls them:
 *
 *   elf-model.c      reads both objects: sections, symbols, relocations
 *   correlate.c      pairs each patched section and symbol with its twin
 *   changes.c        marks what changed: code bytes, relocation targets
 *   kbp-macros.c     applies the markers of kmod/kbuild-patch.h (ignored
 *                    functions and sections, states, callbacks)
 *   explain.c        with --explain, where each changed function differs
 *   include.c        chooses what to carry: the changed and new functions
 *                    and what they need, with
 *     untraceable.c    functions without fentry: carried, callers patched
 *     special.c        the kept entries of the special sections
 *   runtime-const.c  makes the carried code load boot-time constants
 *   output.c         writes the diff object and the manifest (writer.h:
 *                    output-syms.c, output-relas.c, output-manifest.c,
 *                    elf-writer.c), with
 *     symlookup.c      sympos and exports from the running kernel
 *     ibt.c            a new reference to a sealed ENDBR is refused
 *
 * Inclusion calls special.c, never the reverse: special.c marks entries
 * kept and include.c follows what they refer to. Shared with klp-convert
 * and klp-loadcheck: klp-format.h (the livepatch ELF format), log.c,
 * atomic-file.c (outputs renamed into place whole), strmap.c, readfile.c;
 * with klp-loadcheck: cli.h (the options both spell alike). Buffers that
 * a stage frees together at its end: owned.c.
 *
 * Exit: 0 changed, 1 input or environment error, 2 unsupported change,
 * 3 no functional change, 4 internal error (an inconsistency of this
 * tool's own logic, reported through kbp_internal(): a bug to report).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diff.h"
#include "klp-format.h"
#include "log.h"
#include "readfile.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: create-diff-object [options] ORIG.o PATCHED.o OUTPUT.o\n"
"\n"
"  -s, --symbols FILE        the running kernel's vmlinux (symbol table)\n"
"  -e, --symvers FILE        Module.symvers: symbols the kernel exports\n"
"  -o, --objname NAME        \"vmlinux\" (default) or the module's name\n"
"  -n, --name PATH           the object's name in messages\n"
"  -m, --manifest FILE       write the patched-function manifest here\n"
"  -z, --special-sizes FILE  \"section size\" lines from the sizeof probe\n"
"  -b, --ibt-sealed FILE     vmlinux.o: refuse taking the address of a\n"
"                            function whose ENDBR it seals\n"
"  -g, --new-globals FILE    names of new global symbols that other\n"
"                            objects of the same patch define\n"
"  -x, --explain             print where each changed function first\n"
"                            differs (code byte or relocation)\n"
"  -d, --debug               debug output\n"
"  -h, --help                this help\n"
"\n"
"Exit status: 0 changed, 1 input or environment error, 2 unsupported\n"
"change, 3 no functional change, 4 internal error (a bug: please report).\n");
}

static int load_sizes(struct diff_ctx *ctx, const char *path)
{
	FILE *f = fopen(path, "r");
	char name[256];
	size_t size;

	if (!f) {
		ERROR("%s: cannot read the special section sizes", path);
		return -1;
	}
	while (fscanf(f, "%255s %zu", name, &size) == 2) {
		struct special_sizes *s;

		s = realloc(ctx->sizes, (ctx->nr_sizes + 1) * sizeof(*s));
		if (!s || !(name[0] && (s[ctx->nr_sizes].name = strdup(name)))) {
			ERROR("out of memory");
			if (s)
				ctx->sizes = s;
			fclose(f);
			return -1;
		}
		s[ctx->nr_sizes++].size = size;
		ctx->sizes = s;
	}
	fclose(f);
	return 0;
}

/* One name per line; the map stays empty without a file. */
static int load_new_globals(struct diff_ctx *ctx, const char *path)
{
	char *line, *save = NULL;

	if (strmap_init(&ctx->new_globals, 64))
		return -1;
	if (!path)
		return 0;
	ctx->new_globals_buf = kbp_read_file(path, "the new global symbols",
					     NULL);
	if (!ctx->new_globals_buf)
		return -1;
	for (line = strtok_r(ctx->new_globals_buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (*line && strmap_add(&ctx->new_globals, line, line))
			return -1;
	return 0;
}

static int run(struct diff_ctx *ctx, const char *out, const char *manifest)
{
	int ret;

	if (correlate(ctx) || detect_changes(ctx))
		return KBP_EXIT_ERROR;
	ret = kbp_macros_apply(ctx);
	if (!ret && ctx->explain)
		explain_changes(ctx);
	if (!ret)
		ret = include_changes(ctx);
	if (ret == KBP_UNSUPPORTED)
		return KBP_EXIT_UNSUPPORTED;
	if (ret)
		return KBP_EXIT_ERROR;
	/* New functions alone may be called from other patched objects. */
	if (!ctx->nr_changed && !ctx->nr_new) {
		printf("%s: no functional change\n", ctx->display);
		return KBP_EXIT_NO_CHANGE;
	}
	ret = runtime_const_rewrite(ctx);
	if (ret)
		return ret == KBP_UNSUPPORTED ? KBP_EXIT_UNSUPPORTED :
						KBP_EXIT_ERROR;
	/* Written whole or not at all: a failure leaves no file behind. */
	ret = write_output(ctx, out, manifest);
	if (ret)
		return ret == KBP_UNSUPPORTED ? KBP_EXIT_UNSUPPORTED :
						KBP_EXIT_ERROR;
	return KBP_EXIT_CHANGED;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		KBP_OPTIONS_SYMBOL_SOURCES,
		{ "objname", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "manifest", required_argument, NULL, 'm' },
		{ "special-sizes", required_argument, NULL, 'z' },
		{ "ibt-sealed", required_argument, NULL, 'b' },
		{ "new-globals", required_argument, NULL, 'g' },
		{ "explain", no_argument, NULL, 'x' },
		KBP_OPTIONS_END,
	};
	const char *symbols = NULL, *symvers = NULL, *manifest = NULL;
	const char *sizes = NULL, *sealed = NULL, *globals = NULL;
	struct diff_ctx ctx = { .objname = "vmlinux" };
	size_t i;
	int c, ret = KBP_EXIT_ERROR;

	kbp_progname = "create-diff-object";
	kbp_internal_errors = 0;
	while ((c = getopt_long(argc, argv, "s:e:o:n:m:z:b:g:xdh", opts,
				NULL)) != -1) {
		switch (c) {
		case 's': symbols = optarg; break;
		case 'e': symvers = optarg; break;
		case 'o': ctx.objname = optarg; break;
		case 'n': ctx.display = optarg; break;
		case 'm': manifest = optarg; break;
		case 'z': sizes = optarg; break;
		case 'b': sealed = optarg; break;
		case 'g': globals = optarg; break;
		case 'x': ctx.explain = true; break;
		case 'd': kbp_debug = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return KBP_EXIT_ERROR;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return KBP_EXIT_ERROR;
	}
	if (!ctx.display)
		ctx.display = argv[optind + 1];
	if (strchr(ctx.objname, '.') || strlen(ctx.objname) > KLP_OBJNAME_MAX) {
		ERROR("%s: object name \"%s\" can't be a livepatch object name (no dots, at most %d characters)",
		      ctx.display, ctx.objname, KLP_OBJNAME_MAX);
		return KBP_EXIT_ERROR;
	}
	if (sizes && load_sizes(&ctx, sizes))
		goto out;
	ctx.orig = kbp_elf_open(argv[optind], true);
	ctx.patched = kbp_elf_open(argv[optind + 1], true);
	if (!ctx.orig || !ctx.patched)
		goto out;
	if (symbols && !(ctx.target = kbp_symbols_load(symbols)))
		goto out;
	if (symvers && !(ctx.symvers = kbp_symvers_load(symvers)))
		goto out;
	if (sealed && ibt_load_sealed(&ctx, sealed))
		goto out;
	if (load_new_globals(&ctx, globals))
		goto out;
	ret = run(&ctx, argv[optind + 2], manifest);
	/*
	 * However an internal error travelled up: exit 4, and no output
	 * (write_output() commits none after one).
	 */
	if (kbp_internal_errors) {
		kbp_internal_hint();
		ret = KBP_EXIT_INTERNAL;
	}
out:
	special_sections_free(&ctx);
	runtime_const_free(&ctx);
	kbp_macros_free(&ctx);
	ibt_free_sealed(&ctx);
	strmap_free(&ctx.new_globals);
	free(ctx.new_globals_buf);
	kbp_symvers_free(ctx.symvers);
	kbp_symbols_free(ctx.target);
	kbp_elf_close(ctx.orig);
	kbp_elf_close(ctx.patched);
	for (i = 0; i < ctx.nr_sizes; i++)
		free((char *)ctx.sizes[i].name);
	free(ctx.sizes);
	return ret;
}
