// SPDX-License-Identifier: GPL-2.0
/*
 * untraceable.c - changed functions that ftrace can't redirect because
 * they have no fentry call: notrace code, and `static inline` bodies the
 * compiler kept out of line, such as the __do_sys_* body of a syscall.
 * Such a function is carried as new code, and its callers in the same
 * object are patched instead, so that they call the new copy. A caller
 * without an fentry call is carried the same way, up to traceable ones.
 * Runs after change detection and before inclusion (include.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "log.h"

bool has_fentry(const struct symbol *func)
{
	unsigned long start = func->sym.st_value;
	struct rela *r;
	size_t n, i;

	if (!func->sec)
		return false;
	r = kbp_relas_in(func->sec, start, start + 16, &n);
	for (i = 0; i < n; i++)
		if (!strcmp(r[i].sym->name, "__fentry__"))
			return true;
	return false;
}

/*
 * The function whose code holds a relocated field; a .cold part's parent.
 * Alternative code (.altinstr_replacement, .altinstr_aux) belongs to the
 * function whose instructions it replaces.
 */
static struct symbol *holding_function(struct diff_ctx *ctx,
				       const struct rela *rela)
{
	struct symbol *fn;

	if (is_alt_code_section(rela->in))
		fn = alt_code_owner(ctx, rela->in, rela->offset);
	else
		fn = kbp_symbol_at(rela->in, rela->offset);
	if (!fn || fn->type != STT_FUNC || !is_cold_part(fn))
		return fn;
	return cold_parent(ctx->patched, fn);
}

/*
 * Code that runs no more, or metadata carried with its function (the
 * boot-time constant tables: see runtime-const.c).
 */
static bool is_passive_reference(const struct section *in)
{
	return !(in->sh.sh_flags & SHF_ALLOC) || is_init_section(in) ||
	       is_special_section(in) || is_runtime_const_section(in);
}

/*
 * Marks the callers of fn that must be patched (or carried too) so that
 * the new copy of fn runs. Appends carried callers to the work list.
 */
static int plan_callers(struct diff_ctx *ctx, struct symbol *fn,
			struct symbol **work, size_t *nr_work)
{
	struct kbp_elf *p = ctx->patched;
	size_t i, j, callers = 0;
	long offset;

	for (i = 1; i < p->nr_secs; i++) {
		struct section *rsec = &p->secs[i];

		if (!is_rela_section(rsec) || !rsec->base ||
		    is_passive_reference(rsec->base))
			continue;
		for (j = 0; j < rsec->nr_relas; j++) {
			struct rela *rela = &rsec->relas[j];
			struct symbol *caller;

			if (rela_cover(rela, &offset) != fn)
				continue;
			if (!is_text_section(rela->in)) {
				ERROR("%s: %s (%s): has no fentry call, so ftrace can't redirect it, and its address is stored in %s, which the running kernel keeps using; move the fix into a traceable function",
				      ctx->display, fn->name, fn->sec->name,
				      rela->in->name);
				return KBP_UNSUPPORTED;
			}
			caller = holding_function(ctx, rela);
			if (!caller) {
				ERROR("%s: %s (%s): has no fentry call, so ftrace can't redirect it, and the code that refers to it at %s+0x%lx is in no function whose patching would reach the new copy; move the fix into a traceable function",
				      ctx->display, fn->name, fn->sec->name,
				      rela->in->name, rela->offset);
				return KBP_UNSUPPORTED;
			}
			if (caller == fn)
				continue;
			callers++;
			if (caller->status != ST_SAME || caller->patch_caller ||
			    caller->untraceable)
				continue;
			caller->untraceable_callee = fn->name;
			if (has_fentry(caller->twin)) {
				caller->patch_caller = true;
				printf("%s: %s has no fentry call: carried as new code, reached by patching its caller %s\n",
				       ctx->display, fn->name, caller->name);
				continue;
			}
			caller->untraceable = true;
			work[(*nr_work)++] = caller;
		}
	}
	if (!callers) {
		ERROR("%s: %s (%s): has no fentry call, so ftrace can't redirect it, and nothing in this object calls it; move the fix into a traceable function",
		      ctx->display, fn->name, fn->sec->name);
		return KBP_UNSUPPORTED;
	}
	return 0;
}

int plan_untraceable(struct diff_ctx *ctx)
{
	struct kbp_elf *p = ctx->patched;
	struct symbol **work;
	size_t i, nr_work = 0;
	int ret = 0;

	/* Each function enters the list at most once. */
	work = calloc(p->nr_syms, sizeof(*work));
	if (!work) {
		ERROR("out of memory");
		return -1;
	}
	for (i = 1; i < p->nr_syms; i++) {
		struct symbol *sym = &p->syms[i];

		if (sym->type != STT_FUNC || sym->status != ST_CHANGED ||
		    is_cold_part(sym) || is_init_section(sym->sec) ||
		    has_fentry(sym->twin))
			continue;
		sym->untraceable = true;
		work[nr_work++] = sym;
	}
	for (i = 0; i < nr_work && !ret; i++) {
		struct symbol *fn = work[i];

		if (fn->bind != STB_LOCAL) {
			ERROR("%s: %s (%s): has no fentry call (notrace?), so ftrace can't redirect it, and it is global: callers in other objects can't be patched instead; move the fix into a traceable function",
			      ctx->display, fn->name, fn->sec->name);
			ret = KBP_UNSUPPORTED;
			break;
		}
		ret = plan_callers(ctx, fn, work, &nr_work);
	}
	free(work);
	return ret;
}
