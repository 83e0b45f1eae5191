/* SPDX-License-Identifier: GPL-2.0 */
/*
 * owned.h - buffers that a stage allocates as it goes and frees together
 * at its end (names of the output, rewritten code).
 */
#ifndef KBP_OWNED_H
#define KBP_OWNED_H

#include <stddef.h>

struct owned {
	void **ptrs;
	size_t nr;
};

/*
 * Takes p into o and returns it. NULL when p is NULL (a failed allocation
 * of the caller's) or o can't grow, with p freed: callers check once.
 */
void *owned_keep(struct owned *o, void *p);
/* Frees every buffer of o; o is empty again. */
void owned_free(struct owned *o);

#endif
