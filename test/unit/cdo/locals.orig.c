// SPDX-License-Identifier: GPL-2.0
/*
 * locals: function-local statics. gcc names them NAME.N, numbering them
 * in the order it emits them, so the new static of locals_seen() renumbers
 * the unchanged locals_count()'s counter from calls.0 to calls.1.
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
