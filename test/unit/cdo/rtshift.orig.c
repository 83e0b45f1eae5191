// SPDX-License-Identifier: GPL-2.0
/*
 * rtshift: a changed function that uses a boot-time shift, as d_hash()
 * uses d_hash_shift; a module can't load it into the 3-byte shrl.
 */
#include <asm/runtime-const.h>

static unsigned int rts_shift __attribute__((__used__));
static unsigned long *rts_table __attribute__((__used__));

unsigned long *rts_hash(unsigned int hashlen)
{
	return runtime_const_ptr(rts_table) +
	       runtime_const_shift_right_32(hashlen, rts_shift);
}
