/* SPDX-License-Identifier: GPL-2.0 */
/*
 * readfile.h - reads a whole text file (Module.symvers, name lists) into
 * a NUL-terminated buffer for the kbuild-patch C tools.
 */
#ifndef KBP_READFILE_H
#define KBP_READFILE_H

#include <stddef.h>

/* The file's contents, NUL-terminated, or NULL after an error message. */
char *kbp_read_file(const char *path, const char *what, size_t *len);

#endif
