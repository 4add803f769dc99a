/* Shared by the benchmarks (bench/common.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "banned.h"

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof *t, cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* `openssl speed -mr rsa2048`: "+F2:k:2048:SIGN/S:VERIFY/S". */
double bench_openssl_rsa2048(void)
{
	FILE *p = popen("taskset -c 0 openssl speed -seconds 3 -mr rsa2048 2>/dev/null "
			"|| openssl speed -seconds 3 -mr rsa2048 2>/dev/null",
			"r");
	char line[256];
	double sign = 0;
	while (p && fgets(line, sizeof line, p)) {
		unsigned k, bits;
		double s, v;
		if (sscanf(line, "+F2:%u:%u:%lf:%lf", &k, &bits, &s, &v) == 4 &&
		    bits == 2048)
			sign = s;
	}
	if (p)
		pclose(p);
	return sign;
}

double bench_fsync_rate(const char *dir, int block, int full)
{
	char path[400];
	char *buf = calloc(1, (size_t)block);
	snprintf(path, sizeof path, "%s/fsync-probe", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || buf == NULL) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	double t0 = bench_now(), t;
	long n = 0;
	do {
		if (pwrite(fd, buf, (size_t)block, 0) != (ssize_t)block ||
		    (full ? fsync(fd) : fdatasync(fd)) != 0)
			break;
		n++;
		t = bench_now();
	} while (t - t0 < 1.0);
	close(fd);
	unlink(path);
	free(buf);
	return (double)n / (bench_now() - t0);
}
