/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz-common.h - shared by the libFuzzer harnesses of test/fuzz/: a
 * private scratch directory for the input and output files, and the
 * check that a tool's main() returned one of its documented codes.
 * The tools take file names, so each input is written to a file on
 * tmpfs and the tool's own main() runs on it, in process.
 */
#ifndef KBP_FUZZ_COMMON_H
#define KBP_FUZZ_COMMON_H

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* No output of a tool needs more: a bigger one is a bug, not a disk. */
#define FUZZ_MAX_FILE	(64UL << 20)

static char fuzz_dir[256];

/* At exit: remove the scratch files (fork mode starts many processes). */
static void fuzz_cleanup(void)
{
	static const char *const names[] = { "in.o", "out.o", "manifest",
					     "in.ko", "out.ko" };
	char path[300];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, names[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

/* $TMPDIR-independent scratch dir, on tmpfs when there is one. */
static inline const char *fuzz_scratch(void)
{
	char *dir = fuzz_dir;
	const char *base;

	struct rlimit rl = { FUZZ_MAX_FILE, FUZZ_MAX_FILE };

	if (dir[0])
		return dir;
	/* Past the limit, write() fails with EFBIG: an error path. */
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl)) {
		perror("setrlimit");
		abort();
	}
	base = access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm";
	snprintf(dir, sizeof(fuzz_dir), "%s/kbp-fuzz.%d", base, (int)getpid());
	if (mkdir(dir, 0700) && access(dir, W_OK)) {
		perror(dir);
		abort();
	}
	atexit(fuzz_cleanup);
	return dir;
}

static inline void fuzz_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", fuzz_scratch(), name);
}

static inline void fuzz_write(const char *path, const unsigned char *data,
			      size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t done = 0;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n <= 0) {
			perror(path);
			abort();
		}
		done += n;
	}
	close(fd);
}

/*
 * An exit code above max (one no input may cause: undocumented, or 4, an
 * internal error) is a bug, like a crash.
 */
static inline void fuzz_check_status(const char *tool, int ret, int max)
{
	if (ret < 0 || ret > max) {
		fprintf(stderr, "%s returned %d, not a documented exit code\n",
			tool, ret);
		abort();
	}
}

/* getopt keeps its state in globals: start over for each run. */
static inline void fuzz_reset_getopt(void)
{
	optind = 0;
	opterr = 0;
}

#endif
