// SPDX-License-Identifier: GPL-2.0
/* coldstatic_lib: the cold function that coldstatic's unlikely branch calls. */
void coldst_report(int x) __attribute__((cold));

void coldst_report(int x)
{
	asm volatile("" : : "r"(x));
}
