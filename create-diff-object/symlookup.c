// SPDX-License-Identifier: GPL-2.0
/*
 * symlookup.c - the running kernel's symbols. Loads the symbol table of
 * the original vmlinux and Module.symvers, answers whether a symbol is
 * exported, and computes sympos: the rank by address among same-named
 * symbols (for a module: in symtab order), which is how kallsyms (and so
 * klp_find_object_symbol()) counts them. A local symbol is matched to its
 * own file's block of locals by the STT_FILE name, then by the other
 * locals around it. A /proc/kallsyms dump can stand in for vmlinux.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "readfile.h"
#include "symlookup.h"

static bool kallsyms_type(const struct symbol *sym)
{
	if (!sym->sec || sym->type == STT_SECTION || sym->type == STT_FILE)
		return false;
	return sym->type == STT_FUNC || sym->type == STT_OBJECT ||
	       sym->type == STT_NOTYPE;
}

/* The STT_* type of a kallsyms type letter. */
static unsigned char kallsyms_letter_type(char c)
{
	switch (c | 0x20) {
	case 't':
		return STT_FUNC;
	case 'd':
	case 'b':
	case 'r':
		return STT_OBJECT;
	default:
		return STT_NOTYPE;
	}
}

/*
 * A /proc/kallsyms dump of the running kernel: "ADDR TYPE NAME" lines,
 * in kallsyms order; lines of loaded modules ("NAME\t[module]") are
 * skipped. It has no STT_FILE symbols, so locals are told apart by their
 * neighbours (see sympos_by_neighbours()).
 */
static int load_kallsyms(struct kbp_symbols *ks, const char *path)
{
	char *line, *save = NULL;
	size_t len, lines = 0, funcs = 0, i;

	ks->buf = kbp_read_file(path, "kallsyms", &len);
	if (!ks->buf)
		return -1;
	for (line = ks->buf; (line = strchr(line, '\n')); line++)
		lines++;
	ks->syms = calloc(lines + 1, sizeof(*ks->syms));
	ks->files = calloc(1, sizeof(*ks->files));
	if (!ks->syms || !ks->files || strmap_init(&ks->by_name, lines + 1)) {
		ERROR("out of memory");
		return -1;
	}
	ks->files[0] = "";
	ks->nr_files = 1;
	for (line = strtok_r(ks->buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *end, *type, *name;
		struct kbp_ksym *k;
		unsigned long addr;

		addr = strtoul(line, &end, 16);
		type = end + strspn(end, " ");
		name = type + 1;
		if (end == line || *end != ' ' || !*type || *name != ' ') {
			ERROR("%s: not a kallsyms line: '%.60s'", path, line);
			return -1;
		}
		name += strspn(name, " ");
		if (strchr(name, '\t') || strchr(name, '['))
			continue;	/* a loaded module's symbol */
		k = &ks->syms[ks->nr_syms++];
		k->name = name;
		k->addr = addr;
		k->type = kallsyms_letter_type(*type);
		k->global = *type >= 'A' && *type <= 'Z';
		if (k->type == STT_FUNC)
			k->ord = funcs++;
		if (strmap_add(&ks->by_name, k->name, k))
			return -1;
	}
	for (i = 0; i < ks->nr_syms && !ks->syms[i].addr; i++)
		;
	if (i == ks->nr_syms) {
		ERROR("%s: no symbol addresses; dump /proc/kallsyms as root on the target (with kernel.kptr_restrict=0), or pass its vmlinux",
		      path);
		return -1;
	}
	ks->kallsyms = true;
	ks->by_neighbours = true;
	DEBUG("%s: %zu kallsyms symbols", path, ks->nr_syms);
	return 0;
}

static bool is_elf_file(const char *path)
{
	char magic[4] = { 0 };
	FILE *f = fopen(path, "r");
	bool elf;

	if (!f)
		return true;	/* kbp_elf_open() reports the error */
	elf = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "\177ELF", 4);
	fclose(f);
	return elf;
}

static int cmp_ksym_addr(const void *a, const void *b)
{
	const struct kbp_ksym *ka = *(const struct kbp_ksym *const *)a;
	const struct kbp_ksym *kb = *(const struct kbp_ksym *const *)b;

	if (ka->addr != kb->addr)
		return ka->addr < kb->addr ? -1 : 1;
	return (ka > kb) - (ka < kb);
}

/*
 * An ELF symbol table without STT_FILE symbols: rank the functions by
 * address, as a kallsyms dump lists them, for sympos_by_neighbours().
 */
static int rank_functions(struct kbp_symbols *ks)
{
	struct kbp_ksym **funcs = calloc(ks->nr_syms + 1, sizeof(*funcs));
	size_t i, n = 0;

	if (!funcs) {
		ERROR("out of memory");
		return -1;
	}
	for (i = 0; i < ks->nr_syms; i++)
		if (ks->syms[i].type == STT_FUNC)
			funcs[n++] = &ks->syms[i];
	qsort(funcs, n, sizeof(*funcs), cmp_ksym_addr);
	for (i = 0; i < n; i++)
		funcs[i]->ord = i;
	free(funcs);
	ks->by_neighbours = true;
	DEBUG("%s: no file symbols; locals are told apart by their neighbours",
	      ks->path);
	return 0;
}

struct kbp_symbols *kbp_symbols_load(const char *path)
{
	struct kbp_symbols *ks = calloc(1, sizeof(*ks));
	size_t i, file_id = 0;

	if (!ks) {
		ERROR("out of memory");
		return NULL;
	}
	ks->path = path;
	if (!is_elf_file(path)) {
		if (load_kallsyms(ks, path))
			goto fail;
		return ks;
	}
	ks->elf = kbp_elf_open(path, false);
	if (!ks->elf)
		goto fail;
	ks->syms = calloc(ks->elf->nr_syms + 1, sizeof(*ks->syms));
	ks->files = calloc(ks->elf->nr_syms + 1, sizeof(*ks->files));
	if (!ks->syms || !ks->files ||
	    strmap_init(&ks->by_name, ks->elf->nr_syms)) {
		ERROR("out of memory");
		goto fail;
	}
	ks->files[0] = "";
	ks->nr_files = 1;
	ks->by_index = ks->elf->ehdr.e_type == ET_REL;
	for (i = 1; i < ks->elf->nr_syms; i++) {
		struct symbol *sym = &ks->elf->syms[i];
		struct kbp_ksym *k;

		if (sym->type == STT_FILE) {
			file_id = ks->nr_files++;
			ks->files[file_id] = sym->name;
			continue;
		}
		if (!kallsyms_type(sym))
			continue;
		k = &ks->syms[ks->nr_syms++];
		k->name = sym->name;
		/*
		 * A relocatable object's values are offsets into their
		 * sections: the section goes into the high bits, so that
		 * neighbours in different sections are far apart.
		 */
		k->addr = sym->sym.st_value;
		if (ks->by_index)
			k->addr |= (unsigned long)sym->sec->index << 40;
		k->type = sym->type;
		k->global = sym->bind != STB_LOCAL;
		k->file_id = k->global ? 0 : file_id;
		if (strmap_add(&ks->by_name, k->name, k))
			goto fail;
	}
	if (ks->nr_files == 1 && rank_functions(ks))
		goto fail;
	DEBUG("%s: %zu symbols in %zu files", path, ks->nr_syms,
	      ks->nr_files - 1);
	return ks;
fail:
	kbp_symbols_free(ks);
	return NULL;
}

void kbp_symbols_free(struct kbp_symbols *ks)
{
	if (!ks)
		return;
	strmap_free(&ks->by_name);
	free(ks->syms);
	free(ks->files);
	free(ks->buf);
	kbp_elf_close(ks->elf);
	free(ks);
}

struct kbp_symvers *kbp_symvers_load(const char *path)
{
	struct kbp_symvers *sv = calloc(1, sizeof(*sv));
	char *line, *save = NULL;
	size_t len;

	if (!sv) {
		ERROR("out of memory");
		return NULL;
	}
	sv->buf = kbp_read_file(path, "Module.symvers", &len);
	if (!sv->buf)
		goto fail;
	if (strmap_init(&sv->by_name, len / 40 + 1) ||
	    strmap_init(&sv->crcs, len / 40 + 1))
		goto fail;
	for (line = strtok_r(sv->buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* crc \t name \t module \t export-type [\t namespace] */
		char *name = strchr(line, '\t'), *mod, *end;

		if (!name)
			continue;
		*name++ = 0;
		mod = strchr(name, '\t');
		if (!mod)
			continue;
		*mod++ = 0;
		end = strchr(mod, '\t');
		if (end)
			*end++ = 0;
		if (strmap_add(&sv->by_name, name, mod) ||
		    strmap_add(&sv->crcs, name, line))
			goto fail;
		/* Keep the namespace right after the module name. */
		if (end) {
			char *ns = strchr(end, '\t');

			if (ns && ns[1]) {
				ns++;
				ns[strcspn(ns, "\t\r")] = 0;
				if (strmap_add(&sv->by_name, name, ns))
					goto fail;
			}
		}
	}
	/* The usual unwind to the type's own free, as for kbp_symbols. */
	return sv;
fail:
	kbp_symvers_free(sv);
	return NULL;
}

void kbp_symvers_free(struct kbp_symvers *sv)
{
	if (!sv)
		return;
	strmap_free(&sv->by_name);
	strmap_free(&sv->crcs);
	free(sv->buf);
	free(sv);
}

bool kbp_is_module(const char *exporter, const char *modname)
{
	const char *base = strrchr(exporter, '/');

	for (base = base ? base + 1 : exporter; *base && *modname;
	     base++, modname++)
		if (*base != *modname && !(*base == '-' && *modname == '_'))
			return false;
	return !*base && !*modname;
}

const char *kbp_exported_by(const struct kbp_symvers *sv,
			    const struct kbp_symbols *ks, const char *name)
{
	struct strmap_entry *it = NULL;
	const char *mod = NULL, *v;
	char buf[600];

	if (sv) {
		/* The module name was added first, so it comes last. */
		while ((v = strmap_next(&sv->by_name, name, &it)))
			mod = v;
		if (mod)
			return mod;
	}
	if (ks && snprintf(buf, sizeof(buf), "__ksymtab_%s", name) <
		  (int)sizeof(buf) && strmap_get(&ks->by_name, buf))
		return "vmlinux";
	return NULL;
}

static const char *basename_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path;
}

/* How many of obj's named locals live in vmlinux file block file_id. */
static size_t block_score(const struct kbp_symbols *ks,
			  const struct kbp_elf *obj, size_t file_id)
{
	size_t i, score = 0;

	for (i = 1; i < obj->nr_syms; i++) {
		const struct symbol *s = &obj->syms[i];
		struct strmap_entry *it = NULL;
		struct kbp_ksym *k;

		if (s->bind != STB_LOCAL || !kallsyms_type(s))
			continue;
		while ((k = strmap_next(&ks->by_name, s->name, &it))) {
			if (k->file_id == file_id) {
				score++;
				break;
			}
		}
	}
	return score;
}

static long rank_of(const struct kbp_symbols *ks, const struct kbp_ksym *t)
{
	struct strmap_entry *it = NULL;
	struct kbp_ksym *k;
	long rank = 1;

	while ((k = strmap_next(&ks->by_name, t->name, &it))) {
		if (ks->by_index ? k < t :
		    k->addr < t->addr || (k->addr == t->addr && k < t))
			rank++;
	}
	return rank;
}

/* The kallsyms entry of name if it is the only one, else NULL. */
static struct kbp_ksym *unique_ksym(const struct kbp_symbols *ks,
				    const char *name)
{
	struct strmap_entry *it = NULL;
	struct kbp_ksym *k, *only = NULL;

	while ((k = strmap_next(&ks->by_name, name, &it))) {
		if (only)
			return NULL;
		only = k;
	}
	return only;
}

/* A function that the linker places in the object's main .text. */
static bool in_main_text(const struct symbol *s)
{
	return s->type == STT_FUNC && s->sec && is_text_section(s->sec) &&
	       strncmp(s->sec->name, ".init.", 6) &&
	       strncmp(s->sec->name, ".exit.", 6) &&
	       strncmp(s->sec->name, ".text.unlikely.", 15) &&
	       strncmp(s->sec->name, ".text.hot.", 10) && !strstr(s->name, ".cold");
}

/*
 * For each section index of obj: how many of obj's main-text functions
 * lie in sections before it, i.e. a function's rank in emission order.
 */
static long *text_ordinals(const struct kbp_elf *obj)
{
	long *ord = calloc(obj->nr_secs + 1, sizeof(*ord));
	size_t i;

	if (!ord) {
		ERROR("out of memory");
		return NULL;
	}
	for (i = 1; i < obj->nr_syms; i++)
		if (in_main_text(&obj->syms[i]))
			ord[obj->syms[i].sec->index + 1]++;
	for (i = 1; i <= obj->nr_secs; i++)
		ord[i] += ord[i - 1];
	return ord;
}

/*
 * Without file symbols (a kallsyms dump), a function's copy is found by
 * its neighbours. The linker lays out an object's functions in the order
 * gcc emitted them, which is the order of the object's .text.* sections:
 * so each function of the object that the kernel has only once predicts
 * where sym's copy sits among the functions in kallsyms. Returns how far
 * candidate k is from the closest prediction.
 */
static unsigned long order_error(const struct kbp_symbols *ks,
				 const struct kbp_elf *obj, const long *ord,
				 const struct symbol *sym,
				 const struct kbp_ksym *k)
{
	unsigned long best = (unsigned long)-1, err;
	size_t i;

	for (i = 1; i < obj->nr_syms; i++) {
		const struct symbol *a = &obj->syms[i];
		const struct kbp_ksym *ak;
		long dj, di;

		if (a == sym || !in_main_text(a) || a->sec == sym->sec)
			continue;
		ak = unique_ksym(ks, a->name);
		if (!ak || ak->type != STT_FUNC)
			continue;
		dj = ord[sym->sec->index] - ord[a->sec->index];
		di = (long)k->ord - (long)ak->ord;
		err = labs(di - dj);
		if (err < best)
			best = err;
	}
	return best;
}

/* Data: the byte distance to the nearest unique object of obj. */
static unsigned long data_distance(const struct kbp_symbols *ks,
				   const struct kbp_elf *obj,
				   const struct kbp_ksym *k)
{
	unsigned long best = (unsigned long)-1, d;
	size_t i;

	for (i = 1; i < obj->nr_syms; i++) {
		const struct symbol *s = &obj->syms[i];
		const struct kbp_ksym *n;

		if (!kallsyms_type(s) || s->type != k->type ||
		    !strcmp(s->name, k->name))
			continue;
		n = unique_ksym(ks, s->name);
		if (!n)
			continue;
		d = n->addr > k->addr ? n->addr - k->addr : k->addr - n->addr;
		if (d < best)
			best = d;
	}
	return best;
}

static long sympos_by_neighbours(const struct kbp_symbols *ks,
				 const struct kbp_elf *obj,
				 const struct symbol *sym)
{
	struct strmap_entry *it = NULL;
	struct kbp_ksym *k, *best = NULL;
	unsigned long best_d = (unsigned long)-1, d;
	bool tie = false, local = false;
	long *ord = NULL;

	if (in_main_text(sym) && !(ord = text_ordinals(obj)))
		return -1;
	while ((k = strmap_next(&ks->by_name, sym->name, &it))) {
		if (k->global)
			continue;
		local = true;
		if (k->type == STT_FUNC && ord)
			d = order_error(ks, obj, ord, sym, k);
		else
			d = data_distance(ks, obj, k);
		if (d < best_d) {
			best = k;
			best_d = d;
			tie = false;
		} else if (d == best_d) {
			tie = true;
		}
	}
	free(ord);
	/* Local copies, but no neighbour places any of them: ambiguous. */
	if (!best)
		return local ? -2 : -1;
	if (tie || best_d == (unsigned long)-1)
		return -2;
	return rank_of(ks, best);
}

long kbp_sympos(const struct kbp_symbols *ks, const struct kbp_elf *obj,
		const struct symbol *sym)
{
	struct strmap_entry *it = NULL;
	struct kbp_ksym *k, *best = NULL;
	const char *file;
	size_t count = 0, best_score = 0, ties = 0;

	while ((k = strmap_next(&ks->by_name, sym->name, &it)))
		count++;
	if (count == 0)
		return -1;
	if (count == 1)
		return 0;

	if (sym->bind != STB_LOCAL) {
		it = NULL;
		while ((k = strmap_next(&ks->by_name, sym->name, &it))) {
			if (k->global)
				return rank_of(ks, k);
		}
		return -1;
	}

	if (ks->by_neighbours)
		return sympos_by_neighbours(ks, obj, sym);
	file = basename_of(sym->file ? sym->file : obj->file);
	it = NULL;
	while ((k = strmap_next(&ks->by_name, sym->name, &it))) {
		size_t score;

		if (k->global || !file ||
		    strcmp(basename_of(ks->files[k->file_id]), file))
			continue;
		score = block_score(ks, obj, k->file_id) + 1;
		if (score > best_score) {
			best = k;
			best_score = score;
			ties = 0;
		} else if (score == best_score) {
			ties++;
		}
	}
	if (!best)
		return -1;
	if (ties)
		return -2;
	return rank_of(ks, best);
}
