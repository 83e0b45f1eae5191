// SPDX-License-Identifier: GPL-2.0
/*
 * altbody: a notrace body, like a syscall's __do_sys_*, whose code has
 * special-section entries as the kernel writes them: a static_cpu_has()
 * (an .altinstructions entry whose .altinstr_replacement jumps back into
 * the body, and an .altinstr_aux test that jumps back too), a user
 * access with its __ex_table entry, and a static branch (__jump_table).
 * The patch changes the body: it is carried as new code, and its entries
 * must come with it, pointing into the new copy. altb_via_alt() calls
 * the body only from an alternative's replacement, so it is a caller.
 */
#define notrace __attribute__((__no_instrument_function__))
#define noipa __attribute__((__noipa__))
#define always_inline inline __attribute__((__always_inline__))

struct static_key {
	int enabled;
};

unsigned char kbp_cpu_caps[8];
struct static_key kbp_key;

/* arch/x86/include/asm/cpufeature.h, _static_cpu_has() */
static always_inline int feature(void)
{
	asm goto("1: jmp 6f\n"
		 "2:\n"
		 ".pushsection .altinstructions,\"a\"\n"
		 " .long 1b - .\n"
		 " .long 3f - .\n"
		 " .4byte 0x10\n"
		 " .byte 2b - 1b\n"
		 " .byte 4f - 3f\n"
		 ".popsection\n"
		 ".pushsection .altinstr_replacement,\"ax\"\n"
		 "3: jmp %l[t_no]\n"
		 "4:\n"
		 ".popsection\n"
		 ".pushsection .altinstr_aux,\"ax\"\n"
		 "6: testb $1, kbp_cpu_caps(%%rip)\n"
		 " jnz %l[t_yes]\n"
		 " jmp %l[t_no]\n"
		 ".popsection\n"
		 : : : : t_yes, t_no);
t_yes:
	return 1;
t_no:
	return 0;
}

/* arch/x86/include/asm/jump_label.h, arch_static_branch() */
static always_inline int branch(struct static_key *key)
{
	asm goto("1: .byte 0x0f,0x1f,0x44,0x00,0x00\n"
		 ".pushsection __jump_table, \"aw\"\n"
		 " .balign 8\n"
		 " .long 1b - .\n"
		 " .long %l[l_yes] - .\n"
		 " .quad %c0 - .\n"
		 ".popsection\n"
		 : : "i" (key) : : l_yes);
	return 0;
l_yes:
	return 1;
}

/* A user access: a fault goes to the fixup through __ex_table. */
static always_inline int get(const int *p, int *v)
{
	int err = 0;

	asm volatile("1: movl (%2), %1\n"
		     "2:\n"
		     ".pushsection __ex_table,\"a\"\n"
		     " .balign 4\n"
		     " .long 1b - .\n"
		     " .long 2b - .\n"
		     " .long 3\n"
		     ".popsection\n"
		     : "+r" (err), "=r" (*v) : "r" (p));
	return err;
}

static noipa notrace int altb_body(const int *p)
{
	int v = 0;

	if (get(p, &v))
		return -14;
	if (feature())
		v += 20;
	if (branch(&kbp_key))
		v += 4;
	return v;
}

int altb_direct(const int *p)
{
	return altb_body(p) + 1;
}

int altb_via_alt(const int *p)
{
	int ret;

	asm volatile("1: call altb_plain\n"
		     "2:\n"
		     ".pushsection .altinstructions,\"a\"\n"
		     " .long 1b - .\n"
		     " .long 3f - .\n"
		     " .4byte 0x11\n"
		     " .byte 2b - 1b\n"
		     " .byte 4f - 3f\n"
		     ".popsection\n"
		     ".pushsection .altinstr_replacement,\"ax\"\n"
		     "3: call %c[body]\n"
		     "4:\n"
		     ".popsection\n"
		     : "=a" (ret) : "D" (p), [body] "i" (altb_body)
		     : "memory", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11");
	return ret;
}

int altb_plain(const int *p)
{
	return feature() ? p[0] : p[1];
}
