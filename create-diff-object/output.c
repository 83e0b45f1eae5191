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
 *
 * This file carries the sections and symbols and runs the steps in
 * order (write_output); writer.h lists the files of the other steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "diff.h"
#include "klp-format.h"
#include "log.h"
#include "writer.h"

char *keep_name(struct writer *w, char *name)
{
	return owned_keep(&w->names, name);
}

long add_sym(struct writer *w, const char *name, unsigned char bind,
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

int write_output(struct diff_ctx *ctx, const char *path, const char *manifest)
{
	struct kbp_elf *p = ctx->patched;
	struct writer w = { .ctx = ctx };
	struct atomic_file obj = { 0 }, man = { 0 };
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
		if (atomic_file_open(&man, manifest))
			goto out;
		w.manifest = atomic_file_stream(&man);
		if (!w.manifest)
			goto out;
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
	if (atomic_file_open(&obj, path))
		goto out;
	ret = write_elf(&w, obj.fd, path);
	/* An internal error, even one that let the stages go on: no file. */
	if (!ret && kbp_internal_errors)
		ret = -1;
	if (!ret)
		ret = atomic_file_commit(&obj, atomic_file_new_mode(0644));
	/* Both files appear, or neither does. */
	if (!ret && manifest && atomic_file_commit(&man,
						   atomic_file_new_mode(0644))) {
		unlink(path);
		ret = -1;
	}
	goto out_ret;
out:
	ret = -1;
out_ret:
	atomic_file_discard(&obj);
	atomic_file_discard(&man);
	if (w.secs)
		for (i = 1; i <= w.nr_secs; i++) {
			free(w.secs[i].relas);
			free(w.secs[i].new_offset);
		}
	owned_free(&w.names);
	free(w.secs);
	free(w.sec_map);
	free(w.sym_map);
	free(w.syms);
	strmap_free(&w.ext);
	return ret;
}
