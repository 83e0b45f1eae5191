// SPDX-License-Identifier: GPL-2.0
/* staticcall_lib: the keys and trampolines that staticcall.c calls. */
struct static_call_key {
	void *func;
	unsigned long type;
};

struct static_call_key __SCK__sc_first, __SCK__sc_second;

int __SCT__sc_first(int x)
{
	return x;
}

int __SCT__sc_second(int x)
{
	return -x;
}
