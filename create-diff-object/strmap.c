// SPDX-License-Identifier: GPL-2.0
/*
 * strmap.c - chained string hash multimap (FNV-1a) used for symbol and
 * section lookups by name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strmap.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

int strmap_init(struct strmap *map, size_t expected)
{
	size_t n = 64;

	while (n < expected * 2)
		n <<= 1;
	map->buckets = calloc(n, sizeof(*map->buckets));
	if (!map->buckets) {
		ERROR("out of memory");
		return -1;
	}
	map->nr_buckets = n;
	map->nr_entries = 0;
	return 0;
}

void strmap_free(struct strmap *map)
{
	size_t i;

	if (!map->buckets)
		return;
	for (i = 0; i < map->nr_buckets; i++) {
		struct strmap_entry *e = map->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(map->buckets);
	map->buckets = NULL;
}

int strmap_add(struct strmap *map, const char *key, void *value)
{
	struct strmap_entry *e = malloc(sizeof(*e));
	size_t b;

	if (!e) {
		ERROR("out of memory");
		return -1;
	}
	b = hash_str(key) & (map->nr_buckets - 1);
	e->key = key;
	e->value = value;
	e->next = map->buckets[b];
	map->buckets[b] = e;
	map->nr_entries++;
	return 0;
}

void *strmap_next(const struct strmap *map, const char *key,
		  struct strmap_entry **it)
{
	struct strmap_entry *e;

	if (!map->buckets)
		return NULL;
	e = *it ? (*it)->next :
		  map->buckets[hash_str(key) & (map->nr_buckets - 1)];
	for (; e; e = e->next) {
		if (!strcmp(e->key, key)) {
			*it = e;
			return e->value;
		}
	}
	*it = NULL;
	return NULL;
}

void *strmap_get(const struct strmap *map, const char *key)
{
	struct strmap_entry *it = NULL;

	return strmap_next(map, key, &it);
}
