/* Shared by the benchmarks: a synthetic population inserted directly.
 *
 * N residents, each with a card and an auth and a sign certificate
 * (certificate, holder_cert rows; DER a placeholder), whose certificates
 * expire spread evenly over `months` months from `start`. Written with
 * multi-row INSERTs through jpki_stmt_* in big transactions, not through
 * the registry's functions: the way to a million residents in seconds.
 * The rows are a function of the resident's index alone, so two runs with
 * the same settings write the same rows.
 */
#ifndef JPKI_BENCH_POPULATION_H
#define JPKI_BENCH_POPULATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/date.h"
#include "jpki/pki.h"
#include "jpki/registry.h"
#include "jpki/store.h"

#define BENCH_POP_ID_BASE     100000000 /* resident i has id BENCH_POP_ID_BASE + i */
#define BENCH_POP_CERT_MONTHS 60 /* certificates are issued 5 years before expiry */

struct bench_population {
	struct jpki_store *store; /* migrated; its municipality rows exist */
	long residents;
	jpki_day start; /* the first day of the start month */
	int months;	/* the spread: expiries fall in [start, start + months) */
	int64_t now;	/* created_at of the rows */
	/* Residents are spread over these (they must be in the store). */
	const struct jpki_municipality *munis;
	size_t n_munis;
	/* Names, addresses and postal codes: varied, from tables of real
	 * Japanese names and real towns with their postal codes (towns are
	 * known for 131164 豊島区, 131016 千代田区, 131024 中央区, 131032 港区,
	 * 271004 大阪市, 011002 札幌市; another municipality is refused).
	 * Else 64 names, one address and no postal code. */
	bool varied;
	/* Every 64th resident moved (sign certificate revoked) and every
	 * 256th lost the card (card 'lost', both certificates revoked). Else
	 * every card is active and every certificate good. */
	bool history;
};

/* Inserts the population: the rows written (every table); *secs the
 * seconds it took. Exits with a message on any failure. */
long bench_population_load(const struct bench_population *p, double *secs);

/* 10:00 JST on day d (Unix seconds). */
int64_t bench_pop_at_ten(jpki_day d);
/* d plus n months (n may be negative); exits when out of range. */
jpki_day bench_pop_months_after(jpki_day d, int n);

/* ---- the bed the population lies in ---- */

/* A new temporary directory JPKI_BENCH_DIR (default /tmp) /
 * jpki-bench-NAME-XXXXXX into dir; exits when it cannot be made. */
void bench_bed_dir(const char *name, char *dir, size_t cap);

/* Opens the store at url and makes its CAs as `jpki init
 * --insecure-no-passphrase` does (base URL http://127.0.0.1:8080,
 * RSA-2048, CRLs for 24 h, OCSP for 4 days) for the municipalities, with
 * keys in keys_dir, dated from not_before (0: now). *ctx is a registry
 * context on it (actor "bench", keys_dir, now). Exits on any failure (a
 * database that is not empty, say). */
void bench_bed_store(const char *url, const char *keys_dir,
		     const struct jpki_municipality *munis, size_t n_munis, int64_t now,
		     int64_t not_before, struct jpki_store **s,
		     struct jpki_reg_ctx *ctx);

/* Closes s and removes dir, unless JPKI_BENCH_KEEP is set (to look at the
 * store afterwards). */
void bench_bed_close(struct jpki_store *s, const char *dir);

#endif
