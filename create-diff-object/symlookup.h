/* SPDX-License-Identifier: GPL-2.0 */
/*
 * symlookup.h - the running kernel's symbols: which symbols are exported
 * (Module.symvers, __ksymtab_*) and the sympos of a local symbol, as
 * kallsyms counts it.
 */
#ifndef KBP_SYMLOOKUP_H
#define KBP_SYMLOOKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "elf-model.h"
#include "strmap.h"

struct kbp_ksym {
	const char *name;
	unsigned long addr;
	unsigned char type;	/* STT_* */
	bool global;
	size_t file_id;		/* which STT_FILE block the symbol is in */
	size_t ord;		/* rank among functions (by_neighbours) */
};

struct kbp_symbols {
	const char *path;
	struct kbp_elf *elf;	/* vmlinux, or NULL for a kallsyms dump */
	struct kbp_ksym *syms;
	size_t nr_syms;
	const char **files;	/* file_id -> file name */
	size_t nr_files;
	struct strmap by_name;
	/*
	 * A module (ET_REL) counts same-named symbols in symtab order, as
	 * module kallsyms does; vmlinux counts them by address.
	 */
	bool by_index;
	/* Loaded from a /proc/kallsyms dump: no files, no ELF. */
	bool kallsyms;
	/*
	 * No STT_FILE symbols (a kallsyms dump, or a module shipped without
	 * them, as Debian's are): a local is told apart by its neighbours.
	 */
	bool by_neighbours;
	char *buf;
};

struct kbp_symvers {
	struct strmap by_name;	/* name -> module name ("vmlinux"...) */
	struct strmap crcs;	/* name -> its CRC, as written ("0x1234abcd") */
	char *buf;
};

/* path: a vmlinux or module with symbols, or a /proc/kallsyms dump. */
struct kbp_symbols *kbp_symbols_load(const char *path);
void kbp_symbols_free(struct kbp_symbols *ks);
struct kbp_symvers *kbp_symvers_load(const char *path);
void kbp_symvers_free(struct kbp_symvers *sv);

/*
 * Whether exporter, as Module.symvers names a module ("net/smc/smc",
 * "drivers/net/foo-bar"), is the module modname (its KBUILD_MODNAME:
 * "smc", "foo_bar").
 */
bool kbp_is_module(const char *exporter, const char *modname);

/* The module exporting name, or NULL. */
const char *kbp_exported_by(const struct kbp_symvers *sv,
			    const struct kbp_symbols *ks, const char *name);

/*
 * The kallsyms position of sym (a symbol of the object obj) in the
 * running kernel or module: 0 when the name is unique, else its 1-based
 * rank among the same-named symbols. Returns -1 when the symbol
 * can't be found and -2 when it can't be told apart.
 */
long kbp_sympos(const struct kbp_symbols *ks, const struct kbp_elf *obj,
		const struct symbol *sym);

#endif
