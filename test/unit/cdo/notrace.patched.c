// SPDX-License-Identifier: GPL-2.0
/* notrace: the patch changes a function that has no fentry call. */
#define notrace __attribute__((__no_instrument_function__))

notrace int notrace_count(const int *v, int n)
{
	int i, sum = 0;

	for (i = 0; i < n; i++)
		sum += v[i] * 2;
	return sum;
}

int notrace_traced(const int *v)
{
	return v[0] + v[1];
}
