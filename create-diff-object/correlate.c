// SPDX-License-Identifier: GPL-2.0
/*
 * correlate.c - pairs each symbol and section of the patched object with
 * its twin in the original object. Names match exactly, or after the
 * compiler's numeric suffixes are dropped (foo.isra.0 / foo.isra.1,
 * counter.3 / counter.5) when that leaves a single candidate.
 */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "log.h"

/* Copies name without the ".<digits>" components the compiler adds. */
static char *canonical_name(const char *name)
{
	char *out = malloc(strlen(name) + 1), *o = out;
	const char *p = name;

	if (!out)
		return NULL;
	while (*p) {
		if (*p == '.' && p != name) {
			const char *q = p + 1;

			while (*q >= '0' && *q <= '9')
				q++;
			if (q > p + 1 && (*q == '.' || !*q)) {
				p = q;
				continue;
			}
		}
		*o++ = *p++;
	}
	*o = 0;
	return out;
}

static bool twinnable(const struct symbol *a, const struct symbol *b)
{
	if (a->type != b->type)
		return false;
	if (!a->sec != !b->sec)
		return false;
	return true;
}

static bool correlatable(const struct symbol *sym)
{
	return sym->index && sym->type != STT_SECTION && sym->type != STT_FILE;
}

static int correlate_exact(struct diff_ctx *ctx)
{
	size_t i;

	for (i = 1; i < ctx->patched->nr_syms; i++) {
		struct symbol *sym = &ctx->patched->syms[i], *o;
		struct strmap_entry *it = NULL;

		if (!correlatable(sym))
			continue;
		while ((o = strmap_next(&ctx->orig->sym_by_name, sym->name,
					&it))) {
			if (!o->twin && correlatable(o) && twinnable(sym, o) &&
			    (o->bind == STB_LOCAL) == (sym->bind == STB_LOCAL)) {
				sym->twin = o;
				o->twin = sym;
				break;
			}
		}
	}
	return 0;
}

static int correlate_mangled(struct diff_ctx *ctx)
{
	struct strmap orig_canon;
	char **names;
	size_t i;
	int ret = -1;

	names = calloc(ctx->orig->nr_syms, sizeof(*names));
	if (!names || strmap_init(&orig_canon, ctx->orig->nr_syms)) {
		free(names);
		ERROR("out of memory");
		return -1;
	}
	for (i = 1; i < ctx->orig->nr_syms; i++) {
		struct symbol *o = &ctx->orig->syms[i];

		if (o->twin || !correlatable(o) || !strchr(o->name, '.'))
			continue;
		names[i] = canonical_name(o->name);
		if (!names[i] || strmap_add(&orig_canon, names[i], o))
			goto out;
	}
	for (i = 1; i < ctx->patched->nr_syms; i++) {
		struct symbol *sym = &ctx->patched->syms[i], *o, *found = NULL;
		struct strmap_entry *it = NULL;
		int candidates = 0;
		char *canon;

		if (sym->twin || !correlatable(sym) || !strchr(sym->name, '.'))
			continue;
		canon = canonical_name(sym->name);
		if (!canon)
			goto out;
		while ((o = strmap_next(&orig_canon, canon, &it))) {
			if (!o->twin && twinnable(sym, o)) {
				found = o;
				candidates++;
			}
		}
		free(canon);
		if (candidates == 1) {
			DEBUG("%s: correlated %s with %s", ctx->display,
			      sym->name, found->name);
			sym->twin = found;
			found->twin = sym;
		} else if (candidates > 1) {
			DEBUG("%s: %s has %d candidate twins; treating it as new",
			      ctx->display, sym->name, candidates);
		}
	}
	ret = 0;
out:
	for (i = 0; i < ctx->orig->nr_syms; i++)
		free(names[i]);
	free(names);
	strmap_free(&orig_canon);
	return ret;
}

/* Sections follow the symbol they hold, or else their name. */
static void correlate_sections(struct diff_ctx *ctx)
{
	size_t i;

	for (i = 1; i < ctx->patched->nr_secs; i++) {
		struct section *sec = &ctx->patched->secs[i], *o = NULL;

		if (is_rela_section(sec))
			continue;
		if (sec->nr_syms && sec->syms[0]->twin &&
		    sec->syms[0]->twin->sec)
			o = sec->syms[0]->twin->sec;
		else
			o = kbp_find_section(ctx->orig, sec->name);
		if (o && !o->twin) {
			sec->twin = o;
			o->twin = sec;
		}
	}
}

int correlate(struct diff_ctx *ctx)
{
	if (correlate_exact(ctx) || correlate_mangled(ctx))
		return -1;
	correlate_sections(ctx);
	return 0;
}
