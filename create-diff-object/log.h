/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log.h - logging shared by the kbuild-patch C tools.
 *
 * The only mutable global state in the tools: the program name and the
 * debug switch, set once by main().
 */
#ifndef KBP_LOG_H
#define KBP_LOG_H

#include <stdbool.h>

extern const char *kbp_progname;
extern bool kbp_debug;

void kbp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kbp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kbp_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ERROR(fmt, ...)	kbp_err(fmt, ##__VA_ARGS__)
#define WARN(fmt, ...)	kbp_warn(fmt, ##__VA_ARGS__)
#define DEBUG(fmt, ...)	kbp_dbg(fmt, ##__VA_ARGS__)

#endif
