/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-macros.h - for patches written for kpatch-build: the same
 * header as kbuild-patch.h, which also defines kpatch-build's names
 * (patch_object, KPATCH_PRE_PATCH_CALLBACK, KPATCH_IGNORE_FUNCTION, ...).
 */
#include "kbuild-patch.h"
