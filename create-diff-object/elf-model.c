// SPDX-License-Identifier: GPL-2.0
/*
 * elf-model.c - reads a relocatable x86_64 ELF object into the model
 * described in elf-model.h. Every later stage of create-diff-object
 * works on this model; nothing here decides what a change is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf-model.h"
#include "log.h"

#ifndef R_X86_64_PLT32
#define R_X86_64_PLT32 4
#endif
#ifndef R_X86_64_GOTPCRELX
#define R_X86_64_GOTPCRELX 41
#define R_X86_64_REX_GOTPCRELX 42
#endif

bool is_pcrel_type(unsigned int type)
{
	switch (type) {
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_PC64:
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		return true;
	default:
		return false;
	}
}

/*
 * The size of the immediate that follows a RIP-relative displacement at
 * offset off of a text section, found by looking back at the ModRM byte
 * and the opcode before it. Only opcodes with a ModRM operand and an
 * immediate matter; everything else ends with its displacement.
 */
static long imm_after_disp(const struct section *sec, unsigned long off)
{
	const unsigned char *b = sec->data;
	unsigned char op, modrm;
	bool opsize16 = false;
	unsigned long i;

	if (!b || off < 2 || off + 4 > sec->size)
		return 0;
	modrm = b[off - 1];
	if ((modrm & 0xc7) != 0x05)	/* not mod=00 rm=101: no RIP operand */
		return 0;
	op = b[off - 2];
	if (off >= 3 && b[off - 3] == 0x0f) {	/* two-byte opcode map */
		switch (op) {
		case 0x70 ... 0x73: case 0xa4: case 0xac: case 0xba:
		case 0xc2: case 0xc4 ... 0xc6:
			return 1;
		default:
			return 0;
		}
	}
	if (off >= 4 && b[off - 4] == 0x0f && b[off - 3] == 0x3a)
		return 1;			/* 0f 3a: always imm8 */
	/* A 0x66 prefix before the opcode (and its REX) makes imm16. */
	if (off >= 3) {
		i = off - 3;
		if ((b[i] & 0xf0) == 0x40 && i > 0)
			i--;
		opsize16 = b[i] == 0x66;
	}
	switch (op) {
	case 0x6b: case 0x80: case 0x83: case 0xc0: case 0xc1: case 0xc6:
		return 1;
	case 0x69: case 0x81: case 0xc7:
		return opsize16 ? 2 : 4;
	case 0xf6:
		return ((modrm >> 3) & 7) <= 1 ? 1 : 0;	/* test imm8 */
	case 0xf7:
		return ((modrm >> 3) & 7) <= 1 ? (opsize16 ? 2 : 4) : 0;
	default:
		return 0;
	}
}

/* An addend from a corrupt object may be anything: the sums wrap. */
long rela_target_offset(const struct rela *rela)
{
	long field_end;

	if (rela->type == R_X86_64_PC64)
		return rela->in && is_text_section(rela->in) ?
		       wrap_add(rela->addend, 8) : rela->addend;
	if (!is_pcrel_type(rela->type))
		return rela->addend;
	/* In data, "sym - ." refers to sym + addend itself. */
	if (!rela->in || !is_text_section(rela->in))
		return rela->addend;
	field_end = 4 + imm_after_disp(rela->in, rela->offset);
	return wrap_add(rela->addend, field_end);
}

bool is_string_section(const struct section *sec)
{
	return (sec->sh.sh_flags & SHF_STRINGS) ||
	       !strncmp(sec->name, ".rodata.str", 11);
}

static int cmp_sym_value(const void *a, const void *b)
{
	const struct symbol *sa = *(struct symbol * const *)a;
	const struct symbol *sb = *(struct symbol * const *)b;

	if (sa->sym.st_value != sb->sym.st_value)
		return sa->sym.st_value < sb->sym.st_value ? -1 : 1;
	/* Prefer sized symbols over zero-sized ones at the same address. */
	if (sa->sym.st_size != sb->sym.st_size)
		return sa->sym.st_size > sb->sym.st_size ? -1 : 1;
	return sa->index < sb->index ? -1 : sa->index > sb->index;
}

static int cmp_rela_offset(const void *a, const void *b)
{
	const struct rela *ra = a, *rb = b;

	return ra->offset < rb->offset ? -1 : ra->offset > rb->offset;
}

static int read_sections(struct kbp_elf *kelf)
{
	size_t shstrndx, i;
	Elf_Scn *scn = NULL;
	int err;

	if (elf_getshdrnum(kelf->elf, &kelf->nr_secs) ||
	    elf_getshdrstrndx(kelf->elf, &shstrndx)) {
		ERROR("%s: cannot read section headers: %s", kelf->path,
		      elf_errmsg(-1));
		return -1;
	}
	if (!kelf->nr_secs) {
		ERROR("%s: no section headers (a truncated or corrupt object?)",
		      kelf->path);
		return -1;
	}
	kelf->secs = calloc(kelf->nr_secs, sizeof(*kelf->secs));
	if (!kelf->secs || strmap_init(&kelf->sec_by_name, kelf->nr_secs)) {
		ERROR("out of memory");
		return -1;
	}

	while ((scn = elf_nextscn(kelf->elf, scn))) {
		struct section *sec;
		Elf_Data *data;

		i = elf_ndxscn(scn);
		sec = &kelf->secs[i];
		sec->index = i;
		if (!gelf_getshdr(scn, &sec->sh)) {
			ERROR("%s: section %zu: %s", kelf->path, i,
			      elf_errmsg(-1));
			return -1;
		}
		sec->name = elf_strptr(kelf->elf, shstrndx, sec->sh.sh_name);
		if (!sec->name) {
			ERROR("%s: section %zu has no name: %s", kelf->path,
			      i, elf_errmsg(-1));
			return -1;
		}
		/* The writer keeps alignments: refuse absurd ones. */
		if ((sec->sh.sh_addralign & (sec->sh.sh_addralign - 1)) ||
		    sec->sh.sh_addralign > KBP_MAX_ALIGN) {
			ERROR("%s: %s: bad section alignment %#lx", kelf->path,
			      sec->name, (unsigned long)sec->sh.sh_addralign);
			return -1;
		}
		data = elf_getdata(scn, NULL);
		err = elf_errno();
		if (!data && err) {
			ERROR("%s: %s: cannot read data: %s", kelf->path,
			      sec->name, elf_errmsg(err));
			return -1;
		}
		sec->size = sec->sh.sh_size;
		if (data && data->d_buf && sec->sh.sh_type != SHT_NOBITS) {
			if (data->d_size != sec->size) {
				ERROR("%s: %s: section data is split or truncated",
				      kelf->path, sec->name);
				return -1;
			}
			sec->data = data->d_buf;
		}
		if (strmap_add(&kelf->sec_by_name, sec->name, sec))
			return -1;
	}
	kelf->secs[0].name = "";
	return 0;
}

/*
 * In a relocatable object, a symbol's value is an offset into its
 * section: every later stage reads [value, value + size) of the section.
 */
static bool sym_out_of_bounds(const struct kbp_elf *kelf,
			      const struct symbol *sym)
{
	const struct section *sec = sym->sec;

	if (!sec || kelf->ehdr.e_type != ET_REL || sym->type == STT_FILE ||
	    sym->type == STT_SECTION)
		return false;
	return sym->sym.st_value > sec->size ||
	       sym->sym.st_size > sec->size - sym->sym.st_value;
}

static int read_symbols(struct kbp_elf *kelf)
{
	struct section *symtab = NULL;
	const char *file = NULL;
	Elf_Data *data;
	size_t i;

	for (i = 1; i < kelf->nr_secs; i++) {
		if (kelf->secs[i].sh.sh_type == SHT_SYMTAB) {
			symtab = &kelf->secs[i];
			break;
		}
	}
	if (!symtab) {
		ERROR("%s: no symbol table; was the object stripped?",
		      kelf->path);
		return -1;
	}
	if (!symtab->sh.sh_link || symtab->sh.sh_link >= kelf->nr_secs ||
	    kelf->secs[symtab->sh.sh_link].sh.sh_type != SHT_STRTAB) {
		ERROR("%s: %s: bad string table index %u", kelf->path,
		      symtab->name, symtab->sh.sh_link);
		return -1;
	}
	data = elf_getdata(elf_getscn(kelf->elf, symtab->index), NULL);
	if (!data) {
		ERROR("%s: cannot read the symbol table: %s", kelf->path,
		      elf_errmsg(-1));
		return -1;
	}
	kelf->nr_syms = symtab->sh.sh_entsize ?
			symtab->size / symtab->sh.sh_entsize : 0;
	kelf->syms = calloc(kelf->nr_syms ? kelf->nr_syms : 1,
			    sizeof(*kelf->syms));
	if (!kelf->syms || strmap_init(&kelf->sym_by_name, kelf->nr_syms)) {
		ERROR("out of memory");
		return -1;
	}

	for (i = 0; i < kelf->nr_syms; i++) {
		struct symbol *sym = &kelf->syms[i];
		size_t shndx;

		sym->index = i;
		if (!gelf_getsym(data, i, &sym->sym)) {
			ERROR("%s: symbol %zu: %s", kelf->path, i,
			      elf_errmsg(-1));
			return -1;
		}
		sym->name = elf_strptr(kelf->elf, symtab->sh.sh_link,
				       sym->sym.st_name);
		if (!sym->name) {
			ERROR("%s: symbol %zu has a bad name: %s", kelf->path,
			      i, elf_errmsg(-1));
			return -1;
		}
		sym->type = GELF_ST_TYPE(sym->sym.st_info);
		sym->bind = GELF_ST_BIND(sym->sym.st_info);
		shndx = sym->sym.st_shndx;
		if (shndx == SHN_XINDEX) {
			ERROR("%s: %s: extended section indexes are not supported",
			      kelf->path, sym->name);
			return -1;
		}
		if (shndx != SHN_UNDEF && shndx < SHN_LORESERVE) {
			if (shndx >= kelf->nr_secs) {
				ERROR("%s: %s: section index %zu out of range",
				      kelf->path, sym->name, shndx);
				return -1;
			}
			sym->sec = &kelf->secs[shndx];
		}
		if (sym_out_of_bounds(kelf, sym)) {
			ERROR("%s: %s: value %#lx size %#lx lies outside its section %s (size %#zx)",
			      kelf->path, sym->name,
			      (unsigned long)sym->sym.st_value,
			      (unsigned long)sym->sym.st_size, sym->sec->name,
			      sym->sec->size);
			return -1;
		}
		if (sym->type == STT_FILE) {
			file = sym->name;
			if (!kelf->file)
				kelf->file = file;
		}
		if (sym->bind == STB_LOCAL)
			sym->file = file;
		if (sym->type == STT_SECTION && sym->sec) {
			sym->name = sym->sec->name;
			if (!sym->sec->secsym)
				sym->sec->secsym = sym;
		} else if (sym->sec && sym->type != STT_FILE) {
			sym->sec->nr_syms++;
		}
		if (i && strmap_add(&kelf->sym_by_name, sym->name, sym))
			return -1;
	}

	for (i = 1; i < kelf->nr_secs; i++) {
		struct section *sec = &kelf->secs[i];

		if (!sec->nr_syms)
			continue;
		sec->syms = calloc(sec->nr_syms, sizeof(*sec->syms));
		if (!sec->syms) {
			ERROR("out of memory");
			return -1;
		}
		sec->nr_syms = 0;
	}
	for (i = 1; i < kelf->nr_syms; i++) {
		struct symbol *sym = &kelf->syms[i];

		if (sym->sec && sym->type != STT_SECTION &&
		    sym->type != STT_FILE)
			sym->sec->syms[sym->sec->nr_syms++] = sym;
	}
	for (i = 1; i < kelf->nr_secs; i++) {
		struct section *sec = &kelf->secs[i];

		if (sec->nr_syms > 1)
			qsort(sec->syms, sec->nr_syms, sizeof(*sec->syms),
			      cmp_sym_value);
	}
	return 0;
}

/* The width of the field a relocation writes. */
static size_t rela_width(unsigned int type)
{
	switch (type) {
	case R_X86_64_NONE:
		return 0;
	case R_X86_64_8:
	case R_X86_64_PC8:
		return 1;
	case R_X86_64_16:
	case R_X86_64_PC16:
		return 2;
	case R_X86_64_64:
	case R_X86_64_PC64:
	case R_X86_64_GOTOFF64:
	case R_X86_64_GOTPC64:
	case R_X86_64_GOT64:
	case R_X86_64_GOTPCREL64:
	case R_X86_64_GOTPLT64:
	case R_X86_64_PLTOFF64:
	case R_X86_64_SIZE64:
	case R_X86_64_DTPOFF64:
	case R_X86_64_TPOFF64:
	case R_X86_64_DTPMOD64:
		return 8;
	default:
		return 4;
	}
}

/* In a relocatable object, a relocated field lies inside its section. */
static bool rela_out_of_bounds(const struct kbp_elf *kelf,
			       const struct section *base,
			       const GElf_Rela *r)
{
	size_t width = rela_width(GELF_R_TYPE(r->r_info));

	if (kelf->ehdr.e_type != ET_REL)
		return false;
	return r->r_offset > base->size || width > base->size - r->r_offset;
}

static int read_relas(struct kbp_elf *kelf)
{
	size_t i, j;

	for (i = 1; i < kelf->nr_secs; i++) {
		struct section *sec = &kelf->secs[i];
		Elf_Data *data;

		if (sec->sh.sh_type == SHT_REL) {
			ERROR("%s: %s: SHT_REL relocations are not supported on x86_64",
			      kelf->path, sec->name);
			return -1;
		}
		if (!is_rela_section(sec))
			continue;
		if (!sec->sh.sh_info || sec->sh.sh_info >= kelf->nr_secs ||
		    sec->sh.sh_entsize != sizeof(Elf64_Rela) ||
		    is_rela_section(&kelf->secs[sec->sh.sh_info])) {
			ERROR("%s: %s: bad relocation section header",
			      kelf->path, sec->name);
			return -1;
		}
		sec->base = &kelf->secs[sec->sh.sh_info];
		sec->base->rela = sec;
		sec->nr_relas = sec->size / sec->sh.sh_entsize;
		sec->relas = calloc(sec->nr_relas ? sec->nr_relas : 1,
				    sizeof(*sec->relas));
		if (!sec->relas) {
			ERROR("out of memory");
			return -1;
		}
		data = elf_getdata(elf_getscn(kelf->elf, i), NULL);
		if (!data) {
			ERROR("%s: %s: %s", kelf->path, sec->name,
			      elf_errmsg(-1));
			return -1;
		}
		for (j = 0; j < sec->nr_relas; j++) {
			struct rela *r = &sec->relas[j];
			GElf_Rela grela;
			size_t symndx;

			if (!gelf_getrela(data, j, &grela)) {
				ERROR("%s: %s: relocation %zu: %s", kelf->path,
				      sec->name, j, elf_errmsg(-1));
				return -1;
			}
			symndx = GELF_R_SYM(grela.r_info);
			if (symndx >= kelf->nr_syms) {
				ERROR("%s: %s: relocation %zu: symbol %zu out of range",
				      kelf->path, sec->name, j, symndx);
				return -1;
			}
			if (rela_out_of_bounds(kelf, sec->base, &grela)) {
				ERROR("%s: %s: relocation %zu at offset %#lx lies outside %s (size %#zx)",
				      kelf->path, sec->name, j,
				      (unsigned long)grela.r_offset,
				      sec->base->name, sec->base->size);
				return -1;
			}
			r->offset = grela.r_offset;
			r->type = GELF_R_TYPE(grela.r_info);
			r->addend = grela.r_addend;
			r->sym = &kelf->syms[symndx];
			r->in = sec->base;
		}
		qsort(sec->relas, sec->nr_relas, sizeof(*sec->relas),
		      cmp_rela_offset);
	}
	return 0;
}

struct kbp_elf *kbp_elf_open(const char *path, bool relocatable)
{
	struct kbp_elf *kelf = calloc(1, sizeof(*kelf));

	if (!kelf) {
		ERROR("out of memory");
		return NULL;
	}
	kelf->path = path;
	kelf->fd = open(path, O_RDONLY);
	if (kelf->fd < 0) {
		ERROR("%s: cannot open: %s", path, strerror(errno));
		free(kelf);
		return NULL;
	}
	elf_version(EV_CURRENT);
	kelf->elf = elf_begin(kelf->fd, ELF_C_READ_MMAP, NULL);
	if (!kelf->elf || elf_kind(kelf->elf) != ELF_K_ELF) {
		ERROR("%s: not an ELF file", path);
		goto fail;
	}
	if (!gelf_getehdr(kelf->elf, &kelf->ehdr)) {
		ERROR("%s: cannot read the ELF header: %s", path,
		      elf_errmsg(-1));
		goto fail;
	}
	if (kelf->ehdr.e_ident[EI_CLASS] != ELFCLASS64 ||
	    kelf->ehdr.e_machine != EM_X86_64 ||
	    (relocatable ? kelf->ehdr.e_type != ET_REL :
			   kelf->ehdr.e_type != ET_EXEC &&
			   kelf->ehdr.e_type != ET_REL)) {
		ERROR("%s: not an x86_64 ELF64 %s", path,
		      relocatable ? "relocatable object" : "kernel image");
		goto fail;
	}
	if (read_sections(kelf) || read_symbols(kelf) || read_relas(kelf))
		goto fail;
	return kelf;
fail:
	kbp_elf_close(kelf);
	return NULL;
}

void kbp_elf_close(struct kbp_elf *kelf)
{
	size_t i;

	if (!kelf)
		return;
	if (kelf->secs) {
		for (i = 0; i < kelf->nr_secs; i++) {
			free(kelf->secs[i].relas);
			free(kelf->secs[i].syms);
		}
	}
	free(kelf->secs);
	free(kelf->syms);
	strmap_free(&kelf->sec_by_name);
	strmap_free(&kelf->sym_by_name);
	if (kelf->elf)
		elf_end(kelf->elf);
	if (kelf->fd >= 0)
		close(kelf->fd);
	free(kelf);
}

struct section *kbp_find_section(const struct kbp_elf *kelf,
				 const char *name)
{
	return strmap_get(&kelf->sec_by_name, name);
}

struct symbol *kbp_find_symbol(const struct kbp_elf *kelf, const char *name)
{
	return strmap_get(&kelf->sym_by_name, name);
}

struct symbol *kbp_symbol_at(const struct section *sec, unsigned long offset)
{
	size_t lo = 0, hi = sec->nr_syms, looked = 0;
	struct symbol *best = NULL;

	/* lo becomes the number of symbols starting at or before offset. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sec->syms[mid]->sym.st_value <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	/*
	 * Walk back over the nearest symbols: an earlier, larger symbol may
	 * cover offset too. Sized objects and functions win over labels.
	 */
	while (lo > 0 && looked++ < 64) {
		struct symbol *sym = sec->syms[--lo];
		unsigned long start = sym->sym.st_value;

		if (offset < start + sym->sym.st_size ||
		    (offset == start && !sym->sym.st_size)) {
			if (sym->type == STT_FUNC || sym->type == STT_OBJECT)
				return sym;
			if (!best)
				best = sym;
		}
	}
	return best;
}

struct rela *kbp_relas_in(const struct section *sec, unsigned long start,
			  unsigned long end, size_t *count)
{
	const struct section *rsec = sec->rela;
	size_t lo = 0, hi, first;

	*count = 0;
	if (!rsec || !rsec->nr_relas)
		return NULL;
	hi = rsec->nr_relas;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (rsec->relas[mid].offset < start)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < rsec->nr_relas && rsec->relas[lo].offset < end)
		lo++;
	*count = lo - first;
	return *count ? &rsec->relas[first] : NULL;
}

/* Predicates on the model that every stage uses. */

bool is_init_section(const struct section *sec)
{
	return !strncmp(sec->name, ".init.", 6) ||
	       !strncmp(sec->name, ".exit.", 6) ||
	       !strcmp(sec->name, ".head.text");
}

bool is_runtime_const_section(const struct section *sec)
{
	return !strncmp(sec->name, RUNTIME_PTR_PREFIX,
			strlen(RUNTIME_PTR_PREFIX)) ||
	       !strncmp(sec->name, RUNTIME_SHIFT_PREFIX,
			strlen(RUNTIME_SHIFT_PREFIX));
}

bool is_cold_part(const struct symbol *sym)
{
	const char *p = strstr(sym->name, ".cold");

	return sym->type == STT_FUNC && p &&
	       (!p[5] || p[5] == '.');
}

/* The function a .cold part was split from (foo for foo.cold), or NULL. */
struct symbol *cold_parent(const struct kbp_elf *kelf, const struct symbol *cold)
{
	struct symbol *parent;
	const char *suffix;
	char *name;

	if (!is_cold_part(cold))
		return NULL;
	suffix = strstr(cold->name, ".cold");
	name = strndup(cold->name, suffix - cold->name);
	if (!name)
		return NULL;
	parent = kbp_find_symbol(kelf, name);
	free(name);
	return parent && parent->type == STT_FUNC ? parent : NULL;
}

/*
 * What a relocation points at, as a symbol and an offset into it. A
 * reference through a section symbol is turned into the symbol that
 * covers the target; with no such symbol the section itself is returned.
 */
struct symbol *rela_cover(const struct rela *rela, long *offset)
{
	struct symbol *sym = rela->sym, *cover;
	long target;

	*offset = rela->addend;
	if (sym->type != STT_SECTION || !sym->sec)
		return sym;
	if (is_string_section(sym->sec))
		return sym;
	target = rela_target_offset(rela);
	cover = target >= 0 ? kbp_symbol_at(sym->sec, target) : NULL;
	if (!cover && target != rela->addend && rela->addend >= 0)
		cover = kbp_symbol_at(sym->sec, rela->addend);
	if (!cover)
		return sym;
	*offset = wrap_sub(rela->addend, (long)cover->sym.st_value);
	return cover;
}
