// SPDX-License-Identifier: GPL-2.0
/*
 * readfile.c - reads a whole text file into memory for the parsers of
 * Module.symvers and of the name lists that kbuild-patch passes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "readfile.h"

char *kbp_read_file(const char *path, const char *what, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long size;

	if (!f) {
		ERROR("%s: cannot read %s: %s", path, what, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		ERROR("%s: cannot read %s", path, what);
		goto out;
	}
	buf = malloc(size + 1);
	if (!buf) {
		ERROR("out of memory");
		goto out;
	}
	if (fread(buf, 1, size, f) != (size_t)size) {
		ERROR("%s: cannot read %s", path, what);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[size] = 0;
	if (len)
		*len = size;
out:
	fclose(f);
	return buf;
}
