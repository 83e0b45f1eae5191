// SPDX-License-Identifier: GPL-2.0
/*
 * correlate.c - pairs each symbol and section of the patched object with
 * its twin in the original object. Names match exactly, or after the
 * compiler's numeric suffixes are dropped (foo.isra.0 / foo.isra.1,
 * counter.3 / counter.5) when that leaves a single candidate. Static
 * locals of functions (calls.0, hits.3) are paired by use instead: the
 * one that the twin of a function using it uses (or another part of the
 * same source function: foo.cold, foo.part.0), because gcc numbers them
 * in one sequence per file and a new one renumbers the others. The
 * output names them by the original's spelling (output.c).
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

bool is_static_local(const struct symbol *sym)
{
	const char *dot = strrchr(sym->name, '.'), *p;

	if (sym->type != STT_OBJECT || sym->bind != STB_LOCAL || !sym->sec ||
	    !dot || dot == sym->name || !dot[1])
		return false;
	for (p = dot + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

/* The function whose code holds the relocation, or NULL. */
static struct symbol *rela_function(const struct rela *r)
{
	size_t i;

	if (!r->in || !is_text_section(r->in))
		return NULL;
	for (i = 0; i < r->in->nr_syms; i++)
		if (r->in->syms[i]->type == STT_FUNC)
			return r->in->syms[i];
	return NULL;
}

static struct symbol *rela_static_local(const struct rela *r)
{
	struct symbol *sym;
	long off;

	sym = rela_cover(r, &off);
	return is_static_local(sym) ? sym : NULL;
}

/* The unpaired static local of func's code whose name matches canon. */
static struct symbol *static_used_by(const struct symbol *func,
				     const char *canon, bool *oom)
{
	const struct section *rsec = func->sec ? func->sec->rela : NULL;
	size_t i;

	for (i = 0; rsec && i < rsec->nr_relas; i++) {
		struct symbol *o = rela_static_local(&rsec->relas[i]);
		char *oc;
		bool match;

		if (!o || o->twin || o->fresh)
			continue;
		oc = canonical_name(o->name);
		if (!oc) {
			*oom = true;
			return NULL;
		}
		match = !strcmp(oc, canon);
		free(oc);
		if (match)
			return o;
	}
	return NULL;
}

/*
 * Statics that the kernel's macros create for per-site state get fresh
 * copies in the patch, as kpatch-build gives them: a lockdep class key,
 * the once-flags of WARN_ONCE/printk_once, ratelimit state, and the
 * compiler's switch tables. Pairing them with the old ones would tie new
 * code to state the old code left behind.
 */
static bool is_fresh_static(const struct symbol *sym)
{
	static const char * const fresh[] = {
		"__key", "__warned", "__already_done", "__print_once",
		"_rs", "CSWTCH", "__func__",
	};
	size_t i, len;

	for (i = 0; i < sizeof(fresh) / sizeof(fresh[0]); i++) {
		len = strlen(fresh[i]);
		if (!strncmp(sym->name, fresh[i], len) &&
		    (sym->name[len] == '.' || !sym->name[len]))
			return true;
	}
	return false;
}

/* Static locals used by code are paired only by use. */
static void mark_static_locals(struct kbp_elf *kelf)
{
	size_t i, j;

	for (i = 1; i < kelf->nr_secs; i++) {
		struct section *rsec = &kelf->secs[i];

		if (!is_rela_section(rsec) || !rsec->base ||
		    !is_text_section(rsec->base))
			continue;
		for (j = 0; j < rsec->nr_relas; j++) {
			struct symbol *s = rela_static_local(&rsec->relas[j]);

			if (s)
				s->by_use_only = true;
			if (s && is_fresh_static(s))
				s->fresh = true;
		}
	}
}

/*
 * The source function that a function's code comes from: its name up to
 * the compiler's suffixes (foo.cold, foo.part.0, foo.isra.0 are all foo).
 * A static local of foo may be used from any of them, and which one uses
 * it can change between builds.
 */
static char *family_name(const char *name)
{
	const char *dot = strchr(name + (*name ? 1 : 0), '.');

	return strndup(name, dot ? (size_t)(dot - name) : strlen(name));
}

/*
 * The original static local that s (used by the patched function f) is:
 * one with the same name up to its number, used by f's twin, or, in the
 * second pass (family), by another function of f's family in the
 * original object.
 */
static struct symbol *static_twin(struct strmap *orig_family,
				  const struct symbol *f, const char *canon,
				  bool family, bool *oom)
{
	struct strmap_entry *it = NULL;
	struct symbol *o = NULL, *g;
	char *name;

	if (!family)
		return f->twin ? static_used_by(f->twin, canon, oom) : NULL;
	name = family_name(f->name);
	if (!name) {
		*oom = true;
		return NULL;
	}
	while (!o && !*oom && (g = strmap_next(orig_family, name, &it)))
		if (g != f->twin)
			o = static_used_by(g, canon, oom);
	free(name);
	return o;
}

static void pair_static_locals(struct diff_ctx *ctx,
			       struct strmap *orig_family, bool family,
			       bool *oom)
{
	size_t i, j;

	for (i = 1; i < ctx->patched->nr_secs && !*oom; i++) {
		struct section *rsec = &ctx->patched->secs[i];

		if (!is_rela_section(rsec))
			continue;
		for (j = 0; j < rsec->nr_relas && !*oom; j++) {
			struct symbol *s = rela_static_local(&rsec->relas[j]);
			struct symbol *f = rela_function(&rsec->relas[j]), *o;
			char *canon;

			if (!s || !f || s->twin || s->fresh)
				continue;
			canon = canonical_name(s->name);
			if (!canon) {
				*oom = true;
				return;
			}
			o = static_twin(orig_family, f, canon, family, oom);
			free(canon);
			if (!o)
				continue;
			DEBUG("%s: static local %s (used by %s) is %s",
			      ctx->display, s->name, f->name, o->name);
			s->twin = o;
			o->twin = s;
		}
	}
}

/*
 * Pairs the static locals that code uses by the functions that use them,
 * never by their number: gcc numbers them in one sequence per file, so a
 * static added anywhere (a printk's CONFIG_PRINTK_INDEX entry) renumbers
 * the others, and the twin of hits.3 may be hits.2, while the original's
 * hits.3 belongs to another function.
 */
static int correlate_static_locals(struct diff_ctx *ctx)
{
	struct strmap orig_family;
	char **keys;
	size_t i, nr_keys = 0;
	bool oom = false;

	keys = calloc(ctx->orig->nr_syms, sizeof(*keys));
	if (!keys || strmap_init(&orig_family, ctx->orig->nr_syms)) {
		free(keys);
		ERROR("out of memory");
		return -1;
	}
	for (i = 1; i < ctx->orig->nr_syms && !oom; i++) {
		struct symbol *g = &ctx->orig->syms[i];

		if (g->type != STT_FUNC || !g->sec)
			continue;
		keys[nr_keys] = family_name(g->name);
		if (!keys[nr_keys] ||
		    strmap_add(&orig_family, keys[nr_keys], g))
			oom = true;
		nr_keys++;
	}
	/* First through the functions' twins, then through their kin. */
	if (!oom)
		pair_static_locals(ctx, &orig_family, false, &oom);
	if (!oom)
		pair_static_locals(ctx, &orig_family, true, &oom);
	for (i = 0; i < nr_keys; i++)
		free(keys[i]);
	free(keys);
	strmap_free(&orig_family);
	if (oom) {
		ERROR("out of memory");
		return -1;
	}
	return 0;
}

static int correlate_exact(struct diff_ctx *ctx)
{
	size_t i;

	for (i = 1; i < ctx->patched->nr_syms; i++) {
		struct symbol *sym = &ctx->patched->syms[i], *o;
		struct strmap_entry *it = NULL;

		if (!correlatable(sym) || sym->twin || sym->by_use_only)
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

		if (sym->twin || !correlatable(sym) || sym->by_use_only ||
		    !strchr(sym->name, '.'))
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

static void mark_fresh(struct symbol *sym)
{
	sym->fresh = true;
	sym->by_use_only = true;
}

/*
 * A printk site (CONFIG_PRINTK_INDEX) has two per-site statics of its
 * own: the pointer _entry_ptr.N in .printk_index and the struct pi_entry
 * _entry.N it points to, with the __func__.N that names the site's
 * function. They describe the site in the code that emits them, so a
 * patch carries fresh copies for its sites instead of pairing them by
 * the compiler's numbering with another site's.
 */
static void mark_printk_index(struct kbp_elf *kelf)
{
	struct section *sec = kbp_find_section(kelf, ".printk_index");
	size_t i, j, n;
	long off;

	if (!sec)
		return;
	for (i = 0; i < sec->nr_syms; i++)
		mark_fresh(sec->syms[i]);
	for (i = 0; sec->rela && i < sec->rela->nr_relas; i++) {
		struct symbol *entry = rela_cover(&sec->rela->relas[i], &off);
		struct rela *r;

		if (entry->type != STT_OBJECT || !entry->sec)
			continue;
		mark_fresh(entry);
		r = kbp_relas_in(entry->sec, entry->sym.st_value,
				 entry->sym.st_value + entry->sym.st_size, &n);
		for (j = 0; j < n; j++) {
			struct symbol *s = rela_static_local(&r[j]);

			if (s)
				mark_fresh(s);
		}
	}
}

int correlate(struct diff_ctx *ctx)
{
	/* Functions first: static locals are paired through them. */
	mark_static_locals(ctx->patched);
	mark_static_locals(ctx->orig);
	mark_printk_index(ctx->patched);
	mark_printk_index(ctx->orig);
	/* Renamed clones (foo.isra.0 / foo.isra.1) before their statics. */
	if (correlate_exact(ctx) || correlate_mangled(ctx) ||
	    correlate_static_locals(ctx))
		return -1;
	correlate_sections(ctx);
	return 0;
}
