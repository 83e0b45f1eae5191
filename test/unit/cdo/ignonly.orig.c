// SPDX-License-Identifier: GPL-2.0
/*
 * ignonly: the patch changes only a function it ignores
 * (KPATCH_IGNORE_FUNCTION, kpatch-build's name, through kpatch-macros.h)
 * and one in a section it ignores.
 */
int ign_fn(int x)
{
	return x * 3;
}

int ign_sec(int x)
{
	return x * 5;
}
