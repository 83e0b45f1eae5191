// SPDX-License-Identifier: GPL-2.0
/* layout: the patch adds a field to an existing global object. */
struct layout_stats {
	long hits;
	long misses;
};

struct layout_stats layout_stats = { 1, 2 };

long layout_ratio(void)
{
	return layout_stats.hits - layout_stats.misses;
}
