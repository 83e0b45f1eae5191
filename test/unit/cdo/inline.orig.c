// SPDX-License-Identifier: GPL-2.0
/*
 * inline: a static inline helper inlined into two of three functions.
 * Changing the helper changes exactly its two callers.
 */
static inline __attribute__((always_inline)) int inline_scale(int x)
{
	return x * 3 + 1;
}

int inline_user_a(int x)
{
	return inline_scale(x) + 7;
}

int inline_user_b(int x, int y)
{
	return inline_scale(x) ^ y;
}

int inline_bystander(int x)
{
	return x - 11;
}
