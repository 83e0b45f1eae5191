// SPDX-License-Identifier: GPL-2.0
/*
 * vermagic.c - the vermagic probe. kbuild-patch compiles it to assembly
 * in the prepared kernel tree, once per tree, and reads the string after
 * "KBP_VERMAGIC ": the vermagic a module built there gets. For a stock
 * kernel it must be the one of the kernel's own modules; if not, the
 * tree is not the kernel's (another source, or a config olddefconfig
 * had to change) and no module is built.
 */
#define INCLUDE_VERMAGIC
#include <linux/module.h>
#include <linux/vermagic.h>

const char kbp_vermagic[] = "KBP_VERMAGIC " VERMAGIC_STRING;
