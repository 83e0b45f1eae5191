// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - error, warning and debug output for the kbuild-patch C tools.
 * Messages go to stderr, prefixed with the program name.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

const char *kbp_progname = "kbuild-patch";
bool kbp_debug;
unsigned int kbp_internal_errors;

static void vlog(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", kbp_progname, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void kbp_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void kbp_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void kbp_dbg(const char *fmt, ...)
{
	va_list ap;

	if (!kbp_debug)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

void kbp_internal(const char *fmt, ...)
{
	va_list ap;

	kbp_internal_errors++;
	va_start(ap, fmt);
	vlog("internal error: ", fmt, ap);
	va_end(ap);
}

void kbp_internal_hint(void)
{
	fprintf(stderr, "%s: internal error: this is a bug in kbuild-patch, not in the patch or the kernel; please report it, with the build log\n",
		kbp_progname);
}
