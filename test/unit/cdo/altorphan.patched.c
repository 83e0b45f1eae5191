// SPDX-License-Identifier: GPL-2.0
/*
 * altorphan: a notrace body whose label is the target of code in
 * .altinstr_replacement that no .altinstructions entry owns, so no
 * function can be patched in its place: refused (exit 2), not an error.
 */
#define notrace __attribute__((__no_instrument_function__))
#define noipa __attribute__((__noipa__))

static noipa notrace int alto_body(int v)
{
	asm goto(".pushsection .altinstr_replacement,\"ax\"\n"
		 " jmp %l[out]\n"
		 ".popsection\n"
		 : : : : out);
	return v + 2;
out:
	return 0;
}

int alto_caller(int v)
{
	return alto_body(v) * 2;
}
