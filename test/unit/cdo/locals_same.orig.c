// SPDX-License-Identifier: GPL-2.0
/*
 * locals_same: like locals, but the new function-local static has the
 * same name as the one of the unchanged locals_count(): in the patched
 * object gcc calls the new one calls.0 and renames the old one calls.1.
 */
int locals_count(void)
{
	static int calls;

	return ++calls;
}

int locals_seen(int x)
{
	return x + 1;
}
