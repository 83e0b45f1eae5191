// SPDX-License-Identifier: GPL-2.0
/* sdata: the patch changes the initial value of a static variable. */
int sdata_limit = 10;
static int sdata_weight = 3;

int sdata_check(int n)
{
	return n * sdata_weight > sdata_limit;
}

void sdata_tune(int w)
{
	sdata_weight = w;
}
