/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klp-format.h: the livepatch ELF format that create-diff-object writes
 * and klp-convert and klp-loadcheck read (Documentation/livepatch/
 * module-elf-format.rst). One definition for all three programs.
 */
#ifndef KBP_KLP_FORMAT_H
#define KBP_KLP_FORMAT_H

#include <elf.h>

#ifndef SHN_LIVEPATCH
#define SHN_LIVEPATCH		0xff20
#endif
#ifndef SHF_RELA_LIVEPATCH
#define SHF_RELA_LIVEPATCH	0x00100000
#endif

/* A symbol of the patched kernel or module: .klp.sym.OBJNAME.SYMNAME,SYMPOS */
#define KLP_SYM_PREFIX		".klp.sym."
/* A relocation section the kernel applies: .klp.rela.OBJNAME.SECTION */
#define KLP_RELA_PREFIX		".klp.rela."
#define KLP_RELA_FLAGS		(SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH)
/* The field widths of the kernel's sscanf(): MODULE_NAME_LEN-1, KSYM_NAME_LEN-1 */
#define KLP_OBJNAME_MAX		55
#define KLP_SYMNAME_MAX		511
/* The largest section alignment the module loader is asked to honour. */
#define KLP_MAX_ALIGN		(1UL << 21)

/*
 * create-diff-object's global alias of each patched function
 * (__kbp_new_OBJ__FUNC__POS), which only links the module: klp-convert
 * resolves it.
 */
#define KBP_ALIAS_PREFIX	"__kbp_new_"

#endif
