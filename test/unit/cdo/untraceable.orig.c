// SPDX-License-Identifier: GPL-2.0
/*
 * untraceable: the patch changes a static function without an fentry
 * call, like a syscall's __do_sys_* body. It is carried as new code and
 * reached through its callers: a traceable one directly, and another
 * through an untraceable middle function.
 */
#define notrace __attribute__((__no_instrument_function__))
#define noipa __attribute__((__noipa__))

static noipa notrace int untr_body(const int *v, int n)
{
	int i, sum = 0;

	for (i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

static noipa notrace int untr_middle(const int *v)
{
	return untr_body(v, 4) + 1;
}

int untr_direct(const int *v)
{
	return untr_body(v, 2);
}

int untr_outer(const int *v)
{
	return untr_middle(v) * 3;
}

int untr_unrelated(const int *v)
{
	return v[0] - v[1];
}
