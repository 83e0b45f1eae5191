/* SPDX-License-Identifier: GPL-2.0 */
/*
 * loadcheck.h - the build-time load check: does every symbol that the
 * kernel resolves when it loads a livepatch module resolve exactly once
 * in the target kernel? See loadcheck.c.
 */
#ifndef KBP_LOADCHECK_H
#define KBP_LOADCHECK_H

#include <stddef.h>

#include "elf-model.h"
#include "symlookup.h"

/* A module of the target: the livepatch object OBJNAME and its symbols. */
struct kbp_lc_module {
	const char *name;
	struct kbp_symbols *syms;
};

struct kbp_loadcheck {
	struct kbp_elf *ko;		/* the livepatch module, post-link */
	const char *display;		/* its name in messages */
	struct kbp_symbols *vmlinux;	/* vmlinux or a kallsyms dump */
	struct kbp_symvers *symvers;	/* Module.symvers, or NULL */
	struct kbp_lc_module *mods;	/* the target modules' symbols */
	size_t nr_mods;

	/* Results: symbols checked, and those that don't resolve. */
	size_t nr_klp, nr_funcs, nr_undef;
	size_t nr_failed;
};

/*
 * Checks the klp relocations' symbols and the undefined symbols of
 * lc->ko. Each symbol that doesn't resolve is reported with
 * kbp_internal() and counted in nr_failed. Returns -1 on an error of
 * the input (a klp symbol of a module that lc->mods lacks), else 0.
 */
int kbp_loadcheck_module(struct kbp_loadcheck *lc);

/*
 * Checks the functions of the klp_func tables: buf holds lines of
 * "OBJNAME<TAB>NAME<TAB>SYMPOS" (buf is modified). file names buf in
 * messages. Returns -1 on a malformed line, else 0.
 */
int kbp_loadcheck_funcs(struct kbp_loadcheck *lc, char *buf,
			const char *file);

#endif
