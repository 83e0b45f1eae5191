// SPDX-License-Identifier: GPL-2.0
/* owned.c - see owned.h. */
#include <stdlib.h>

#include "log.h"
#include "owned.h"

void *owned_keep(struct owned *o, void *p)
{
	void **a;

	if (!p) {
		ERROR("out of memory");
		return NULL;
	}
	a = realloc(o->ptrs, (o->nr + 1) * sizeof(*a));
	if (!a) {
		free(p);
		ERROR("out of memory");
		return NULL;
	}
	o->ptrs = a;
	a[o->nr++] = p;
	return p;
}

void owned_free(struct owned *o)
{
	size_t i;

	for (i = 0; i < o->nr; i++)
		free(o->ptrs[i]);
	free(o->ptrs);
	o->ptrs = NULL;
	o->nr = 0;
}
