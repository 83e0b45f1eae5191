// SPDX-License-Identifier: GPL-2.0
/*
 * ibt.c - indirect branch tracking. objtool seals the ENDBR of every
 * vmlinux function whose address is never taken (.ibt_endbr_seal in
 * vmlinux.o), and the kernel turns those ENDBRs into NOPs at boot. A
 * patch that newly takes the address of such a function would fault on
 * the first indirect call, so that reference is refused here. TCG can't
 * show this fault, which is why it is checked statically.
 */
#include <string.h>

#include "diff.h"
#include "log.h"

int ibt_load_sealed(struct diff_ctx *ctx, const char *vmlinux_o)
{
	struct section *seal;
	size_t i;

	ctx->sealed_from = kbp_elf_open(vmlinux_o, true);
	if (!ctx->sealed_from)
		return -1;
	if (strmap_init(&ctx->sealed, 1024))
		return -1;
	seal = kbp_find_section(ctx->sealed_from, ".ibt_endbr_seal");
	if (!seal || !seal->rela) {
		DEBUG("%s: no .ibt_endbr_seal: no sealed functions", vmlinux_o);
		return 0;
	}
	for (i = 0; i < seal->rela->nr_relas; i++) {
		const struct rela *r = &seal->rela->relas[i];
		struct symbol *func;
		long off;

		func = rela_cover(r, &off);
		if (func->type != STT_FUNC)
			continue;
		if (strmap_add(&ctx->sealed, func->name, func))
			return -1;
	}
	DEBUG("%s: %zu sealed functions", vmlinux_o, ctx->sealed.nr_entries);
	return 0;
}

void ibt_free_sealed(struct diff_ctx *ctx)
{
	strmap_free(&ctx->sealed);
	kbp_elf_close(ctx->sealed_from);
}

/* Does the relocation take its target's address, rather than call it? */
static bool takes_address(const struct rela *r)
{
	const unsigned char *b = r->in ? r->in->data : NULL;

	if (!r->in || is_special_section(r->in) ||
	    !(r->in->sh.sh_flags & SHF_ALLOC))
		return false;
	if (!is_text_section(r->in))
		return true;	/* a function pointer in data */
	switch (r->type) {
	case R_X86_64_PLT32:
		return false;
	case R_X86_64_PC32:
		if (!b || r->offset < 1)
			return true;
		if (b[r->offset - 1] == 0xe8 || b[r->offset - 1] == 0xe9)
			return false;	/* call, jmp */
		if (r->offset >= 2 && b[r->offset - 2] == 0x0f &&
		    (b[r->offset - 1] & 0xf0) == 0x80)
			return false;	/* jcc */
		return true;
	default:
		return true;
	}
}

int ibt_check_reference(struct diff_ctx *ctx, const struct rela *rela,
			const struct symbol *target)
{
	if (!ctx->sealed_from || !strmap_get(&ctx->sealed, target->name) ||
	    !takes_address(rela))
		return 0;
	ERROR("%s: %s (%s+0x%lx): takes the address of %s, whose ENDBR the running kernel sealed (IBT); an indirect call to it would fault",
	      ctx->display, target->name, rela->in->name, rela->offset,
	      target->name);
	ERROR("hint: call %s directly, or through a new wrapper function in the patch",
	      target->name);
	return KBP_UNSUPPORTED;
}
