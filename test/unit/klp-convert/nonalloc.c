/*
 * nonalloc.c - a livepatch symbol referenced from a section that is not
 * SHF_ALLOC. The kernel never applies relocations to such sections, so
 * klp-convert must refuse the module.
 */
extern int klp_c_start(void) __asm__("KLP_vmlinux_c_start") __attribute__((weak));

int uses_c_start(void)
{
	return klp_c_start();
}

asm(".pushsection .klp_test_nonalloc,\"\",@progbits\n\t"
    ".quad KLP_vmlinux_c_start\n\t"
    ".popsection");
