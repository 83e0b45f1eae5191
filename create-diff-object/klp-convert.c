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
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "klp-format.h"

/* Exit codes; 4 is KBP_EXIT_INTERNAL of diff.h, kbuild-patch's too. */
#define KC_EXIT_ERROR		1
#define KC_EXIT_INTERNAL	4

static const char *progname = "klp-convert";
static bool debug;	/* the only mutable global: set once by main() */

static void __attribute__((format(printf, 1, 2))) err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((format(printf, 1, 2))) dbg(const char *fmt, ...)
{
	va_list ap;

	if (!debug)
		return;
	fprintf(stderr, "%s: debug: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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

struct kc {
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
	bool internal;		/* an internal error was reported */
};

/*
 * An inconsistency that no input can cause, found in the conversion's own
 * result: "klp-convert: internal error: ...", and exit 4.
 */
static void __attribute__((format(printf, 2, 3)))
internal(struct kc *kc, const char *fmt, ...)
{
	va_list ap;

	kc->internal = true;
	fprintf(stderr, "%s: internal error: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *secname(struct kc *kc, size_t idx)
{
	GElf_Shdr sh;
	const char *name;

	if (idx >= kc->shnum || !gelf_getshdr(elf_getscn(kc->elf, idx), &sh))
		return "<bad section>";
	name = elf_strptr(kc->elf, kc->shstrndx, sh.sh_name);
	return name ? name : "<bad name>";
}

static const char *symname(struct kc *kc, size_t idx)
{
	const char *name;

	if (idx >= kc->nsyms)
		return "<bad symbol>";
	name = elf_strptr(kc->elf, kc->strndx, kc->syms[idx].st_name);
	return name ? name : "<bad name>";
}

static int get_shdr(struct kc *kc, size_t idx, GElf_Shdr *sh)
{
	Elf_Scn *scn = elf_getscn(kc->elf, idx);

	if (!scn || !gelf_getshdr(scn, sh)) {
		err("%s: section %zu: %s", kc->file, idx, elf_errmsg(-1));
		return -1;
	}
	return 0;
}

/* The one translated data block of a section, checked against its header. */
static Elf_Data *get_data(struct kc *kc, size_t idx, Elf_Type type)
{
	Elf_Scn *scn = elf_getscn(kc->elf, idx);
	Elf_Data *data;

	if (!scn) {
		err("%s: section %zu: %s", kc->file, idx, elf_errmsg(-1));
		return NULL;
	}
	data = elf_getdata(scn, NULL);
	if (!data) {
		err("%s: %s: cannot read: %s", kc->file, secname(kc, idx),
		    elf_errmsg(-1));
		return NULL;
	}
	if (data->d_type != type || elf_getdata(scn, data)) {
		err("%s: %s: unexpected section data layout", kc->file,
		    secname(kc, idx));
		return NULL;
	}
	return data;
}

/*
 * Parse NAME the way klp_resolve_symbols() does,
 * sscanf(".klp.sym.%55[^.].%511[^,],%lu"), but require that the whole
 * name is consumed. Returns the OBJNAME length, or 0 with *why set.
 */
static size_t parse_klp_sym(const char *name, const char **why)
{
	const char *obj = name + strlen(KLP_SYM_PREFIX);
	const char *sym, *pos;
	size_t objlen, symlen;
	char *end;

	objlen = strcspn(obj, ".");
	if (!objlen || !obj[objlen]) {
		*why = "no OBJNAME followed by '.'";
		return 0;
	}
	if (objlen > KLP_OBJNAME_MAX) {
		*why = "OBJNAME is longer than 55 characters (MODULE_NAME_LEN)";
		return 0;
	}
	sym = obj + objlen + 1;
	symlen = strcspn(sym, ",");
	if (!symlen || !sym[symlen]) {
		*why = "no SYMNAME followed by ',SYMPOS'";
		return 0;
	}
	if (symlen > KLP_SYMNAME_MAX) {
		*why = "SYMNAME is longer than 511 characters (KSYM_NAME_LEN)";
		return 0;
	}
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

static int check_header(struct kc *kc)
{
	const char *ident;
	size_t n;

	if (elf_kind(kc->elf) != ELF_K_ELF) {
		err("%s: not an ELF file", kc->file);
		return -1;
	}
	ident = elf_getident(kc->elf, &n);
	if (!ident || n < EI_NIDENT || !gelf_getehdr(kc->elf, &kc->ehdr)) {
		err("%s: cannot read the ELF header: %s", kc->file,
		    elf_errmsg(-1));
		return -1;
	}
	if (ident[EI_CLASS] != ELFCLASS64 || ident[EI_DATA] != ELFDATA2LSB ||
	    kc->ehdr.e_machine != EM_X86_64 || kc->ehdr.e_type != ET_REL) {
		err("%s: not a relocatable x86_64 ELF64 object (class %d, machine %d, type %d)",
		    kc->file, ident[EI_CLASS], kc->ehdr.e_machine,
		    kc->ehdr.e_type);
		err("hint: run klp-convert on the linked livepatch module (.ko)");
		return -1;
	}
	if (elf_getshdrnum(kc->elf, &kc->shnum) ||
	    elf_getshdrstrndx(kc->elf, &kc->shstrndx)) {
		err("%s: cannot read the section headers: %s", kc->file,
		    elf_errmsg(-1));
		return -1;
	}
	if (!kc->shnum) {
		err("%s: no section headers (a truncated or corrupt file?)",
		    kc->file);
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
static int find_symtab(struct kc *kc)
{
	GElf_Shdr sh;
	Elf_Data *data;
	size_t i;

	for (i = 1; i < kc->shnum; i++) {
		if (get_shdr(kc, i, &sh))
			return -1;
		if (sh.sh_type == SHT_REL) {
			err("%s: %s: SHT_REL relocation section; x86_64 kernel modules use SHT_RELA only",
			    kc->file, secname(kc, i));
			return -1;
		}
		if (bad_align(sh.sh_addralign)) {
			err("%s: %s: bad section alignment %#lx", kc->file,
			    secname(kc, i), (unsigned long)sh.sh_addralign);
			return -1;
		}
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (kc->symndx) {
			err("%s: %s: more than one symbol table", kc->file,
			    secname(kc, i));
			return -1;
		}
		kc->symndx = i;
		kc->strndx = sh.sh_link;
		kc->symalign = sh.sh_addralign;
	}
	if (!kc->symndx) {
		err("%s: no symbol table", kc->file);
		err("hint: livepatch modules must never be stripped");
		return -1;
	}
	if (kc->strndx == 0 || kc->strndx >= kc->shnum) {
		err("%s: .symtab: bad string table index %zu", kc->file,
		    kc->strndx);
		return -1;
	}
	data = get_data(kc, kc->symndx, ELF_T_SYM);
	if (!data)
		return -1;
	kc->nsyms = data->d_size / sizeof(Elf64_Sym);
	if (!kc->nsyms || !data->d_buf) {
		err("%s: %s: empty symbol table", kc->file,
		    secname(kc, kc->symndx));
		return -1;
	}
	kc->syms = malloc(data->d_size ? data->d_size : 1);
	kc->objlen = calloc(kc->nsyms ? kc->nsyms : 1, 1);
	kc->secs = calloc(kc->shnum + 1, sizeof(*kc->secs));
	if (!kc->syms || !kc->objlen || !kc->secs) {
		err("%s: out of memory", kc->file);
		return -1;
	}
	memcpy(kc->syms, data->d_buf, kc->nsyms * sizeof(Elf64_Sym));
	return 0;
}

/* Step 1: validate every .klp.sym.* symbol and make it SHN_LIVEPATCH. */
static int convert_symbols(struct kc *kc)
{
	const char *name, *why;
	Elf64_Sym *s;
	size_t i, len;
	int ret = 0;

	for (i = 1; i < kc->nsyms; i++) {
		s = &kc->syms[i];
		name = elf_strptr(kc->elf, kc->strndx, s->st_name);
		if (!name) {
			err("%s: symbol %zu: bad name: %s", kc->file, i,
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
			dbg("%s: symbol %zu %s -> unnamed", kc->file, i, name);
			s->st_name = 0;
			kc->nunnamed++;
			continue;
		}
		if (strncmp(name, KLP_SYM_PREFIX, strlen(KLP_SYM_PREFIX))) {
			if (s->st_shndx == SHN_LIVEPATCH) {
				err("%s: %s (symbol %zu): SHN_LIVEPATCH symbol not named .klp.sym.OBJNAME.SYMNAME,SYMPOS",
				    kc->file, name, i);
				ret = -1;
			}
			continue;
		}
		len = parse_klp_sym(name, &why);
		if (!len) {
			err("%s: %s (symbol %zu): malformed livepatch symbol name: %s",
			    kc->file, name, i, why);
			err("hint: the kernel parses \".klp.sym.%%55[^.].%%511[^,],%%lu\"");
			ret = -1;
			continue;
		}
		if (s->st_shndx != SHN_UNDEF && s->st_shndx != SHN_LIVEPATCH) {
			err("%s: %s (%s): livepatch symbol is defined; it must be undefined",
			    kc->file, name, secname(kc, s->st_shndx));
			ret = -1;
			continue;
		}
		if (GELF_ST_BIND(s->st_info) == STB_LOCAL) {
			err("%s: %s (symbol %zu): livepatch symbol is local; it must be weak or global",
			    kc->file, name, i);
			err("hint: making a local symbol global would reorder the symbol table");
			ret = -1;
			continue;
		}
		kc->objlen[i] = len;
		if (s->st_shndx == SHN_LIVEPATCH &&
		    GELF_ST_BIND(s->st_info) == STB_GLOBAL && !s->st_value)
			continue;
		dbg("%s: symbol %zu %s -> GLOBAL SHN_LIVEPATCH", kc->file, i,
		    name);
		s->st_shndx = SHN_LIVEPATCH;
		s->st_info = GELF_ST_INFO(STB_GLOBAL, GELF_ST_TYPE(s->st_info));
		s->st_value = 0;
		kc->nconverted++;
	}
	return ret;
}

static int add_klp(struct kc *kc, struct klp_sec *ks)
{
	struct klp_sec **n;

	if (kc->nklp == kc->capklp) {
		kc->capklp = kc->capklp ? 2 * kc->capklp : 16;
		n = realloc(kc->klp, kc->capklp * sizeof(*n));
		if (!n) {
			err("%s: out of memory", kc->file);
			return -1;
		}
		kc->klp = n;
	}
	kc->klp[kc->nklp++] = ks;
	ks->next = kc->secs[ks->target].klp;
	kc->secs[ks->target].klp = ks;
	return 0;
}

/* Register a .klp.rela.* section that is already in the input. */
static int add_existing(struct kc *kc, size_t idx, GElf_Shdr *sh)
{
	const char *name = secname(kc, idx);
	const char *obj = name + strlen(KLP_RELA_PREFIX);
	struct klp_sec *ks;
	Elf_Data *data;
	GElf_Shdr tsh;
	size_t len;

	len = strncmp(name, KLP_RELA_PREFIX, strlen(KLP_RELA_PREFIX)) ? 0 :
		strcspn(obj, ".");
	if (!len || len > KLP_OBJNAME_MAX || obj[len] != '.') {
		err("%s: %s: SHF_RELA_LIVEPATCH section not named .klp.rela.OBJNAME.SECTION",
		    kc->file, name);
		return -1;
	}
	if (sh->sh_type != SHT_RELA || sh->sh_link != kc->symndx ||
	    !sh->sh_info || sh->sh_info >= kc->shnum ||
	    !(sh->sh_flags & SHF_ALLOC)) {
		err("%s: %s: livepatch relocation section has a bad type, flags, link or info",
		    kc->file, name);
		return -1;
	}
	if (get_shdr(kc, sh->sh_info, &tsh))
		return -1;
	if (!(tsh.sh_flags & SHF_ALLOC)) {
		err("%s: %s: livepatch relocation section for non-allocated section %s",
		    kc->file, name, secname(kc, sh->sh_info));
		return -1;
	}
	data = get_data(kc, idx, ELF_T_RELA);
	ks = calloc(1, sizeof(*ks));
	if (!data || !ks) {
		free(ks);
		if (data)
			err("%s: out of memory", kc->file);
		return -1;
	}
	ks->obj = obj;
	ks->objlen = len;
	ks->target = sh->sh_info;
	ks->index = idx;
	ks->old = data->d_buf;
	ks->nold = data->d_size / sizeof(Elf64_Rela);
	if (add_klp(kc, ks)) {
		free(ks);
		return -1;
	}
	return 0;
}

/* The klp section for (OBJNAME of symbol SYM, TARGET), created on demand. */
static struct klp_sec *klp_sec_for(struct kc *kc, size_t sym, size_t target)
{
	const char *obj = symname(kc, sym) + strlen(KLP_SYM_PREFIX);
	size_t objlen = kc->objlen[sym];
	const char *tname = secname(kc, target);
	struct klp_sec *ks;

	for (ks = kc->secs[target].klp; ks; ks = ks->next)
		if (ks->objlen == objlen && !memcmp(ks->obj, obj, objlen))
			return ks;

	ks = calloc(1, sizeof(*ks));
	if (!ks || asprintf(&ks->name, "%s%.*s.%s", KLP_RELA_PREFIX,
			    (int)objlen, obj, tname) < 0) {
		free(ks);
		err("%s: out of memory", kc->file);
		return NULL;
	}
	ks->obj = obj;
	ks->objlen = objlen;
	ks->target = target;
	ks->index = kc->shnum + kc->nnew;
	if (add_klp(kc, ks)) {
		free(ks->name);
		free(ks);
		return NULL;
	}
	kc->nnew++;
	kc->shstr_add += strlen(ks->name) + 1;
	dbg("%s: new section [%zu] %s", kc->file, ks->index, ks->name);
	return ks;
}

static int push_rela(struct kc *kc, struct klp_sec *ks, const Elf64_Rela *r)
{
	Elf64_Rela *n;

	if (ks->nadd == ks->capadd) {
		ks->capadd = ks->capadd ? 2 * ks->capadd : 8;
		n = realloc(ks->add, ks->capadd * sizeof(*n));
		if (!n) {
			err("%s: out of memory", kc->file);
			return -1;
		}
		ks->add = n;
	}
	ks->add[ks->nadd++] = *r;
	return 0;
}

/* Step 2 for one .rela<X> section: move its klp relocations out. */
static int split_rela(struct kc *kc, size_t idx, GElf_Shdr *sh)
{
	struct sec_state *ss = &kc->secs[idx];
	const char *rname = secname(kc, idx);
	GElf_Shdr tsh;
	Elf_Data *data;
	Elf64_Rela *r;
	struct klp_sec *ks;
	size_t i, n, sym;
	int ret = 0;

	data = get_data(kc, idx, ELF_T_RELA);
	if (!data)
		return -1;
	r = data->d_buf;
	n = data->d_size / sizeof(Elf64_Rela);
	for (i = 0; i < n; i++) {
		sym = ELF64_R_SYM(r[i].r_info);
		if (sym >= kc->nsyms) {
			err("%s: %s: relocation %zu refers to symbol %zu, beyond the symbol table",
			    kc->file, rname, i, sym);
			return -1;
		}
		if (kc->objlen[sym])
			break;
	}
	if (i == n)
		return 0;

	if (sh->sh_link != kc->symndx || !sh->sh_info ||
	    sh->sh_info >= kc->shnum) {
		err("%s: %s (%s): relocation section has a bad link or info",
		    kc->file, symname(kc, sym), rname);
		return -1;
	}
	if (get_shdr(kc, sh->sh_info, &tsh))
		return -1;
	ss->kept = malloc(data->d_size);
	if (!ss->kept) {
		err("%s: out of memory", kc->file);
		return -1;
	}
	ss->shrunk = true;
	for (i = 0; i < n; i++) {
		sym = ELF64_R_SYM(r[i].r_info);
		if (sym >= kc->nsyms) {
			err("%s: %s: relocation %zu refers to symbol %zu, beyond the symbol table",
			    kc->file, rname, i, sym);
			return -1;
		}
		if (!kc->objlen[sym]) {
			ss->kept[ss->nkept++] = r[i];
			continue;
		}
		if (!(tsh.sh_flags & SHF_ALLOC)) {
			err("%s: %s (%s+0x%lx): livepatch symbol referenced from a non-allocated section",
			    kc->file, symname(kc, sym), secname(kc, sh->sh_info),
			    (unsigned long)r[i].r_offset);
			err("hint: the kernel applies klp relocations to SHF_ALLOC sections only");
			ret = -1;
			continue;
		}
		ks = klp_sec_for(kc, sym, sh->sh_info);
		if (!ks || push_rela(kc, ks, &r[i]))
			return -1;
		dbg("%s: %s+0x%lx %s %+ld type %lu -> %s", kc->file,
		    secname(kc, sh->sh_info), (unsigned long)r[i].r_offset,
		    symname(kc, sym), (long)r[i].r_addend,
		    (unsigned long)ELF64_R_TYPE(r[i].r_info),
		    ks->name ? ks->name : secname(kc, ks->index));
		kc->nmoved++;
	}
	return ret;
}

/* Step 2: every relocation against a klp symbol goes to a klp section. */
static int split_relocations(struct kc *kc)
{
	GElf_Shdr sh;
	size_t i;
	int ret = 0;

	for (i = 1; i < kc->shnum; i++) {
		if (get_shdr(kc, i, &sh))
			return -1;
		if (sh.sh_type == SHT_RELA && (sh.sh_flags & SHF_RELA_LIVEPATCH) &&
		    add_existing(kc, i, &sh))
			return -1;
	}
	for (i = 1; i < kc->shnum; i++) {
		if (get_shdr(kc, i, &sh))
			return -1;
		if (sh.sh_type != SHT_RELA || (sh.sh_flags & SHF_RELA_LIVEPATCH))
			continue;
		if (split_rela(kc, i, &sh))
			ret = -1;
	}
	if (!ret && kc->shnum + kc->nnew >= SHN_LORESERVE) {
		err("%s: %zu sections: too many for a kernel module", kc->file,
		    kc->shnum + kc->nnew);
		return -1;
	}
	return ret;
}

/*
 * The klp relocations of ks: those already in the input (ours false), whose
 * faults are the input's, or those this run moved there (ours true), which
 * can only be wrong if the conversion is.
 */
static int check_klp_rela(struct kc *kc, struct klp_sec *ks,
			  const Elf64_Rela *r, size_t n, bool ours)
{
	const char *name = ks->name ? ks->name : secname(kc, ks->index);
	bool sec_vmlinux = ks->objlen == 7 && !memcmp(ks->obj, "vmlinux", 7);
	const Elf64_Sym *s;
	size_t i, sym;

	for (i = 0; i < n; i++) {
		sym = ELF64_R_SYM(r[i].r_info);
		if (sym >= kc->nsyms) {
			err("%s: %s: relocation %zu refers to symbol %zu, beyond the symbol table",
			    kc->file, name, i, sym);
			return -1;
		}
		s = &kc->syms[sym];
		if ((s->st_shndx != SHN_LIVEPATCH || !kc->objlen[sym]) &&
		    ours) {
			internal(kc, "%s: %s (%s): a relocation moved into the klp section is against a symbol that is not SHN_LIVEPATCH",
				 kc->file, symname(kc, sym), name);
			return -1;
		}
		if (s->st_shndx != SHN_LIVEPATCH || !kc->objlen[sym]) {
			err("%s: %s (%s): klp relocation against a symbol that is not SHN_LIVEPATCH",
			    kc->file, symname(kc, sym), name);
			return -1;
		}
		if (!sec_vmlinux &&
		    !strncmp(symname(kc, sym), KLP_SYM_PREFIX "vmlinux.",
			     strlen(KLP_SYM_PREFIX "vmlinux."))) {
			if (ours) {
				internal(kc, "%s: %s (%s): a relocation against a vmlinux symbol was moved into a module's klp relocation section",
					 kc->file, symname(kc, sym), name);
				return -1;
			}
			err("%s: %s (%s): vmlinux symbol referenced from a module's klp relocation section",
			    kc->file, symname(kc, sym), name);
			err("hint: the kernel refuses this; use .klp.rela.vmlinux.*");
			return -1;
		}
	}
	return 0;
}

/* The relocations a normal SHT_RELA section will have in the output. */
static int final_relas(struct kc *kc, size_t idx, const Elf64_Rela **r,
		       size_t *n)
{
	Elf_Data *data;

	if (kc->secs[idx].shrunk) {
		*r = kc->secs[idx].kept;
		*n = kc->secs[idx].nkept;
		return 0;
	}
	data = get_data(kc, idx, ELF_T_RELA);
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
static int verify(struct kc *kc)
{
	const Elf64_Rela *r;
	const Elf64_Sym *s;
	struct klp_sec *ks;
	GElf_Shdr sh;
	size_t i, j, n, sym;

	for (i = 1; i < kc->nsyms; i++) {
		s = &kc->syms[i];
		if (kc->objlen[i] && (s->st_shndx != SHN_LIVEPATCH ||
				      GELF_ST_BIND(s->st_info) == STB_WEAK)) {
			internal(kc, "%s: %s (symbol %zu): still an undefined weak symbol after conversion",
				 kc->file, symname(kc, i), i);
			return -1;
		}
	}
	for (i = 0; i < kc->nklp; i++) {
		ks = kc->klp[i];
		if (check_klp_rela(kc, ks, ks->old, ks->nold, false) ||
		    check_klp_rela(kc, ks, ks->add, ks->nadd, true))
			return -1;
	}
	for (i = 1; i < kc->shnum; i++) {
		if (get_shdr(kc, i, &sh))
			return -1;
		if (sh.sh_type != SHT_RELA || (sh.sh_flags & SHF_RELA_LIVEPATCH))
			continue;
		if (final_relas(kc, i, &r, &n))
			return -1;
		for (j = 0; j < n; j++) {
			sym = ELF64_R_SYM(r[j].r_info);
			if (sym < kc->nsyms && kc->objlen[sym]) {
				internal(kc, "%s: %s (%s): livepatch symbol left in a normal relocation section",
					 kc->file, symname(kc, sym), secname(kc, i));
				return -1;
			}
		}
	}
	return 0;
}

/* Counts for the summary line: the state of the output, not this run. */
static void totals(struct kc *kc, size_t *nsyms, size_t *nrela)
{
	size_t i;

	*nsyms = 0;
	*nrela = 0;
	for (i = 1; i < kc->nsyms; i++)
		*nsyms += kc->objlen[i] != 0;
	for (i = 0; i < kc->nklp; i++)
		*nrela += kc->klp[i]->nold + kc->klp[i]->nadd;
}

static Elf_Data *new_data(const char *file, Elf_Scn *scn, void *buf,
			  size_t size, Elf_Type type, size_t align)
{
	Elf_Data *d = elf_newdata(scn);

	if (!d) {
		err("%s: elf_newdata: %s", file, elf_errmsg(-1));
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
static int copy_section(struct kc *kc, Elf *out, size_t idx, char *shstr,
			size_t shstr_size, struct klp_sec *ks)
{
	Elf_Scn *iscn = elf_getscn(kc->elf, idx), *oscn = elf_newscn(out);
	struct sec_state *ss = &kc->secs[idx];
	Elf_Data *d, *raw;
	GElf_Shdr sh;
	size_t n;

	if (!iscn || !oscn || elf_ndxscn(oscn) != idx ||
	    !gelf_getshdr(iscn, &sh) || !gelf_update_shdr(oscn, &sh)) {
		err("%s: copying section %zu: %s", kc->file, idx,
		    elf_errmsg(-1));
		return -1;
	}
	if (idx == kc->symndx) {
		d = new_data(kc->file, oscn, kc->syms,
			     kc->nsyms * sizeof(Elf64_Sym), ELF_T_SYM,
			     kc->symalign);
	} else if (idx == kc->shstrndx) {
		d = new_data(kc->file, oscn, shstr, shstr_size, ELF_T_BYTE,
			     sh.sh_addralign);
	} else if (ss->shrunk) {
		d = new_data(kc->file, oscn, ss->kept,
			     ss->nkept * sizeof(Elf64_Rela), ELF_T_RELA,
			     sh.sh_addralign);
	} else if (ks && ks->nadd) {
		/* An existing klp section: its relocations, then the new ones */
		n = ks->nold + ks->nadd;
		ks->merged = malloc(n * sizeof(Elf64_Rela));
		if (!ks->merged) {
			err("%s: out of memory", kc->file);
			return -1;
		}
		memcpy(ks->merged, ks->old, ks->nold * sizeof(Elf64_Rela));
		memcpy(ks->merged + ks->nold, ks->add,
		       ks->nadd * sizeof(Elf64_Rela));
		d = new_data(kc->file, oscn, ks->merged,
			     n * sizeof(Elf64_Rela), ELF_T_RELA,
			     sh.sh_addralign);
	} else {
		raw = elf_rawdata(iscn, NULL);
		if (!raw) {
			err("%s: %s: cannot read: %s", kc->file,
			    secname(kc, idx), elf_errmsg(-1));
			return -1;
		}
		d = new_data(kc->file, oscn, raw->d_buf, raw->d_size,
			     ELF_T_BYTE, raw->d_align);
	}
	return d ? 0 : -1;
}

static int add_klp_section(struct kc *kc, Elf *out, struct klp_sec *ks)
{
	Elf_Scn *scn = elf_newscn(out);
	GElf_Shdr sh = {
		.sh_name = ks->name_off,
		.sh_type = SHT_RELA,
		.sh_flags = KLP_RELA_FLAGS,
		.sh_link = kc->symndx,
		.sh_info = ks->target,
		.sh_entsize = sizeof(Elf64_Rela),
		.sh_addralign = 8,
	};

	if (!scn || elf_ndxscn(scn) != ks->index ||
	    !gelf_update_shdr(scn, &sh)) {
		err("%s: %s: cannot add section: %s", kc->file, ks->name,
		    elf_errmsg(-1));
		return -1;
	}
	return new_data(kc->file, scn, ks->add, ks->nadd * sizeof(Elf64_Rela),
			ELF_T_RELA, 8) ? 0 : -1;
}

/* Lay out and write the converted module to the open file FD. */
static int write_elf(struct kc *kc, int fd)
{
	Elf_Data *shd = get_data(kc, kc->shstrndx, ELF_T_BYTE);
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
		err("%s: %s: the section name table has no data", kc->file,
		    secname(kc, kc->shstrndx));
		return -1;
	}
	out = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!out) {
		err("%s: elf_begin: %s", kc->file, elf_errmsg(-1));
		return -1;
	}
	shstr = malloc(shd->d_size + kc->shstr_add);
	existing = calloc(kc->shnum, sizeof(*existing));
	if (!shstr || !existing) {
		err("%s: out of memory", kc->file);
		goto out;
	}

	/* New names go after the old ones, so no old offset moves. */
	if (shd->d_size)
		memcpy(shstr, shd->d_buf, shd->d_size);
	size = shd->d_size;
	for (i = 0; i < kc->nklp; i++) {
		ks = kc->klp[i];
		if (!ks->name) {
			existing[ks->index] = ks;
			continue;
		}
		ks->name_off = size;
		strcpy(shstr + size, ks->name);
		size += strlen(ks->name) + 1;
	}

	eh = kc->ehdr;
	if (!gelf_newehdr(out, ELFCLASS64) || !gelf_update_ehdr(out, &eh)) {
		err("%s: writing the ELF header: %s", kc->file,
		    elf_errmsg(-1));
		goto out;
	}
	for (i = 1; i < kc->shnum; i++)
		if (copy_section(kc, out, i, shstr, size, existing[i]))
			goto out;
	for (i = 0; i < kc->nklp; i++)
		if (kc->klp[i]->name && add_klp_section(kc, out, kc->klp[i]))
			goto out;

	if (elf_update(out, ELF_C_WRITE) < 0) {
		err("%s: writing: %s", kc->file, elf_errmsg(-1));
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
static int write_raw(struct kc *kc, int fd)
{
	char buf[65536];
	off_t off = 0;
	ssize_t n, w, done;

	for (;;) {
		n = pread(kc->fd, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err("%s: read: %s", kc->file, strerror(errno));
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
				err("%s: write: %s", kc->file, strerror(errno));
				return -1;
			}
		}
		off += n;
	}
}

/*
 * Write OUT through a temporary file in its directory and rename it into
 * place, so that a failure never leaves a partial OUT behind.
 */
static int write_output(struct kc *kc, const char *path, mode_t mode,
			bool changed)
{
	char *tmp;
	int fd, ret;

	if (asprintf(&tmp, "%s.klp-convert.XXXXXX", path) < 0) {
		err("%s: out of memory", kc->file);
		return -1;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		err("%s: cannot create a temporary file next to it: %s", path,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	ret = changed ? write_elf(kc, fd) : write_raw(kc, fd);
	if (!ret && fchmod(fd, mode & 07777)) {
		err("%s: chmod: %s", tmp, strerror(errno));
		ret = -1;
	}
	if (!ret && fsync(fd)) {
		err("%s: fsync: %s", tmp, strerror(errno));
		ret = -1;
	}
	if (close(fd) && !ret) {
		err("%s: close: %s", tmp, strerror(errno));
		ret = -1;
	}
	if (!ret && rename(tmp, path)) {
		err("%s: rename: %s", path, strerror(errno));
		ret = -1;
	}
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

static void free_kc(struct kc *kc)
{
	size_t i;

	for (i = 0; i < kc->nklp; i++) {
		free(kc->klp[i]->name);
		free(kc->klp[i]->add);
		free(kc->klp[i]->merged);
		free(kc->klp[i]);
	}
	free(kc->klp);
	if (kc->secs)
		for (i = 0; i < kc->shnum; i++)
			free(kc->secs[i].kept);
	free(kc->secs);
	free(kc->objlen);
	free(kc->syms);
	if (kc->elf)
		elf_end(kc->elf);
}

/* Returns the exit status: 0, KC_EXIT_ERROR or KC_EXIT_INTERNAL. */
static int convert(const char *in, const char *outpath)
{
	struct kc kc = { .file = in };
	struct stat ist, ost;
	size_t nsyms, nrela;
	bool changed;
	int ret = -1;

	kc.fd = open(in, O_RDONLY);
	if (kc.fd < 0) {
		err("%s: %s", in, strerror(errno));
		return KC_EXIT_ERROR;
	}
	if (fstat(kc.fd, &ist)) {
		err("%s: %s", in, strerror(errno));
		goto out;
	}
	kc.elf = elf_begin(kc.fd, ELF_C_READ, NULL);
	if (!kc.elf) {
		err("%s: %s", in, elf_errmsg(-1));
		goto out;
	}
	if (check_header(&kc) || find_symtab(&kc) || convert_symbols(&kc) ||
	    split_relocations(&kc) || verify(&kc))
		goto out;

	changed = kc.nconverted || kc.nmoved || kc.nunnamed;
	if (!changed && !stat(outpath, &ost) && ost.st_dev == ist.st_dev &&
	    ost.st_ino == ist.st_ino)
		ret = 0;	/* converted already: leave the file alone */
	else
		ret = write_output(&kc, outpath, ist.st_mode, changed);
	if (ret)
		goto out;

	totals(&kc, &nsyms, &nrela);
	fprintf(stderr, "%s: %s: %zu klp symbols, %zu relocations in %zu sections%s\n",
		progname, in, nsyms, nrela, kc.nklp,
		changed ? "" : " (nothing to convert)");
out:
	free_kc(&kc);
	close(kc.fd);
	if (kc.internal) {
		err("internal error: this is a bug in kbuild-patch, not in the module's input; please report it, with the build log");
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
		"4 internal error (a bug: please report).\n", progname);
}

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "dh")) != -1) {
		switch (c) {
		case 'd':
			debug = true;
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
		err("libelf: %s", elf_errmsg(-1));
		return 1;
	}
	return convert(argv[optind], argv[optind + 1]);
}
