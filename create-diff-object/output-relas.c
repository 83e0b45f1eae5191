// SPDX-License-Identifier: GPL-2.0
/*
 * output-relas.c - the relocations of the carried sections, mapped to the output
 * symbols: into carried code and data, into the kept entries of
 * compacted special sections, or out to the kernel (output-syms.c);
 * the keys of exported static calls.
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

/*
 * Jump labels and static calls are set up when the patch module loads,
 * before a target module's klp relocations are applied: a key or call
 * defined in a module can't be reached from them.
 */
static int check_module_key(struct writer *w, const struct out_sec *os,
			    const struct symbol *sym, size_t out_id)
{
	const struct out_sym *s = &w->syms[out_id];

	if (!s->klp || !strcmp(w->ctx->objname, "vmlinux") ||
	    (strcmp(os->name, "__jump_table") &&
	     strcmp(os->name, ".static_call_sites")))
		return 0;
	ERROR("%s: %s (%s): the static key or call is defined in module %s, which the patch module can't reference at load time; use static_key_enabled() or a plain call instead",
	      w->ctx->display, sym->name, os->name, w->ctx->objname);
	return KBP_UNSUPPORTED;
}

/*
 * A reference into a kept entry of a compacted special section (a new
 * __dyndbg descriptor, from code or from its __jump_table key; kept
 * alternative code) follows the entry to its new place. Returns 1 when
 * the entry wasn't kept.
 */
static int map_special_target(struct writer *w, const struct rela *r,
			      struct out_rela *out)
{
	const struct section *sec = r->sym->sec;
	size_t es = w->ctx->special_entsize[sec->index];
	const struct out_sec *os = &w->secs[w->sec_map[sec->index]];
	long base = r->sym->type == STT_SECTION ? 0 :
		    (long)r->sym->sym.st_value;
	long target = wrap_add(base, rela_target_offset(r));
	size_t g, skip = 0;

	if (target < 0 || (size_t)target > sec->size)
		return 1;
	g = target / es;
	/*
	 * Alternative code is kept by the byte (es 1): an empty replacement
	 * refers to where the next kept byte went, or to the end.
	 */
	while (es == 1 && g < sec->size &&
	       !w->ctx->special_keep[sec->index][g]) {
		g++;
		skip++;
	}
	if (g == sec->size / es) {
		if (es != 1)
			return 1;
		out->sym = os->secsym;
		out->addend = base + r->addend - target + (long)os->size;
		return 0;
	}
	if (!w->ctx->special_keep[sec->index][g])
		return 1;
	out->sym = os->secsym;
	out->addend = base + r->addend - (long)(g * es) + (long)skip +
		      (long)os->new_offset[g];
	return 0;
}

static int map_rela(struct writer *w, const struct out_sec *os,
		    const struct rela *r, struct out_rela *out)
{
	struct symbol *sym = r->sym, *cover;
	long offset;
	size_t osec;
	int ret;

	out->type = r->type;
	out->addend = r->addend;
	if (sym->sec && w->ctx->special_entsize[sym->sec->index] &&
	    w->sec_map[sym->sec->index] &&
	    !map_special_target(w, r, out))
		return 0;
	if (sym->type == STT_SECTION && sym->sec) {
		osec = w->sec_map[sym->sec->index];
		cover = rela_cover(r, &offset);
		if (osec && (cover->type == STT_SECTION || cover->include)) {
			out->sym = w->secs[osec].secsym;
			return 0;
		}
		if (cover->type == STT_SECTION) {
			ERROR("%s: %s: reference into %s, which was left out",
			      w->ctx->display, sym->name, sym->sec->name);
			return -1;
		}
		sym = cover;
		out->addend = offset;
	}
	if (sym->sec && sym->include && w->sym_map[sym->index]) {
		out->sym = w->sym_map[sym->index] - 1;
		return 0;
	}
	offset = external_sym(w, sym, os->src);
	if (offset < 0)
		return offset;
	out->sym = offset;
	ret = ibt_check_reference(w->ctx, r, sym);
	if (ret)
		return ret;
	return check_module_key(w, os, sym, out->sym);
}

int map_relas(struct writer *w, struct out_sec *os)
{
	struct section *rsec = os->src->rela;
	size_t es = w->ctx->special_entsize[os->src->index], i;
	int ret;

	if (!rsec || !rsec->nr_relas)
		return 0;
	os->relas = calloc(rsec->nr_relas, sizeof(*os->relas));
	if (!os->relas) {
		ERROR("out of memory");
		return -1;
	}
	for (i = 0; i < rsec->nr_relas; i++) {
		const struct rela *r = &rsec->relas[i];
		struct out_rela *o = &os->relas[os->nr_relas];

		if (es) {
			size_t g = r->offset / es;

			if (!w->ctx->special_keep[os->src->index][g])
				continue;
			o->offset = os->new_offset[g] + r->offset % es;
		} else {
			o->offset = r->offset;
		}
		ret = map_rela(w, os, r, o);
		if (ret)
			return ret;
		os->nr_relas++;
	}
	return 0;
}

/*
 * Static calls: objtool makes the .static_call_sites entries when kbuild
 * links the patch module (objtool --module). It names a site's key when
 * the object has the key's symbol, and otherwise records the trampoline,
 * which the module loader then looks up among the trampolines exported
 * without their key (EXPORT_STATIC_CALL_TRAMP); for any other trampoline
 * the load fails ("Failed to fixup __raw_static_call() usage"). The
 * kernel's static_call() keeps the key in the object with __ADDRESSABLE()
 * in .discard.addressable, but that entry refers to no included code and
 * stays out of the diff object. So a call of an exported trampoline
 * (__SCT__x) whose key (__SCK__x) is exported too gets such an entry
 * here. Unexported trampolines are klp symbols (.klp.sym.*), which
 * objtool doesn't take for static calls: plain calls through them work.
 */
int add_static_call_keys(struct writer *w)
{
	static const char tramp[] = "__SCT__", key[] = "__SCK__";
	struct diff_ctx *ctx = w->ctx;
	struct out_rela *relas = NULL;
	size_t i, n = 0, nr_syms = w->nr_syms;
	struct out_sec *os;
	long id;

	for (i = 0; i < nr_syms; i++) {
		struct out_sym *s = &w->syms[i];
		const char *exporter;
		char *name;
		void *p;

		if (s->sec || s->klp || strncmp(s->name, tramp, strlen(tramp)))
			continue;
		if (asprintf(&name, "%s%s", key, s->name + strlen(tramp)) < 0)
			name = NULL;
		if (!keep_name(w, name))
			goto err;
		exporter = kbp_exported_by(ctx->symvers, ctx->target, name);
		if (!exporter || !*exporter || strmap_get(&w->ext, name))
			continue;
		id = add_sym(w, name, STB_GLOBAL, STT_NOTYPE, 0, 0, 0);
		p = realloc(relas, (n + 1) * sizeof(*relas));
		if (id < 0 || !p ||
		    strmap_add(&w->ext, name, (void *)(uintptr_t)(id + 1))) {
			ERROR("out of memory");
			goto err;
		}
		relas = p;
		relas[n] = (struct out_rela){ .offset = n * 8,
					      .type = R_X86_64_64,
					      .sym = id };
		DEBUG("%s: static call %s: key %s is exported; kept addressable",
		      ctx->display, s->name, name);
		n++;
	}
	if (!n)
		return 0;
	os = &w->secs[++w->nr_secs];
	os->name = ".discard.addressable";
	os->sh.sh_type = SHT_PROGBITS;
	os->sh.sh_flags = SHF_ALLOC | SHF_WRITE;
	os->sh.sh_addralign = 8;
	os->size = n * 8;
	os->data = keep_name(w, calloc(n, 8));
	os->relas = relas;
	os->nr_relas = n;
	if (!os->data)
		return -1;
	id = add_sym(w, os->name, STB_LOCAL, STT_SECTION, w->nr_secs, 0, 0);
	if (id < 0)
		return -1;
	os->secsym = id;
	return 0;
err:
	free(relas);
	return -1;
}
