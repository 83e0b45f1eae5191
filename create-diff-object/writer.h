/* SPDX-License-Identifier: GPL-2.0 */
/*
 * writer.h - the diff object as it is assembled before it is written:
 * its sections, relocations and symbols (struct writer), shared by the
 * files of the output stage:
 *   output.c          the sections and symbols carried from the patched
 *                     object, and the order of the steps (write_output);
 *   output-syms.c     references to what stays in the kernel: exported
 *                     symbols and .klp.sym.OBJ.NAME,POS with its sympos;
 *   output-relas.c    the relocations, mapped to the output's symbols
 *                     and to compacted special sections;
 *   output-manifest.c the patched functions' aliases and the manifest;
 *   elf-writer.c      the ELF file itself (libelf).
 */
#ifndef KBP_WRITER_H
#define KBP_WRITER_H

#include <stdbool.h>
#include <stdio.h>

#include "diff.h"
#include "strmap.h"

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
	struct owned names;	/* allocated names, freed at the end */
	FILE *manifest;
	bool warned_no_symbols;
};

/* output.c: names kept until the end; the output's symbols. */
char *keep_name(struct writer *w, char *name);
long add_sym(struct writer *w, const char *name, unsigned char bind,
	     unsigned char type, size_t sec, unsigned long value,
	     unsigned long size);
/* output-syms.c */
long lookup_sympos(struct writer *w, const struct symbol *sym,
		   const struct kbp_elf *obj, const struct section *from);
long external_sym(struct writer *w, struct symbol *sym,
		  const struct section *from);
/* output-relas.c */
int map_relas(struct writer *w, struct out_sec *os);
int add_static_call_keys(struct writer *w);
/* output-manifest.c */
int add_patched_functions(struct writer *w);
int add_macro_aliases(struct writer *w);
int write_manifest_extras(struct writer *w);
/* elf-writer.c */
int write_elf(struct writer *w, int fd, const char *path);

#endif
