/* SPDX-License-Identifier: GPL-2.0 */
/*
 * diff.h - the state shared by the create-diff-object stages (their
 * order: create-diff-object.c): correlation (correlate.c), change
 * detection (changes.c), the kbuild-patch.h markers (kbp-macros.c),
 * --explain (explain.c), inclusion (include.c, untraceable.c), special
 * sections (special.c), boot-time constants (runtime-const.c), symbol
 * lookup (symlookup.c), IBT (ibt.c) and the output (output.c and the
 * files writer.h lists).
 */
#ifndef KBP_DIFF_H
#define KBP_DIFF_H

#include "elf-model.h"
#include "owned.h"
#include "symlookup.h"

/* Exit codes of create-diff-object, also used by kbuild-patch. */
enum {
	KBP_EXIT_CHANGED = 0,
	KBP_EXIT_ERROR = 1,
	KBP_EXIT_UNSUPPORTED = 2,
	KBP_EXIT_NO_CHANGE = 3,
	/* An inconsistency of kbuild-patch's own logic (kbp_internal()):
	 * a bug to report, never a property of the input. */
	KBP_EXIT_INTERNAL = 4,
};

/* Returned by stages for an unsupported change (vs -1 for an error). */
#define KBP_UNSUPPORTED (-2)

/* The states of a special section entry: see diff_ctx.special_keep. */
enum {
	SPECIAL_DROPPED = 0,
	SPECIAL_KEPT = 1,
	SPECIAL_FOLLOWED = 2,
};

struct special_sizes {
	const char *name;
	size_t size;
};

/* A global alias that output.c gives a carried function. */
struct kbp_alias {
	struct symbol *sym;
	char *name;
};

struct diff_ctx {
	struct kbp_elf *orig;
	struct kbp_elf *patched;
	const char *objname;	/* "vmlinux" or the module name */
	const char *display;	/* object path used in messages */
	struct kbp_symbols *target;	/* the running kernel's symbols */
	struct kbp_symvers *symvers;	/* exported symbols */
	struct special_sizes *sizes;
	size_t nr_sizes;
	/* New global symbols of the other patched objects of this patch. */
	struct strmap new_globals;
	char *new_globals_buf;
	/* vmlinux.o, for the functions whose ENDBR objtool sealed (IBT). */
	struct kbp_elf *sealed_from;
	struct strmap sealed;
	bool explain;

	/* Per patched section index: the entry size and kept entries of a
	 * special section (of alternative code: 1, kept bytes), NULL for
	 * other sections. An entry is SPECIAL_DROPPED, SPECIAL_KEPT (what
	 * it refers to is still to be included) or SPECIAL_FOLLOWED. */
	size_t *special_entsize;
	unsigned char **special_keep;

	size_t nr_changed;
	size_t nr_new;

	/* kbp-macros.c: global aliases (callbacks) and manifest lines. */
	struct kbp_alias *aliases;
	size_t nr_aliases;
	struct owned macro_lines;	/* the manifest's lines, in order */

	/* runtime-const.c: rewritten code, relocations and symbols. */
	struct owned rc_allocs;
};

/* correlate.c */
int correlate(struct diff_ctx *ctx);
/* A function-scope static: a local object named NAME.<digits>. */
bool is_static_local(const struct symbol *sym);

/* changes.c */
int detect_changes(struct diff_ctx *ctx);
/* Whether two relocations (patched, orig) refer to the same thing. */
bool same_target(const struct rela *p, const struct rela *o);

/* explain.c (explain_changes: after the ignore markers are applied) */
void explain_changes(const struct diff_ctx *ctx);
void explain_change(const struct diff_ctx *ctx, const struct symbol *p,
		    const struct symbol *o);

/* untraceable.c */
int plan_untraceable(struct diff_ctx *ctx);
bool has_fentry(const struct symbol *func);

/* include.c */
int include_changes(struct diff_ctx *ctx);

/* special.c */
int special_sections_init(struct diff_ctx *ctx);
int special_sections_keep(struct diff_ctx *ctx, bool *changed);
int special_keep_group(struct diff_ctx *ctx, struct section *sec, size_t g);
bool is_special_section(const struct section *sec);
bool is_alt_code_section(const struct section *sec);
void alt_code_keep(struct diff_ctx *ctx, const struct section *from,
		   const struct rela *rela);
struct symbol *alt_code_owner(struct diff_ctx *ctx, const struct section *sec,
			      unsigned long off);
void special_sections_free(struct diff_ctx *ctx);

/* runtime-const.c: boot-time constants (runtime_ptr_*, runtime_shift_*) */
int runtime_const_rewrite(struct diff_ctx *ctx);
void runtime_const_free(struct diff_ctx *ctx);

/* kbp-macros.c: the markers of kmod/kbuild-patch.h */
int kbp_macros_apply(struct diff_ctx *ctx);
void kbp_macros_free(struct diff_ctx *ctx);

/* ibt.c */
int ibt_load_sealed(struct diff_ctx *ctx, const char *vmlinux_o);
void ibt_free_sealed(struct diff_ctx *ctx);
int ibt_check_reference(struct diff_ctx *ctx, const struct rela *rela,
			const struct symbol *target);

/* output.c */
int write_output(struct diff_ctx *ctx, const char *path,
		 const char *manifest);

#endif
