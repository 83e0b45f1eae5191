/* SPDX-License-Identifier: GPL-2.0 */
/*
 * strmap.h - a string-keyed hash multimap. Symbol and section lookups by
 * name go through it; kernel objects have tens of thousands of symbols.
 */
#ifndef KBP_STRMAP_H
#define KBP_STRMAP_H

#include <stddef.h>

struct strmap_entry {
	const char *key;
	void *value;
	struct strmap_entry *next;
};

struct strmap {
	struct strmap_entry **buckets;
	size_t nr_buckets;
	size_t nr_entries;
};

int strmap_init(struct strmap *map, size_t expected);
void strmap_free(struct strmap *map);
/* Adds key -> value; duplicate keys are kept, newest first. */
int strmap_add(struct strmap *map, const char *key, void *value);
/* The first (newest) value for key, or NULL. */
void *strmap_get(const struct strmap *map, const char *key);
/* Iterates over all values of key: start with it = NULL. */
void *strmap_next(const struct strmap *map, const char *key,
		  struct strmap_entry **it);

#endif
