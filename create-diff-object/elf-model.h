/* SPDX-License-Identifier: GPL-2.0 */
/*
 * elf-model.h - the in-memory model of a relocatable x86_64 object that
 * every stage of create-diff-object works on: sections, symbols and
 * relocations, linked to each other, with name lookups through hash maps.
 */
#ifndef KBP_ELF_MODEL_H
#define KBP_ELF_MODEL_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>

#include "strmap.h"

/* No section of a kernel object is aligned to more than a huge page. */
#define KBP_MAX_ALIGN	(1UL << 21)

enum kbp_status {
	ST_UNKNOWN = 0,
	ST_SAME,	/* has a twin with identical contents */
	ST_CHANGED,	/* has a twin that differs */
	ST_NEW,		/* has no twin */
};

struct symbol;

struct section;

struct rela {
	unsigned long offset;
	unsigned int type;
	long addend;
	struct symbol *sym;
	struct section *in;	/* the section holding the relocated field */
};

struct section {
	const char *name;
	size_t index;
	GElf_Shdr sh;
	unsigned char *data;	/* NULL for SHT_NOBITS */
	size_t size;

	struct section *rela;	/* .rela section applying to this one */
	struct section *base;	/* for a .rela section: its target */
	struct rela *relas;	/* for a .rela section, sorted by offset */
	size_t nr_relas;

	struct symbol *secsym;	/* the STT_SECTION symbol, if any */
	struct symbol **syms;	/* defined non-section symbols, by value */
	size_t nr_syms;

	struct section *twin;
	bool include;
	bool ignore;	/* KBP_IGNORE_SECTION: never carried */
};

struct symbol {
	const char *name;
	size_t index;
	GElf_Sym sym;
	unsigned char type;
	unsigned char bind;
	struct section *sec;	/* NULL if undefined, absolute, common */
	const char *file;	/* for locals: the STT_FILE they follow */

	struct symbol *twin;
	enum kbp_status status;
	bool include;
	bool by_use_only;	/* a static local: never paired by name alone */
	bool fresh;		/* per-site state: a new copy, never paired */
	/* A changed function ftrace can't redirect: carried as new code. */
	bool untraceable;
	/* Unchanged, but patched so that it calls an untraceable callee's
	 * new copy. */
	bool patch_caller;
	/* For a patched or carried caller: the untraceable callee. */
	const char *untraceable_callee;
};

struct kbp_elf {
	const char *path;
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;

	struct section *secs;	/* indexed by section index */
	size_t nr_secs;
	struct symbol *syms;	/* indexed by symbol index */
	size_t nr_syms;
	const char *file;	/* the first STT_FILE name, or NULL */

	struct strmap sec_by_name;
	struct strmap sym_by_name;
};

/* relocatable: an ET_REL object; else also an ET_EXEC vmlinux. */
struct kbp_elf *kbp_elf_open(const char *path, bool relocatable);
void kbp_elf_close(struct kbp_elf *kelf);

struct section *kbp_find_section(const struct kbp_elf *kelf,
				 const char *name);
/* The first symbol with this name; see strmap_next() for the others. */
struct symbol *kbp_find_symbol(const struct kbp_elf *kelf, const char *name);
/* The defined symbol of sec that covers offset, or NULL. */
struct symbol *kbp_symbol_at(const struct section *sec, unsigned long offset);
/* The relocations of sec within [start, end). */
struct rela *kbp_relas_in(const struct section *sec, unsigned long start,
			  unsigned long end, size_t *count);

static inline bool is_text_section(const struct section *sec)
{
	return sec->sh.sh_type == SHT_PROGBITS &&
	       (sec->sh.sh_flags & SHF_EXECINSTR);
}

static inline bool is_rela_section(const struct section *sec)
{
	return sec->sh.sh_type == SHT_RELA;
}

bool is_string_section(const struct section *sec);
bool is_pcrel_type(unsigned int type);
/*
 * The offset into the relocation's symbol that it really refers to. A
 * PC-relative field in code is followed by the rest of its instruction
 * (an immediate), which the assembler subtracted from the addend.
 */
long rela_target_offset(const struct rela *rela);
/* The symbol (and offset into it) that a relocation's target lies in. */
struct symbol *rela_cover(const struct rela *rela, long *offset);
/* A gcc .cold part (foo.cold), and the function it was split from. */
bool is_cold_part(const struct symbol *sym);
struct symbol *cold_parent(const struct kbp_elf *kelf,
			    const struct symbol *cold);
/* .init.*, .exit.* and .head.text: code that runs once or never again. */
bool is_init_section(const struct section *sec);
/*
 * runtime_ptr_NAME and runtime_shift_NAME: the tables of boot-time
 * constants (arch/x86/include/asm/runtime-const.h) that the kernel
 * patches into its own code at boot, never into a module's.
 */
#define RUNTIME_PTR_PREFIX	"runtime_ptr_"
#define RUNTIME_SHIFT_PREFIX	"runtime_shift_"
bool is_runtime_const_section(const struct section *sec);

/*
 * Offsets and addends from the input are any 64-bit values in a corrupt
 * object: sums of them wrap (two's complement) instead of overflowing.
 */
static inline long wrap_add(long a, long b)
{
	return (long)((unsigned long)a + (unsigned long)b);
}

static inline long wrap_sub(long a, long b)
{
	return (long)((unsigned long)a - (unsigned long)b);
}

#endif
