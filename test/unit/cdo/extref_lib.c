// SPDX-License-Identifier: GPL-2.0
/* extref_lib: the rest of the fake kernel that extref.c calls into. */
struct kernel_symbol {
	int value_offset;
	int name_offset;
	int namespace_offset;
};

int extref_exported(int x)
{
	return x + 1;
}

int extref_ksymtab(int x)
{
	return x + 2;
}

int extref_ns_fn(int x)
{
	return x + 3;
}

int extref_unexported(int x)
{
	return x + 4;
}

/* What EXPORT_SYMBOL(extref_ksymtab) leaves in vmlinux. */
const struct kernel_symbol __ksymtab_extref_ksymtab
	__attribute__((__section__("___ksymtab+extref_ksymtab"), __used__)) = { 0 };
