// SPDX-License-Identifier: GPL-2.0
/*
 * untraceable_ptr: a changed static function without an fentry call
 * whose address is also stored in data: the running kernel would keep
 * calling the old copy through the pointer, so the patch is refused.
 */
#define notrace __attribute__((__no_instrument_function__))
#define noipa __attribute__((__noipa__))

static noipa notrace int untp_body(int x)
{
	return x + 2;
}

int (*untp_hook)(int) = untp_body;

int untp_call(int x)
{
	return untp_body(x) * 2;
}
