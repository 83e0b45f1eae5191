// SPDX-License-Identifier: GPL-2.0
/*
 * kbp-macros.c - the markers that the macros of kmod/kbuild-patch.h leave
 * in a patched object, read after change detection and before inclusion:
 *
 *   .kbp.ignore.functions  names of functions whose changes don't count
 *   .kbp.ignore.sections   names of sections whose changes don't count
 *   .kbp.state             { id, version } pairs, unsigned long each
 *   .kbp.callbacks.KIND    pointers to the callback functions
 *
 * Ignored functions and the contents of ignored sections are marked the
 * same as their twins, so they are neither reported nor carried, and
 * included code refers to the running kernel's copies. Callbacks are new
 * functions, carried like any other; each gets a global alias, and the
 * manifest a "callback" line naming it, its kind and this object.
 * States become "state" lines. The .kbp.* sections themselves are never
 * carried (nothing included refers to them). The header's functions
 * that the module template defines (kbp_get_state) are linked in the
 * module, not looked up in the running kernel.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "log.h"

#define KBP_CALLBACKS_PREFIX	".kbp.callbacks."

static const char * const callback_kinds[] = {
	"pre_patch", "post_patch", "pre_unpatch", "post_unpatch",
};

static int add_line(struct diff_ctx *ctx, char *line)
{
	return owned_keep(&ctx->macro_lines, line) ? 0 : -1;
}

/* The NUL-separated names of a marker section, one at a time. */
static const char *next_name(const struct section *sec, size_t *pos)
{
	const char *data = (const char *)sec->data, *name;

	while (*pos < sec->size && !data[*pos])
		(*pos)++;
	if (*pos >= sec->size)
		return NULL;
	name = data + *pos;
	if (!memchr(name, 0, sec->size - *pos))
		return NULL;
	*pos += strlen(name) + 1;
	return name;
}

static void mark_same(struct symbol *sym)
{
	sym->status = ST_SAME;
	if (sym->twin)
		sym->twin->status = ST_SAME;
}

/* fn itself, or a part or clone the compiler made of it (fn.cold). */
static bool is_function_of(const struct symbol *sym, const char *fn)
{
	size_t len = strlen(fn);

	return sym->type == STT_FUNC && sym->sec &&
	       !strncmp(sym->name, fn, len) &&
	       (!sym->name[len] || sym->name[len] == '.');
}

static int ignore_functions(struct diff_ctx *ctx, const struct section *sec)
{
	const char *fn;
	size_t pos = 0, i;

	while ((fn = next_name(sec, &pos))) {
		bool found = false;

		for (i = 1; i < ctx->patched->nr_syms; i++) {
			struct symbol *sym = &ctx->patched->syms[i];

			if (!is_function_of(sym, fn))
				continue;
			if (sym->status == ST_NEW) {
				ERROR("%s: %s: KBP_IGNORE_FUNCTION(%s) names a function the patch adds; only existing functions can be ignored",
				      ctx->display, sym->name, fn);
				return -1;
			}
			if (sym->status == ST_CHANGED)
				printf("%s: changes ignored (KBP_IGNORE_FUNCTION): %s\n",
				       ctx->display, sym->name);
			mark_same(sym);
			found = true;
		}
		if (!found) {
			ERROR("%s: KBP_IGNORE_FUNCTION(%s): no such function in this object",
			      ctx->display, fn);
			return -1;
		}
	}
	return 0;
}

static int ignore_sections(struct diff_ctx *ctx, const struct section *marker)
{
	const char *name;
	size_t pos = 0, i;

	while ((name = next_name(marker, &pos))) {
		struct section *sec = kbp_find_section(ctx->patched, name);
		bool changed = false;

		if (!sec) {
			WARN("%s: KBP_IGNORE_SECTION(\"%s\"): no such section in this object",
			     ctx->display, name);
			continue;
		}
		sec->ignore = true;
		if (sec->twin)
			sec->twin->ignore = true;
		for (i = 0; i < sec->nr_syms; i++) {
			changed |= sec->syms[i]->status == ST_CHANGED;
			mark_same(sec->syms[i]);
		}
		if (changed)
			printf("%s: changes ignored (KBP_IGNORE_SECTION): %s\n",
			       ctx->display, name);
	}
	return 0;
}

static unsigned long read_le64(const unsigned char *p)
{
	unsigned long v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int read_states(struct diff_ctx *ctx, const struct section *sec)
{
	const size_t es = 2 * 8;
	size_t i, j;

	if (!sec->data || sec->size % es || sec->rela) {
		ERROR("%s: %s: not a table of KBP_STATE(id, version) entries",
		      ctx->display, sec->name);
		return -1;
	}
	for (i = 0; i < sec->size; i += es) {
		unsigned long id = read_le64(sec->data + i);
		unsigned long version = read_le64(sec->data + i + 8);
		bool dup = false;
		char *line;

		if (!id || version > UINT_MAX) {
			ERROR("%s: KBP_STATE(%lu, %lu): the id must not be 0 and the version must fit in an unsigned int",
			      ctx->display, id, version);
			return -1;
		}
		for (j = 0; j < i; j += es) {
			if (read_le64(sec->data + j) != id)
				continue;
			if (read_le64(sec->data + j + 8) != version) {
				ERROR("%s: KBP_STATE(%lu, ...): declared with versions %lu and %lu",
				      ctx->display, id,
				      read_le64(sec->data + j + 8), version);
				return -1;
			}
			dup = true;
		}
		if (dup)
			continue;
		if (asprintf(&line, "state\t%lu\t%lu\t%s", id, version,
			     ctx->display) < 0)
			line = NULL;
		if (add_line(ctx, line))
			return -1;
	}
	return 0;
}

/* Copies src into dst with every character outside [A-Za-z0-9_] as _. */
static void c_name(char *dst, const char *src)
{
	for (; *src; src++, dst++) {
		char c = *src;

		*dst = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9') ? c : '_';
	}
	*dst = 0;
}

static int add_callback(struct diff_ctx *ctx, const char *kind,
			struct symbol *fn)
{
	struct kbp_alias *a;
	char *alias, *line, *file;

	/* Unique in the module: the object's path tells files apart. */
	file = strdup(ctx->display);
	if (!file) {
		ERROR("out of memory");
		return -1;
	}
	c_name(file, ctx->display);
	if (asprintf(&alias, "__kbp_cb_%s__%s__%s", kind, file, fn->name) < 0)
		alias = NULL;
	free(file);
	if (!alias) {
		ERROR("out of memory");
		return -1;
	}
	c_name(alias, alias);
	a = realloc(ctx->aliases, (ctx->nr_aliases + 1) * sizeof(*a));
	if (!a) {
		free(alias);
		ERROR("out of memory");
		return -1;
	}
	ctx->aliases = a;
	ctx->aliases[ctx->nr_aliases].sym = fn;
	ctx->aliases[ctx->nr_aliases++].name = alias;
	printf("%s: %s callback: %s\n", ctx->display, kind, fn->name);
	if (asprintf(&line, "callback\t%s\t%s\t%s\t%s\t%s", ctx->objname,
		     kind, alias, fn->name, ctx->display) < 0)
		line = NULL;
	return add_line(ctx, line);
}

static int read_callbacks(struct diff_ctx *ctx, const struct section *sec)
{
	const char *kind = sec->name + strlen(KBP_CALLBACKS_PREFIX);
	size_t i, n = sizeof(callback_kinds) / sizeof(callback_kinds[0]);

	for (i = 0; i < n && strcmp(kind, callback_kinds[i]); i++)
		;
	if (i == n) {
		ERROR("%s: %s: unknown callback kind \"%s\"", ctx->display,
		      sec->name, kind);
		return -1;
	}
	if (!sec->rela || sec->size != sec->rela->nr_relas * 8) {
		ERROR("%s: %s: not a table of callback pointers", ctx->display,
		      sec->name);
		return -1;
	}
	for (i = 0; i < sec->rela->nr_relas; i++) {
		const struct rela *r = &sec->rela->relas[i];
		struct symbol *fn;
		long off;
		int ret;

		fn = rela_cover(r, &off);
		if (r->type != R_X86_64_64 || r->offset != i * 8 ||
		    fn->type != STT_FUNC || !fn->sec || off) {
			ERROR("%s: %s: entry %zu does not point to a function of this object",
			      ctx->display, sec->name, i);
			return -1;
		}
		if (fn->status != ST_NEW) {
			ERROR("%s: %s (%s): a callback must be a function the patch adds, not one of the kernel's",
			      ctx->display, fn->name, sec->name);
			return KBP_UNSUPPORTED;
		}
		ret = add_callback(ctx, kind, fn);
		if (ret)
			return ret;
	}
	return 0;
}

/* Defined by the module template (kmod/livepatch-main.c). */
static const char * const template_globals[] = { "kbp_get_state" };

int kbp_macros_apply(struct diff_ctx *ctx)
{
	size_t i;
	int ret = 0;

	/* Linked in the patch module, as new globals of the patch are. */
	for (i = 0; i < sizeof(template_globals) / sizeof(template_globals[0]);
	     i++)
		if (strmap_add(&ctx->new_globals, template_globals[i],
			       (void *)template_globals[i]))
			return -1;

	for (i = 1; i < ctx->patched->nr_secs && !ret; i++) {
		const struct section *sec = &ctx->patched->secs[i];

		if (strncmp(sec->name, ".kbp.", 5) || is_rela_section(sec))
			continue;
		if (!sec->data && sec->size) {
			ERROR("%s: %s: marker section without contents",
			      ctx->display, sec->name);
			return -1;
		}
		if (!strcmp(sec->name, ".kbp.ignore.functions"))
			ret = ignore_functions(ctx, sec);
		else if (!strcmp(sec->name, ".kbp.ignore.sections"))
			ret = ignore_sections(ctx, sec);
		else if (!strcmp(sec->name, ".kbp.state"))
			ret = read_states(ctx, sec);
		else if (!strncmp(sec->name, KBP_CALLBACKS_PREFIX,
				  strlen(KBP_CALLBACKS_PREFIX)))
			ret = read_callbacks(ctx, sec);
		else
			DEBUG("%s: %s: unknown marker section; ignored",
			      ctx->display, sec->name);
	}
	return ret;
}

void kbp_macros_free(struct diff_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nr_aliases; i++)
		free(ctx->aliases[i].name);
	free(ctx->aliases);
	owned_free(&ctx->macro_lines);
}
