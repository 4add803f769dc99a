/* Shared by the benchmarks: a clock, a median, the RSA peer and the disk's
 * limit. */
#ifndef JPKI_BENCH_COMMON_H
#define JPKI_BENCH_COMMON_H

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/* The median of t[0..n) (n > 0); sorts t. */
double bench_median(double *t, int n);

/* Sign/s of `openssl speed -seconds 3 -mr rsa2048` (pinned to CPU 0 when
 * taskset exists): the peer for everything that signs with RSA-2048. 0
 * when it did not run. */
double bench_openssl_rsa2048(void);

/* Durable small writes per second in dir (pwrite of `block` bytes, then
 * fdatasync, or fsync when full is set), over one second. */
double bench_fsync_rate(const char *dir, int block, int full);

#endif
