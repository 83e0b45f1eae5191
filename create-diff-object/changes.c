// SPDX-License-Identifier: GPL-2.0
/*
 * changes.c - decides, per function and data object of the patched
 * object, whether it is new, changed or the same as its twin. Code is
 * compared byte for byte together with its relocations, and each
 * relocation by what it refers to (symbol and offset, or the string's
 * bytes), never by section index or position in a table.
 */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "log.h"

static bool same_string(const struct rela *a, const struct rela *b)
{
	const struct section *sa = a->sym->sec, *sb = b->sym->sec;
	long ta = rela_target_offset(a), tb = rela_target_offset(b);

	if (wrap_sub(a->addend, ta) != wrap_sub(b->addend, tb))
		return false;
	if (ta < 0 || tb < 0 || (size_t)ta >= sa->size ||
	    (size_t)tb >= sb->size || !sa->data || !sb->data)
		return ta == tb && sa->size == sb->size;
	return !strncmp((const char *)sa->data + ta,
			(const char *)sb->data + tb,
			sa->size - ta < sb->size - tb ? sa->size - ta :
			sb->size - tb);
}

static bool same_section_bytes(const struct section *a,
			       const struct section *b)
{
	if (a->size != b->size || a->sh.sh_type != b->sh.sh_type)
		return false;
	if (!a->data || !b->data)
		return !a->data && !b->data;
	return !memcmp(a->data, b->data, a->size);
}

bool same_target(const struct rela *p, const struct rela *o)
{
	struct symbol *sp, *so;
	long offp, offo;

	if (p->type != o->type)
		return false;
	if (p->sym->type == STT_SECTION && o->sym->type == STT_SECTION &&
	    p->sym->sec && o->sym->sec && is_string_section(p->sym->sec) &&
	    is_string_section(o->sym->sec))
		return same_string(p, o);

	sp = rela_cover(p, &offp);
	so = rela_cover(o, &offo);
	if (offp != offo)
		return false;
	if (sp->type == STT_SECTION || so->type == STT_SECTION) {
		/* Anonymous data: compare by section name and contents. */
		if (sp->type != so->type || !sp->sec || !so->sec)
			return false;
		return sp->sec->twin == so->sec &&
		       same_section_bytes(sp->sec, so->sec);
	}
	/* Fresh per-site statics are never paired: compare what they are. */
	if (sp->fresh && so->fresh) {
		size_t lp = strrchr(sp->name, '.') - sp->name;
		size_t lo = strrchr(so->name, '.') - so->name;

		return lp == lo && !strncmp(sp->name, so->name, lp) &&
		       sp->sym.st_size == so->sym.st_size &&
		       sp->sec->sh.sh_type == so->sec->sh.sh_type;
	}
	if (sp->twin)
		return sp->twin == so;
	/* Undefined symbols have no twin links to follow. */
	return !sp->sec && !so->sec && !strcmp(sp->name, so->name);
}

static bool same_symbol(const struct symbol *p, const struct symbol *o)
{
	const struct section *sp = p->sec, *so = o->sec;
	unsigned long start_p = p->sym.st_value, start_o = o->sym.st_value;
	unsigned long size = p->sym.st_size;
	struct rela *rp, *ro;
	size_t np, no, i;

	if (p->sym.st_size != o->sym.st_size)
		return false;
	if (sp->sh.sh_type != so->sh.sh_type)
		return false;
	/* A lone symbol owns its section, padding included. */
	if (sp->nr_syms == 1 && so->nr_syms == 1) {
		if (sp->size != so->size)
			return false;
		start_p = start_o = 0;
		size = sp->size;
	}
	if (sp->data && so->data &&
	    memcmp(sp->data + start_p, so->data + start_o, size))
		return false;

	rp = kbp_relas_in(sp, start_p, start_p + size, &np);
	ro = kbp_relas_in(so, start_o, start_o + size, &no);
	if (np != no)
		return false;
	for (i = 0; i < np; i++) {
		if (rp[i].offset - start_p != ro[i].offset - start_o)
			return false;
		if (!same_target(&rp[i], &ro[i]))
			return false;
	}
	return true;
}

/*
 * A .cold part has no fentry call: it runs only when its function jumps
 * into it. When it alone changed (or appeared), the function must be
 * patched all the same, and carries the new cold part with it.
 */
static int mark_cold_parents(struct diff_ctx *ctx)
{
	size_t i;

	for (i = 1; i < ctx->patched->nr_syms; i++) {
		struct symbol *cold = &ctx->patched->syms[i], *parent;

		if (!cold->sec || !is_cold_part(cold) ||
		    cold->status == ST_SAME)
			continue;
		parent = cold_parent(ctx->patched, cold);
		if (!parent || !parent->twin || parent->status != ST_SAME)
			continue;
		DEBUG("%s: %s changed through its cold part %s", ctx->display,
		      parent->name, cold->name);
		parent->status = ST_CHANGED;
		parent->twin->status = ST_CHANGED;
	}
	return 0;
}

int detect_changes(struct diff_ctx *ctx)
{
	size_t i;

	for (i = 1; i < ctx->patched->nr_syms; i++) {
		struct symbol *sym = &ctx->patched->syms[i];

		if (!sym->sec || (sym->type != STT_FUNC &&
				  sym->type != STT_OBJECT))
			continue;
		if (!sym->twin) {
			sym->status = ST_NEW;
			continue;
		}
		/*
		 * A dynamic debug descriptor is metadata about its call site
		 * (line, format); the patched code keeps using the original
		 * one, so the site's enable key stays where users set it.
		 */
		if (!strncmp(sym->sec->name, "__dyndbg", 8))
			sym->status = ST_SAME;
		else
			sym->status = same_symbol(sym, sym->twin) ? ST_SAME :
								     ST_CHANGED;
		sym->twin->status = sym->status;
		if (sym->status == ST_CHANGED)
			DEBUG("%s: %s (%s) changed", ctx->display, sym->name,
			      sym->sec->name);
	}
	return mark_cold_parents(ctx);
}
