// SPDX-License-Identifier: GPL-2.0
/*
 * output-manifest.c - the global alias of each patched function (klp_func.new_func) and
 * the manifest lines that kbuild-patch turns into NAME.json and the
 * module's klp_func table.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"
#include "klp-format.h"
#include "log.h"
#include "writer.h"

/* The name as C identifier characters (others become "__"), for aliases. */
static void sanitize(char *dst, const char *src, size_t max)
{
	size_t n = 0;

	for (; *src && n + 3 < max; src++) {
		char c = *src;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_') {
			dst[n++] = c;
		} else {
			dst[n++] = '_';
			dst[n++] = '_';
		}
	}
	dst[n] = 0;
}

/*
 * Why a function is in the patch, as a "reason" line of the manifest
 * (kbuild-patch puts it in NAME.json).
 */
static void write_reason(struct writer *w, const struct symbol *sym,
			 const char *name)
{
	const char *obj = w->ctx->objname;

	if (!w->manifest)
		return;
	fprintf(w->manifest, "reason\t%s\t%s\t", obj, name);
	if (sym->status == ST_NEW)
		fprintf(w->manifest, "new function\n");
	else if (sym->untraceable && sym->status == ST_CHANGED)
		fprintf(w->manifest, "changed code, but no fentry call (untraceable): carried as new code, reached by patching its callers\n");
	else if (sym->untraceable)
		fprintf(w->manifest, "caller of untraceable function %s, itself untraceable: carried as new code\n",
			sym->untraceable_callee ? sym->untraceable_callee : "?");
	else if (sym->patch_caller && sym->status == ST_SAME)
		fprintf(w->manifest, "caller of untraceable function %s: patched so that it calls its new copy\n",
			sym->untraceable_callee ? sym->untraceable_callee : "?");
	else
		fprintf(w->manifest, "changed code\n");
}

/*
 * Global aliases of the patched functions, and the manifest. A patched
 * function is named as the running kernel names it (its twin's name:
 * foo.constprop.1 here may be foo.constprop.0 there).
 */
int add_patched_functions(struct writer *w)
{
	struct diff_ctx *ctx = w->ctx;
	struct kbp_elf *p = ctx->patched;
	size_t i;

	for (i = 1; i < p->nr_syms; i++) {
		struct symbol *sym = &p->syms[i];
		char obj[64], fn[600], *alias;
		long pos;

		if (sym->type != STT_FUNC || !sym->include ||
		    is_cold_part(sym) ||
		    (sym->status == ST_SAME && !sym->patch_caller &&
		     !sym->untraceable))
			continue;
		if (sym->status == ST_NEW || sym->untraceable) {
			printf("%s: %s function: %s\n", ctx->display,
			       sym->untraceable ? "untraceable" : "new",
			       sym->name);
			if (w->manifest)
				fprintf(w->manifest, "new\t%s\t%s\t%s\n",
					ctx->objname, sym->name, ctx->display);
			write_reason(w, sym, sym->name);
			continue;
		}
		pos = lookup_sympos(w, sym->twin, ctx->orig, sym->sec);
		if (pos < 0)
			return pos;
		sanitize(obj, ctx->objname, sizeof(obj));
		sanitize(fn, sym->twin->name, sizeof(fn));
		if (asprintf(&alias, KBP_ALIAS_PREFIX "%s__%s__%ld", obj, fn,
			     pos) < 0)
			alias = NULL;
		if (!keep_name(w, alias))
			return -1;
		if (add_sym(w, alias, STB_GLOBAL, STT_FUNC,
			    w->sec_map[sym->sec->index], sym->sym.st_value,
			    sym->sym.st_size) < 0)
			return -1;
		printf("%s: changed function: %s\n", ctx->display,
		       sym->twin->name);
		if (w->manifest)
			fprintf(w->manifest, "func\t%s\t%s\t%ld\t%s\t%s\n",
				ctx->objname, sym->twin->name, pos, alias,
				ctx->display);
		write_reason(w, sym, sym->twin->name);
	}
	return 0;
}

/* The aliases and manifest lines of kbp-macros.c (callbacks, states). */
int add_macro_aliases(struct writer *w)
{
	struct diff_ctx *ctx = w->ctx;
	size_t i;

	for (i = 0; i < ctx->nr_aliases; i++) {
		const struct symbol *sym = ctx->aliases[i].sym;

		if (!sym->include || !w->sec_map[sym->sec->index]) {
			ERROR("%s: %s: the callback function was not carried",
			      ctx->display, sym->name);
			return -1;
		}
		if (add_sym(w, ctx->aliases[i].name, STB_GLOBAL, STT_FUNC,
			    w->sec_map[sym->sec->index], sym->sym.st_value,
			    sym->sym.st_size) < 0)
			return -1;
	}
	for (i = 0; w->manifest && i < ctx->macro_lines.nr; i++)
		fprintf(w->manifest, "%s\n", (char *)ctx->macro_lines.ptrs[i]);
	return 0;
}

int write_manifest_extras(struct writer *w)
{
	struct diff_ctx *ctx = w->ctx;
	struct strmap_entry *it;
	const char *v, *mod;
	size_t i;

	if (!w->manifest || !ctx->symvers)
		return 0;
	/* Namespaced exports need MODULE_IMPORT_NS() in the module. */
	for (i = 0; i < w->nr_syms; i++) {
		struct out_sym *s = &w->syms[i];

		if (s->sec || s->klp || s->type == STT_SECTION)
			continue;
		it = NULL;
		mod = NULL;
		while ((v = strmap_next(&ctx->symvers->by_name, s->name, &it))) {
			if (mod)
				fprintf(w->manifest, "import_ns\t%s\n", mod);
			mod = v;
		}
	}
	return 0;
}
