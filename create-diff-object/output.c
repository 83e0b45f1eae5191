// SPDX-License-Identifier: GPL-2.0
/*
 * output.c - writes the diff object and its manifest. The object holds
 * the included sections of the patched object, the kept entries of its
 * special sections, and a symbol table in which every reference to code
 * or data that stayed out points at the running kernel: an exported
 * symbol by its plain name (the module loader resolves it), anything
 * else as ".klp.sym.OBJ.NAME,POS", undefined and weak, so modpost lets
 * it through until the post-link step (klp-convert) makes it a
 * livepatch symbol. Each patched function also gets a global alias that
 * the generated module code uses as klp_func.new_func.
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

struct buf {
	char *data;
	size_t len, cap;
};

struct out_rela {
	unsigned long offset;
	unsigned int type;
	long addend;
	size_t sym;		/* out symbol id */
};

struct out_sec {
	const char *name;
	GElf_Shdr sh;
	void *data;
	size_t size;
	struct section *src;
	unsigned long *new_offset;	/* special sections: per group */
	struct out_rela *relas;
	size_t nr_relas;
	size_t secsym;		/* out symbol id of its section symbol */
};

struct out_sym {
	const char *name;
	unsigned char bind, type;
	size_t sec;		/* out section number, 0 = undefined */
	unsigned long value, size;
	size_t index;		/* final index in .symtab */
	bool klp;
};

struct writer {
	struct diff_ctx *ctx;
	struct out_sec *secs;	/* [0] unused */
	size_t nr_secs;
	size_t *sec_map;	/* patched section index -> out section */
	struct out_sym *syms;
	size_t nr_syms, cap_syms;
	size_t *sym_map;	/* patched symbol index -> out symbol id + 1 */
	struct strmap ext;	/* external name -> out symbol id + 1 */
	char **names;		/* allocated names, freed at the end */
	size_t nr_names;
	FILE *manifest;
	bool warned_no_symbols;
};

static int buf_add(struct buf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		char *d;

		while (cap < b->len + len)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			ERROR("out of memory");
			return -1;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return 0;
}

static long buf_add_str(struct buf *b, const char *s)
{
	size_t off = b->len;

	if (buf_add(b, s, strlen(s) + 1))
		return -1;
	return off;
}

static char *keep_name(struct writer *w, char *name)
{
	char **n;

	if (!name) {
		ERROR("out of memory");
		return NULL;
	}
	n = realloc(w->names, (w->nr_names + 1) * sizeof(*n));
	if (!n) {
		free(name);
		ERROR("out of memory");
		return NULL;
	}
	w->names = n;
	w->names[w->nr_names++] = name;
	return name;
}

static long add_sym(struct writer *w, const char *name, unsigned char bind,
		    unsigned char type, size_t sec, unsigned long value,
		    unsigned long size)
{
	struct out_sym *s;

	if (w->nr_syms == w->cap_syms) {
		size_t cap = w->cap_syms ? w->cap_syms * 2 : 256;

		s = realloc(w->syms, cap * sizeof(*s));
		if (!s) {
			ERROR("out of memory");
			return -1;
		}
		w->syms = s;
		w->cap_syms = cap;
	}
	s = &w->syms[w->nr_syms];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->bind = bind;
	s->type = type;
	s->sec = sec;
	s->value = value;
	s->size = size;
	return w->nr_syms++;
}

static int add_section(struct writer *w, struct section *src)
{
	struct out_sec *os = &w->secs[++w->nr_secs];
	struct diff_ctx *ctx = w->ctx;
	size_t es = ctx->special_entsize[src->index], g, kept = 0;
	long id;

	os->name = src->name;
	os->sh = src->sh;
	os->src = src;
	os->data = src->data;
	os->size = src->size;
	/* Link order and groups refer to sections that may stay out. */
	os->sh.sh_flags &= ~(SHF_LINK_ORDER | SHF_GROUP);
	os->sh.sh_link = 0;
	os->sh.sh_info = 0;
	if (es) {
		unsigned char *data;

		os->new_offset = calloc(src->size / es, sizeof(long));
		data = malloc(src->size);
		if (!os->new_offset || !data) {
			free(data);
			ERROR("out of memory");
			return -1;
		}
		for (g = 0; g < src->size / es; g++) {
			if (!ctx->special_keep[src->index][g])
				continue;
			os->new_offset[g] = kept * es;
			memcpy(data + kept * es, src->data + g * es, es);
			kept++;
		}
		os->data = data;
		os->size = kept * es;
		if (!keep_name(w, (char *)data))
			return -1;
	}
	w->sec_map[src->index] = w->nr_secs;
	id = add_sym(w, src->name, STB_LOCAL, STT_SECTION, w->nr_secs, 0, 0);
	if (id < 0)
		return -1;
	os->secsym = id;
	return 0;
}

static bool section_emitted(const struct diff_ctx *ctx,
			    const struct section *sec)
{
	size_t es = ctx->special_entsize[sec->index], g;

	if (is_rela_section(sec) || sec->sh.sh_type == SHT_SYMTAB ||
	    sec->sh.sh_type == SHT_STRTAB || sec->sh.sh_type == SHT_GROUP)
		return false;
	if (!strcmp(sec->name, ".note.GNU-stack"))
		return true;
	/*
	 * SHF_LINK_ORDER tables (__patchable_function_entries) would need
	 * one section per linked text section; x86 finds fentry sites
	 * through __mcount_loc, which is kept.
	 */
	if (sec->sh.sh_flags & SHF_LINK_ORDER)
		return false;
	if (es) {
		for (g = 0; g < sec->size / es; g++)
			if (ctx->special_keep[sec->index][g])
				return true;
		return false;
	}
	return sec->include && !is_special_section(sec);
}

static void sanitize(char *dst, const char *src, size_t max)
{
	size_t n = 0;

	for (; *src && n + 3 < max; src++) {
		char c = *src;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_') {
			dst[n++] = c;
		} else {
			dst[n++] = '_';
			dst[n++] = '_';
		}
	}
	dst[n] = 0;
}

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
static long lookup_sympos(struct writer *w, const struct symbol *sym,
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
static long external_sym(struct writer *w, struct symbol *sym,
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
	 * exported ones, so the patch doesn't depend on the module.
	 */
	klp = !exporter || (!vmlinux && *exporter && (sym->sec ||
					 !strcmp(exporter, ctx->objname)));
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

static int map_relas(struct writer *w, struct out_sec *os)
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
static int add_static_call_keys(struct writer *w)
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

static int add_defined_symbols(struct writer *w, bool globals)
{
	struct kbp_elf *p = w->ctx->patched;
	size_t i;
	long id;

	for (i = 1; i < p->nr_syms; i++) {
		struct symbol *sym = &p->syms[i];

		if (!sym->sec || !sym->include || sym->type == STT_SECTION ||
		    !w->sec_map[sym->sec->index] ||
		    (sym->bind == STB_LOCAL) == globals)
			continue;
		id = add_sym(w, sym->name, sym->bind, sym->type,
			     w->sec_map[sym->sec->index], sym->sym.st_value,
			     sym->sym.st_size);
		if (id < 0)
			return -1;
		w->sym_map[i] = id + 1;
	}
	return 0;
}

/*
 * Why a function is in the patch, as a "reason" line of the manifest
 * (kbuild-patch puts it in NAME.json).
 */
static void write_reason(struct writer *w, const struct symbol *sym,
			 const char *name)
{
	const char *obj = w->ctx->objname;

	if (!w->manifest)
		return;
	fprintf(w->manifest, "reason\t%s\t%s\t", obj, name);
	if (sym->status == ST_NEW)
		fprintf(w->manifest, "new function\n");
	else if (sym->untraceable && sym->status == ST_CHANGED)
		fprintf(w->manifest, "changed code, but no fentry call (untraceable): carried as new code, reached by patching its callers\n");
	else if (sym->untraceable)
		fprintf(w->manifest, "caller of untraceable function %s, itself untraceable: carried as new code\n",
			sym->caller_of ? sym->caller_of : "?");
	else if (sym->patch_caller && sym->status == ST_SAME)
		fprintf(w->manifest, "caller of untraceable function %s: patched so that it calls its new copy\n",
			sym->caller_of ? sym->caller_of : "?");
	else
		fprintf(w->manifest, "changed code\n");
}

/*
 * Global aliases of the patched functions, and the manifest. A patched
 * function is named as the running kernel names it (its twin's name:
 * foo.constprop.1 here may be foo.constprop.0 there).
 */
static int add_patched_functions(struct writer *w)
{
	struct diff_ctx *ctx = w->ctx;
	struct kbp_elf *p = ctx->patched;
	size_t i;

	for (i = 1; i < p->nr_syms; i++) {
		struct symbol *sym = &p->syms[i];
		char obj[64], fn[600], *alias;
		long pos;

		if (sym->type != STT_FUNC || !sym->include ||
		    is_cold_part(sym) ||
		    (sym->status == ST_SAME && !sym->patch_caller &&
		     !sym->untraceable))
			continue;
		if (sym->status == ST_NEW || sym->untraceable) {
			printf("%s: %s function: %s\n", ctx->display,
			       sym->untraceable ? "untraceable" : "new",
			       sym->name);
			if (w->manifest)
				fprintf(w->manifest, "new\t%s\t%s\t%s\n",
					ctx->objname, sym->name, ctx->display);
			write_reason(w, sym, sym->name);
			continue;
		}
		pos = lookup_sympos(w, sym->twin, ctx->orig, sym->sec);
		if (pos < 0)
			return pos;
		sanitize(obj, ctx->objname, sizeof(obj));
		sanitize(fn, sym->twin->name, sizeof(fn));
		if (asprintf(&alias, KBP_ALIAS_PREFIX "%s__%s__%ld", obj, fn,
			     pos) < 0)
			alias = NULL;
		if (!keep_name(w, alias))
			return -1;
		if (add_sym(w, alias, STB_GLOBAL, STT_FUNC,
			    w->sec_map[sym->sec->index], sym->sym.st_value,
			    sym->sym.st_size) < 0)
			return -1;
		printf("%s: changed function: %s\n", ctx->display,
		       sym->twin->name);
		if (w->manifest)
			fprintf(w->manifest, "func\t%s\t%s\t%ld\t%s\t%s\n",
				ctx->objname, sym->twin->name, pos, alias,
				ctx->display);
		write_reason(w, sym, sym->twin->name);
	}
	return 0;
}

/* The aliases and manifest lines of kbp-macros.c (callbacks, states). */
static int add_macro_aliases(struct writer *w)
{
	struct diff_ctx *ctx = w->ctx;
	size_t i;

	for (i = 0; i < ctx->nr_aliases; i++) {
		const struct symbol *sym = ctx->aliases[i].sym;

		if (!sym->include || !w->sec_map[sym->sec->index]) {
			ERROR("%s: %s: the callback function was not carried",
			      ctx->display, sym->name);
			return -1;
		}
		if (add_sym(w, ctx->aliases[i].name, STB_GLOBAL, STT_FUNC,
			    w->sec_map[sym->sec->index], sym->sym.st_value,
			    sym->sym.st_size) < 0)
			return -1;
	}
	for (i = 0; w->manifest && i < ctx->nr_macro_lines; i++)
		fprintf(w->manifest, "%s\n", ctx->macro_lines[i]);
	return 0;
}

static int write_manifest_extras(struct writer *w)
{
	struct diff_ctx *ctx = w->ctx;
	struct strmap_entry *it;
	const char *v, *mod;
	size_t i;

	if (!w->manifest || !ctx->symvers)
		return 0;
	/* Namespaced exports need MODULE_IMPORT_NS() in the module. */
	for (i = 0; i < w->nr_syms; i++) {
		struct out_sym *s = &w->syms[i];

		if (s->sec || s->klp || s->type == STT_SECTION)
			continue;
		it = NULL;
		mod = NULL;
		while ((v = strmap_next(&ctx->symvers->by_name, s->name, &it))) {
			if (mod)
				fprintf(w->manifest, "import_ns\t%s\n", mod);
			mod = v;
		}
	}
	return 0;
}

static int elf_fail(const char *path, const char *what)
{
	ERROR("%s: %s: %s", path, what, elf_errmsg(-1));
	return -1;
}

static int new_section(Elf *elf, const char *path, size_t name, GElf_Shdr *sh,
		       void *data, size_t size, Elf_Type type)
{
	Elf_Scn *scn = elf_newscn(elf);
	Elf_Data *d;

	if (!scn)
		return elf_fail(path, "elf_newscn");
	d = elf_newdata(scn);
	if (!d)
		return elf_fail(path, "elf_newdata");
	d->d_buf = data;
	d->d_size = size;
	d->d_type = type;
	d->d_align = sh->sh_addralign ? sh->sh_addralign : 1;
	sh->sh_name = name;
	sh->sh_size = size;
	if (!gelf_update_shdr(scn, sh))
		return elf_fail(path, "gelf_update_shdr");
	return 0;
}

static int write_elf(struct writer *w, const char *path)
{
	struct kbp_elf *p = w->ctx->patched;
	struct buf shstr = { 0 }, str = { 0 };
	Elf64_Rela **relbufs = NULL;
	Elf64_Sym *symtab = NULL;
	size_t i, j, nr_rela = 0, symtab_idx, first_global = 0, idx;
	GElf_Ehdr eh;
	Elf *elf = NULL;
	int fd, ret = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		ERROR("%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	elf = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!elf || !gelf_newehdr(elf, ELFCLASS64) || !gelf_getehdr(elf, &eh)) {
		elf_fail(path, "elf_begin");
		goto out;
	}
	eh.e_ident[EI_DATA] = p->ehdr.e_ident[EI_DATA];
	eh.e_ident[EI_OSABI] = p->ehdr.e_ident[EI_OSABI];
	eh.e_type = ET_REL;
	eh.e_machine = p->ehdr.e_machine;
	eh.e_version = EV_CURRENT;
	eh.e_flags = p->ehdr.e_flags;

	/* Final symbol order: null, locals, then globals. */
	idx = 1;
	for (i = 0; i < w->nr_syms; i++)
		if (w->syms[i].bind == STB_LOCAL)
			w->syms[i].index = idx++;
	first_global = idx;
	for (i = 0; i < w->nr_syms; i++)
		if (w->syms[i].bind != STB_LOCAL)
			w->syms[i].index = idx++;

	for (i = 1; i <= w->nr_secs; i++)
		if (w->secs[i].nr_relas)
			nr_rela++;
	symtab_idx = 1 + w->nr_secs + nr_rela;

	if (buf_add(&shstr, "", 1) || buf_add(&str, "", 1))
		goto out;
	for (i = 1; i <= w->nr_secs; i++) {
		struct out_sec *os = &w->secs[i];
		long name = buf_add_str(&shstr, os->name);

		if (name < 0 || new_section(elf, path, name, &os->sh, os->data,
					    os->size, ELF_T_BYTE))
			goto out;
	}
	relbufs = calloc(w->nr_secs + 1, sizeof(*relbufs));
	if (!relbufs)
		goto oom;
	for (i = 1; i <= w->nr_secs; i++) {
		struct out_sec *os = &w->secs[i];
		GElf_Shdr sh = { 0 };
		char *rname;
		long name;

		if (!os->nr_relas)
			continue;
		relbufs[i] = calloc(os->nr_relas, sizeof(Elf64_Rela));
		if (!relbufs[i])
			goto oom;
		for (j = 0; j < os->nr_relas; j++) {
			struct out_rela *r = &os->relas[j];

			relbufs[i][j].r_offset = r->offset;
			relbufs[i][j].r_info =
				ELF64_R_INFO(w->syms[r->sym].index, r->type);
			relbufs[i][j].r_addend = r->addend;
		}
		if (asprintf(&rname, ".rela%s", os->name) < 0)
			goto oom;
		name = buf_add_str(&shstr, rname);
		free(rname);
		sh.sh_type = SHT_RELA;
		sh.sh_flags = SHF_INFO_LINK;
		sh.sh_link = symtab_idx;
		sh.sh_info = i;
		sh.sh_addralign = 8;
		sh.sh_entsize = sizeof(Elf64_Rela);
		if (name < 0 || new_section(elf, path, name, &sh, relbufs[i],
					    os->nr_relas * sizeof(Elf64_Rela),
					    ELF_T_RELA))
			goto out;
	}

	symtab = calloc(w->nr_syms + 1, sizeof(*symtab));
	if (!symtab)
		goto oom;
	for (i = 0; i < w->nr_syms; i++) {
		struct out_sym *s = &w->syms[i];
		Elf64_Sym *es = &symtab[s->index];
		long name = s->type == STT_SECTION ? 0 :
			    buf_add_str(&str, s->name);

		if (name < 0)
			goto out;
		es->st_name = name;
		es->st_info = ELF64_ST_INFO(s->bind, s->type);
		es->st_shndx = s->sec;
		es->st_value = s->value;
		es->st_size = s->size;
	}
	{
		GElf_Shdr sh = { 0 };
		long name = buf_add_str(&shstr, ".symtab");

		sh.sh_type = SHT_SYMTAB;
		sh.sh_link = symtab_idx + 1;
		sh.sh_info = first_global;
		sh.sh_addralign = 8;
		sh.sh_entsize = sizeof(Elf64_Sym);
		if (name < 0 || new_section(elf, path, name, &sh, symtab,
					    (w->nr_syms + 1) * sizeof(*symtab),
					    ELF_T_SYM))
			goto out;
	}
	{
		GElf_Shdr sh = { 0 };
		long name = buf_add_str(&shstr, ".strtab");
		long shname = buf_add_str(&shstr, ".shstrtab");

		sh.sh_type = SHT_STRTAB;
		sh.sh_addralign = 1;
		if (name < 0 || shname < 0 ||
		    new_section(elf, path, name, &sh, str.data, str.len,
				ELF_T_BYTE))
			goto out;
		memset(&sh, 0, sizeof(sh));
		sh.sh_type = SHT_STRTAB;
		sh.sh_addralign = 1;
		if (new_section(elf, path, shname, &sh, shstr.data, shstr.len,
				ELF_T_BYTE))
			goto out;
		eh.e_shstrndx = symtab_idx + 2;
	}
	if (!gelf_update_ehdr(elf, &eh)) {
		elf_fail(path, "gelf_update_ehdr");
		goto out;
	}
	if (elf_update(elf, ELF_C_WRITE) < 0) {
		elf_fail(path, "elf_update");
		goto out;
	}
	ret = 0;
	goto out;
oom:
	ERROR("out of memory");
out:
	if (elf)
		elf_end(elf);
	if (close(fd) && !ret) {
		ERROR("%s: %s", path, strerror(errno));
		ret = -1;
	}
	if (relbufs)
		for (i = 0; i <= w->nr_secs; i++)
			free(relbufs[i]);
	free(relbufs);
	free(symtab);
	free(str.data);
	free(shstr.data);
	return ret;
}

int write_output(struct diff_ctx *ctx, const char *path, const char *manifest)
{
	struct kbp_elf *p = ctx->patched;
	struct writer w = { .ctx = ctx };
	size_t i;
	int ret = -1;

	/* The patched object's sections, and .discard.addressable. */
	w.secs = calloc(p->nr_secs + 2, sizeof(*w.secs));
	w.sec_map = calloc(p->nr_secs, sizeof(*w.sec_map));
	w.sym_map = calloc(p->nr_syms, sizeof(*w.sym_map));
	if (!w.secs || !w.sec_map || !w.sym_map ||
	    strmap_init(&w.ext, 256)) {
		ERROR("out of memory");
		goto out;
	}
	if (manifest) {
		w.manifest = fopen(manifest, "w");
		if (!w.manifest) {
			ERROR("%s: cannot create: %s", manifest,
			      strerror(errno));
			goto out;
		}
	}
	if (p->file && add_sym(&w, p->file, STB_LOCAL, STT_FILE, SHN_ABS,
			       0, 0) < 0)
		goto out;
	for (i = 1; i < p->nr_secs; i++)
		if (section_emitted(ctx, &p->secs[i]) &&
		    add_section(&w, &p->secs[i]))
			goto out;
	if (add_defined_symbols(&w, false) || add_defined_symbols(&w, true))
		goto out;
	for (i = 1; i <= w.nr_secs; i++) {
		ret = map_relas(&w, &w.secs[i]);
		if (ret)
			goto out_ret;
	}
	if (add_static_call_keys(&w))
		goto out;
	ret = add_patched_functions(&w);
	if (ret)
		goto out_ret;
	if (add_macro_aliases(&w) || write_manifest_extras(&w))
		goto out;
	ret = write_elf(&w, path);
	goto out_ret;
out:
	ret = -1;
out_ret:
	if (w.manifest && fclose(w.manifest) && !ret) {
		ERROR("%s: %s", manifest, strerror(errno));
		ret = -1;
	}
	if (w.secs)
		for (i = 1; i <= w.nr_secs; i++) {
			free(w.secs[i].relas);
			free(w.secs[i].new_offset);
		}
	for (i = 0; i < w.nr_names; i++)
		free(w.names[i]);
	free(w.names);
	free(w.secs);
	free(w.sec_map);
	free(w.sym_map);
	free(w.syms);
	strmap_free(&w.ext);
	return ret;
}
