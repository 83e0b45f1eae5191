/* SPDX-License-Identifier: GPL-2.0 */
/*
 * atomic-file.h - an output file that appears whole or not at all. It is
 * written to a temporary file in the same directory and renamed into
 * place on commit, so that an error or a kill half way never leaves a
 * partial file under its name. Shared by create-diff-object's output
 * (the diff object and the manifest) and klp-convert.
 */
#ifndef KBP_ATOMIC_FILE_H
#define KBP_ATOMIC_FILE_H

#include <stdio.h>
#include <sys/types.h>

struct atomic_file {
	const char *path;	/* the final name */
	char *tmp;		/* the temporary file, NULL once closed */
	int fd;
	FILE *stream;		/* atomic_file_stream()'s, if asked for */
};

/* Creates the temporary file; 0, or -1 with the error reported. */
int atomic_file_open(struct atomic_file *af, const char *path);
/* A stdio stream on the file (for text), NULL with the error reported. */
FILE *atomic_file_stream(struct atomic_file *af);
/* The mode open(2) would give a new file created with mode. */
mode_t atomic_file_new_mode(mode_t mode);
/*
 * Flushes, syncs and gives the file its mode, then renames it into
 * place. 0, or -1 with the error reported and the temporary file gone.
 */
int atomic_file_commit(struct atomic_file *af, mode_t mode);
/*
 * Removes the temporary file, if any is left: safe to call twice, or on
 * a zeroed struct that was never opened.
 */
void atomic_file_discard(struct atomic_file *af);

#endif
