// SPDX-License-Identifier: GPL-2.0
/* statedup: see statedup.orig.c. */
#include "kbuild-patch.h"

int sd_fn(int x)
{
	return x + 1;
}

KBP_STATE(5, 1);
KBP_STATE(5, 2);
