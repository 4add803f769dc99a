/* bench/rules: throughput of the core rules on one core.
 *
 * Prints cert-expiry evaluations per second (target: >= 10 million) and
 * holiday lookups per second, each beside a ceiling measured in the same
 * process: the same loop over the same pre-generated inputs doing only a
 * trivial sum (the cost of reading the inputs and looping). The ratio says
 * how close the rule code is to doing no work at all.
 *
 * Inputs are generated before timing from a fixed seed, so runs compare.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "jpki/holiday.h"
#include "jpki/office.h"
#include "jpki/validity.h"
#include "banned.h"

#define N_INPUTS    (1u << 20)
#define MIN_SECONDS 1.0

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: deterministic, fast, good enough for picking dates. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32) % n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint64_t sink;

static struct jpki_cert_request *reqs;
static jpki_day *days;

typedef uint64_t (*pass_fn)(void);

/* Runs fn until MIN_SECONDS have passed; returns operations per second. */
static double measure(pass_fn fn)
{
	double t0 = now_s(), t;
	uint64_t passes = 0, acc = 0;
	do {
		acc += fn();
		passes++;
		t = now_s();
	} while (t - t0 < MIN_SECONDS);
	sink = acc;
	return (double)passes * N_INPUTS / (t - t0);
}

static uint64_t pass_cert(void)
{
	uint64_t acc = 0;
	struct jpki_cert_validity v;
	for (uint32_t i = 0; i < N_INPUTS; i++)
		if (jpki_cert_expiry(&reqs[i], &v, NULL) == JPKI_OK)
			acc += (uint64_t)v.expires;
	return acc;
}

static uint64_t pass_cert_floor(void)
{
	uint64_t acc = 0;
	for (uint32_t i = 0; i < N_INPUTS; i++)
		acc += (uint64_t)(reqs[i].birth + reqs[i].issued + reqs[i].renewing +
				  reqs[i].card_expires);
	return acc;
}

static uint64_t pass_holiday(void)
{
	uint64_t acc = 0;
	struct jpki_holiday h;
	for (uint32_t i = 0; i < N_INPUTS; i++)
		if (jpki_holiday_on(days[i], &h) == JPKI_OK && h.name)
			acc++;
	return acc;
}

static uint64_t pass_days_floor(void)
{
	uint64_t acc = 0;
	for (uint32_t i = 0; i < N_INPUTS; i++)
		acc += (uint64_t)days[i];
	return acc;
}

static struct jpki_office *office;

static uint64_t pass_office(void)
{
	uint64_t acc = 0;
	struct jpki_office_day od;
	for (uint32_t i = 0; i < N_INPUTS; i++)
		if (jpki_office_day(office, days[i], &od) == JPKI_OK && od.open)
			acc++;
	return acc;
}

static void gen_cert_inputs(void)
{
	jpki_day lo = jpki_day_from_ymd_unchecked(1940, 1, 1);
	jpki_day now0 = jpki_day_from_ymd_unchecked(2026, 1, 1);
	for (uint32_t i = 0; i < N_INPUTS; i++) {
		jpki_day birth = lo + (jpki_day)rnd(80 * 365);
		jpki_day issued = now0 + (jpki_day)rnd(3 * 365);
		if (issued < birth)
			issued = birth + 20 * 365;
		struct jpki_cert_request *r = &reqs[i];
		jpki_cert_request_init(r, rnd(2) ? JPKI_CERT_SIGN : JPKI_CERT_AUTH,
				       birth, issued);
		/* Half are renewals around the window, a third carry a card cap. */
		if (rnd(2))
			r->renewing = issued + (jpki_day)rnd(200) - 60;
		if (rnd(3) == 0)
			r->card_expires = issued + 365 + (jpki_day)rnd(8 * 365);
	}
}

static void gen_days(bool sequential)
{
	jpki_day lo = jpki_day_from_ymd_unchecked(1948, 1, 1);
	jpki_day hi = jpki_day_from_ymd_unchecked(2099, 12, 31);
	for (uint32_t i = 0; i < N_INPUTS; i++)
		days[i] = sequential ? lo + (jpki_day)(i % (uint32_t)(hi - lo + 1))
				     : lo + (jpki_day)rnd((uint32_t)(hi - lo + 1));
}

static void print_machine(void)
{
	struct utsname u;
	char model[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[512];
		while (fgets(line, sizeof line, f))
			if (strncmp(line, "model name", 10) == 0) {
				char *c = strchr(line, ':');
				if (c) {
					snprintf(model, sizeof model, "%s", c + 2);
					model[strcspn(model, "\n")] = '\0';
				}
				break;
			}
		fclose(f);
	}
	if (uname(&u) == 0)
		printf("machine: %s %s, %s\n", u.sysname, u.machine, model);
	printf("build:   %s, cc %s, flags '%s'\n", JPKI_BUILD_TYPE, __VERSION__,
	       JPKI_BUILD_FLAGS);
	printf("run:     one thread, pinned to one core, %u inputs per pass, >= %.1f s "
	       "per figure\n\n",
	       N_INPUTS, MIN_SECONDS);
}

static void line(const char *what, double ops, double floor_ops)
{
	printf("%-34s %12.2f M/s   %7.1f ns/op   ceiling %8.1f M/s (%4.1f%% of it)\n",
	       what, ops / 1e6, 1e9 / ops, floor_ops / 1e6, 100.0 * ops / floor_ops);
}

static const char yokohama[] =
    "[office]\nname = bench\n[hours]\nweekdays = 08:45-17:00\n"
    "sat = 09:00-12:00\nsat.weeks = 2,4\n[rules]\nholidays = open-on-weekend\n"
    "year-end = 12-29..01-03\n";

int main(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	(void)sched_setaffinity(0, sizeof set, &set); /* best effort */

	reqs = calloc(N_INPUTS, sizeof *reqs);
	days = calloc(N_INPUTS, sizeof *days);
	if (!reqs || !days ||
	    jpki_office_parse(yokohama, sizeof yokohama - 1, &office, NULL) !=
		JPKI_OK) {
		fputs("bench_rules: setup failed\n", stderr);
		return 3;
	}
	print_machine();

	gen_cert_inputs();
	double cert = measure(pass_cert), cert_floor = measure(pass_cert_floor);
	line("cert-expiry evaluations", cert, cert_floor);

	gen_days(true);
	double floor_days = measure(pass_days_floor);
	line("holiday lookups (days in order)", measure(pass_holiday), floor_days);
	line("office-day decisions (in order)", measure(pass_office), floor_days);
	gen_days(false);
	floor_days = measure(pass_days_floor);
	line("holiday lookups (random days)", measure(pass_holiday), floor_days);

	printf("\ntarget: >= 10 M cert-expiry evaluations/s on one core: %s\n",
	       cert >= 10e6 ? "met" : "NOT met");
	jpki_office_free(office);
	free(reqs);
	free(days);
	return 0;
}
