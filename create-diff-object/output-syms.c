// SPDX-License-Identifier: GPL-2.0
/*
 * output-syms.c - references to code and data that stay in the running kernel: an
 * exported symbol by its plain name (the module loader resolves it),
 * anything else as ".klp.sym.OBJ.NAME,POS", undefined and weak, with the
 * sympos the running kernel gives it.
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

/* The function whose code is in sec, for messages, or NULL. */
static const struct symbol *section_function(const struct section *sec)
{
	size_t i;

	for (i = 0; sec && i < sec->nr_syms; i++)
		if (sec->syms[i]->type == STT_FUNC)
			return sec->syms[i];
	return NULL;
}

/*
 * The sympos of sym, a symbol of obj. A static local that the running
 * kernel has several copies of, none of which can be told to be this
 * file's, is refused: guessing would tie the new code to another
 * function's state.
 */
long lookup_sympos(struct writer *w, const struct symbol *sym,
			  const struct kbp_elf *obj, const struct section *from)
{
	struct diff_ctx *ctx = w->ctx;
	const struct symbol *fn = section_function(from);
	long pos;

	if (!ctx->target) {
		if (!w->warned_no_symbols)
			WARN("%s: no --symbols given; assuming every symbol is unique (sympos 0)",
			     ctx->display);
		w->warned_no_symbols = true;
		return 0;
	}
	pos = kbp_sympos(ctx->target, obj, sym);
	if (pos == -1) {
		ERROR("%s: %s: not found in the running kernel's symbol table (%s); was it inlined or renamed?",
		      ctx->display, sym->name, ctx->target->path);
		return -1;
	}
	if (pos == -2 && is_static_local(sym)) {
		ERROR("%s: %s (%s): uses the static local %s, but %s has several symbols of that name and none can be told to be this file's: refusing to guess which one holds the running state; hint: with --kallsyms, pass the kernel's vmlinux (-v), whose file symbols tell them apart",
		      ctx->display, fn ? fn->name : "?",
		      from ? from->name : "?", sym->name,
		      ctx->target->path);
		return KBP_UNSUPPORTED;
	}
	if (pos == -2) {
		ERROR("%s: %s: several symbols of this name in %s match this object; can't tell which one to use",
		      ctx->display, sym->name, ctx->target->path);
		return -1;
	}
	return pos;
}

/*
 * The out symbol for a reference from section from to sym, which stays
 * in the kernel. A klp symbol is named as the running kernel names it:
 * by the original object's spelling of sym's twin, since gcc's numbering
 * of static locals (hits.3 here, hits.2 there) and of clones
 * (foo.constprop.1) can differ between the two builds.
 */
long external_sym(struct writer *w, struct symbol *sym,
			 const struct section *from)
{
	struct diff_ctx *ctx = w->ctx;
	const struct symbol *orig = sym->twin ? sym->twin : sym;
	const struct kbp_elf *obj = sym->twin ? ctx->orig : ctx->patched;
	const char *exporter;
	bool klp, vmlinux = !strcmp(ctx->objname, "vmlinux");
	long pos = 0, id;
	char *name;
	uintptr_t v;

	exporter = sym->bind == STB_LOCAL ? NULL :
		   kbp_exported_by(ctx->symvers, ctx->target, sym->name);
	/* Defined by another object of this patch: linked in the module. */
	if (!sym->sec && strmap_get(&ctx->new_globals, sym->name))
		exporter = "";
	/*
	 * A module's own symbols always go through klp relocations, even
	 * exported ones, so the patch doesn't depend on the module: the
	 * module may load after the patch, and a plain reference to its
	 * export would keep the patch from loading before it.
	 */
	klp = !exporter || (!vmlinux && *exporter && (sym->sec ||
					 kbp_is_module(exporter, ctx->objname)));
	if (klp) {
		pos = lookup_sympos(w, orig, obj, from);
		if (pos < 0)
			return pos;
		if (asprintf(&name, KLP_SYM_PREFIX "%s.%s,%ld", ctx->objname,
			     orig->name, pos) < 0)
			name = NULL;
		if (!keep_name(w, name))
			return -1;
	} else {
		name = (char *)sym->name;
	}
	v = (uintptr_t)strmap_get(&w->ext, name);
	if (v)
		return v - 1;
	id = add_sym(w, name, klp ? STB_WEAK : STB_GLOBAL, STT_NOTYPE, 0, 0,
		     0);
	if (id < 0 || strmap_add(&w->ext, name, (void *)(uintptr_t)(id + 1)))
		return -1;
	w->syms[id].klp = klp;
	if (klp)
		DEBUG("%s: %s -> %s", ctx->display, sym->name, name);
	return id;
}
