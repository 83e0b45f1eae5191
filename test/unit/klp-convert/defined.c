/*
 * defined.c - a symbol named like a livepatch symbol but defined in the
 * module. Livepatch symbols must be undefined, so klp-convert refuses it.
 */
int klp_defined __asm__("KLP_defined") = 1;

int reads_defined(void)
{
	return klp_defined;
}
