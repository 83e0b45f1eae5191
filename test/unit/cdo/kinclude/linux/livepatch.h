/* SPDX-License-Identifier: GPL-2.0 */
/* A stand-in for <linux/livepatch.h> (unit tests; see compiler.h). */
#ifndef _KBP_FAKE_LIVEPATCH_H
#define _KBP_FAKE_LIVEPATCH_H
#include <linux/compiler.h>

struct klp_object {
	const char *name;
};

struct klp_state {
	unsigned long id;
	unsigned int version;
	void *data;
};

void *klp_shadow_get(void *obj, unsigned long id);
void klp_shadow_free_all(unsigned long id, void (*dtor)(void *, void *));
#endif
