// SPDX-License-Identifier: GPL-2.0
/*
 * runtime-const.c - the boot-time constants of x86 vmlinux code
 * (arch/x86/include/asm/runtime-const.h) in carried code. The compiler
 * emits a placeholder, "movabs $0x0123456789abcdef,%reg" for
 * runtime_const_ptr(SYM) and "shrl $12,%reg" for
 * runtime_const_shift_right_32(val, SYM), and records where its
 * immediate is in section runtime_ptr_SYM or runtime_shift_SYM. The
 * kernel writes the real values there once, at boot, and only into
 * vmlinux: a copy of the code in a module would keep the placeholder
 * (access_ok() in it would accept addresses up to 0x0123456789abcdef).
 * Runs after inclusion (include.c), before the output (output.c): each
 * placeholder in carried code becomes "mov SYM(%rip),%reg" plus a 3-byte
 * NOP, the same length, with a PC32 relocation to the variable SYM,
 * which holds the same value; output.c then names SYM in the running
 * kernel like any other reference (exported, or a klp symbol). A shift
 * can't be loaded into its 3 bytes: carried code that uses one is
 * refused. The change detection saw the placeholder on both sides, so it
 * isn't affected.
 */
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "log.h"

#define RC_PLACEHOLDER	0x0123456789abcdefULL
/* REX.W B8+r imm64: the immediate starts 2 bytes into the instruction. */
#define RC_MOVABS_LEN	10
#define RC_IMM_OFF	2

/* One placeholder to rewrite: the movabs at insn of sec. */
struct rc_site {
	struct section *sec;
	unsigned long insn;
	unsigned int reg;
	struct symbol *sym;
};

struct rc_plan {
	struct rc_site *sites;
	size_t nr_sites;
};

/* Remembers a buffer that runtime_const_free() frees. */
static void *rc_keep(struct diff_ctx *ctx, void *p)
{
	return owned_keep(&ctx->rc_allocs, p);
}

void runtime_const_free(struct diff_ctx *ctx)
{
	owned_free(&ctx->rc_allocs);
}

/* "fn (.text.fn)" of a message: the function holding off of sec. */
static const char *fn_name(const struct section *sec, unsigned long off)
{
	const struct symbol *fn = kbp_symbol_at(sec, off);

	return fn ? fn->name : "?";
}

/* Whether the code at [start, end) of sec goes into the output. */
static bool carried(struct diff_ctx *ctx, const struct section *sec,
		    unsigned long start, unsigned long end)
{
	const unsigned char *keep = ctx->special_keep ?
				    ctx->special_keep[sec->index] : NULL;
	unsigned long i;

	if (!is_alt_code_section(sec) || !keep)
		return sec->include;
	for (i = start; i < end && i < sec->size; i++)
		if (keep[i])
			return true;
	return false;
}

/*
 * The variable the rewritten code loads: SYM of the object (a static of
 * this file, or an undefined global it refers to already), else a new
 * undefined global; output.c names it in the running kernel.
 */
static int rc_symbol(struct diff_ctx *ctx, const struct section *from,
		     const char *fn, const char *name, struct symbol **out)
{
	struct strmap_entry *it = NULL;
	struct symbol *sym, *s;

	while ((sym = strmap_next(&ctx->patched->sym_by_name, name, &it)))
		if (sym->type == STT_OBJECT || sym->type == STT_NOTYPE)
			break;
	if (sym && sym->sec && (sym->status == ST_NEW ||
				sym->status == ST_CHANGED || sym->include)) {
		ERROR("%s: %s (%s): the boot-time constant %s is a variable that the patch adds, changes or carries; the kernel set the constant from its own copy at boot",
		      ctx->display, fn, from->name, name);
		return KBP_UNSUPPORTED;
	}
	if (sym) {
		*out = sym;
		return 0;
	}
	s = rc_keep(ctx, calloc(1, sizeof(*s)));
	if (!s)
		return -1;
	s->name = name;
	s->bind = STB_GLOBAL;
	s->type = STT_NOTYPE;
	s->sym.st_info = GELF_ST_INFO(STB_GLOBAL, STT_NOTYPE);
	s->status = ST_SAME;
	*out = s;
	return 0;
}

/* Checks one entry of runtime_ptr_SYM and plans its rewrite. */
static int plan_ptr(struct diff_ctx *ctx, const struct section *table,
		    const char *name, struct section *sec, unsigned long imm,
		    struct rc_plan *plan)
{
	const unsigned char *b = sec->data;
	unsigned long long v = 0;
	unsigned long insn = imm - RC_IMM_OFF;
	struct rc_site *site;
	size_t n, i;
	int ret;

	if (imm < RC_IMM_OFF || imm + 8 > sec->size || !b ||
	    (b[insn] != 0x48 && b[insn] != 0x49) ||
	    (b[insn + 1] & 0xf8) != 0xb8) {
		ERROR("%s: %s (%s): the entry of %s at %s+0x%lx is not after a \"movabs $imm64,%%reg\" placeholder; can't load the boot-time constant %s there",
		      ctx->display, fn_name(sec, imm), sec->name, table->name,
		      sec->name, imm, name);
		return KBP_UNSUPPORTED;
	}
	for (i = 0; i < 8; i++)
		v |= (unsigned long long)b[imm + i] << (8 * i);
	if (v != RC_PLACEHOLDER) {
		ERROR("%s: %s (%s): the movabs at %s+0x%lx that %s points to loads 0x%llx, not the placeholder 0x%llx; can't tell what it is",
		      ctx->display, fn_name(sec, insn), sec->name, sec->name,
		      insn, table->name, v, RC_PLACEHOLDER);
		return KBP_UNSUPPORTED;
	}
	kbp_relas_in(sec, insn, insn + RC_MOVABS_LEN, &n);
	if (n) {
		ERROR("%s: %s (%s): the boot-time constant placeholder at %s+0x%lx has a relocation; can't rewrite it",
		      ctx->display, fn_name(sec, insn), sec->name, sec->name,
		      insn);
		return KBP_UNSUPPORTED;
	}
	site = realloc(plan->sites, (plan->nr_sites + 1) * sizeof(*site));
	if (!site) {
		ERROR("out of memory");
		return -1;
	}
	plan->sites = site;
	site = &site[plan->nr_sites++];
	site->sec = sec;
	site->insn = insn;
	site->reg = (b[insn] & 1) << 3 | (b[insn + 1] & 7);
	ret = rc_symbol(ctx, sec, fn_name(sec, insn), name, &site->sym);
	if (ret)
		return ret;
	DEBUG("%s: %s+0x%lx: runtime_const_ptr(%s) -> mov %s(%%rip)",
	      ctx->display, sec->name, insn, name, name);
	return 0;
}

/* Checks the entries of one runtime_ptr_/runtime_shift_ table. */
static int plan_table(struct diff_ctx *ctx, const struct section *table,
		      struct rc_plan *plan)
{
	bool shift = !strncmp(table->name, RUNTIME_SHIFT_PREFIX,
			      strlen(RUNTIME_SHIFT_PREFIX));
	const char *name = table->name +
			   strlen(shift ? RUNTIME_SHIFT_PREFIX : RUNTIME_PTR_PREFIX);
	const struct section *rsec = table->rela;
	size_t i;
	int ret;

	if (!table->size)
		return 0;
	if (!rsec || rsec->nr_relas * 4 != table->size) {
		ERROR("%s: %s: %zu bytes and %zu relocations; expected one 4-byte relative pointer per entry",
		      ctx->display, table->name, table->size,
		      rsec ? rsec->nr_relas : 0);
		return -1;
	}
	for (i = 0; i < rsec->nr_relas; i++) {
		const struct rela *r = &rsec->relas[i];
		struct section *sec = r->sym->sec;
		long off;

		if (r->offset != i * 4 || r->type != R_X86_64_PC32 || !sec ||
		    !is_text_section(sec)) {
			ERROR("%s: %s: entry %zu does not point into code",
			      ctx->display, table->name, i);
			return -1;
		}
		off = rela_target_offset(r);
		if (r->sym->type != STT_SECTION)
			off = wrap_add(off, (long)r->sym->sym.st_value);
		if (off < 0 || (unsigned long)off >= sec->size) {
			ERROR("%s: %s: entry %zu points outside %s",
			      ctx->display, table->name, i, sec->name);
			return -1;
		}
		if (!carried(ctx, sec, off - RC_IMM_OFF, off + 8))
			continue;
		if (shift) {
			ERROR("%s: %s (%s): uses the boot-time constant %s (runtime_const_shift_right_32(), in %s), which the kernel writes only into its own code at boot; a copy of it in the patch module can't load the value in place",
			      ctx->display, fn_name(sec, off), sec->name, name,
			      table->name);
			ERROR("hint: keep the change out of the functions that use %s (inlined helpers such as d_hash() bring it in): patch a caller instead",
			      name);
			return KBP_UNSUPPORTED;
		}
		if (is_alt_code_section(sec)) {
			ERROR("%s: %s+0x%lx: the boot-time constant %s in alternative code can't be rewritten",
			      ctx->display, sec->name, off, name);
			return KBP_UNSUPPORTED;
		}
		if (strcmp(ctx->objname, "vmlinux")) {
			ERROR("%s: %s (%s): uses the boot-time constant %s, which exists only in vmlinux code, in an object of module %s",
			      ctx->display, fn_name(sec, off), sec->name, name,
			      ctx->objname);
			return KBP_UNSUPPORTED;
		}
		ret = plan_ptr(ctx, table, name, sec, off, plan);
		if (ret)
			return ret;
	}
	return 0;
}

static int cmp_rela(const void *a, const void *b)
{
	const struct rela *ra = a, *rb = b;

	return (ra->offset > rb->offset) - (ra->offset < rb->offset);
}

/* A relocation section for code that had none. */
static struct section *new_rela_section(struct diff_ctx *ctx,
					struct section *sec)
{
	struct section *rsec = rc_keep(ctx, calloc(1, sizeof(*rsec)));

	if (!rsec)
		return NULL;
	rsec->name = ".rela";
	rsec->sh.sh_type = SHT_RELA;
	rsec->sh.sh_entsize = sizeof(Elf64_Rela);
	rsec->base = sec;
	rsec->include = true;
	sec->rela = rsec;
	return rsec;
}

/*
 * Rewrites the placeholders of sec (sites[0..n), all of sec) in a copy
 * of its bytes, and adds their relocations.
 */
static int rewrite_section(struct diff_ctx *ctx, struct section *sec,
			   const struct rc_site *sites, size_t n)
{
	struct section *rsec = sec->rela;
	unsigned char *data;
	struct rela *relas;
	bool own = !rsec;
	size_t i, nr;

	data = rc_keep(ctx, malloc(sec->size));
	if (!data || (!rsec && !(rsec = new_rela_section(ctx, sec))))
		return -1;
	memcpy(data, sec->data, sec->size);
	nr = rsec->nr_relas;
	relas = malloc((nr + n) * sizeof(*relas));
	if (!relas) {
		ERROR("out of memory");
		return -1;
	}
	if (nr)
		memcpy(relas, rsec->relas, nr * sizeof(*relas));
	for (i = 0; i < n; i++) {
		unsigned char *p = data + sites[i].insn;
		unsigned int reg = sites[i].reg;

		/* mov disp32(%rip),%reg: REX.W(.R) 8B /r, mod 00 rm 101 */
		p[0] = 0x48 | (reg & 8 ? 0x04 : 0);
		p[1] = 0x8b;
		p[2] = (reg & 7) << 3 | 0x05;
		memset(p + 3, 0, 4);
		/* nopl (%rax) */
		p[7] = 0x0f;
		p[8] = 0x1f;
		p[9] = 0x00;
		relas[nr + i] = (struct rela){
			.offset = sites[i].insn + 3,
			.type = R_X86_64_PC32,
			.addend = -4,
			.sym = sites[i].sym,
			.in = sec,
		};
	}
	qsort(relas, nr + n, sizeof(*relas), cmp_rela);
	if (own) {
		if (!rc_keep(ctx, relas))
			return -1;
	} else {
		free(rsec->relas);
	}
	rsec->relas = relas;
	rsec->nr_relas = nr + n;
	sec->data = data;
	return 0;
}

static int cmp_site(const void *a, const void *b)
{
	const struct rc_site *sa = a, *sb = b;

	if (sa->sec != sb->sec)
		return sa->sec->index < sb->sec->index ? -1 : 1;
	return (sa->insn > sb->insn) - (sa->insn < sb->insn);
}

int runtime_const_rewrite(struct diff_ctx *ctx)
{
	struct rc_plan plan = { 0 };
	size_t i, j;
	int ret = 0;

	for (i = 1; i < ctx->patched->nr_secs && !ret; i++)
		if (is_runtime_const_section(&ctx->patched->secs[i]))
			ret = plan_table(ctx, &ctx->patched->secs[i], &plan);
	if (!ret && plan.nr_sites)
		qsort(plan.sites, plan.nr_sites, sizeof(*plan.sites), cmp_site);
	for (i = 0; !ret && i < plan.nr_sites; i = j) {
		for (j = i + 1; j < plan.nr_sites &&
		     plan.sites[j].sec == plan.sites[i].sec; j++) {
			if (plan.sites[j].insn <
			    plan.sites[j - 1].insn + RC_MOVABS_LEN) {
				ERROR("%s: %s+0x%lx: two boot-time constants at one place",
				      ctx->display, plan.sites[j].sec->name,
				      plan.sites[j].insn);
				ret = -1;
				break;
			}
		}
		if (!ret)
			ret = rewrite_section(ctx, plan.sites[i].sec,
					      &plan.sites[i], j - i);
	}
	free(plan.sites);
	return ret;
}
