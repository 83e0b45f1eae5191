// SPDX-License-Identifier: GPL-2.0
/*
 * renum_peer: another file whose static locals are spelled like renum's
 * (hits.0, hits.1), so that the running kernel has each name twice.
 */
int peer_add(int x)
{
	static int hits;

	hits += x;
	return hits;
}

int peer_inc(int x)
{
	static int hits;

	return ++hits - x;
}
