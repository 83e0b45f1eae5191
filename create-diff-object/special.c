// SPDX-License-Identifier: GPL-2.0
/*
 * special.c - the kernel's special sections: tables with one fixed-size
 * entry per site in the code (__jump_table, __bug_table, __ex_table,
 * .altinstructions, __mcount_loc, ...). An entry is kept when the code
 * it describes (its first relocation) is in an included function; what
 * the kept entry refers to (its string, its .altinstr_replacement code)
 * is then included by include.c, or referred to in the running kernel
 * (its static key). This file only marks entries SPECIAL_KEPT; it never
 * includes anything itself, so inclusion calls it and not the reverse.
 * __dyndbg descriptors are kept when the included code refers to a new
 * one, .printk_index entries when the included code prints their
 * format. Alternative code (.altinstr_replacement,
 * .altinstr_aux) is kept by the byte, only what kept entries and included
 * code lead to. The sizes of config-dependent entries come from the
 * caller (a sizeof probe run in the kernel tree); the defaults are those
 * of x86_64 Linux 6.12.
 */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "log.h"

static const struct special_sizes default_sizes[] = {
	{ "__mcount_loc", 8 },
	{ "__patchable_function_entries", 8 },
	{ ".smp_locks", 4 },
	{ "__jump_table", 16 },
	{ "__bug_table", 12 },
	{ "__ex_table", 12 },
	{ ".altinstructions", 14 },
	{ ".static_call_sites", 8 },
	{ ".retpoline_sites", 4 },
	{ ".return_sites", 4 },
	{ ".call_sites", 4 },
	{ ".ibt_endbr_seal", 4 },
	{ "__dyndbg", 56 },
	{ ".printk_index", 8 },
};

bool is_special_section(const struct section *sec)
{
	size_t i;

	if (!strncmp(sec->name, ".discard.", 9))
		return true;
	for (i = 0; i < sizeof(default_sizes) / sizeof(default_sizes[0]); i++)
		if (!strcmp(sec->name, default_sizes[i].name))
			return true;
	return false;
}

/* .discard.* annotations: one relocation per equally-sized entry. */
static size_t infer_entry_size(const struct section *sec)
{
	const struct section *rsec = sec->rela;
	size_t i, size;

	if (!rsec || !rsec->nr_relas || sec->size % rsec->nr_relas)
		return 0;
	size = sec->size / rsec->nr_relas;
	for (i = 0; i < rsec->nr_relas; i++)
		if (rsec->relas[i].offset != i * size)
			return 0;
	return size;
}

static size_t entry_size(const struct diff_ctx *ctx, const struct section *sec)
{
	size_t i;

	for (i = 0; i < ctx->nr_sizes; i++)
		if (!strcmp(sec->name, ctx->sizes[i].name))
			return ctx->sizes[i].size;
	for (i = 0; i < sizeof(default_sizes) / sizeof(default_sizes[0]); i++)
		if (!strcmp(sec->name, default_sizes[i].name))
			return default_sizes[i].size;
	return infer_entry_size(sec);
}

int special_sections_init(struct diff_ctx *ctx)
{
	size_t n = ctx->patched->nr_secs, i;

	ctx->special_entsize = calloc(n, sizeof(*ctx->special_entsize));
	ctx->special_keep = calloc(n, sizeof(*ctx->special_keep));
	if (!ctx->special_entsize || !ctx->special_keep) {
		ERROR("out of memory");
		return -1;
	}
	for (i = 1; i < n; i++) {
		struct section *sec = &ctx->patched->secs[i];
		size_t es;

		if (is_alt_code_section(sec) && sec->size && !sec->ignore) {
			/* Kept by the byte: see alt_code_keep(). */
			ctx->special_entsize[i] = 1;
			ctx->special_keep[i] = calloc(sec->size, 1);
			if (!ctx->special_keep[i]) {
				ERROR("out of memory");
				return -1;
			}
			continue;
		}
		if (!is_special_section(sec) || !sec->size || !sec->rela ||
		    sec->ignore)
			continue;
		if (!sec->data) {
			ERROR("%s: %s: a special section without contents (type %u)",
			      ctx->display, sec->name, sec->sh.sh_type);
			return -1;
		}
		es = entry_size(ctx, sec);
		if (!es) {
			DEBUG("%s: %s: entries of unknown size; dropped",
			      ctx->display, sec->name);
			continue;
		}
		if (sec->size % es) {
			ERROR("%s: %s: size %zu is not a multiple of the entry size %zu; the entry size doesn't match this kernel",
			      ctx->display, sec->name, sec->size, es);
			return -1;
		}
		ctx->special_entsize[i] = es;
		ctx->special_keep[i] = calloc(sec->size / es, 1);
		if (!ctx->special_keep[i]) {
			ERROR("out of memory");
			return -1;
		}
	}
	return 0;
}

void special_sections_free(struct diff_ctx *ctx)
{
	size_t i;

	if (ctx->special_keep)
		for (i = 0; i < ctx->patched->nr_secs; i++)
			free(ctx->special_keep[i]);
	free(ctx->special_keep);
	free(ctx->special_entsize);
}

/*
 * Keeps entry g of the special section sec; include.c then includes what
 * it refers to.
 */
int special_keep_group(struct diff_ctx *ctx, struct section *sec, size_t g)
{
	size_t es = ctx->special_entsize[sec->index];

	if (!es || g >= sec->size / es) {
		ERROR("%s: %s: entry %zu of unknown size or out of range",
		      ctx->display, sec->name, g);
		return -1;
	}
	if (ctx->special_keep[sec->index][g] == SPECIAL_DROPPED)
		ctx->special_keep[sec->index][g] = SPECIAL_KEPT;
	return 0;
}

/* The section the first relocation of an entry points into. */
static const struct section *anchor_section(const struct rela *r)
{
	struct symbol *cover;
	long off;

	if (!r->sym->sec)
		return NULL;
	cover = rela_cover(r, &off);
	return cover->sec;
}

/* A place in the object: a section and an offset into it. */
struct place {
	const struct section *sec;
	long off;
};

static int cmp_place(const void *a, const void *b)
{
	const struct place *pa = a, *pb = b;

	if (pa->sec != pb->sec)
		return pa->sec->index < pb->sec->index ? -1 : 1;
	return (pa->off > pb->off) - (pa->off < pb->off);
}

/* Where a relocation points: its section and the offset into it. */
static struct place rela_place(const struct rela *r)
{
	struct place p = { r->sym->sec, rela_target_offset(r) };

	if (r->sym->type != STT_SECTION)
		p.off = wrap_add(p.off, (long)r->sym->sym.st_value);
	return p;
}

/* Offsets in struct alt_instr (arch/x86/include/asm/alternative.h). */
#define ALT_INSTR	0
#define ALT_REPL	4
/* ... and its last byte is replacementlen. */

bool is_alt_code_section(const struct section *sec)
{
	return !strcmp(sec->name, ".altinstr_replacement") ||
	       !strcmp(sec->name, ".altinstr_aux");
}

/* The function that holds the code at offset off of sec, or NULL. */
static struct symbol *function_at(const struct section *sec, long off)
{
	struct symbol *fn;

	if (!sec || off < 0)
		return NULL;
	fn = kbp_symbol_at(sec, off);
	return fn && fn->type == STT_FUNC ? fn : NULL;
}

/*
 * .altinstr_replacement: the .altinstructions entry whose replacement
 * covers off; its code replaces instructions of the owner.
 */
static struct symbol *replacement_owner(struct diff_ctx *ctx,
					const struct section *sec,
					unsigned long off)
{
	struct section *alt = kbp_find_section(ctx->patched,
					       ".altinstructions");
	size_t es, g, n;

	if (!alt || !alt->data || !ctx->special_entsize)
		return NULL;
	es = ctx->special_entsize[alt->index];
	if (es <= ALT_REPL + 4)
		return NULL;
	for (g = 0; g < alt->size / es; g++) {
		struct rela *instr, *repl;
		struct place ip, rp;
		unsigned char len = alt->data[g * es + es - 1];

		instr = kbp_relas_in(alt, g * es + ALT_INSTR,
				     g * es + ALT_INSTR + 1, &n);
		if (n != 1)
			continue;
		repl = kbp_relas_in(alt, g * es + ALT_REPL,
				    g * es + ALT_REPL + 1, &n);
		if (n != 1 || !repl->sym->sec)
			continue;
		rp = rela_place(repl);
		if (rp.sec != sec || rp.off < 0 || off < (unsigned long)rp.off ||
		    off >= (unsigned long)rp.off + len || !instr->sym->sec)
			continue;
		ip = rela_place(instr);
		return function_at(ip.sec, ip.off);
	}
	return NULL;
}

/*
 * .altinstr_aux: static_cpu_has() jumps from the function ("jmp 6f") to
 * its feature test there, which jumps back. Of the jumps from code into
 * sec, *before is the one that lands nearest at or before off (NULL if
 * none), and *next where the first one after off lands (sec's end if
 * none): the test at off is *before's, and it ends at *next.
 */
static void aux_jumps_near(struct diff_ctx *ctx, const struct section *sec,
			   unsigned long off, const struct rela **before,
			   unsigned long *next)
{
	long best_off = -1;
	size_t i, j;

	*before = NULL;
	*next = sec->size;
	for (i = 1; i < ctx->patched->nr_secs; i++) {
		const struct section *text = &ctx->patched->secs[i];

		if (!is_text_section(text) || is_alt_code_section(text) ||
		    !text->rela)
			continue;
		for (j = 0; j < text->rela->nr_relas; j++) {
			const struct rela *r = &text->rela->relas[j];
			struct place p;

			if (r->sym->sec != sec)
				continue;
			p = rela_place(r);
			if (p.off < 0)
				continue;
			if ((unsigned long)p.off <= off && p.off > best_off) {
				*before = r;
				best_off = p.off;
			} else if ((unsigned long)p.off > off &&
				   (unsigned long)p.off < *next) {
				*next = p.off;
			}
		}
	}
}

/* The function whose static_cpu_has() test in .altinstr_aux is at off. */
static struct symbol *aux_owner(struct diff_ctx *ctx,
				const struct section *sec, unsigned long off)
{
	const struct rela *before;
	unsigned long next;

	aux_jumps_near(ctx, sec, off, &before, &next);
	return before ? function_at(before->in, before->offset) : NULL;
}

/*
 * Alternative code has no function symbols of its own: it belongs to the
 * function whose instructions it replaces or extends. NULL when no
 * function can be found.
 */
struct symbol *alt_code_owner(struct diff_ctx *ctx, const struct section *sec,
			      unsigned long off)
{
	if (!strcmp(sec->name, ".altinstr_replacement"))
		return replacement_owner(ctx, sec, off);
	if (!strcmp(sec->name, ".altinstr_aux"))
		return aux_owner(ctx, sec, off);
	return NULL;
}

/* The start of the next .altinstr_aux block after off, or its end. */
static unsigned long aux_block_end(struct diff_ctx *ctx,
				   const struct section *sec, unsigned long off)
{
	const struct rela *before;
	unsigned long next;

	aux_jumps_near(ctx, sec, off, &before, &next);
	return next;
}

/*
 * A reference into alternative code keeps only the code it leads to, not
 * the whole section, which holds the alternatives of every function of
 * the object (__init ones among them): a kept .altinstructions entry its
 * replacement, a function's "jmp 6f" its static_cpu_has() test in
 * .altinstr_aux. Other references keep the whole section. include.c
 * includes what the kept code refers to; output.c packs the kept bytes.
 */
void alt_code_keep(struct diff_ctx *ctx, const struct section *from,
		   const struct rela *rela)
{
	struct section *sec = rela->sym->sec;
	unsigned char *keep = ctx->special_keep[sec->index];
	size_t from_es = ctx->special_entsize[from->index], i;
	struct place t = rela_place(rela);
	unsigned long start = 0, end = sec->size;
	bool fresh = false;

	if (t.off >= 0 && (unsigned long)t.off <= sec->size) {
		if (!strcmp(from->name, ".altinstructions") &&
		    from_es > ALT_REPL + 4 && rela->offset % from_es == ALT_REPL &&
		    rela->offset - ALT_REPL + from_es <= from->size) {
			start = t.off;
			end = start + from->data[rela->offset - ALT_REPL +
						 from_es - 1];
		} else if (!strcmp(sec->name, ".altinstr_aux") &&
			   is_text_section(from)) {
			start = t.off;
			end = aux_block_end(ctx, sec, start);
		}
	}
	if (end > sec->size)
		end = sec->size;
	for (i = start; i < end; i++) {
		if (keep[i] != SPECIAL_DROPPED)
			continue;
		keep[i] = SPECIAL_KEPT;
		fresh = true;
	}
	if (fresh)
		DEBUG("%s: keeping %s+0x%lx..0x%lx", ctx->display, sec->name,
		      start, end);
}

/* The places in data that the included code refers to, sorted. */
static struct place *included_code_refs(struct diff_ctx *ctx, size_t *count)
{
	struct place *refs = NULL, *p;
	size_t i, j, n = 0, cap = 0;

	for (i = 1; i < ctx->patched->nr_secs; i++) {
		const struct section *sec = &ctx->patched->secs[i];

		if (!sec->include || !is_text_section(sec) || !sec->rela)
			continue;
		for (j = 0; j < sec->rela->nr_relas; j++) {
			const struct rela *r = &sec->rela->relas[j];

			if (!r->sym->sec || is_text_section(r->sym->sec))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				p = realloc(refs, cap * sizeof(*refs));
				if (!p) {
					free(refs);
					ERROR("out of memory");
					return NULL;
				}
				refs = p;
			}
			refs[n++] = rela_place(r);
		}
	}
	if (!n)
		refs = malloc(sizeof(*refs));
	if (!refs) {
		ERROR("out of memory");
		return NULL;
	}
	qsort(refs, n, sizeof(*refs), cmp_place);
	*count = n;
	return refs;
}

/* The place that the pointer field at offset field of entry refers to. */
static bool entry_field(const struct symbol *entry, unsigned long field,
			struct place *out)
{
	unsigned long at = entry->sym.st_value + field;
	struct rela *f;
	size_t n;

	f = kbp_relas_in(entry->sec, at, at + 1, &n);
	if (n != 1 || !f->sym->sec)
		return false;
	*out = rela_place(f);
	return true;
}

/* Whether the string at p names an included function (foo.isra.0: foo). */
static bool names_included_function(struct diff_ctx *ctx, struct place p)
{
	const char *name;
	size_t i, j, len;

	if (!p.sec->data || p.off < 0 || (size_t)p.off >= p.sec->size ||
	    !memchr(p.sec->data + p.off, 0, p.sec->size - p.off))
		return false;
	name = (const char *)p.sec->data + p.off;
	len = strlen(name);
	for (i = 1; i < ctx->patched->nr_secs; i++) {
		const struct section *sec = &ctx->patched->secs[i];

		if (!sec->include || !is_text_section(sec))
			continue;
		for (j = 0; j < sec->nr_syms; j++) {
			const char *f = sec->syms[j]->name;

			if (sec->syms[j]->type == STT_FUNC &&
			    !strncmp(f, name, len) &&
			    (!f[len] || f[len] == '.'))
				return true;
		}
	}
	return false;
}

/* Offsets in struct pi_entry (include/linux/printk.h) on x86_64. */
#define PI_ENTRY_FMT	0
#define PI_ENTRY_FUNC	8

struct printk_site {
	struct place fmt;
	bool used;	/* included code passes its format */
	bool own;	/* and its __func__ names an included function */
};

/*
 * .printk_index holds one pointer per printk site to the site's struct
 * pi_entry { fmt, func, ... }. A site belongs to the included code when
 * an included function passes its format string. When sites of several
 * functions share one format, those of the included functions are kept
 * and the others' left out; a site of an inlined helper, whose __func__
 * is the helper's, is kept when no such twin exists.
 */
static int printk_index_include(struct diff_ctx *ctx, struct section *sec,
				bool *changed)
{
	size_t es = ctx->special_entsize[sec->index], nr = sec->size / es;
	struct printk_site *sites;
	struct place *refs, func;
	size_t g, h, n, nr_refs;
	int ret = 0;

	refs = included_code_refs(ctx, &nr_refs);
	if (!refs)
		return -1;
	sites = calloc(nr, sizeof(*sites));
	if (!sites) {
		free(refs);
		ERROR("out of memory");
		return -1;
	}
	for (g = 0; g < nr; g++) {
		struct rela *r = kbp_relas_in(sec, g * es, (g + 1) * es, &n);
		struct symbol *entry;
		long off;

		if (!n)
			continue;
		entry = rela_cover(r, &off);
		if (!entry->sec || off ||
		    !entry_field(entry, PI_ENTRY_FMT, &sites[g].fmt))
			continue;
		sites[g].used = bsearch(&sites[g].fmt, refs, nr_refs,
					sizeof(*refs), cmp_place);
		sites[g].own = sites[g].used &&
			       entry_field(entry, PI_ENTRY_FUNC, &func) &&
			       names_included_function(ctx, func);
	}
	for (g = 0; g < nr && !ret; g++) {
		bool keep = true;

		if (!sites[g].used || ctx->special_keep[sec->index][g])
			continue;
		for (h = 0; h < nr && !sites[g].own; h++)
			if (sites[h].own &&
			    !cmp_place(&sites[h].fmt, &sites[g].fmt))
				keep = false;
		if (!keep)
			continue;
		DEBUG("%s: keeping .printk_index entry %zu", ctx->display, g);
		ret = special_keep_group(ctx, sec, g);
		*changed = true;
	}
	free(sites);
	free(refs);
	return ret;
}

/*
 * Keeps the entries that describe included code. *changed tells whether
 * any entry was newly kept, whose references include.c must follow.
 */
int special_sections_keep(struct diff_ctx *ctx, bool *changed)
{
	size_t i, g;
	int ret;

	*changed = false;
	for (i = 1; i < ctx->patched->nr_secs; i++) {
		struct section *sec = &ctx->patched->secs[i];
		size_t es = ctx->special_entsize[i];

		if (!es || is_alt_code_section(sec))
			continue;
		if (!strcmp(sec->name, ".printk_index")) {
			ret = printk_index_include(ctx, sec, changed);
			if (ret)
				return ret;
			continue;
		}
		for (g = 0; g < sec->size / es; g++) {
			const struct section *anchor;
			struct rela *r;
			size_t n;

			if (ctx->special_keep[i][g] != SPECIAL_DROPPED)
				continue;
			r = kbp_relas_in(sec, g * es, (g + 1) * es, &n);
			if (!n)
				continue;
			anchor = anchor_section(&r[0]);
			if (!anchor || !anchor->include ||
			    !is_text_section(anchor))
				continue;
			ctx->special_keep[i][g] = SPECIAL_KEPT;
			*changed = true;
		}
	}
	return 0;
}
