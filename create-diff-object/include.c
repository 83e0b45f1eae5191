// SPDX-License-Identifier: GPL-2.0
/*
 * include.c - decides what goes into the diff object: the changed and
 * new functions, then, transitively, everything they need that the
 * running kernel can't provide: string literals, new data, read-only
 * data that changed, anonymous constants and .cold parts. Whatever stays
 * out is referred to in the running kernel instead (see output.c).
 * Changed functions without an fentry call come in through their callers
 * (see untraceable.c).
 */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "log.h"

/*
 * An attribute such as __sched or __lockfunc puts functions into one
 * named section (.sched.text, .spinlock.text) that -ffunction-sections
 * doesn't split, so no function there can be carried on its own.
 */
static int refuse_shared_section(struct diff_ctx *ctx,
				 const struct section *sec, size_t funcs)
{
	const struct symbol *fn = NULL;
	size_t i;

	for (i = 0; i < sec->nr_syms && !fn; i++)
		if (sec->syms[i]->type == STT_FUNC &&
		    sec->syms[i]->status != ST_SAME)
			fn = sec->syms[i];
	ERROR("%s: %s (%s): shares its section with %zu other function(s) (__sched, __lockfunc and the like put them there, and -ffunction-sections doesn't split it), so it can't be patched on its own; patch its callers instead",
	      ctx->display, fn ? fn->name : "?", sec->name, funcs - 1);
	return KBP_UNSUPPORTED;
}

static int include_section(struct diff_ctx *ctx, struct section *sec)
{
	size_t i, funcs = 0;

	if (sec->include || sec->ignore)
		return 0;
	if (is_init_section(sec)) {
		ERROR("%s: %s: the patched code refers to __init/__exit code, which is gone after boot",
		      ctx->display, sec->name);
		return KBP_UNSUPPORTED;
	}
	for (i = 0; i < sec->nr_syms; i++)
		if (sec->syms[i]->type == STT_FUNC &&
		    !is_cold_part(sec->syms[i]))
			funcs++;
	if (funcs > 1 && is_text_section(sec) &&
	    strcmp(sec->name, ".altinstr_replacement")) {
		if (strcmp(sec->name, ".text") &&
		    strncmp(sec->name, ".text.", 6))
			return refuse_shared_section(ctx, sec, funcs);
		ERROR("%s: %s: holds %zu functions; the object must be built with -ffunction-sections",
		      ctx->display, sec->name, funcs);
		return -1;
	}
	sec->include = true;
	for (i = 0; i < sec->nr_syms; i++)
		sec->syms[i]->include = true;
	DEBUG("%s: including %s", ctx->display, sec->name);
	return 0;
}

/* Existing data lives on in the running kernel: a patch can't change it. */
static int refuse_data_change(struct diff_ctx *ctx, const struct symbol *sym)
{
	if (sym->sym.st_size != sym->twin->sym.st_size)
		ERROR("%s: %s (%s): changed data layout (%lu bytes, was %lu): existing data can't change shape under live code; keep the old layout and put new fields in a shadow variable (klp_shadow_*)",
		      ctx->display, sym->name, sym->sec->name,
		      (unsigned long)sym->sym.st_size,
		      (unsigned long)sym->twin->sym.st_size);
	else
		ERROR("%s: %s (%s): changed existing data can't be live patched; keep its old value and use a shadow variable (klp_shadow_*) for new state, or set it in a post-patch callback",
		      ctx->display, sym->name, sym->sec->name);
	return KBP_UNSUPPORTED;
}

/*
 * A pr_debug descriptor holds its site's static key. In a module built
 * with jump labels, the patch's __jump_table entries can't reach a key in
 * the module (output-relas.c), so the patch carries its own copy of the
 * descriptors its code uses: dynamic debug switches them under the patch
 * module's name. Elsewhere (vmlinux, or no jump labels) the new code uses
 * the running descriptor, switched where users set it.
 */
static bool carries_own_descriptor(const struct diff_ctx *ctx,
				   const struct symbol *sym)
{
	return !strcmp(sym->sec->name, "__dyndbg") &&
	       strcmp(ctx->objname, "vmlinux") &&
	       kbp_find_section(ctx->patched, "__jump_table");
}

static int include_symbol(struct diff_ctx *ctx, const struct section *from,
			  struct symbol *sym)
{
	if (sym->sec->include)
		return 0;
	if (is_special_section(sym->sec)) {
		size_t es = ctx->special_entsize[sym->sec->index];

		if (sym->twin && !carries_own_descriptor(ctx, sym))
			return 0;
		/* A new descriptor (pr_debug's): carry its entry. */
		if (es && sym->sym.st_value % es == 0)
			return special_keep_group(ctx, sym->sec,
						  sym->sym.st_value / es);
		ERROR("%s: %s (%s): new entry in special section %s is referenced directly; not supported",
		      ctx->display, sym->name, from->name, sym->sec->name);
		return KBP_UNSUPPORTED;
	}
	switch (sym->type) {
	case STT_FUNC:
		if (sym->status == ST_SAME && !is_cold_part(sym))
			return 0;
		return include_section(ctx, sym->sec);
	case STT_OBJECT:
		if (sym->status == ST_SAME)
			return 0;
		if (sym->status == ST_CHANGED &&
		    (sym->sec->sh.sh_flags & SHF_WRITE))
			return refuse_data_change(ctx, sym);
		return include_section(ctx, sym->sec);
	default:
		if (sym->bind != STB_LOCAL)
			return 0;
		return include_section(ctx, sym->sec);
	}
}

static int include_reference(struct diff_ctx *ctx,
			     const struct section *from,
			     const struct rela *rela)
{
	struct symbol *sym = rela->sym, *cover;
	long offset;

	if (!sym->sec)
		return 0;
	if (is_alt_code_section(sym->sec) &&
	    ctx->special_entsize[sym->sec->index]) {
		alt_code_keep(ctx, from, rela);
		return 0;
	}
	if (sym->type != STT_SECTION)
		return include_symbol(ctx, from, sym);
	if (is_string_section(sym->sec))
		return include_section(ctx, sym->sec);
	cover = rela_cover(rela, &offset);
	if (cover->type == STT_SECTION)
		return include_section(ctx, sym->sec);
	return include_symbol(ctx, from, cover);
}

static int include_references(struct diff_ctx *ctx, const struct section *sec,
			      const struct rela *r, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = include_reference(ctx, sec, &r[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Includes what the special section entries (and alternative code bytes)
 * newly kept by special.c refer to, a run of consecutive entries at a
 * time. *again tells whether there were any.
 */
static int follow_kept_entries(struct diff_ctx *ctx, bool *again)
{
	size_t i, a, b, n;
	struct rela *r;
	int ret;

	for (i = 1; i < ctx->patched->nr_secs; i++) {
		struct section *sec = &ctx->patched->secs[i];
		size_t es = ctx->special_entsize[i];
		unsigned char *keep = ctx->special_keep[i];

		if (!es || !keep)
			continue;
		for (a = 0; a < sec->size / es; a = b) {
			for (b = a; b < sec->size / es &&
				    keep[b] == SPECIAL_KEPT; b++)
				keep[b] = SPECIAL_FOLLOWED;
			if (b == a) {
				b++;
				continue;
			}
			*again = true;
			r = kbp_relas_in(sec, a * es, b * es, &n);
			ret = include_references(ctx, sec, r, n);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * What the included sections and kept entries refer to, until nothing
 * new comes in.
 */
static int include_closure(struct diff_ctx *ctx, bool *walked)
{
	bool again = true;
	size_t i;
	int ret;

	while (again) {
		again = false;
		ret = follow_kept_entries(ctx, &again);
		if (ret)
			return ret;
		for (i = 1; i < ctx->patched->nr_secs; i++) {
			struct section *sec = &ctx->patched->secs[i];

			if (!sec->include || walked[i])
				continue;
			walked[i] = true;
			again = true;
			if (!sec->rela)
				continue;
			ret = include_references(ctx, sec, sec->rela->relas,
						 sec->rela->nr_relas);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static int check_data_changes(struct diff_ctx *ctx)
{
	size_t i;

	for (i = 1; i < ctx->patched->nr_syms; i++) {
		struct symbol *sym = &ctx->patched->syms[i];

		if (sym->type != STT_OBJECT || sym->status != ST_CHANGED ||
		    !(sym->sec->sh.sh_flags & SHF_WRITE) ||
		    is_init_section(sym->sec) || is_special_section(sym->sec))
			continue;
		return refuse_data_change(ctx, sym);
	}
	return 0;
}

static int include_functions(struct diff_ctx *ctx)
{
	size_t i;
	int ret;

	for (i = 1; i < ctx->patched->nr_syms; i++) {
		struct symbol *sym = &ctx->patched->syms[i];

		if (!sym->sec || sym->type != STT_FUNC || is_cold_part(sym) ||
		    (sym->status == ST_SAME && !sym->patch_caller &&
		     !sym->untraceable))
			continue;
		if (is_init_section(sym->sec)) {
			if (sym->status == ST_NEW)
				continue;
			if (!strncmp(sym->sec->name, ".exit.", 6))
				ERROR("%s: %s (%s): changes to __exit code can't be live patched: it is notrace (no fentry call for ftrace to redirect), runs only when its module is unloaded and is discarded from vmlinux; hint: patch the functions it calls instead, or ship the fix in the rebuilt module",
				      ctx->display, sym->name, sym->sec->name);
			else
				ERROR("%s: %s (%s): changes to __init/__exit code can't be live patched: it ran at boot and is gone",
				      ctx->display, sym->name, sym->sec->name);
			return KBP_UNSUPPORTED;
		}
		ret = include_section(ctx, sym->sec);
		if (ret)
			return ret;
		if (!sym->untraceable && sym->status != ST_NEW)
			ctx->nr_changed++;
		else
			ctx->nr_new++;
	}
	return 0;
}

int include_changes(struct diff_ctx *ctx)
{
	bool *walked, changed = true;
	int ret;

	ret = check_data_changes(ctx);
	if (ret)
		return ret;
	/* The untraceable plan reads .altinstructions entries. */
	ret = special_sections_init(ctx);
	if (!ret)
		ret = plan_untraceable(ctx);
	if (!ret)
		ret = include_functions(ctx);
	if (ret)
		return ret;
	walked = calloc(ctx->patched->nr_secs, sizeof(*walked));
	if (!walked) {
		ERROR("out of memory");
		return -1;
	}
	while (!ret && changed) {
		ret = include_closure(ctx, walked);
		if (!ret)
			ret = special_sections_keep(ctx, &changed);
	}
	free(walked);
	return ret;
}
