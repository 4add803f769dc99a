/* bench/registry: the registry at national scale, beside its physical limits.
 *
 * For each store (SQLite in a temp dir; PostgreSQL as well when
 * JPKI_BENCH_PG_URL, or else JPKI_TEST_STORE, is a postgresql:// URL of an
 * empty database), one thread pinned to one core prints:
 *   0. store commits per second, each a transaction with one audit row
 *      (the audit log is a hash chain: every writer serializes on it),
 *      next to the disk's fsync rate;
 *   1. end-to-end renewals per second (jpki_reg_renew on card files: two
 *      PINs verified, two RSA-2048 key pairs generated on the card, two
 *      certificates signed, two revoked, three durable transactions), next
 *      to EVP_RSA_gen and `openssl speed rsa2048` measured in the same run
 *      and the bound 1 / (2 keygen + 2 sign) they imply;
 *   2. the month's expiring residents (jpki_reg_expiring) among N synthetic
 *      residents inserted directly (default 1,000,000 on SQLite, 250,000
 *      on PostgreSQL, whose inserts are slower), median of several runs,
 *      next to a plain indexed count of that month's holder_cert rows;
 *   3. seeding: rows per second of that direct insert (multi-row INSERTs
 *      through jpki_stmt_*, big transactions: bench/population.c), and
 *      residents per second of jpki_reg_demo_seed next to the RSA sign
 *      rate (it signs about 1.6 certificates per resident).
 * docs/SCALE.md turns these figures into a national plan.
 *
 * usage: bench_registry [--quick] [--renewals K] [--residents N]
 *                       [--pg-residents N] [--seed N]
 *   --quick  a smoke run: K 3, N 20000, seed 100
 * JPKI_BENCH_DIR: where the temp dirs go (default /tmp); JPKI_BENCH_KEEP:
 * leave them (and the SQLite store) behind.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jpki/card.h"
#include "jpki/pki.h"
#include "jpki/registry.h"
#include "jpki/store.h"
#include "common.h"
#include "population.h"
#include "banned.h"

#define DAY	    86400
#define YEAR	    (365 * DAY)
#define SPAN_MONTHS 60 /* expiries spread over five years */

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_registry: %s: %s\n", what, detail ? detail : "");
	exit(3);
}

struct settings {
	long renewals;	   /* K residents renewed end to end */
	long residents;	   /* synthetic residents for the query, SQLite */
	long pg_residents; /* the same on PostgreSQL */
	long seed;	   /* residents of jpki_reg_demo_seed */
	int runs;	   /* query runs (median) */
};

struct peers {
	double rsa_sign; /* openssl speed rsa2048, sign/s */
	double keygen;	 /* EVP_RSA_gen(2048)/s */
	double pbkdf2;	 /* PIN hashes/s at the card's default iterations */
};

/* ---- peers ---- */

static double keygen_rate(int n)
{
	double t0 = bench_now();
	for (int i = 0; i < n; i++) {
		EVP_PKEY *k = EVP_RSA_gen(2048);
		if (k == NULL)
			die("EVP_RSA_gen", NULL);
		EVP_PKEY_free(k);
	}
	return n / (bench_now() - t0);
}

/* What a card does per VERIFY before the compare (lib/card/card.c). */
static double pbkdf2_rate(void)
{
	static const unsigned char salt[16] = {1, 2, 3};
	unsigned char out[32];
	double t0 = bench_now(), t;
	long n = 0;
	do {
		if (PKCS5_PBKDF2_HMAC("1234", 4, salt, sizeof salt,
				      (int)JPKI_CARD_PBKDF2_ITER, EVP_sha256(), 32,
				      out) != 1)
			die("PBKDF2", NULL);
		n++;
		t = bench_now();
	} while (t - t0 < 1.0);
	return n / (t - t0);
}

/* ---- a store to measure ---- */

static const char *const muni_specs[] = {"131016:千代田区", "131024:中央区",
					 "131032:港区", "271004:大阪市",
					 "011002:札幌市"};
#define N_MUNIS (sizeof muni_specs / sizeof muni_specs[0])

struct bed {
	char dir[256], url[1024], keys[320], cards[320], seed_cards[320];
	struct jpki_store *s;
	struct jpki_reg_ctx ctx;
	int64_t t0;
	struct jpki_municipality munis[N_MUNIS];
	size_t n_munis;
};

/* A fresh CA whose certificates date from ten years back, so that the
 * demo seed can give its population a history (jpki init --history-from). */
static void bed_open(struct bed *b, const char *pg_url)
{
	struct jpki_errbuf eb = {{0}};
	bench_bed_dir("reg", b->dir, sizeof b->dir);
	snprintf(b->keys, sizeof b->keys, "%s/keys", b->dir);
	snprintf(b->cards, sizeof b->cards, "%s/cards", b->dir);
	snprintf(b->seed_cards, sizeof b->seed_cards, "%s/seed", b->dir);
	if (mkdir(b->cards, 0700) != 0)
		die("mkdir", b->cards);
	if (pg_url)
		snprintf(b->url, sizeof b->url, "%s", pg_url);
	else
		snprintf(b->url, sizeof b->url, "%s/s.db", b->dir);
	b->t0 = (int64_t)time(NULL);
	b->n_munis = N_MUNIS;
	for (size_t i = 0; i < b->n_munis; i++)
		if (jpki_municipality_parse(muni_specs[i], &b->munis[i], &eb))
			die("municipality", eb.msg);
	bench_bed_store(b->url, b->keys, b->munis, b->n_munis, b->t0,
			b->t0 - 10LL * YEAR, &b->s, &b->ctx);
}

static void bed_close(struct bed *b)
{
	bench_bed_close(b->s, b->dir);
}

/* ---- 0. the serialization point ---- */

static double commit_rate(struct bed *b, double secs)
{
	struct jpki_errbuf eb = {{0}};
	double t0 = bench_now(), t;
	long n = 0;
	do {
		if (jpki_store_begin(b->s) ||
		    jpki_audit_append(b->s, b->ctx.now, "bench", "bench.commit",
				      "store", "{}", &eb) ||
		    jpki_store_commit(b->s))
			die("audit commit",
			    eb.msg[0] ? eb.msg : jpki_store_errmsg(b->s));
		n++;
		t = bench_now();
	} while (t - t0 < secs);
	return n / (t - t0);
}

/* PostgreSQL's own durability settings (a test server runs without fsync). */
static void pg_settings(struct bed *b, char *out, size_t len)
{
	static const char *const names[] = {"fsync", "synchronous_commit"};
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < 2; i++) {
		struct jpki_stmt *st = NULL;
		bool row = false;
		char sql[64];
		snprintf(sql, sizeof sql, "SHOW %s", names[i]);
		if (jpki_stmt_prepare(b->s, sql, &st) == JPKI_OK &&
		    jpki_stmt_step(st, &row) == JPKI_OK && row && used < len) {
			int n =
			    snprintf(out + used, len - used, "%s%s=%s", i ? ", " : "",
				     names[i], jpki_stmt_text(st, 0));
			used += n > 0 ? (size_t)n : 0;
		}
		jpki_stmt_finalize(st);
	}
}

/* ---- 1. renewals end to end ---- */

static const struct jpki_reg_pins pins = {
    .pin = {"ABC123", "1234", "1234", "1234"}, /* by enum jpki_pin_kind */
    .has = {true, true, true, true}};

/* K adults, each with a card issued today through the real path (keys
 * generated on the card, default PBKDF2, fsync), then renewed 30 days
 * before their certificates expire. */
static void bench_renew(struct bed *b, long k, const struct peers *p)
{
	int64_t *ids = calloc((size_t)k, sizeof *ids);
	jpki_day *ends = calloc((size_t)k, sizeof *ends);
	struct jpki_reg_msg m = {0};
	struct jpki_reg_result r;
	char path[400];
	int y, mo, d;
	if (ids == NULL || ends == NULL)
		die("calloc", NULL);
	/* Birthdays 45 days from now: every certificate ends on the 5th. */
	jpki_day_to_ymd(jpki_jst_day(b->t0) + 45, &y, &mo, &d);
	if (mo == 2 && d == 29)
		d = 28;
	double t0 = bench_now();
	for (long i = 0; i < k; i++) {
		struct jpki_resident res = {
		    .name = "試験 太郎",
		    .kana = "シケン タロウ",
		    .sex = 1 + (int)(i % 2),
		    .birth = jpki_day_from_ymd_unchecked(y - 25 - (int)(i % 40), mo, d),
		    .address = "東京都千代田区千代田1-1",
		    .postal_code = "100-0001",
		    .nationality = NULL,
		    .stay_expires = JPKI_DAY_NONE,
		    .status_on = JPKI_DAY_NONE,
		    .synthetic = true};
		snprintf(res.municipality, sizeof res.municipality, "%s",
			 b->munis[i % (long)b->n_munis].code);
		snprintf(path, sizeof path, "%s/r%ld.card", b->cards, i);
		struct jpki_reg_issue_opts io = {.card_path = path, .pins = &pins};
		if (jpki_reg_resident_add(&b->ctx, &res, &ids[i], &m))
			die("resident add", m.en);
		if (jpki_reg_card_issue(&b->ctx, ids[i], &io, &r, &m))
			die("card issue", m.en);
		if (r.n_issued != 2)
			die("card issue", "expected two certificates");
		ends[i] = r.issued[0].expires;
		for (size_t j = 0; j < r.n_issued; j++)
			if (r.issued[j].kind == JPKI_CERT_AUTH)
				ends[i] = r.issued[j].expires;
	}
	double issue = k / (bench_now() - t0);

	t0 = bench_now();
	for (long i = 0; i < k; i++) {
		snprintf(path, sizeof path, "%s/r%ld.card", b->cards, i);
		struct jpki_reg_renew_opts ro = {.card_path = path, .pins = &pins};
		b->ctx.now = bench_pop_at_ten(ends[i] - 30); /* inside the window */
		if (jpki_reg_renew(&b->ctx, ids[i], &ro, &r, &m))
			die("renew", m.en);
		if (r.n_issued != 2 || r.n_revoked != 2 || r.early || r.fresh)
			die("renew",
			    "expected two certificates issued, two superseded");
	}
	double renew = k / (bench_now() - t0);
	b->ctx.now = b->t0;

	double bound = 1.0 / (2.0 / p->keygen + 2.0 / p->rsa_sign);
	double bound_pin =
	    1.0 / (2.0 / p->keygen + 2.0 / p->rsa_sign + 2.0 / p->pbkdf2);
	printf(
	    "1. card issues (resident add + jpki_reg_card_issue), %ld      %9.2f /s\n",
	    k, issue);
	printf(
	    "1. renewals end to end (jpki_reg_renew), %ld residents        %9.2f /s   "
	    "%.0f ms each\n",
	    k, renew, 1000.0 / renew);
	printf("   bound 1 / (2 keygen + 2 sign)                            %9.2f /s   "
	       "renewals reach %.0f%%\n",
	       bound, 100.0 * renew / bound);
	printf("   bound with the 2 PIN hashes as well                      %9.2f /s   "
	       "renewals reach %.0f%%\n",
	       bound_pin, 100.0 * renew / bound_pin);
	free(ids);
	free(ends);
}

/* ---- 3b. jpki demo seed ----
 * With a key pool of one: `jpki demo seed` generates 16 keys first, a
 * fixed cost of seconds that would hide the per-resident rate. */

static void bench_seed(struct bed *b, long n, const struct peers *p)
{
	struct jpki_seed_opts o = {.residents = (size_t)n,
				   .seed = 20260221,
				   .cards_dir = b->seed_cards,
				   .history_from = b->t0 - 10LL * YEAR,
				   .key_pool = 1};
	struct jpki_seed_report rep;
	struct jpki_reg_msg m = {0};
	double t0 = bench_now();
	if (jpki_reg_demo_seed(&b->ctx, &o, &rep, &m))
		die("demo seed", m.en);
	double t = bench_now() - t0;
	double certs = (double)rep.certificates / t;
	printf("3. jpki_reg_demo_seed, %zu residents (%zu cards, %zu certs)  %9.0f "
	       "residents/s\n",
	       rep.residents, rep.cards, rep.certificates, rep.residents / t);
	printf("   its certificates signed                                  %9.0f /s   "
	       "%.0f%% of RSA sign (%.2f per resident; %.1f s in all)\n",
	       certs, 100.0 * certs / p->rsa_sign,
	       (double)rep.certificates / (double)rep.residents, t);
}

/* ---- 2, 3a. a million residents inserted directly ---- */

/* Seconds of jpki_reg_expiring for the month (median of runs after one
 * warm-up); *n the residents it returned. */
static double time_expiring(struct bed *b, int y, int mo, int runs, size_t *n)
{
	double t[16];
	for (int r = -1; r < runs; r++) {
		int64_t *ids = NULL;
		struct jpki_reg_msg m = {0};
		double t0 = bench_now();
		if (jpki_reg_expiring(&b->ctx, y, mo, &ids, n, &m))
			die("expiring", m.en);
		if (r >= 0)
			t[r] = bench_now() - t0;
		free(ids);
	}
	return bench_median(t, runs);
}

static double time_count(struct bed *b, jpki_day first, jpki_day last, int runs,
			 int64_t *count)
{
	char d1[JPKI_DATE_BUFSZ], d2[JPKI_DATE_BUFSZ];
	double t[16];
	struct jpki_stmt *st = NULL;
	bool row = false;
	if (jpki_stmt_prepare(
		b->s,
		"SELECT count(*) FROM holder_cert WHERE expires BETWEEN $1 "
		"AND $2",
		&st))
		die("prepare", jpki_store_errmsg(b->s));
	for (int r = -1; r < runs; r++) {
		double t0 = bench_now();
		if (jpki_stmt_bind_text(st, 1, jpki_date_format(first, d1)) ||
		    jpki_stmt_bind_text(st, 2, jpki_date_format(last, d2)) ||
		    jpki_stmt_step(st, &row) || !row)
			die("count", jpki_store_errmsg(b->s));
		*count = jpki_stmt_int64(st, 0);
		if (jpki_stmt_reset(st))
			die("reset", jpki_store_errmsg(b->s));
		if (r >= 0)
			t[r] = bench_now() - t0;
	}
	jpki_stmt_finalize(st);
	return bench_median(t, runs);
}

static void bench_expiring(struct bed *b, long n, int runs)
{
	int y, mo, d;
	/* The spread starts on the first of next month. */
	jpki_day_to_ymd(jpki_jst_day(b->t0), &y, &mo, &d);
	jpki_day start =
	    bench_pop_months_after(jpki_day_from_ymd_unchecked(y, mo, 1), 1);
	double secs;
	struct bench_population pop = {.store = b->s,
				       .residents = n,
				       .start = start,
				       .months = SPAN_MONTHS,
				       .now = b->t0,
				       .munis = b->munis,
				       .n_munis = b->n_munis,
				       .varied = false,
				       .history = true};
	long rows = bench_population_load(&pop, &secs);
	printf("3. direct insert of %ld residents: %ld rows in %.1f s         %9.0f "
	       "rows/s   (%.0f residents/s)\n",
	       n, rows, secs, rows / secs, n / secs);
	double t0 = bench_now();
	if (jpki_store_exec(b->s, "ANALYZE"))
		die("analyze", jpki_store_errmsg(b->s));
	printf("   (ANALYZE: %.2f s)\n", bench_now() - t0);

	/* A month in the middle of the spread: about n / 60 residents. */
	jpki_day first = bench_pop_months_after(start, SPAN_MONTHS / 2);
	jpki_day last = bench_pop_months_after(first, 1) - 1;
	jpki_day_to_ymd(first, &y, &mo, &d);
	size_t found = 0;
	int64_t count = 0;
	double t_exp = time_expiring(b, y, mo, runs, &found);
	double cnt = time_count(b, first, last, runs, &count);
	printf(
	    "2. jpki_reg_expiring %04d-%02d over %ld residents            %9.2f ms   "
	    "%zu residents (median of %d)\n",
	    y, mo, n, 1000 * t_exp, found, runs);
	printf(
	    "   SELECT count(*) FROM holder_cert WHERE expires BETWEEN     %9.2f ms   "
	    "%" PRId64 " certificates   expiring = %.1fx the count\n",
	    1000 * cnt, count, t_exp / cnt);
}

/* ---- one backend ---- */

static void run_backend(const char *name, const char *pg_url, long residents,
			const struct settings *st, const struct peers *p)
{
	struct bed b = {0};
	char settings[128] = "";
	bed_open(&b, pg_url);
	if (pg_url)
		pg_settings(&b, settings, sizeof settings);
	printf("\n== %s: %s%s%s ==\n", name,
	       pg_url ? "server from the environment" : b.url, pg_url ? ", " : "",
	       settings);
	double commits = commit_rate(&b, 2.0);
	if (pg_url) {
		printf("0. commits with one audit row (begin, append, commit)     "
		       "%9.0f /s   "
		       "(server: %s)\n",
		       commits, settings);
	} else {
		double fs = bench_fsync_rate(b.dir, 4096, 0);
		printf("0. commits with one audit row (begin, append, commit)     "
		       "%9.0f /s   "
		       "fsync of 4 KiB here: %.0f /s (%.1f fsyncs per commit)\n",
		       commits, fs, fs / commits);
	}
	bench_seed(&b, st->seed, p);
	bench_renew(&b, st->renewals, p);
	bench_expiring(&b, residents, st->runs);
	bed_close(&b);
}

static const char *pg_url_of_env(void)
{
	static const char *const vars[] = {"JPKI_BENCH_PG_URL", "JPKI_TEST_STORE"};
	for (size_t i = 0; i < 2; i++) {
		const char *v = getenv(vars[i]);
		if (v && (strncmp(v, "postgresql://", 13) == 0 ||
			  strncmp(v, "postgres://", 11) == 0))
			return v;
	}
	return NULL;
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int usage(void)
{
	fputs("usage: bench_registry [--quick] [--renewals K] [--residents N]\n"
	      "                      [--pg-residents N] [--seed N]\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct settings st = {.renewals = 20,
			      .residents = 1000000,
			      .pg_residents = 250000,
			      .seed = 2000,
			      .runs = 5};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;
		if (strcmp(a, "--quick") == 0) {
			st = (struct settings){.renewals = 3,
					       .residents = 20000,
					       .pg_residents = 20000,
					       .seed = 100,
					       .runs = 3};
			continue;
		} else if (strcmp(a, "--renewals") == 0) {
			ok = parse_long(v, 1, 10000, &st.renewals);
		} else if (strcmp(a, "--residents") == 0) {
			ok = parse_long(v, 1, 10000000, &st.residents);
		} else if (strcmp(a, "--pg-residents") == 0) {
			ok = parse_long(v, 1, 10000000, &st.pg_residents);
		} else if (strcmp(a, "--seed") == 0) {
			ok = parse_long(v, 1, 1000000, &st.seed);
		} else {
			return usage();
		}
		if (!ok)
			return usage();
		i++;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	(void)sched_setaffinity(0, sizeof set, &set); /* one core, like the peers */
	double t_start = bench_now();
	const char *pg = pg_url_of_env();

	printf("bench/registry — one thread pinned to one core\n");
	struct peers p;
	p.rsa_sign = bench_openssl_rsa2048();
	if (p.rsa_sign <= 0)
		die("openssl speed", "did not run");
	/* As many keys as the renewals make: RSA key generation time varies a
	 * lot from key to key. */
	int keygens = st.renewals * 2 > 8 ? (int)st.renewals * 2 : 8;
	p.keygen = keygen_rate(keygens);
	p.pbkdf2 = pbkdf2_rate();
	printf(
	    "peer: openssl speed rsa2048 (same machine, one core)     %9.0f sign/s\n",
	    p.rsa_sign);
	printf(
	    "peer: EVP_RSA_gen(2048), %2d keys (varies key to key)     %9.1f keys/s\n",
	    keygens, p.keygen);
	printf("peer: PBKDF2-SHA256 x %u (a card's PIN hash)            %9.0f /s\n",
	       JPKI_CARD_PBKDF2_ITER, p.pbkdf2);

	run_backend("SQLite", NULL, st.residents, &st, &p);
	if (pg)
		run_backend("PostgreSQL", pg, st.pg_residents, &st, &p);
	else
		printf("\n== PostgreSQL: skipped (JPKI_BENCH_PG_URL or JPKI_TEST_STORE "
		       "not a postgresql:// URL) ==\n");
	printf("\ntotal %.0f s\n", bench_now() - t_start);
	return 0;
}
