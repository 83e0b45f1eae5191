// SPDX-License-Identifier: GPL-2.0
/*
 * coldstatic: the static local errors is used by coldst_check()'s hot
 * code in the original; the patch moves its only use into the unlikely
 * branch, which gcc splits off into coldst_check.cold. It is still the
 * same variable, and its state must carry over.
 */
void coldst_report(int x) __attribute__((cold));

int coldst_check(int x)
{
	static int errors;

	if (__builtin_expect(x > 1000, 0)) {
		errors++;
		coldst_report(errors);
		coldst_report(x + 1);
		return -1;
	}
	return x + 1;
}
