// SPDX-License-Identifier: GPL-2.0
/* data: the patch changes the initial value of existing writable data. */
int data_limit = 20;
static int data_weight = 3;

int data_check(int n)
{
	return n * data_weight > data_limit;
}

void data_tune(int w)
{
	data_weight = w;
}
