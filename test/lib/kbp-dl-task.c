// SPDX-License-Identifier: GPL-2.0
/*
 * kbp-dl-task: a guest helper for the corpus (cold-hot). It makes itself
 * a SCHED_DEADLINE task (10 ms every 100 ms), then three times runs for
 * about 2 ms and sleeps 20 ms. A deadline task that blocks with
 * its 0-lag time still ahead goes through the timer path of the
 * scheduler's task_non_contending(). Built static on the host; busybox
 * has no way to ask for SCHED_DEADLINE. The test kernel has no
 * POSIX_TIMERS, so only CLOCK_MONOTONIC is there to time the run.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SCHED_DEADLINE 6
#define MS 1000000ULL

struct sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static int now_ns(uint64_t *ns)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		perror("kbp-dl-task: clock_gettime(CLOCK_MONOTONIC)");
		return -1;
	}
	*ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	return 0;
}

int main(void)
{
	struct sched_attr attr = {
		.size = sizeof(attr),
		.sched_policy = SCHED_DEADLINE,
		.sched_runtime = 10 * MS,
		.sched_deadline = 100 * MS,
		.sched_period = 100 * MS,
	};
	struct timespec nap = { 0, 20 * MS };
	uint64_t start, now;
	int i;

	if (syscall(SYS_sched_setattr, 0, &attr, 0)) {
		perror("kbp-dl-task: sched_setattr(SCHED_DEADLINE)");
		return 1;
	}
	for (i = 0; i < 3; i++) {
		if (now_ns(&start))
			return 1;
		do {
			if (now_ns(&now))
				return 1;
		} while (now - start < 2 * MS);
		nanosleep(&nap, NULL);
	}
	printf("kbp-dl-task: done\n");
	return 0;
}
