// SPDX-License-Identifier: GPL-2.0
/* ignonly: see ignonly.orig.c. */
#include "kpatch-macros.h"

int ign_fn(int x)
{
	return x * 3 + 1;
}
KPATCH_IGNORE_FUNCTION(ign_fn);

int ign_sec(int x)
{
	return x * 5 + 1;
}
KBP_IGNORE_SECTION(".text.ign_sec");
