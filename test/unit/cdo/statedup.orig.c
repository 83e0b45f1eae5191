// SPDX-License-Identifier: GPL-2.0
/*
 * statedup: the patch declares one state id twice, at two versions, and
 * changes a function.
 */
int sd_fn(int x)
{
	return x;
}
