// SPDX-License-Identifier: GPL-2.0
/*
 * klp-convert.c - the post-link step of kbuild-patch.
 *
 * create-diff-object leaves every reference that must become a livepatch
 * relocation as a relocation against an undefined, weak symbol that is
 * already named ".klp.sym.OBJNAME.SYMNAME,SYMPOS" (weak, so that modpost
 * ignores it). After kbuild has linked livepatch-NAME.ko (ld -r, objtool,
 * modpost) and before the module is signed, this tool rewrites the .ko into
 * the format of Documentation/livepatch/module-elf-format.rst:
 *
 *   - each .klp.sym.* symbol becomes GLOBAL with st_shndx = SHN_LIVEPATCH;
 *   - each relocation against such a symbol moves from .rela<X> into
 *     .klp.rela.OBJNAME.<X> (SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH).
 *   - create-diff-object's __kbp_new_* aliases, which only link the
 *     klp_func table, lose their names (they'd shadow the function's own
 *     name in kallsyms).
 *
 * It owns only that conversion. Symbol and section indices never change
 * (the kernel keeps the module's symbol table as is and the klp relocations
 * refer to it by index), new sections are appended, and every other
 * section keeps its contents byte for byte.
 *
 * Exit: 0 converted, 1 bad input or environment, 4 internal error (the
 * conversion's own result fails its check: a bug to report).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* asprintf() */
#endif
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "klp-format.h"
#include "log.h"

/* Exit codes; 4 is KBP_EXIT_INTERNAL of diff.h, kbuild-patch's too. */
#define KC_EXIT_ERROR		1
#define KC_EXIT_INTERNAL	4


/* A .klp.rela.OBJNAME.<target> section, found in the input or to be added. */
struct klp_sec {
	const char *obj;	/* OBJNAME, not NUL-terminated */
	size_t objlen;
	size_t target;		/* sh_info: the section the relocations patch */
	size_t index;		/* section index in the output */
	char *name;		/* name of a new section, NULL if existing */
	size_t name_off;	/* its offset in the section name table */
	Elf64_Rela *old;	/* relocations already there (existing section) */
	size_t nold;
	Elf64_Rela *add;	/* relocations moved here by this run */
	size_t nadd, capadd;
	Elf64_Rela *merged;	/* old + add, for the output */
	struct klp_sec *next;	/* next klp section with the same target */
};

/* Per input section state. */
struct sec_state {
	Elf64_Rela *kept;	/* shrunk relocations, if any were moved out */
	size_t nkept;
	bool shrunk;
	struct klp_sec *klp;	/* klp sections that patch this section */
};

/* One run: the input module, and the conversion as it is built up. */
struct conversion {
	const char *file;	/* the input, as named in messages */
	int fd;
	Elf *elf;
	size_t shnum, shstrndx, symndx, strndx;
	GElf_Ehdr ehdr;
	size_t nsyms;
	Elf64_Sym *syms;	/* copy of the symbol table, converted in place */
	size_t symalign;
	unsigned char *objlen;	/* per symbol: OBJNAME length if klp, else 0 */
	struct sec_state *secs;
	struct klp_sec **klp;	/* existing klp sections first, then new ones */
	size_t nklp, capklp;
	size_t nnew;		/* new sections among klp[] */
	size_t shstr_add;	/* bytes the new section names need */
	size_t nconverted, nmoved, nunnamed;
};

static const char *secname(struct conversion *conv, size_t idx)
{
	GElf_Shdr sh;
	const char *name;

	if (idx >= conv->shnum || !gelf_getshdr(elf_getscn(conv->elf, idx), &sh))
		return "<bad section>";
	name = elf_strptr(conv->elf, conv->shstrndx, sh.sh_name);
	return name ? name : "<bad name>";
}

static const char *symname(struct conversion *conv, size_t idx)
{
	const char *name;

	if (idx >= conv->nsyms)
		return "<bad symbol>";
	name = elf_strptr(conv->elf, conv->strndx, conv->syms[idx].st_name);
	return name ? name : "<bad name>";
}

static int get_shdr(struct conversion *conv, size_t idx, GElf_Shdr *sh)
{
	Elf_Scn *scn = elf_getscn(conv->elf, idx);

	if (!scn || !gelf_getshdr(scn, sh)) {
		ERROR("%s: section %zu: %s", conv->file, idx, elf_errmsg(-1));
		return -1;
	}
	return 0;
}

/*
 * The next relocation section after *idx that is not a klp one: 1 with *idx
 * and *sh set, 0 when there are no more, -1 on error. Start with *idx 0.
 */
static int next_plain_rela(struct conversion *conv, size_t *idx, GElf_Shdr *sh)
{
	while (++*idx < conv->shnum) {
		if (get_shdr(conv, *idx, sh))
			return -1;
		if (sh->sh_type == SHT_RELA && !(sh->sh_flags & SHF_RELA_LIVEPATCH))
			return 1;
	}
	return 0;
}

/* The one translated data block of a section, checked against its header. */
static Elf_Data *get_data(struct conversion *conv, size_t idx, Elf_Type type)
{
	Elf_Scn *scn = elf_getscn(conv->elf, idx);
	Elf_Data *data;

	if (!scn) {
		ERROR("%s: section %zu: %s", conv->file, idx, elf_errmsg(-1));
		return NULL;
	}
	data = elf_getdata(scn, NULL);
	if (!data) {
		ERROR("%s: %s: cannot read: %s", conv->file, secname(conv, idx),
		    elf_errmsg(-1));
		return NULL;
	}
	if (data->d_type != type || elf_getdata(scn, data)) {
		ERROR("%s: %s: unexpected section data layout", conv->file,
		    secname(conv, idx));
		return NULL;
	}
	return data;
}

/*
 * Parse NAME the way klp_resolve_symbols() does,
 * sscanf(".klp.sym.%55[^.].%511[^,],%lu"), but require that the whole
 * name is consumed. Returns the OBJNAME length, or 0 with *why set.
 */
/*
 * The length of the non-empty field at s that delim ends, at most max;
 * else 0, with *why set to missing or too_long.
 */
static size_t klp_sym_field(const char *s, const char *delim, size_t max,
			    const char *missing, const char *too_long,
			    const char **why)
{
	size_t len = strcspn(s, delim);

	if (!len || !s[len]) {
		*why = missing;
		return 0;
	}
	if (len > max) {
		*why = too_long;
		return 0;
	}
	return len;
}

static size_t parse_klp_sym(const char *name, const char **why)
{
	const char *obj = name + strlen(KLP_SYM_PREFIX);
	const char *sym, *pos;
	size_t objlen, symlen;
	char *end;

	/* Already one parser: the two calls differ only in limits and words. */
	objlen = klp_sym_field(obj, ".", KLP_OBJNAME_MAX,
			       "no OBJNAME followed by '.'",
			       "OBJNAME is longer than 55 characters (MODULE_NAME_LEN)",
			       why);
	if (!objlen)
		return 0;
	sym = obj + objlen + 1;
	symlen = klp_sym_field(sym, ",", KLP_SYMNAME_MAX,
			       "no SYMNAME followed by ',SYMPOS'",
			       "SYMNAME is longer than 511 characters (KSYM_NAME_LEN)",
			       why);
	if (!symlen)
		return 0;
	pos = sym + symlen + 1;
	if (*pos < '0' || *pos > '9') {
		*why = "SYMPOS is not a decimal number";
		return 0;
	}
	errno = 0;
	strtoul(pos, &end, 10);
	if (errno == ERANGE) {
		*why = "SYMPOS is out of range";
		return 0;
	}
	if (*end) {
		*why = "trailing characters after SYMPOS";
		return 0;
	}
	return objlen;
}

static int check_header(struct conversion *conv)
{
	const char *ident;
	size_t n;

	if (elf_kind(conv->elf) != ELF_K_ELF) {
		ERROR("%s: not an ELF file", conv->file);
		return -1;
	}
	ident = elf_getident(conv->elf, &n);
	if (!ident || n < EI_NIDENT || !gelf_getehdr(conv->elf, &conv->ehdr)) {
		ERROR("%s: cannot read the ELF header: %s", conv->file,
		    elf_errmsg(-1));
		return -1;
	}
	if (ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB ||
	    conv->ehdr.e_machine != EM_X86_64 || conv->ehdr.e_type != ET_REL) {
		ERROR("%s: not a relocatable x86_64 ELF64 object (class %d, machine %d, type %d)",
		    conv->file, ident[EI_CLASS], conv->ehdr.e_machine,
		    conv->ehdr.e_type);
		ERROR("hint: run klp-convert on the linked livepatch module (.ko)");
		return -1;
	}
	/* As read_sections() does; klp-convert links no elf-model.c. */
	if (elf_getshdrnum(conv->elf, &conv->shnum) ||
	    elf_getshdrstrndx(conv->elf, &conv->shstrndx)) {
		ERROR("%s: cannot read the section headers: %s", conv->file,
		    elf_errmsg(-1));
		return -1;
	}
	if (!conv->shnum) {
		ERROR("%s: no section headers (a truncated or corrupt file?)",
		    conv->file);
		return -1;
	}
	return 0;
}

/*
 * The output keeps each section's alignment, so an absurd one (corrupt
 * input) would make a huge file. Nothing in a kernel object is aligned
 * to more than a huge page.
 */
static bool bad_align(uint64_t align)
{
	return (align & (align - 1)) || align > KLP_MAX_ALIGN;
}

/* Find the symbol table, refuse SHT_REL and absurd alignments. */
static int find_symtab(struct conversion *conv)
{
	GElf_Shdr sh;
	Elf_Data *data;
	size_t i;

	for (i = 1; i < conv->shnum; i++) {
		if (get_shdr(conv, i, &sh))
			return -1;
		if (sh.sh_type == SHT_REL) {
			ERROR("%s: %s: SHT_REL relocation section; x86_64 kernel modules use SHT_RELA only",
			    conv->file, secname(conv, i));
			return -1;
		}
		if (bad_align(sh.sh_addralign)) {
			ERROR("%s: %s: bad section alignment %#lx", conv->file,
			    secname(conv, i), (unsigned long)sh.sh_addralign);
			return -1;
		}
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (conv->symndx) {
			ERROR("%s: %s: more than one symbol table", conv->file,
			    secname(conv, i));
			return -1;
		}
		conv->symndx = i;
		conv->strndx = sh.sh_link;
		conv->symalign = sh.sh_addralign;
	}
	if (!conv->symndx) {
		ERROR("%s: no symbol table", conv->file);
		ERROR("hint: livepatch modules must never be stripped");
		return -1;
	}
	if (conv->strndx == 0 || conv->strndx >= conv->shnum) {
		ERROR("%s: .symtab: bad string table index %zu", conv->file,
		    conv->strndx);
		return -1;
	}
	data = get_data(conv, conv->symndx, ELF_T_SYM);
	if (!data)
		return -1;
	conv->nsyms = data->d_size / sizeof(Elf64_Sym);
	if (!conv->nsyms || !data->d_buf) {
		ERROR("%s: %s: empty symbol table", conv->file,
		    secname(conv, conv->symndx));
		return -1;
	}
	conv->syms = malloc(data->d_size ? data->d_size : 1);
	conv->objlen = calloc(conv->nsyms ? conv->nsyms : 1, 1);
	conv->secs = calloc(conv->shnum + 1, sizeof(*conv->secs));
	if (!conv->syms || !conv->objlen || !conv->secs) {
		ERROR("%s: out of memory", conv->file);
		return -1;
	}
	memcpy(conv->syms, data->d_buf, conv->nsyms * sizeof(Elf64_Sym));
	return 0;
}

/* Step 1: validate every .klp.sym.* symbol and make it SHN_LIVEPATCH. */
static int convert_symbols(struct conversion *conv)
{
	const char *name, *why;
	Elf64_Sym *s;
	size_t i, len;
	int ret = 0;

	for (i = 1; i < conv->nsyms; i++) {
		s = &conv->syms[i];
		name = elf_strptr(conv->elf, conv->strndx, s->st_name);
		if (!name) {
			ERROR("%s: symbol %zu: bad name: %s", conv->file, i,
			    elf_errmsg(-1));
			return -1;
		}
		/*
		 * The alias only links the klp_func table to the new code.
		 * Unnamed, it stays out of the module's kallsyms, so stack
		 * traces and perf name the function itself, not the alias
		 * that comes first at the same address.
		 */
		if (!strncmp(name, KBP_ALIAS_PREFIX, strlen(KBP_ALIAS_PREFIX)) &&
		    s->st_shndx != SHN_UNDEF) {
			DEBUG("%s: symbol %zu %s -> unnamed", conv->file, i, name);
			s->st_name = 0;
			conv->nunnamed++;
			continue;
		}
		if (strncmp(name, KLP_SYM_PREFIX, strlen(KLP_SYM_PREFIX))) {
			if (s->st_shndx == SHN_LIVEPATCH) {
				ERROR("%s: %s (symbol %zu): SHN_LIVEPATCH symbol not named .klp.sym.OBJNAME.SYMNAME,SYMPOS",
				    conv->file, name, i);
				ret = -1;
			}
			continue;
		}
		len = parse_klp_sym(name, &why);
		if (!len) {
			ERROR("%s: %s (symbol %zu): malformed livepatch symbol name: %s",
			    conv->file, name, i, why);
			ERROR("hint: the kernel parses \".klp.sym.%%55[^.].%%511[^,],%%lu\"");
			ret = -1;
			continue;
		}
		if (s->st_shndx != SHN_UNDEF && s->st_shndx != SHN_LIVEPATCH) {
			ERROR("%s: %s (%s): livepatch symbol is defined; it must be undefined",
			    conv->file, name, secname(conv, s->st_shndx));
			ret = -1;
			continue;
		}
		if (GELF_ST_BIND(s->st_info) == STB_LOCAL) {
			ERROR("%s: %s (symbol %zu): livepatch symbol is local; it must be weak or global",
			    conv->file, name, i);
			ERROR("hint: making a local symbol global would reorder the symbol table");
			ret = -1;
			continue;
		}
		conv->objlen[i] = len;
		if (s->st_shndx == SHN_LIVEPATCH &&
		    GELF_ST_BIND(s->st_info) == STB_GLOBAL && !s->st_value)
			continue;
		DEBUG("%s: symbol %zu %s -> GLOBAL SHN_LIVEPATCH", conv->file, i,
		    name);
		s->st_shndx = SHN_LIVEPATCH;
		s->st_info = GELF_ST_INFO(STB_GLOBAL, GELF_ST_TYPE(s->st_info));
		s->st_value = 0;
		conv->nconverted++;
	}
	return ret;
}

/*
 * Doubles the capacity *cap of the array arr of elem-sized entries (or
 * makes it first); *cap changes only if the allocation succeeds.
 */
static void *grow_array(struct conversion *conv, void *arr, size_t *cap,
			size_t elem, size_t first)
{
	size_t ncap = *cap ? 2 * *cap : first;
	void *n = realloc(arr, ncap * elem);

	if (!n) {
		ERROR("%s: out of memory", conv->file);
		return NULL;
	}
	*cap = ncap;
	return n;
}

static int add_klp(struct conversion *conv, struct klp_sec *ks)
{
	struct klp_sec **n;

	if (conv->nklp == conv->capklp) {
		n = grow_array(conv, conv->klp, &conv->capklp, sizeof(*n), 16);
		if (!n)
			return -1;
		conv->klp = n;
	}
	conv->klp[conv->nklp++] = ks;
	ks->next = conv->secs[ks->target].klp;
	conv->secs[ks->target].klp = ks;
	return 0;
}

/* Register a .klp.rela.* section that is already in the input. */
static int add_existing(struct conversion *conv, size_t idx, GElf_Shdr *sh)
{
	const char *name = secname(conv, idx);
	const char *obj = name + strlen(KLP_RELA_PREFIX);
	struct klp_sec *ks;
	Elf_Data *data;
	GElf_Shdr tsh;
	size_t len;

	len = strncmp(name, KLP_RELA_PREFIX, strlen(KLP_RELA_PREFIX)) ? 0 :
		strcspn(obj, ".");
	if (!len || len > KLP_OBJNAME_MAX || obj[len] != '.') {
		ERROR("%s: %s: SHF_RELA_LIVEPATCH section not named .klp.rela.OBJNAME.SECTION",
		    conv->file, name);
		return -1;
	}
	if (sh->sh_type != SHT_RELA || sh->sh_link != conv->symndx ||
	    !sh->sh_info || sh->sh_info >= conv->shnum ||
	    !(sh->sh_flags & SHF_ALLOC)) {
		ERROR("%s: %s: livepatch relocation section has a bad type, flags, link or info",
		    conv->file, name);
		return -1;
	}
	if (get_shdr(conv, sh->sh_info, &tsh))
		return -1;
	if (!(tsh.sh_flags & SHF_ALLOC)) {
		ERROR("%s: %s: livepatch relocation section for non-allocated section %s",
		    conv->file, name, secname(conv, sh->sh_info));
		return -1;
	}
	data = get_data(conv, idx, ELF_T_RELA);
	ks = calloc(1, sizeof(*ks));
	if (!data || !ks) {
		free(ks);
		if (data)
			ERROR("%s: out of memory", conv->file);
		return -1;
	}
	ks->obj = obj;
	ks->objlen = len;
	ks->target = sh->sh_info;
	ks->index = idx;
	ks->old = data->d_buf;
	ks->nold = data->d_size / sizeof(Elf64_Rela);
	if (add_klp(conv, ks)) {
		free(ks);
		return -1;
	}
	return 0;
}

/* The klp section for (OBJNAME of symbol SYM, TARGET), created on demand. */
static struct klp_sec *klp_sec_for(struct conversion *conv, size_t sym, size_t target)
{
	const char *obj = symname(conv, sym) + strlen(KLP_SYM_PREFIX);
	size_t objlen = conv->objlen[sym];
	const char *tname = secname(conv, target);
	struct klp_sec *ks;

	for (ks = conv->secs[target].klp; ks; ks = ks->next)
		if (ks->objlen == objlen && !memcmp(ks->obj, obj, objlen))
			return ks;

	ks = calloc(1, sizeof(*ks));
	if (!ks || asprintf(&ks->name, "%s%.*s.%s", KLP_RELA_PREFIX,
			    (int)objlen, obj, tname) < 0) {
		free(ks);
		ERROR("%s: out of memory", conv->file);
		return NULL;
	}
	ks->obj = obj;
	ks->objlen = objlen;
	ks->target = target;
	ks->index = conv->shnum + conv->nnew;
	if (add_klp(conv, ks)) {
		free(ks->name);
		free(ks);
		return NULL;
	}
	conv->nnew++;
	conv->shstr_add += strlen(ks->name) + 1;
	DEBUG("%s: new section [%zu] %s", conv->file, ks->index, ks->name);
	return ks;
}

static int push_rela(struct conversion *conv, struct klp_sec *ks, const Elf64_Rela *r)
{
	Elf64_Rela *n;

	if (ks->nadd == ks->capadd) {
		n = grow_array(conv, ks->add, &ks->capadd, sizeof(*n), 8);
		if (!n)
			return -1;
		ks->add = n;
	}
	ks->add[ks->nadd++] = *r;
	return 0;
}

/* Step 2 for one .rela<X> section: move its klp relocations out. */
static int split_rela(struct conversion *conv, size_t idx, GElf_Shdr *sh)
{
	struct sec_state *ss = &conv->secs[idx];
	const char *rname = secname(conv, idx);
	GElf_Shdr tsh;
	Elf_Data *data;
	Elf64_Rela *r;
	struct klp_sec *ks;
	size_t i, n, sym, klp_sym = 0;
	int ret = 0;

	data = get_data(conv, idx, ELF_T_RELA);
	if (!data)
		return -1;
	r = data->d_buf;
	n = data->d_size / sizeof(Elf64_Rela);
	for (i = 0; i < n; i++) {
		sym = ELF64_R_SYM(r[i].r_info);
		if (sym >= conv->nsyms) {
			ERROR("%s: %s: relocation %zu refers to symbol %zu, beyond the symbol table",
			    conv->file, rname, i, sym);
			return -1;
		}
		if (conv->objlen[sym])
			klp_sym = sym;
	}
	if (!klp_sym)
		return 0;

	if (sh->sh_link != conv->symndx || !sh->sh_info ||
	    sh->sh_info >= conv->shnum) {
		ERROR("%s: %s (%s): relocation section has a bad link or info",
		    conv->file, symname(conv, klp_sym), rname);
		return -1;
	}
	if (get_shdr(conv, sh->sh_info, &tsh))
		return -1;
	ss->kept = malloc(data->d_size);
	if (!ss->kept) {
		ERROR("%s: out of memory", conv->file);
		return -1;
	}
	ss->shrunk = true;
	for (i = 0; i < n; i++) {
		sym = ELF64_R_SYM(r[i].r_info);
		if (!conv->objlen[sym]) {
			ss->kept[ss->nkept++] = r[i];
			continue;
		}
		if (!(tsh.sh_flags & SHF_ALLOC)) {
			ERROR("%s: %s (%s+0x%lx): livepatch symbol referenced from a non-allocated section",
			    conv->file, symname(conv, sym), secname(conv, sh->sh_info),
			    (unsigned long)r[i].r_offset);
			ERROR("hint: the kernel applies klp relocations to SHF_ALLOC sections only");
			ret = -1;
			continue;
		}
		ks = klp_sec_for(conv, sym, sh->sh_info);
		if (!ks || push_rela(conv, ks, &r[i]))
			return -1;
		DEBUG("%s: %s+0x%lx %s %+ld type %lu -> %s", conv->file,
		    secname(conv, sh->sh_info), (unsigned long)r[i].r_offset,
		    symname(conv, sym), (long)r[i].r_addend,
		    (unsigned long)ELF64_R_TYPE(r[i].r_info),
		    ks->name ? ks->name : secname(conv, ks->index));
		conv->nmoved++;
	}
	return ret;
}

/* Step 2: every relocation against a klp symbol goes to a klp section. */
static int split_relocations(struct conversion *conv)
{
	GElf_Shdr sh;
	size_t i;
	int ret = 0, more;

	for (i = 1; i < conv->shnum; i++) {
		if (get_shdr(conv, i, &sh))
			return -1;
		if (sh.sh_type == SHT_RELA && (sh.sh_flags & SHF_RELA_LIVEPATCH) &&
		    add_existing(conv, i, &sh))
			return -1;
	}
	i = 0;
	while ((more = next_plain_rela(conv, &i, &sh)) > 0) {
		if (split_rela(conv, i, &sh))
			ret = -1;
	}
	if (more < 0)
		return -1;
	if (!ret && conv->shnum + conv->nnew >= SHN_LORESERVE) {
		ERROR("%s: %zu sections: too many for a kernel module", conv->file,
		    conv->shnum + conv->nnew);
		return -1;
	}
	return ret;
}

/*
 * The klp relocations of ks: those already in the input (ours false), whose
 * faults are the input's, or those this run moved there (ours true), which
 * can only be wrong if the conversion is.
 */
static int check_klp_rela(struct conversion *conv, struct klp_sec *ks,
			  const Elf64_Rela *r, size_t n, bool ours)
{
	const char *name = ks->name ? ks->name : secname(conv, ks->index);
	bool sec_vmlinux = ks->objlen == 7 && !memcmp(ks->obj, "vmlinux", 7);
	const Elf64_Sym *s;
	size_t i, sym;

	for (i = 0; i < n; i++) {
		sym = ELF64_R_SYM(r[i].r_info);
		if (sym >= conv->nsyms) {
			ERROR("%s: %s: relocation %zu refers to symbol %zu, beyond the symbol table",
			    conv->file, name, i, sym);
			return -1;
		}
		s = &conv->syms[sym];
		if ((s->st_shndx != SHN_LIVEPATCH || !conv->objlen[sym]) &&
		    ours) {
			INTERNAL("%s: %s (%s): a relocation moved into the klp section is against a symbol that is not SHN_LIVEPATCH",
				 conv->file, symname(conv, sym), name);
			return -1;
		}
		if (s->st_shndx != SHN_LIVEPATCH || !conv->objlen[sym]) {
			ERROR("%s: %s (%s): klp relocation against a symbol that is not SHN_LIVEPATCH",
			    conv->file, symname(conv, sym), name);
			return -1;
		}
		if (!sec_vmlinux &&
		    !strncmp(symname(conv, sym), KLP_SYM_PREFIX "vmlinux.",
			     strlen(KLP_SYM_PREFIX "vmlinux."))) {
			if (ours) {
				INTERNAL("%s: %s (%s): a relocation against a vmlinux symbol was moved into a module's klp relocation section",
					 conv->file, symname(conv, sym), name);
				return -1;
			}
			ERROR("%s: %s (%s): vmlinux symbol referenced from a module's klp relocation section",
			    conv->file, symname(conv, sym), name);
			ERROR("hint: the kernel refuses this; use .klp.rela.vmlinux.*");
			return -1;
		}
	}
	return 0;
}

/* The relocations a normal SHT_RELA section will have in the output. */
static int final_relas(struct conversion *conv, size_t idx, const Elf64_Rela **r,
		       size_t *n)
{
	Elf_Data *data;

	if (conv->secs[idx].shrunk) {
		*r = conv->secs[idx].kept;
		*n = conv->secs[idx].nkept;
		return 0;
	}
	data = get_data(conv, idx, ELF_T_RELA);
	if (!data)
		return -1;
	*r = data->d_buf;
	*n = data->d_size / sizeof(Elf64_Rela);
	return 0;
}

/*
 * Step 4: the result must satisfy what the kernel checks at load time.
 * Steps 1 and 2 guarantee all of it but the input's own klp sections:
 * anything else that fails here is an internal error.
 */
static int verify(struct conversion *conv)
{
	const Elf64_Rela *r;
	const Elf64_Sym *s;
	struct klp_sec *ks;
	GElf_Shdr sh;
	size_t i, j, n, sym;
	int more;

	for (i = 1; i < conv->nsyms; i++) {
		s = &conv->syms[i];
		if (conv->objlen[i] && (s->st_shndx != SHN_LIVEPATCH ||
				      GELF_ST_BIND(s->st_info) == STB_WEAK)) {
			INTERNAL("%s: %s (symbol %zu): still an undefined weak symbol after conversion",
				 conv->file, symname(conv, i), i);
			return -1;
		}
	}
	for (i = 0; i < conv->nklp; i++) {
		ks = conv->klp[i];
		if (check_klp_rela(conv, ks, ks->old, ks->nold, false) ||
		    check_klp_rela(conv, ks, ks->add, ks->nadd, true))
			return -1;
	}
	i = 0;
	while ((more = next_plain_rela(conv, &i, &sh)) > 0) {
		if (final_relas(conv, i, &r, &n))
			return -1;
		for (j = 0; j < n; j++) {
			sym = ELF64_R_SYM(r[j].r_info);
			if (sym < conv->nsyms && conv->objlen[sym]) {
				INTERNAL("%s: %s (%s): livepatch symbol left in a normal relocation section",
					 conv->file, symname(conv, sym), secname(conv, i));
				return -1;
			}
		}
	}
	if (more < 0)
		return -1;
	return 0;
}

/* Counts for the summary line: the state of the output, not this run. */
static void totals(struct conversion *conv, size_t *nsyms, size_t *nrela)
{
	size_t i;

	*nsyms = 0;
	*nrela = 0;
	for (i = 1; i < conv->nsyms; i++)
		*nsyms += conv->objlen[i] != 0;
	for (i = 0; i < conv->nklp; i++)
		*nrela += conv->klp[i]->nold + conv->klp[i]->nadd;
}

static Elf_Data *new_data(const char *file, Elf_Scn *scn, void *buf,
			  size_t size, Elf_Type type, size_t align)
{
	Elf_Data *d = elf_newdata(scn);

	if (!d) {
		ERROR("%s: elf_newdata: %s", file, elf_errmsg(-1));
		return NULL;
	}
	d->d_buf = buf;
	d->d_size = size;
	d->d_type = type;
	d->d_align = align ? align : 1;
	d->d_off = 0;
	d->d_version = EV_CURRENT;
	return d;
}

/* Copy input section IDX to OUT, with its converted data if it changed. */
static int copy_section(struct conversion *conv, Elf *out, size_t idx, char *shstr,
			size_t shstr_size, struct klp_sec *ks)
{
	Elf_Scn *iscn = elf_getscn(conv->elf, idx), *oscn = elf_newscn(out);
	struct sec_state *ss = &conv->secs[idx];
	Elf_Data *d, *raw;
	GElf_Shdr sh;
	size_t n;

	if (!iscn || !oscn || elf_ndxscn(oscn) != idx ||
	    !gelf_getshdr(iscn, &sh) || !gelf_update_shdr(oscn, &sh)) {
		ERROR("%s: copying section %zu: %s", conv->file, idx,
		    elf_errmsg(-1));
		return -1;
	}
	if (idx == conv->symndx) {
		d = new_data(conv->file, oscn, conv->syms,
			     conv->nsyms * sizeof(Elf64_Sym), ELF_T_SYM,
			     conv->symalign);
	} else if (idx == conv->shstrndx) {
		d = new_data(conv->file, oscn, shstr, shstr_size, ELF_T_BYTE,
			     sh.sh_addralign);
	} else if (ss->shrunk) {
		d = new_data(conv->file, oscn, ss->kept,
			     ss->nkept * sizeof(Elf64_Rela), ELF_T_RELA,
			     sh.sh_addralign);
	} else if (ks && ks->nadd) {
		/* An existing klp section: its relocations, then the new ones */
		n = ks->nold + ks->nadd;
		ks->merged = malloc(n * sizeof(Elf64_Rela));
		if (!ks->merged) {
			ERROR("%s: out of memory", conv->file);
			return -1;
		}
		memcpy(ks->merged, ks->old, ks->nold * sizeof(Elf64_Rela));
		memcpy(ks->merged + ks->nold, ks->add,
		       ks->nadd * sizeof(Elf64_Rela));
		d = new_data(conv->file, oscn, ks->merged,
			     n * sizeof(Elf64_Rela), ELF_T_RELA,
			     sh.sh_addralign);
	} else {
		raw = elf_rawdata(iscn, NULL);
		if (!raw) {
			ERROR("%s: %s: cannot read: %s", conv->file,
			    secname(conv, idx), elf_errmsg(-1));
			return -1;
		}
		d = new_data(conv->file, oscn, raw->d_buf, raw->d_size,
			     ELF_T_BYTE, raw->d_align);
	}
	return d ? 0 : -1;
}

static int add_klp_section(struct conversion *conv, Elf *out, struct klp_sec *ks)
{
	Elf_Scn *scn = elf_newscn(out);
	GElf_Shdr sh = {
		.sh_name = ks->name_off,
		.sh_type = SHT_RELA,
		.sh_flags = KLP_RELA_FLAGS,
		.sh_link = conv->symndx,
		.sh_info = ks->target,
		.sh_entsize = sizeof(Elf64_Rela),
		.sh_addralign = 8,
	};

	if (!scn || elf_ndxscn(scn) != ks->index ||
	    !gelf_update_shdr(scn, &sh)) {
		ERROR("%s: %s: cannot add section: %s", conv->file, ks->name,
		    elf_errmsg(-1));
		return -1;
	}
	return new_data(conv->file, scn, ks->add, ks->nadd * sizeof(Elf64_Rela),
			ELF_T_RELA, 8) ? 0 : -1;
}

/* Lay out and write the converted module to the open file FD. */
static int write_elf(struct conversion *conv, int fd)
{
	Elf_Data *shd = get_data(conv, conv->shstrndx, ELF_T_BYTE);
	struct klp_sec **existing = NULL;
	struct klp_sec *ks;
	char *shstr = NULL;
	size_t i, size;
	GElf_Ehdr eh;
	Elf *out;
	int ret = -1;

	if (!shd)
		return -1;
	if (!shd->d_buf && shd->d_size) {
		ERROR("%s: %s: the section name table has no data", conv->file,
		    secname(conv, conv->shstrndx));
		return -1;
	}
	out = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!out) {
		ERROR("%s: elf_begin: %s", conv->file, elf_errmsg(-1));
		return -1;
	}
	shstr = malloc(shd->d_size + conv->shstr_add);
	existing = calloc(conv->shnum, sizeof(*existing));
	if (!shstr || !existing) {
		ERROR("%s: out of memory", conv->file);
		goto out;
	}

	/* New names go after the old ones, so no old offset moves. */
	if (shd->d_size)
		memcpy(shstr, shd->d_buf, shd->d_size);
	size = shd->d_size;
	for (i = 0; i < conv->nklp; i++) {
		ks = conv->klp[i];
		if (!ks->name) {
			existing[ks->index] = ks;
			continue;
		}
		ks->name_off = size;
		strcpy(shstr + size, ks->name);
		size += strlen(ks->name) + 1;
	}

	eh = conv->ehdr;
	if (!gelf_newehdr(out, ELFCLASS64) || !gelf_update_ehdr(out, &eh)) {
		ERROR("%s: writing the ELF header: %s", conv->file,
		    elf_errmsg(-1));
		goto out;
	}
	for (i = 1; i < conv->shnum; i++)
		if (copy_section(conv, out, i, shstr, size, existing[i]))
			goto out;
	for (i = 0; i < conv->nklp; i++)
		if (conv->klp[i]->name && add_klp_section(conv, out, conv->klp[i]))
			goto out;

	if (elf_update(out, ELF_C_WRITE) < 0) {
		ERROR("%s: writing: %s", conv->file, elf_errmsg(-1));
		goto out;
	}
	ret = 0;
out:
	if (elf_end(out))
		ret = -1;
	free(existing);
	free(shstr);
	return ret;
}

/* Copy the input file unchanged: there was nothing to convert. */
static int write_raw(struct conversion *conv, int fd)
{
	char buf[65536];
	off_t off = 0;
	ssize_t n, w, done;

	for (;;) {
		n = pread(conv->fd, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ERROR("%s: read: %s", conv->file, strerror(errno));
			return -1;
		}
		if (!n)
			return 0;
		for (done = 0; done < n; done += w) {
			w = write(fd, buf + done, n - done);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				ERROR("%s: write: %s", conv->file, strerror(errno));
				return -1;
			}
		}
		off += n;
	}
}

/* Write OUT whole or not at all (atomic-file.h), with the input's mode. */
static int write_output(struct conversion *conv, const char *path, mode_t mode,
			bool changed)
{
	struct atomic_file out = { 0 };
	int ret;

	if (atomic_file_open(&out, path))
		return -1;
	ret = changed ? write_elf(conv, out.fd) : write_raw(conv, out.fd);
	if (!ret)
		ret = atomic_file_commit(&out, mode);
	atomic_file_discard(&out);
	return ret;
}

static void free_conversion(struct conversion *conv)
{
	size_t i;

	for (i = 0; i < conv->nklp; i++) {
		free(conv->klp[i]->name);
		free(conv->klp[i]->add);
		free(conv->klp[i]->merged);
		free(conv->klp[i]);
	}
	free(conv->klp);
	if (conv->secs)
		for (i = 0; i < conv->shnum; i++)
			free(conv->secs[i].kept);
	free(conv->secs);
	free(conv->objlen);
	free(conv->syms);
	if (conv->elf)
		elf_end(conv->elf);
}

/* Returns the exit status: 0, KC_EXIT_ERROR or KC_EXIT_INTERNAL. */
static int convert(const char *in, const char *outpath)
{
	struct conversion conv = { .file = in };
	struct stat ist, ost;
	size_t nsyms, nrela;
	bool changed;
	int ret = -1;

	conv.fd = open(in, O_RDONLY);
	if (conv.fd < 0) {
		ERROR("%s: %s", in, strerror(errno));
		return KC_EXIT_ERROR;
	}
	if (fstat(conv.fd, &ist)) {
		ERROR("%s: %s", in, strerror(errno));
		goto out;
	}
	conv.elf = elf_begin(conv.fd, ELF_C_READ, NULL);
	if (!conv.elf) {
		ERROR("%s: %s", in, elf_errmsg(-1));
		goto out;
	}
	if (check_header(&conv) || find_symtab(&conv) || convert_symbols(&conv) ||
	    split_relocations(&conv) || verify(&conv))
		goto out;

	changed = conv.nconverted || conv.nmoved || conv.nunnamed;
	if (!changed && !stat(outpath, &ost) && ost.st_dev == ist.st_dev &&
	    ost.st_ino == ist.st_ino)
		ret = 0;	/* converted already: leave the file alone */
	else
		ret = write_output(&conv, outpath, ist.st_mode, changed);
	if (ret)
		goto out;

	totals(&conv, &nsyms, &nrela);
	fprintf(stderr, "%s: %s: %zu klp symbols, %zu relocations in %zu sections%s\n",
		kbp_progname, in, nsyms, nrela, conv.nklp,
		changed ? "" : " (nothing to convert)");
out:
	free_conversion(&conv);
	close(conv.fd);
	if (kbp_internal_errors) {
		kbp_internal_hint();
		return KC_EXIT_INTERNAL;
	}
	return ret ? KC_EXIT_ERROR : 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-d] IN.ko OUT.ko\n"
		"Turn the .klp.sym.* references of a linked livepatch module into\n"
		"livepatch symbols and .klp.rela.* sections (module-elf-format.rst).\n"
		"  -d  debug output\n"
		"Exit status: 0 converted, 1 bad input or environment error,\n"
		"4 internal error (a bug: please report).\n", kbp_progname);
}

int main(int argc, char **argv)
{
	int c;

	kbp_progname = "klp-convert";
	/* main() runs more than once in the fuzz harness. */
	kbp_internal_errors = 0;
	while ((c = getopt(argc, argv, "dh")) != -1) {
		switch (c) {
		case 'd':
			kbp_debug = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 1;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		ERROR("libelf: %s", elf_errmsg(-1));
		return 1;
	}
	return convert(argv[optind], argv[optind + 1]);
}
