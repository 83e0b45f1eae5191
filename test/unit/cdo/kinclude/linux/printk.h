/* SPDX-License-Identifier: GPL-2.0 */
/* A stand-in for <linux/printk.h> (unit tests; see compiler.h). */
#ifndef _KBP_FAKE_PRINTK_H
#define _KBP_FAKE_PRINTK_H
#include <linux/compiler.h>

typedef __builtin_va_list va_list;
#define va_start(v, l)	__builtin_va_start(v, l)
#define va_end(v)	__builtin_va_end(v)

__printf(1, 0) int vprintk(const char *fmt, va_list args);
__printf(1, 2) __cold int _printk(const char *fmt, ...);
#define printk(fmt, ...) _printk(fmt, ##__VA_ARGS__)
#endif
