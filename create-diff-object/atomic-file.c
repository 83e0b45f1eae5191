// SPDX-License-Identifier: GPL-2.0
/*
 * atomic-file.c - output files renamed into place whole (atomic-file.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "log.h"

int atomic_file_open(struct atomic_file *af, const char *path)
{
	af->path = path;
	af->stream = NULL;
	af->fd = -1;
	if (asprintf(&af->tmp, "%s.%s.XXXXXX", path, kbp_progname) < 0) {
		af->tmp = NULL;
		ERROR("%s: out of memory", path);
		return -1;
	}
	af->fd = mkstemp(af->tmp);
	if (af->fd < 0) {
		ERROR("%s: cannot create a temporary file next to it: %s",
		      path, strerror(errno));
		free(af->tmp);
		af->tmp = NULL;
		return -1;
	}
	return 0;
}

FILE *atomic_file_stream(struct atomic_file *af)
{
	if (!af->stream) {
		af->stream = fdopen(af->fd, "w");
		if (!af->stream)
			ERROR("%s: %s", af->tmp, strerror(errno));
	}
	return af->stream;
}

mode_t atomic_file_new_mode(mode_t mode)
{
	/* Read the umask by setting it: the tools are single-threaded. */
	mode_t mask = umask(0);

	umask(mask);
	return mode & ~mask;
}

/* Closes the file (its stream, if any); 0, or -1 with the error reported. */
static int close_file(struct atomic_file *af)
{
	int ret = 0;

	if (af->stream) {
		if (fflush(af->stream) || fsync(af->fd)) {
			ERROR("%s: %s", af->tmp, strerror(errno));
			ret = -1;
		}
		if (fclose(af->stream) && !ret) {
			ERROR("%s: close: %s", af->tmp, strerror(errno));
			ret = -1;
		}
	} else if (af->fd >= 0) {
		if (fsync(af->fd)) {
			ERROR("%s: fsync: %s", af->tmp, strerror(errno));
			ret = -1;
		}
		if (close(af->fd) && !ret) {
			ERROR("%s: close: %s", af->tmp, strerror(errno));
			ret = -1;
		}
	}
	af->stream = NULL;
	af->fd = -1;
	return ret;
}

int atomic_file_commit(struct atomic_file *af, mode_t mode)
{
	int ret = 0;

	if (!af->tmp) {
		ERROR("%s: not open", af->path);
		return -1;
	}
	if (fchmod(af->fd, mode & 07777)) {
		ERROR("%s: chmod: %s", af->tmp, strerror(errno));
		ret = -1;
	}
	if (close_file(af))
		ret = -1;
	if (!ret && rename(af->tmp, af->path)) {
		ERROR("%s: rename: %s", af->path, strerror(errno));
		ret = -1;
	}
	if (ret)
		unlink(af->tmp);
	free(af->tmp);
	af->tmp = NULL;
	return ret;
}

void atomic_file_discard(struct atomic_file *af)
{
	/* Only an open file has a name: a zeroed struct has nothing. */
	if (!af->tmp)
		return;
	if (af->stream)
		fclose(af->stream);
	else if (af->fd >= 0)
		close(af->fd);
	af->stream = NULL;
	af->fd = -1;
	unlink(af->tmp);
	free(af->tmp);
	af->tmp = NULL;
}
