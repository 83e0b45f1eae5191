/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - logging shared by the kbuild-patch C tools.
 *
 * The only mutable global state in the tools: the program name and the
 * debug switch, set once by main(), and the count of internal errors
 * reported, which main() turns into exit status 4 (KBP_EXIT_INTERNAL).
 */
#ifndef KBP_LOG_H
#define KBP_LOG_H

#include <stdbool.h>

extern const char *kbp_progname;
extern bool kbp_debug;
/* Internal errors reported so far; main() resets it and reads it. */
extern unsigned int kbp_internal_errors;

void kbp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kbp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kbp_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * An inconsistency that can't happen if kbuild-patch's own logic is
 * right, whatever the input: "PROG: internal error: MSG". Counted, so
 * that main() exits 4 however the error travels up.
 */
void kbp_internal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Once, after internal errors: they are bugs, to be reported. */
void kbp_internal_hint(void);

#define ERROR(fmt, ...)	kbp_err(fmt, ##__VA_ARGS__)
#define WARN(fmt, ...)	kbp_warn(fmt, ##__VA_ARGS__)
#define DEBUG(fmt, ...)	kbp_dbg(fmt, ##__VA_ARGS__)
#define INTERNAL(fmt, ...)	kbp_internal(fmt, ##__VA_ARGS__)

#endif
