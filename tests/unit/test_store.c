/* The store (lib/store; docs/internals/store.md): opening and migrations,
 * the SQLite settings, $N placeholders, bindings and columns, conflicts,
 * transactions, and the hash-chained audit log with tampering.
 *
 * Every test works on fresh files in one temporary directory, removed at
 * the end. Row hashes are also computed here, independently of audit.c,
 * from the encoding the documentation gives.
 *
 * With JPKI_TEST_STORE set to a PostgreSQL URL (tests/pg/pgserver.py run
 * sets it), the tests that do not depend on SQLite files run against that
 * database instead, plus a few of PostgreSQL's own. Each fresh store there
 * is a new schema (jpkitest_NNN, dropped and created through the store on
 * the base URL), named by the URL's search_path option: a test can leave
 * a store that no longer opens (a foreign history), and the next one must
 * still get a clean one. The schemas are dropped at the end. */
#include <dirent.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "jpki/date.h"
#include "jpki/store.h"
#include "store/migrations.h"
#include "banned.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define PATH_SZ 512
#define HEX_SZ	65

/* 2026-02-21T10:00:00+09:00 */
#define T0 INT64_C(1771635600)

static char g_dir[PATH_SZ];
static int g_files;
/* PostgreSQL: the base URL, and a store on it to create schemas with. */
static const char *g_pg;
static struct jpki_store *g_admin;

/* The SQL for the backend under test. */
static const char *pick(const char *sqlite, const char *pg)
{
	return g_pg != NULL ? pg : sqlite;
}

static bool is_pg_url(const char *url)
{
	return url != NULL && (strncmp(url, "postgresql://", 13) == 0 ||
			       strncmp(url, "postgres://", 11) == 0);
}

/* ---- fixture and helpers ---- */

static int make_dir(void **state)
{
	(void)state;
	int n = snprintf(g_dir, sizeof g_dir, "/tmp/jpki-test-store-XXXXXX");
	if (n < 0 || (size_t)n >= sizeof g_dir || mkdtemp(g_dir) == NULL)
		return -1;
	return 0;
}

static int remove_dir(void **state)
{
	char path[PATH_SZ];
	DIR *d = opendir(g_dir);
	struct dirent *e;

	(void)state;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int n = snprintf(path, sizeof path, "%s/%s", g_dir, e->d_name);
		if (n > 0 && (size_t)n < sizeof path)
			unlink(path);
	}
	closedir(d);
	return rmdir(g_dir);
}

static void exec_ok(struct jpki_store *s, const char *sql);

/* A file name in the test directory that no test has used; with
 * PostgreSQL, the URL of a new, empty schema. */
static void fresh_path(char path[static PATH_SZ])
{
	char sql[128];
	int n = 0;
	if (g_pg == NULL) {
		n = snprintf(path, PATH_SZ, "%s/s%03d.db", g_dir, ++g_files);
		assert_true(n > 0 && n < PATH_SZ);
		return;
	}
	n = ++g_files;
	snprintf(sql, sizeof sql,
		 "DROP SCHEMA IF EXISTS jpkitest_%03d CASCADE; "
		 "CREATE SCHEMA jpkitest_%03d",
		 n, n);
	exec_ok(g_admin, sql);
	n = snprintf(path, PATH_SZ, "%s%coptions=-csearch_path%%3Djpkitest_%03d", g_pg,
		     strchr(g_pg, '?') != NULL ? '&' : '?', n);
	assert_true(n > 0 && n < PATH_SZ);
}

static struct jpki_store *open_path(const char *path)
{
	struct jpki_store *s = NULL;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_store_open(path, &s, &eb);
	if (e != JPKI_OK)
		fail_msg("open %s: %s: %s", path, jpki_strerror(e), eb.msg);
	assert_non_null(s);
	return s;
}

static struct jpki_store *open_fresh(void)
{
	char path[PATH_SZ];
	fresh_path(path);
	return open_path(path);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

static void exec_ok(struct jpki_store *s, const char *sql)
{
	jpki_err e = jpki_store_exec(s, sql);
	if (e != JPKI_OK)
		fail_msg("%s: %s: %s", sql, jpki_strerror(e), jpki_store_errmsg(s));
}

/* The first column of the first row of sql, as a number. */
static int64_t query_int(struct jpki_store *s, const char *sql)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	assert_int_equal(jpki_stmt_prepare(s, sql, &st), JPKI_OK);
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	assert_true(row);
	int64_t v = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	return v;
}

/* The first column of the first row of sql, as text, copied to out. */
static void query_text(struct jpki_store *s, const char *sql, char *out, size_t cap)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err e = jpki_stmt_prepare(s, sql, &st);
	if (e != JPKI_OK)
		fail_msg("%s: %s", sql, jpki_store_errmsg(s));
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	assert_true(row);
	int n = snprintf(out, cap, "%s", jpki_stmt_text(st, 0));
	assert_true(n >= 0 && (size_t)n < cap);
	jpki_stmt_finalize(st);
}

/* template with its last '@' (if any) replaced by the test directory. */
static void in_dir(const char *template, char *out, size_t cap)
{
	const char *at = strrchr(template, '@');
	int n = at != NULL ? snprintf(out, cap, "%.*s%s%s", (int)(at - template),
				      template, g_dir, at + 1)
			   : snprintf(out, cap, "%s", template);
	assert_true(n >= 0 && (size_t)n < cap);
}

/* ---- opening and migrations ---- */

static void test_migration_list(void **state)
{
	(void)state;
	assert_true(jpkii_n_migrations >= 2);
	for (size_t i = 0; i < jpkii_n_migrations; i++) {
		assert_int_equal(jpkii_migrations[i].version, (int)i + 1);
		assert_non_null(jpkii_migrations[i].name);
		assert_non_null(jpkii_migrations[i].sqlite);
		assert_non_null(jpkii_migrations[i].postgresql);
	}
}

static void test_open_creates_and_migrates(void **state)
{
	char path[PATH_SZ], name[128], at[64];
	struct stat sb;
	(void)state;

	fresh_path(path);
	if (g_pg == NULL)
		assert_int_equal(stat(path, &sb), -1);
	struct jpki_store *s = open_path(path);
	if (g_pg == NULL) {
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		assert_string_equal(jpki_store_path(s), path);
	} else {
		assert_null(jpki_store_path(s)); /* no file */
	}
	assert_string_equal(jpki_store_errmsg(s), "");
	assert_false(jpki_store_in_transaction(s));
	assert_int_equal(jpki_store_schema_version(s), (int)jpkii_n_migrations);
	assert_int_equal(query_int(s, "SELECT count(*) FROM schema_migrations"),
			 (int64_t)jpkii_n_migrations);
	for (size_t i = 0; i < jpkii_n_migrations; i++) {
		char sql[128];
		int64_t t;
		snprintf(sql, sizeof sql,
			 "SELECT name FROM schema_migrations WHERE version = %zu",
			 i + 1);
		query_text(s, sql, name, sizeof name);
		assert_string_equal(name, jpkii_migrations[i].name);
		snprintf(sql, sizeof sql,
			 "SELECT applied_at FROM schema_migrations WHERE version = %zu",
			 i + 1);
		query_text(s, sql, at, sizeof at);
		assert_int_equal(jpki_instant_parse(at, &t, NULL), JPKI_OK);
		assert_int_equal(strlen(at), 25);
		assert_string_equal(at + 19, "+09:00");
	}
	static const char *const tables[] = {
	    "audit_log",  "ca",		"ca_setting",	  "municipality", "certificate",
	    "revocation", "crl_number", "issue_sequence", "ocsp_response"};
	for (size_t i = 0; i < ARRAY_LEN(tables); i++) {
		char sql[160];
		snprintf(sql, sizeof sql,
			 g_pg == NULL
			     ? "SELECT count(*) FROM sqlite_master WHERE type = "
			       "'table' AND name = '%s'"
			     : "SELECT count(*) FROM information_schema.tables WHERE "
			       "table_schema = current_schema() AND table_name = '%s'",
			 tables[i]);
		if (query_int(s, sql) != 1)
			fail_msg("table %s missing", tables[i]);
	}
	jpki_store_close(s);
}

static void test_reopen_is_a_no_op(void **state)
{
	char path[PATH_SZ], before[512], after[512];
	const char *history =
	    pick("SELECT group_concat(version || name || applied_at, '|') "
		 "FROM (SELECT * FROM schema_migrations ORDER BY version)",
		 "SELECT string_agg(version || name || applied_at, '|' ORDER BY "
		 "version) FROM schema_migrations");
	(void)state;

	fresh_path(path);
	struct jpki_store *s = open_path(path);
	query_text(s, history, before, sizeof before);
	exec_ok(s, "INSERT INTO municipality VALUES ('131016', '千代田区')");
	jpki_store_close(s);

	for (int round = 0; round < 2; round++) {
		s = open_path(path);
		assert_int_equal(jpki_store_schema_version(s), (int)jpkii_n_migrations);
		query_text(s, history, after, sizeof after);
		assert_string_equal(after, before);
		query_text(s, "SELECT name FROM municipality", after, sizeof after);
		assert_string_equal(after, "千代田区");
		jpki_store_close(s);
	}
	if (g_pg != NULL)
		return;
	/* Also through "sqlite:PATH". */
	char url[PATH_SZ + 8];
	snprintf(url, sizeof url, "sqlite:%s", path);
	s = open_path(url);
	assert_string_equal(jpki_store_path(s), path);
	query_text(s, history, after, sizeof after);
	assert_string_equal(after, before);
	jpki_store_close(s);
}

static void test_sqlite_settings(void **state)
{
	char v[32], wal[PATH_SZ + 8];
	struct stat sb;
	static const struct {
		const char *sql;
		const char *want;
	} cases[] = {
	    {"PRAGMA journal_mode", "wal"},  {"PRAGMA foreign_keys", "1"},
	    {"PRAGMA synchronous", "2"}, /* FULL */
	    {"PRAGMA busy_timeout", "5000"}, {"PRAGMA recursive_triggers", "1"},
	};
	(void)state;

	struct jpki_store *s = open_fresh();
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		query_text(s, cases[i].sql, v, sizeof v);
		if (strcmp(v, cases[i].want) != 0)
			fail_msg("%s = %s, expected %s", cases[i].sql, v,
				 cases[i].want);
	}
	/* The write-ahead log is a file beside the database, owner-only too. */
	snprintf(wal, sizeof wal, "%s-wal", jpki_store_path(s));
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	jpki_store_close(s);
}

static void test_open_urls(void **state)
{
	static const struct {
		const char *url; /* '@' is the test directory */
		jpki_err want;
		const char *msg;    /* in eb on failure */
		const char *absent; /* never in eb */
	} cases[] = {
	    {"sqlite:@/url-a.db", JPKI_OK, NULL, NULL},
	    {"@/url-b.db", JPKI_OK, NULL, NULL},
	    /* No server in the test directory: the URL goes to libpq, which
	     * fails at once; any password is hidden in the message. */
	    {"postgresql:///jpki?host=@", JPKI_ERR_INVALID,
	     "store: cannot connect to postgresql:///jpki?host=/", NULL},
	    {"postgres://jpki:s3cret@/jpki?host=@", JPKI_ERR_INVALID,
	     "cannot connect to postgres://jpki:***@/jpki?host=/", "s3cret"},
	    {"postgresql:///jpki?host=@&password=s3cret&sslmode=disable",
	     JPKI_ERR_INVALID, "&password=***&sslmode=disable: ", "s3cret"},
	    {"postgresql:///jpki?host=@&pass%77ord=s3cret", JPKI_ERR_INVALID,
	     "pass%77ord=***", "s3cret"},
	    {"", JPKI_ERR_INVALID, "no URL", NULL},
	    {"sqlite:", JPKI_ERR_INVALID, "needs a file path", NULL},
	    {"sqlite://@/url-c.db", JPKI_ERR_INVALID, "without \"//\"", NULL},
	    {"mysql://localhost/jpki", JPKI_ERR_INVALID, "unknown URL scheme", NULL},
	    {":memory:", JPKI_ERR_INVALID, "in-memory", NULL},
	    {"sqlite::memory:", JPKI_ERR_INVALID, "in-memory", NULL},
	    {"@/no/such/dir/x.db", JPKI_ERR_IO, "no such directory", NULL},
	    {"@/not-a-database", JPKI_ERR_STORE, "file is not a database", NULL},
	};
	char url[PATH_SZ * 2], garbage[PATH_SZ];
	(void)state;

	in_dir("@/not-a-database", garbage, sizeof garbage);
	FILE *f = fopen(garbage, "wb");
	assert_non_null(f);
	for (int i = 0; i < 64; i++)
		fputs("this is not an SQLite database, but a letter. ", f);
	fclose(f);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_store *s = (struct jpki_store *)1;
		struct jpki_errbuf eb = {{0}};
		in_dir(cases[i].url, url, sizeof url);
		jpki_err e = jpki_store_open(url, &s, &eb);
		if (e != cases[i].want)
			fail_msg("%s: %s (%s), expected %s", url, jpki_strerror(e),
				 eb.msg, jpki_strerror(cases[i].want));
		if (e == JPKI_OK) {
			assert_non_null(s);
			jpki_store_close(s);
			continue;
		}
		assert_null(s);
		assert_contains(eb.msg, cases[i].msg);
		if (cases[i].absent != NULL && strstr(eb.msg, cases[i].absent) != NULL)
			fail_msg("\"%s\" shows \"%s\"", eb.msg, cases[i].absent);
		assert_null(strchr(eb.msg, '\n')); /* one line */
	}
	struct jpki_store *s = (struct jpki_store *)1;
	assert_int_equal(jpki_store_open(NULL, &s, NULL), JPKI_ERR_INVALID);
	assert_null(s);
	/* Refused URLs create no file. */
	struct stat sb;
	snprintf(url, sizeof url, "%s/url-c.db", g_dir);
	assert_int_equal(stat(url, &sb), -1);
}

/* A schema_migrations table this build did not write is never touched. */
static void test_foreign_history_refused(void **state)
{
	static const struct {
		const char *sql;
		const char *msg;
	} cases[] = {
	    {"INSERT INTO schema_migrations SELECT max(version) + 1, "
	     "'from the future', '2030-01-01T00:00:00+09:00' FROM schema_migrations",
	     "is newer than this build knows"},
	    {"DELETE FROM schema_migrations WHERE version = 1", "version 1 is missing"},
	    {"UPDATE schema_migrations SET name = 'something else' WHERE version = "
	     "(SELECT max(version) FROM schema_migrations)",
	     "this build expects"},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char path[PATH_SZ];
		struct jpki_errbuf eb = {{0}};
		fresh_path(path);
		struct jpki_store *s = open_path(path);
		exec_ok(s, cases[i].sql);
		jpki_store_close(s);

		s = (struct jpki_store *)1;
		assert_int_equal(jpki_store_open(path, &s, &eb), JPKI_ERR_STORE);
		assert_null(s);
		assert_contains(eb.msg, cases[i].msg);
	}
}

/* ---- statements ---- */

static void test_placeholders(void **state)
{
	static const char *const values[] = {"a", "b", "c"};
	static const struct {
		const char *sql;
		int nparams; /* $1..$n are bound to values[0..n-1] */
		const char *want;
	} cases[] = {
	    {"SELECT $1", 1, "a"},
	    {"SELECT $2 || $1", 2, "ba"},
	    {"SELECT $3 || $2 || $1", 3, "cba"},
	    {"SELECT $1 || $1 || $2 || $1", 2, "aaba"},
	    {"SELECT '$1' || $1", 1, "$1a"},
	    {"SELECT 'it''s $2' || $1", 1, "it's $2a"},
	    /* PostgreSQL wants a name for a subquery in FROM. */
	    {"SELECT \"$1\" FROM (SELECT 'q' AS \"$1\") AS t WHERE $1 = 'a'", 1, "q"},
	    {"SELECT x$1 FROM (SELECT 'n' AS x$1) AS t WHERE $1 = 'a'", 1, "n"},
	    {"SELECT $1 -- $3 is in a comment\n", 1, "a"},
	    {"SELECT /* $2 */ $1", 1, "a"},
	    {"SELECT $1;", 1, "a"},
	    {"SELECT $1; -- done", 1, "a"},
	    {"SELECT $01", 1, "a"},
	    {"SELECT '日本$1' || $1", 1, "日本$1a"},
	};
	char v[64];
	(void)state;

	struct jpki_store *s = open_fresh();
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_stmt *st = NULL;
		bool row = false;
		if (jpki_stmt_prepare(s, cases[i].sql, &st) != JPKI_OK)
			fail_msg("%s: %s", cases[i].sql, jpki_store_errmsg(s));
		for (int p = 1; p <= cases[i].nparams; p++)
			assert_int_equal(jpki_stmt_bind_text(st, p, values[p - 1]),
					 JPKI_OK);
		/* One more than the statement has is out of range. */
		assert_int_equal(jpki_stmt_bind_text(st, cases[i].nparams + 1, "z"),
				 JPKI_ERR_INTERNAL);
		assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
		assert_true(row);
		snprintf(v, sizeof v, "%s", jpki_stmt_text(st, 0));
		if (strcmp(v, cases[i].want) != 0)
			fail_msg("%s: \"%s\", expected \"%s\"", cases[i].sql, v,
				 cases[i].want);
		assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
		assert_false(row);
		jpki_stmt_finalize(st);
	}
	jpki_store_close(s);
}

static void test_prepare_refusals(void **state)
{
	static const struct {
		const char *sql;
		jpki_err want;
		const char *msg;
		const char *pg_msg; /* PostgreSQL's words, when they differ */
	} cases[] = {
	    {"SELECT $2", JPKI_ERR_INTERNAL, "$1 is never used", NULL},
	    {"SELECT $1, $3", JPKI_ERR_INTERNAL, "$2 is never used", NULL},
	    {"SELECT $0", JPKI_ERR_INTERNAL, "start at $1", NULL},
	    {"SELECT $1abc", JPKI_ERR_INTERNAL, "runs into a name", NULL},
	    {"SELECT $99999", JPKI_ERR_INTERNAL, "stop at $32766", NULL},
	    {"SELECT ?", JPKI_ERR_INTERNAL, "$1..$N placeholders only", NULL},
	    {"SELECT ?1", JPKI_ERR_INTERNAL, "$1..$N placeholders only", NULL},
	    {"SELECT :name", JPKI_ERR_INTERNAL, "$1..$N placeholders only", NULL},
	    {"SELECT $name", JPKI_ERR_INTERNAL, "$1..$N placeholders only", NULL},
	    {"SELECT $1, @x", JPKI_ERR_INTERNAL, "$1..$N placeholders only", NULL},
	    {"SELECT 1; SELECT 2", JPKI_ERR_INTERNAL, "one statement at a time", NULL},
	    {"", JPKI_ERR_INTERNAL, "no statement", NULL},
	    {"-- only a comment", JPKI_ERR_INTERNAL, "no statement", NULL},
	    {"SELECT 1; -- one\n; SELECT 2", JPKI_ERR_INTERNAL,
	     "one statement at a time", NULL},
	    {"SELEC 1", JPKI_ERR_STORE, "syntax error", NULL},
	    {"SELECT 'unterminated $1", JPKI_ERR_STORE, "unrecognized token",
	     "unterminated quoted string"},
	    {"SELECT * FROM no_such_table", JPKI_ERR_STORE, "no such table",
	     "relation \"no_such_table\" does not exist"},
	};
	(void)state;

	struct jpki_store *s = open_fresh();
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_stmt *st = (struct jpki_stmt *)1;
		jpki_err e = jpki_stmt_prepare(s, cases[i].sql, &st);
		if (e != cases[i].want)
			fail_msg("\"%s\": %s (%s), expected %s", cases[i].sql,
				 jpki_strerror(e), jpki_store_errmsg(s),
				 jpki_strerror(cases[i].want));
		assert_null(st);
		assert_contains(jpki_store_errmsg(s),
				g_pg != NULL && cases[i].pg_msg != NULL
				    ? cases[i].pg_msg
				    : cases[i].msg);
	}

	/* Binding misuse. */
	struct jpki_stmt *st = NULL;
	assert_int_equal(jpki_stmt_prepare(s, "SELECT $1, $2", &st), JPKI_OK);
	assert_int_equal(jpki_stmt_bind_int64(st, 0, 1), JPKI_ERR_INTERNAL);
	assert_int_equal(jpki_stmt_bind_int64(st, 3, 1), JPKI_ERR_INTERNAL);
	assert_contains(jpki_store_errmsg(s), "no parameter $3 (the statement has 2)");
	assert_int_equal(jpki_stmt_bind_null(st, -1), JPKI_ERR_INTERNAL);
	assert_int_equal(jpki_stmt_bind_text(st, 1, NULL), JPKI_ERR_INTERNAL);
	assert_contains(jpki_store_errmsg(s), "jpki_stmt_bind_null");
	assert_int_equal(jpki_stmt_bind_blob(st, 1, NULL, 3), JPKI_ERR_INTERNAL);
	assert_int_equal(jpki_stmt_bind_blob(st, 1, NULL, 0), JPKI_OK); /* empty */
	jpki_stmt_finalize(st);
	jpki_stmt_finalize(NULL);
	assert_int_equal(jpki_store_exec(s, NULL), JPKI_ERR_INTERNAL);
	jpki_store_close(s);
	jpki_store_close(NULL);
}

struct value_row {
	int64_t i;
	const char *text;
	const unsigned char *blob;
	size_t blob_len;
};

static void test_round_trip(void **state)
{
	static const unsigned char bin[] = {0x00, 0xff, 0x00, 0x01, 0x80};
	static const unsigned char one[] = {0x2a};
	static const struct value_row rows[] = {
	    {INT64_MIN, "公的個人認証サービス", bin, sizeof bin},
	    {INT64_MAX, "署名用電子証明書・利用者証明用電子証明書", one, 1},
	    {0, "", bin, 0}, /* an empty text and an empty (not NULL) blob */
	    {-1, "a'b\"c $1 ?1", bin + 1, 2},
	    {1771635600, "令和8年2月21日", bin, 1},
	};
	(void)state;

	struct jpki_store *s = open_fresh();
	exec_ok(s, pick("CREATE TABLE t (k INTEGER PRIMARY KEY, i INTEGER, s TEXT, "
			"b BLOB, n BLOB)",
			"CREATE TABLE t (k BIGINT PRIMARY KEY, i BIGINT, s TEXT, "
			"b BYTEA, n BYTEA)"));
	struct jpki_stmt *ins = NULL, *sel = NULL;
	assert_int_equal(jpki_stmt_prepare(s,
					   "INSERT INTO t (k, i, s, b, n) "
					   "VALUES ($1, $2, $3, $4, $5)",
					   &ins),
			 JPKI_OK);
	for (size_t r = 0; r < ARRAY_LEN(rows); r++) {
		bool row = true;
		assert_int_equal(jpki_stmt_bind_int64(ins, 1, (int64_t)r), JPKI_OK);
		assert_int_equal(jpki_stmt_bind_int64(ins, 2, rows[r].i), JPKI_OK);
		/* Copied: the buffer is changed before step. */
		char copy[128];
		snprintf(copy, sizeof copy, "%s", rows[r].text);
		assert_int_equal(jpki_stmt_bind_text(ins, 3, copy), JPKI_OK);
		memset(copy, 'X', sizeof copy - 1);
		assert_int_equal(
		    jpki_stmt_bind_blob(ins, 4, rows[r].blob, rows[r].blob_len),
		    JPKI_OK);
		assert_int_equal(jpki_stmt_bind_null(ins, 5), JPKI_OK);
		assert_int_equal(jpki_stmt_step(ins, &row), JPKI_OK);
		assert_false(row);
		assert_int_equal(jpki_stmt_reset(ins), JPKI_OK);
	}
	/* reset cleared the bindings: everything but k is NULL now. */
	bool row = true;
	assert_int_equal(jpki_stmt_bind_int64(ins, 1, 99), JPKI_OK);
	assert_int_equal(jpki_stmt_step(ins, &row), JPKI_OK);
	jpki_stmt_finalize(ins);

	assert_int_equal(
	    jpki_stmt_prepare(s, "SELECT i, s, b, n FROM t WHERE k = $1", &sel),
	    JPKI_OK);
	for (size_t r = 0; r < ARRAY_LEN(rows); r++) {
		size_t n = 99;
		assert_int_equal(jpki_stmt_bind_int64(sel, 1, (int64_t)r), JPKI_OK);
		assert_int_equal(jpki_stmt_step(sel, &row), JPKI_OK);
		assert_true(row);
		assert_true(jpki_stmt_int64(sel, 0) == rows[r].i);
		assert_string_equal(jpki_stmt_text(sel, 1), rows[r].text);
		const void *p = jpki_stmt_blob(sel, 2, &n);
		assert_int_equal(n, rows[r].blob_len);
		if (n > 0)
			assert_memory_equal(p, rows[r].blob, n);
		assert_false(jpki_stmt_is_null(sel, 2)); /* even the empty one */
		assert_true(jpki_stmt_is_null(sel, 3));
		assert_false(jpki_stmt_is_null(sel, 0));
		assert_int_equal(jpki_stmt_reset(sel), JPKI_OK);
	}
	/* The row inserted after reset: NULLs read as 0, "" and (NULL, 0). */
	size_t n = 99;
	assert_int_equal(jpki_stmt_bind_int64(sel, 1, 99), JPKI_OK);
	assert_int_equal(jpki_stmt_step(sel, &row), JPKI_OK);
	assert_true(row);
	for (int c = 0; c < 4; c++)
		assert_true(jpki_stmt_is_null(sel, c));
	assert_int_equal(jpki_stmt_int64(sel, 0), 0);
	assert_string_equal(jpki_stmt_text(sel, 1), "");
	assert_null(jpki_stmt_blob(sel, 2, &n));
	assert_int_equal(n, 0);
	assert_int_equal(jpki_stmt_step(sel, &row), JPKI_OK);
	assert_false(row);
	jpki_stmt_finalize(sel);
	jpki_store_close(s);
}

/* Certificates need a CA and a municipality; the FK targets. Blob
 * literals are x'..' in SQLite and '\x..' in PostgreSQL (where x'..' is a
 * bit string). */
static void seed_pki(struct jpki_store *s)
{
	exec_ok(s, pick("INSERT INTO ca VALUES ('sign', x'3000', 'sign.key', 0)",
			"INSERT INTO ca VALUES ('sign', '\\x3000', 'sign.key', 0)"));
	exec_ok(s, "INSERT INTO municipality VALUES ('131016', '千代田区')");
	exec_ok(s, pick("INSERT INTO certificate VALUES ('0a', 'sign', 'sign', "
			"'131016', 'S-0001', 0, 1, x'3000')",
			"INSERT INTO certificate VALUES ('0a', 'sign', 'sign', "
			"'131016', 'S-0001', 0, 1, '\\x3000')"));
	exec_ok(s, "INSERT INTO revocation VALUES ('0a', 'sign', '131016', 1, 100, 1, "
		   "100)");
}

static void test_conflicts(void **state)
{
	const char *cert_sql = pick(
	    "INSERT INTO certificate (serial, ca, kind, municipality, issue_number, "
	    "not_before, not_after, der) VALUES ($1, $2, $3, $4, $5, 0, 1, x'30')",
	    "INSERT INTO certificate (serial, ca, kind, municipality, issue_number, "
	    "not_before, not_after, der) VALUES ($1, $2, $3, $4, $5, 0, 1, '\\x30')");
	static const struct {
		const char *v[5]; /* serial, ca, kind, municipality, issue number */
		jpki_err want;
		const char *msg;
		const char *pg_msg;
	} cases[] = {
	    {{"0b", "sign", "sign", "131016", "S-0002"}, JPKI_OK, NULL, NULL},
	    {{"0a", "sign", "auth", "131016", "S-0003"},
	     JPKI_ERR_CONFLICT,
	     "UNIQUE",
	     "violates unique constraint \"certificate_pkey\""},
	    {{"0c", "sign", "sign", "131016", "S-0001"},
	     JPKI_ERR_CONFLICT,
	     "UNIQUE",
	     "violates unique constraint \"certificate_issue_number_key\""},
	    {{"0d", "nope-ca", "sign", "131016", "S-0004"},
	     JPKI_ERR_CONFLICT,
	     "FOREIGN KEY",
	     "violates foreign key constraint \"certificate_ca_fkey\""},
	    {{"0e", "sign", "sign", "999999", "S-0005"},
	     JPKI_ERR_CONFLICT,
	     "FOREIGN KEY",
	     "violates foreign key constraint \"certificate_municipality_fkey\""},
	    {{"0f", "sign", "other", "131016", "S-0006"},
	     JPKI_ERR_STORE,
	     "CHECK",
	     "violates check constraint \"certificate_kind_check\""},
	};
	(void)state;

	struct jpki_store *s = open_fresh();
	seed_pki(s);
	struct jpki_stmt *st = NULL;
	assert_int_equal(jpki_stmt_prepare(s, cert_sql, &st), JPKI_OK);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		bool row = true;
		for (int p = 0; p < 5; p++)
			assert_int_equal(jpki_stmt_bind_text(st, p + 1, cases[i].v[p]),
					 JPKI_OK);
		jpki_err e = jpki_stmt_step(st, &row);
		if (e != cases[i].want)
			fail_msg("case %zu: %s (%s), expected %s", i, jpki_strerror(e),
				 jpki_store_errmsg(s), jpki_strerror(cases[i].want));
		assert_false(row);
		if (e != JPKI_OK) {
			assert_contains(jpki_store_errmsg(s),
					pick(cases[i].msg, cases[i].pg_msg));
			/* The message never carries a bound value. */
			for (int p = 0; p < 5; p++)
				if (strcmp(cases[i].v[p], "sign") != 0 &&
				    strstr(jpki_store_errmsg(s), cases[i].v[p]) != NULL)
					fail_msg("errmsg \"%s\" shows \"%s\"",
						 jpki_store_errmsg(s), cases[i].v[p]);
		}
		assert_int_equal(jpki_stmt_reset(st), JPKI_OK);
	}
	jpki_stmt_finalize(st);
	assert_int_equal(query_int(s, "SELECT count(*) FROM certificate"), 2);
	/* The same mapping through exec, and for a NOT NULL column. */
	assert_int_equal(jpki_store_exec(s, "INSERT INTO municipality VALUES "
					    "('131016', 'x')"),
			 JPKI_ERR_CONFLICT);
	assert_int_equal(jpki_store_exec(s, "INSERT INTO municipality VALUES "
					    "('131024', NULL)"),
			 JPKI_ERR_STORE);
	assert_contains(jpki_store_errmsg(s),
			pick("NOT NULL", "violates not-null constraint"));
	/* A value the column cannot take: PostgreSQL's message would quote
	 * it, so the store gives none. */
	assert_int_equal(jpki_stmt_prepare(s,
					   "INSERT INTO crl_number (scope, last) "
					   "VALUES ('x', $1)",
					   &st),
			 JPKI_OK);
	bool row = false;
	assert_int_equal(jpki_stmt_bind_text(st, 1, "secret-value"), JPKI_OK);
	jpki_err e = jpki_stmt_step(st, &row);
	if (g_pg != NULL) {
		assert_int_equal(e, JPKI_ERR_STORE);
		assert_null(strstr(jpki_store_errmsg(s), "secret-value"));
	}
	jpki_stmt_finalize(st);
	jpki_store_close(s);
}

static void test_transactions(void **state)
{
	char path[PATH_SZ];
	(void)state;

	fresh_path(path);
	struct jpki_store *s = open_path(path);
	static const char count[] = "SELECT count(*) FROM municipality";

	/* Rollback leaves nothing. */
	assert_false(jpki_store_in_transaction(s));
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	assert_true(jpki_store_in_transaction(s));
	exec_ok(s, "INSERT INTO municipality VALUES ('131016', '千代田区')");
	assert_int_equal(query_int(s, count), 1);
	/* A nested begin is refused and the transaction goes on. */
	assert_int_equal(jpki_store_begin(s), JPKI_ERR_INTERNAL);
	assert_contains(jpki_store_errmsg(s), "already open");
	assert_true(jpki_store_in_transaction(s));
	jpki_store_rollback(s);
	assert_false(jpki_store_in_transaction(s));
	assert_int_equal(query_int(s, count), 0);

	/* Outside a transaction: commit is an error, rollback does nothing. */
	assert_int_equal(jpki_store_commit(s), JPKI_ERR_INTERNAL);
	assert_contains(jpki_store_errmsg(s), "without an open transaction");
	jpki_store_rollback(s);
	assert_false(jpki_store_in_transaction(s));

	/* A failed statement inside, then rollback: nothing of it stays. */
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	exec_ok(s, "INSERT INTO municipality VALUES ('131016', '千代田区')");
	assert_int_equal(jpki_store_exec(s, "INSERT INTO municipality VALUES "
					    "('131016', 'again')"),
			 JPKI_ERR_CONFLICT);
	jpki_store_rollback(s);
	assert_int_equal(query_int(s, count), 0);

	/* A commit lasts, and another handle reads the old state until then
	 * without waiting (WAL). Opening an up-to-date store takes no write
	 * lock either: it would otherwise fail here after the busy timeout. */
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	exec_ok(s, "INSERT INTO municipality VALUES ('131016', '千代田区')");
	struct jpki_store *other = open_path(path);
	assert_int_equal(query_int(other, count), 0);
	assert_int_equal(jpki_store_commit(s), JPKI_OK);
	assert_false(jpki_store_in_transaction(s));
	assert_int_equal(query_int(other, count), 1);
	jpki_store_close(other);

	/* A commit that fails (a deferred foreign key) is rolled back. */
	exec_ok(s, "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
		   "CREATE TABLE child (pid INTEGER REFERENCES parent(id) "
		   "DEFERRABLE INITIALLY DEFERRED)");
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	exec_ok(s, "INSERT INTO child VALUES (5)");
	assert_int_equal(jpki_store_commit(s), JPKI_ERR_CONFLICT);
	assert_contains(jpki_store_errmsg(s),
			pick("FOREIGN KEY", "violates foreign key constraint"));
	assert_false(jpki_store_in_transaction(s));
	assert_int_equal(query_int(s, "SELECT count(*) FROM child"), 0);

	/* Closing with an open transaction rolls it back. */
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	exec_ok(s, "INSERT INTO municipality VALUES ('131024', '中央区')");
	jpki_store_close(s);
	s = open_path(path);
	assert_int_equal(query_int(s, count), 1);
	jpki_store_close(s);
}

enum backend { BOTH, SQLITE_ONLY, PG_ONLY };

static bool runs_here(enum backend b)
{
	return b == BOTH || (b == PG_ONLY) == (g_pg != NULL);
}

/* The database itself refuses to change audit rows and revocations, also
 * by INSERT OR REPLACE (a delete in disguise) and TRUNCATE. */
static void test_triggers(void **state)
{
	static const struct {
		const char *sql;
		const char *msg;
		enum backend where;
	} cases[] = {
	    {"UPDATE audit_log SET actor = 'someone else'", "append-only", BOTH},
	    {"UPDATE audit_log SET details = details WHERE seq = 1", "append-only",
	     BOTH},
	    {"DELETE FROM audit_log", "append-only", BOTH},
	    {"DELETE FROM audit_log WHERE seq = 1", "append-only", BOTH},
	    {"INSERT OR REPLACE INTO audit_log SELECT seq, at, 'x', action, object, "
	     "details, prev_hash, hash || 'x' FROM audit_log WHERE seq = 1",
	     "append-only", SQLITE_ONLY},
	    {"INSERT INTO audit_log SELECT seq, at, 'x', action, object, details, "
	     "prev_hash, hash || 'x' FROM audit_log WHERE seq = 1 "
	     "ON CONFLICT (seq) DO UPDATE SET actor = 'x'",
	     "append-only", BOTH},
	    {"TRUNCATE audit_log", "append-only", PG_ONLY},
	    {"UPDATE revocation SET reason = 0", "revocations are final", BOTH},
	    {"DELETE FROM revocation", "revocations are final", BOTH},
	    {"INSERT OR REPLACE INTO revocation VALUES ('0a', 'sign', '131016', 1, 1, "
	     "0, "
	     "1)",
	     "revocations are final", SQLITE_ONLY},
	    {"INSERT INTO revocation VALUES ('0a', 'sign', '131016', 1, 1, 0, 1) "
	     "ON CONFLICT (serial) DO UPDATE SET reason = 0",
	     "revocations are final", BOTH},
	    {"TRUNCATE revocation", "revocations are final", PG_ONLY},
	    {"TRUNCATE certificate CASCADE", "revocations are final", PG_ONLY},
	};
	struct jpki_errbuf eb = {{0}};
	char before[256], after[256];
	const char *snapshot =
	    pick("SELECT (SELECT group_concat(actor || hash) FROM audit_log) || "
		 "(SELECT group_concat(serial || reason) FROM revocation)",
		 "SELECT (SELECT string_agg(actor || hash, ',') FROM audit_log) || "
		 "(SELECT string_agg(serial || reason, ',') FROM revocation)");
	(void)state;

	struct jpki_store *s = open_fresh();
	seed_pki(s);
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	assert_int_equal(jpki_audit_append(s, T0, "staff:suzuki", "certificate.revoke",
					   "certificate:0a", "{\"reason\":1}", &eb),
			 JPKI_OK);
	assert_int_equal(jpki_store_commit(s), JPKI_OK);
	query_text(s, snapshot, before, sizeof before);

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (!runs_here(cases[i].where))
			continue;
		jpki_err e = jpki_store_exec(s, cases[i].sql);
		if (e != JPKI_ERR_STORE)
			fail_msg("%s: %s, expected refusal", cases[i].sql,
				 jpki_strerror(e));
		assert_contains(jpki_store_errmsg(s), cases[i].msg);
		/* And through a prepared statement. */
		struct jpki_stmt *st = NULL;
		bool row;
		assert_int_equal(jpki_stmt_prepare(s, cases[i].sql, &st), JPKI_OK);
		assert_int_equal(jpki_stmt_step(st, &row), JPKI_ERR_STORE);
		assert_contains(jpki_store_errmsg(s), cases[i].msg);
		jpki_stmt_finalize(st);
	}
	query_text(s, snapshot, after, sizeof after);
	assert_string_equal(after, before);
	jpki_store_close(s);
}

/* ---- the audit log ---- */

/* The row hash from the documented encoding, computed here on its own. */
static void reference_hash(const char *prev_hex, const char *const f[6],
			   char out[static HEX_SZ])
{
	unsigned char prev[32], md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char len[32];

	assert_int_equal(strlen(prev_hex), 64);
	for (int i = 0; i < 32; i++) {
		unsigned int b;
		assert_int_equal(sscanf(prev_hex + 2 * i, "%2x", &b), 1);
		prev[i] = (unsigned char)b;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, prev, sizeof prev), 1);
	for (int i = 0; i < 6; i++) {
		int n = snprintf(len, sizeof len, "%zu:", strlen(f[i]));
		assert_int_equal(EVP_DigestUpdate(ctx, len, (size_t)n), 1);
		assert_int_equal(EVP_DigestUpdate(ctx, f[i], strlen(f[i])), 1);
		assert_int_equal(EVP_DigestUpdate(ctx, ",", 1), 1);
	}
	assert_int_equal(EVP_DigestFinal_ex(ctx, md, &md_len), 1);
	assert_int_equal(md_len, 32);
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const char zeros[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* Appends one row in its own transaction. */
static void append_ok(struct jpki_store *s, int64_t now, const char *actor,
		      const char *action, const char *object, const char *details)
{
	struct jpki_errbuf eb = {{0}};
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	jpki_err e = jpki_audit_append(s, now, actor, action, object, details, &eb);
	if (e != JPKI_OK)
		fail_msg("append: %s: %s", jpki_strerror(e), eb.msg);
	assert_int_equal(jpki_store_commit(s), JPKI_OK);
}

static struct jpki_store *five_rows(void)
{
	static const char *const actions[] = {"ca.init", "certificate.issue",
					      "certificate.issue", "certificate.revoke",
					      "crl.publish"};
	char details[96];
	struct jpki_store *s = open_fresh();
	for (int i = 0; i < 5; i++) {
		snprintf(details, sizeof details,
			 "{\"n\": %d, \"office\": \"本庁舎\", \"reason\": 1}", i + 1);
		append_ok(s, T0 + 60 * i, "staff:suzuki", actions[i], "certificate:0a",
			  details);
	}
	return s;
}

static void expect_intact(struct jpki_store *s, int64_t rows)
{
	struct jpki_audit_report r = {-1, -1};
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_audit_verify(s, &r, &eb);
	if (e != JPKI_OK)
		fail_msg("verify: %s: %s", jpki_strerror(e), eb.msg);
	assert_int_equal(r.rows, rows);
	assert_int_equal(r.bad_seq, 0);
}

static void test_audit_chain(void **state)
{
	char prev[HEX_SZ], want[HEX_SZ];
	(void)state;

	struct jpki_store *s = open_fresh();
	expect_intact(s, 0); /* an empty log is intact */
	jpki_store_close(s);

	s = five_rows();
	expect_intact(s, 5);

	struct jpki_stmt *st = NULL;
	bool row = false;
	assert_int_equal(jpki_stmt_prepare(s,
					   "SELECT seq, at, actor, action, object, "
					   "details, prev_hash, hash FROM audit_log "
					   "ORDER BY seq",
					   &st),
			 JPKI_OK);
	snprintf(prev, sizeof prev, "%s", zeros);
	for (int64_t seq = 1; seq <= 5; seq++) {
		char seq_text[24], at[32];
		assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
		assert_true(row);
		assert_int_equal(jpki_stmt_int64(st, 0), seq);
		snprintf(at, sizeof at, "2026-02-21T10:0%d:00+09:00", (int)seq - 1);
		assert_string_equal(jpki_stmt_text(st, 1), at);
		char details[64];
		snprintf(details, sizeof details,
			 "{\"n\":%d,\"office\":\"本庁舎\",\"reason\":1}", (int)seq);
		assert_string_equal(jpki_stmt_text(st, 5), details);
		assert_string_equal(jpki_stmt_text(st, 6), prev);
		snprintf(seq_text, sizeof seq_text, "%d", (int)seq);
		const char *const f[6] = {seq_text,
					  jpki_stmt_text(st, 1),
					  jpki_stmt_text(st, 2),
					  jpki_stmt_text(st, 3),
					  jpki_stmt_text(st, 4),
					  jpki_stmt_text(st, 5)};
		reference_hash(prev, f, want);
		assert_string_equal(jpki_stmt_text(st, 7), want);
		snprintf(prev, sizeof prev, "%s", want);
	}
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	assert_false(row);
	jpki_stmt_finalize(st);

	/* Several rows in one transaction chain the same way. */
	struct jpki_errbuf eb = {{0}};
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	assert_int_equal(jpki_audit_append(s, T0 + 600, "a", "b", "c", "{}", &eb),
			 JPKI_OK);
	assert_int_equal(jpki_audit_append(s, T0 + 600, "a", "b", "c", "{}", &eb),
			 JPKI_OK);
	assert_int_equal(jpki_store_commit(s), JPKI_OK);
	expect_intact(s, 7);
	/* A rolled-back append leaves no row and no gap. */
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	assert_int_equal(jpki_audit_append(s, T0 + 660, "a", "b", "c", "{}", &eb),
			 JPKI_OK);
	jpki_store_rollback(s);
	append_ok(s, T0 + 720, "a", "b", "c", "{}");
	expect_intact(s, 8);
	jpki_store_close(s);
}

/* The example in docs/internals/store.md, checked against sha256sum. */
static void test_audit_worked_example(void **state)
{
	char v[128];
	(void)state;

	struct jpki_store *s = open_fresh();
	append_ok(s, T0, "staff:suzuki", "certificate.revoke", "certificate:0f3a9c",
		  "{ \"reason\": 1, \"office\": \"本庁舎\" }");
	query_text(s, "SELECT at FROM audit_log", v, sizeof v);
	assert_string_equal(v, "2026-02-21T10:00:00+09:00");
	query_text(s, "SELECT details FROM audit_log", v, sizeof v);
	assert_string_equal(v, "{\"office\":\"本庁舎\",\"reason\":1}");
	query_text(s, "SELECT prev_hash FROM audit_log", v, sizeof v);
	assert_string_equal(v, zeros);
	query_text(s, "SELECT hash FROM audit_log", v, sizeof v);
	assert_string_equal(
	    v, "19027c5f6246f688dcb7daf97b5334e9edd2399f410c0105d79b3c3525031afe");
	jpki_store_close(s);
}

static void test_audit_at(void **state)
{
	static const struct {
		int64_t now;
		const char *want; /* NULL: JPKI_ERR_RANGE */
	} cases[] = {
	    {T0, "2026-02-21T10:00:00+09:00"},
	    {0, "1970-01-01T09:00:00+09:00"},
	    {-1, "1970-01-01T08:59:59+09:00"},
	    {T0 + 14 * 3600 - 1, "2026-02-21T23:59:59+09:00"},
	    {T0 + 14 * 3600, "2026-02-22T00:00:00+09:00"},
	    {INT64_C(-3218864400), "1868-01-01T00:00:00+09:00"},
	    {INT64_C(7258085999), "2199-12-31T23:59:59+09:00"},
	    {INT64_C(-3218864401), NULL},
	    {INT64_C(7258086000), NULL},
	    {INT64_MAX / 2, NULL},
	};
	char sql[96], v[64];
	(void)state;

	struct jpki_store *s = open_fresh();
	int64_t seq = 0;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_errbuf eb = {{0}};
		assert_int_equal(jpki_store_begin(s), JPKI_OK);
		jpki_err e =
		    jpki_audit_append(s, cases[i].now, "a", "b", "c", "{}", &eb);
		assert_int_equal(jpki_store_commit(s), JPKI_OK);
		if (cases[i].want == NULL) {
			assert_int_equal(e, JPKI_ERR_RANGE);
			assert_contains(eb.msg, "outside 1868..2199");
			continue;
		}
		assert_int_equal(e, JPKI_OK);
		snprintf(sql, sizeof sql, "SELECT at FROM audit_log WHERE seq = %d",
			 (int)++seq);
		query_text(s, sql, v, sizeof v);
		assert_string_equal(v, cases[i].want);
	}
	expect_intact(s, seq);
	jpki_store_close(s);
}

static void test_audit_refusals(void **state)
{
	static const struct {
		const char *actor;
		const char *details;
		jpki_err want;
		const char *msg;
	} cases[] = {
	    {"a", "[]", JPKI_ERR_INVALID, "must be a JSON object"},
	    {"a", "[{\"a\": 1}]", JPKI_ERR_INVALID, "must be a JSON object"},
	    {"a", "1", JPKI_ERR_INVALID, "details"},
	    {"a", "\"text\"", JPKI_ERR_INVALID, "details"},
	    {"a", "null", JPKI_ERR_INVALID, "details"},
	    {"a", "", JPKI_ERR_INVALID, "details"},
	    {"a", "not json", JPKI_ERR_INVALID, "details"},
	    {"a", "{", JPKI_ERR_INVALID, "details"},
	    {"a", "{\"a\": 1} {}", JPKI_ERR_INVALID, "details"},
	    {"a", "{\"a\": 1, \"a\": 2}", JPKI_ERR_INVALID, "duplicate"},
	    {"a", "{\"a\": \"\\u0000\"}", JPKI_ERR_INVALID, "details"},
	    {"a", "{\"a\": \"\xff\"}", JPKI_ERR_INVALID, "details"},
	    {"a", NULL, JPKI_ERR_INVALID, "give \"{}\" for none"},
	    {NULL, "{}", JPKI_ERR_INVALID, "actor, action and object are required"},
	};
	struct jpki_errbuf eb = {{0}};
	(void)state;

	struct jpki_store *s = open_fresh();
	/* Outside a transaction: refused, whatever the row. */
	assert_int_equal(jpki_audit_append(s, T0, "a", "b", "c", "{}", &eb),
			 JPKI_ERR_INTERNAL);
	assert_contains(eb.msg, "transaction");
	assert_int_equal(jpki_audit_append(s, T0, "a", "b", "c", "{}", NULL),
			 JPKI_ERR_INTERNAL);

	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		memset(&eb, 0, sizeof eb);
		jpki_err e = jpki_audit_append(s, T0, cases[i].actor, "b", "c",
					       cases[i].details, &eb);
		if (e != cases[i].want)
			fail_msg("case %zu: %s (%s), expected %s", i, jpki_strerror(e),
				 eb.msg, jpki_strerror(cases[i].want));
		assert_contains(eb.msg, cases[i].msg);
	}
	assert_int_equal(jpki_audit_append(s, T0, "a", NULL, "c", "{}", NULL),
			 JPKI_ERR_INVALID);
	assert_int_equal(jpki_audit_append(s, T0, "a", "b", NULL, "{}", NULL),
			 JPKI_ERR_INVALID);
	assert_int_equal(jpki_store_commit(s), JPKI_OK);
	assert_int_equal(query_int(s, "SELECT count(*) FROM audit_log"), 0);
	jpki_store_close(s);
}

static void test_audit_canonical(void **state)
{
	static const struct {
		const char *in;
		const char *stored;
	} cases[] = {
	    {"{}", "{}"},
	    {" {\n} ", "{}"},
	    {"{\"b\": 1, \"a\": [1, 2]}", "{\"a\":[1,2],\"b\":1}"},
	    {"{ \"a\" :[ 1 ,2 ] ,\n\t\"b\":1 }", "{\"a\":[1,2],\"b\":1}"},
	    {"{\"z\": {\"y\": true, \"x\": false}, \"a\": null}",
	     "{\"a\":null,\"z\":{\"x\":false,\"y\":true}}"},
	    /* UTF-8 stays UTF-8; escapes become UTF-8. */
	    {"{\"name\": \"鈴木 花子\"}", "{\"name\":\"鈴木 花子\"}"},
	    {"{\"name\": \"\\u9234\\u6728\"}", "{\"name\":\"鈴木\"}"},
	    {"{\"s\": \"a/b \\\"q\\\" \\n\"}", "{\"s\":\"a/b \\\"q\\\" \\n\"}"},
	    /* Keys sort by their UTF-8 bytes: upper case, lower case, kana. */
	    {"{\"な\": 1, \"b\": 2, \"B\": 3, \"あ\": 4}",
	     "{\"B\":3,\"b\":2,\"あ\":4,\"な\":1}"},
	    {"{\"n\": -0, \"m\": 10, \"big\": 9007199254740993}",
	     "{\"big\":9007199254740993,\"m\":10,\"n\":0}"},
	};
	char sql[96], v[256];
	(void)state;

	struct jpki_store *s = open_fresh();
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		append_ok(s, T0, "a", "b", "c", cases[i].in);
		snprintf(sql, sizeof sql,
			 "SELECT details FROM audit_log WHERE seq = %zu", i + 1);
		query_text(s, sql, v, sizeof v);
		if (strcmp(v, cases[i].stored) != 0)
			fail_msg("%s stored as %s, expected %s", cases[i].in, v,
				 cases[i].stored);
	}
	expect_intact(s, (int64_t)ARRAY_LEN(cases));
	jpki_store_close(s);
}

static void drop_guards(struct jpki_store *s)
{
	exec_ok(s, pick("DROP TRIGGER audit_log_no_update; "
			"DROP TRIGGER audit_log_no_delete",
			"DROP TRIGGER audit_log_no_update ON audit_log; "
			"DROP TRIGGER audit_log_no_delete ON audit_log"));
}

static void expect_broken(struct jpki_store *s, int64_t bad_seq, const char *reason)
{
	struct jpki_audit_report r = {-1, -1};
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_audit_verify(s, &r, &eb);
	if (e != JPKI_ERR_REFUSED)
		fail_msg("verify: %s (%s), expected a refusal naming row %d",
			 jpki_strerror(e), eb.msg, (int)bad_seq);
	assert_int_equal(r.bad_seq, bad_seq);
	assert_string_equal(eb.msg, reason);
}

static void test_audit_tamper(void **state)
{
	static const struct {
		const char *sql;
		int64_t bad_seq;
		const char *reason;
	} cases[] = {
	    {"UPDATE audit_log SET details = "
	     "'{\"n\":3,\"office\":\"本庁舎\",\"reason\":4}' "
	     "WHERE seq = 3",
	     3, "row 3: hash does not match its contents"},
	    {"UPDATE audit_log SET hash = '" /* a valid-looking hash */
	     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' "
	     "WHERE seq = 2",
	     2, "row 2: hash does not match its contents"},
	    {"UPDATE audit_log SET hash = upper(hash) WHERE seq = 2", 2,
	     "row 2: hash does not match its contents"},
	    {"UPDATE audit_log SET actor = 'staff:sato' WHERE seq = 1", 1,
	     "row 1: hash does not match its contents"},
	    {"UPDATE audit_log SET at = '2026-02-21T10:04:01+09:00' WHERE seq = 5", 5,
	     "row 5: hash does not match its contents"},
	    {"UPDATE audit_log SET object = 'certificate:0b' WHERE seq = 4", 4,
	     "row 4: hash does not match its contents"},
	    {"UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log "
	     "WHERE seq = 1) WHERE seq = 3",
	     3, "row 3: prev_hash does not match row 2"},
	    {"UPDATE audit_log SET prev_hash = '1' || substr(prev_hash, 2) "
	     "WHERE seq = 1",
	     1, "row 1: prev_hash is not 64 zeros"},
	    {"DELETE FROM audit_log WHERE seq = 3", 4, "row 4: seq gap (expected 3)"},
	    {"DELETE FROM audit_log WHERE seq = 1", 2, "row 2: seq gap (expected 1)"},
	    {"UPDATE audit_log SET seq = seq + 10 WHERE seq = 5", 15,
	     "row 15: seq gap (expected 5)"},
	    /* An insert is not blocked by a trigger; the chain catches it. */
	    {"INSERT INTO audit_log SELECT 6, at, actor, action, object, details, "
	     "hash, 'forged' FROM audit_log WHERE seq = 5",
	     6, "row 6: hash does not match its contents"},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct jpki_store *s = five_rows();
		drop_guards(s);
		exec_ok(s, cases[i].sql);
		expect_broken(s, cases[i].bad_seq, cases[i].reason);
		jpki_store_close(s);
	}
}

/* One column of audit row seq, as text. */
static void row_field(struct jpki_store *s, const char *col, int seq, char *out,
		      size_t cap)
{
	char sql[128];
	int n = snprintf(sql, sizeof sql, "SELECT %s FROM audit_log WHERE seq = %d",
			 col, seq);
	assert_true(n > 0 && (size_t)n < sizeof sql);
	query_text(s, sql, out, cap);
}

/* Rewrites row seq with new details and a hash that matches them. */
static void rewrite_row(struct jpki_store *s, int seq, const char *details)
{
	char prev[HEX_SZ], hash[HEX_SZ], seq_text[16];
	char at[64], actor[64], action[64], object[64];

	snprintf(seq_text, sizeof seq_text, "%d", seq);
	row_field(s, "prev_hash", seq, prev, sizeof prev);
	row_field(s, "at", seq, at, sizeof at);
	row_field(s, "actor", seq, actor, sizeof actor);
	row_field(s, "action", seq, action, sizeof action);
	row_field(s, "object", seq, object, sizeof object);
	const char *const f[6] = {seq_text, at, actor, action, object, details};
	reference_hash(prev, f, hash);

	struct jpki_stmt *st = NULL;
	bool row;
	assert_int_equal(
	    jpki_stmt_prepare(s,
			      "UPDATE audit_log SET details = $1, hash = $2 "
			      "WHERE seq = $3",
			      &st),
	    JPKI_OK);
	assert_int_equal(jpki_stmt_bind_text(st, 1, details), JPKI_OK);
	assert_int_equal(jpki_stmt_bind_text(st, 2, hash), JPKI_OK);
	assert_int_equal(jpki_stmt_bind_int64(st, 3, seq), JPKI_OK);
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	jpki_stmt_finalize(st);
}

/* A forger who recomputes a row's hash is caught by the next row's link, or,
 * at the newest row, by details append would never have written. What the
 * chain alone cannot catch is documented in docs/internals/store.md and
 * pinned here: dropping the newest rows, or rewriting every row from some
 * point to the end. */
static void test_audit_forgery(void **state)
{
	(void)state;

	struct jpki_store *s = five_rows();
	drop_guards(s);
	rewrite_row(s, 2, "{\"n\":2,\"office\":\"本庁舎\",\"reason\":9}");
	expect_broken(s, 3, "row 3: prev_hash does not match row 2");
	jpki_store_close(s);

	s = five_rows();
	drop_guards(s);
	rewrite_row(s, 5, "{\"reason\": 1, \"n\": 5}");
	expect_broken(s, 5, "row 5: details are not canonical JSON");
	jpki_store_close(s);

	s = five_rows();
	drop_guards(s);
	rewrite_row(s, 5, "[1]");
	expect_broken(s, 5, "row 5: details are not canonical JSON");
	jpki_store_close(s);

	/* Limits of the chain alone. */
	s = five_rows();
	drop_guards(s);
	exec_ok(s, "DELETE FROM audit_log WHERE seq >= 4");
	expect_intact(s, 3);
	jpki_store_close(s);

	s = five_rows();
	drop_guards(s);
	rewrite_row(s, 5, "{\"n\":5,\"reason\":0}");
	expect_intact(s, 5);
	jpki_store_close(s);
}

/* ---- what other connections see ---- */

static int64_t data_version(struct jpki_store *s)
{
	int64_t v = -1;
	jpki_err e = jpki_store_data_version(s, &v);
	if (e != JPKI_OK)
		fail_msg("data_version: %s: %s", jpki_strerror(e),
			 jpki_store_errmsg(s));
	return v;
}

/* The number moves when another connection commits (SQLite: only then;
 * PostgreSQL: on every commit of a writer, ours too). */
static void test_data_version(void **state)
{
	char path[PATH_SZ];
	(void)state;

	fresh_path(path);
	struct jpki_store *s = open_path(path), *other = open_path(path);
	int64_t v = data_version(s);
	assert_int_equal(data_version(s), v); /* nothing happened */
	/* Another connection's open transaction does not move it... */
	assert_int_equal(jpki_store_begin(other), JPKI_OK);
	exec_ok(other, "INSERT INTO municipality VALUES ('131016', '千代田区')");
	int64_t during = data_version(s);
	/* ...its commit does, and once read the new number stays. */
	assert_int_equal(jpki_store_commit(other), JPKI_OK);
	int64_t after = data_version(s);
	assert_true(after != during);
	assert_true(after != v);
	assert_int_equal(data_version(s), after);
	/* Inside a transaction it still reads. */
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	(void)data_version(s);
	jpki_store_rollback(s);
	jpki_store_close(other);
	jpki_store_close(s);
}

/* jpki_store_try_lock: one holder across connections and processes; the
 * lock ends with its holder's connection or process. */
static void test_named_lock(void **state)
{
	char path[PATH_SZ], longname[40];
	(void)state;

	fresh_path(path);
	struct jpki_store *s = open_path(path), *other = open_path(path);
	memset(longname, 'a', 33);
	longname[33] = '\0';
	const char *bad[] = {"", "Notice", "a/b", "a b", longname};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(jpki_store_try_lock(s, bad[i]), JPKI_ERR_INVALID);
	assert_int_equal(jpki_store_try_lock(s, "notice"), JPKI_OK);
	assert_int_equal(jpki_store_try_lock(other, "notice"), JPKI_ERR_CONFLICT);
	assert_int_equal(jpki_store_try_lock(s, "notice"), JPKI_ERR_CONFLICT);
	/* Another name is another lock. */
	assert_int_equal(jpki_store_try_lock(other, "notice-2"), JPKI_OK);
	jpki_store_unlock(s, "notice");
	assert_int_equal(jpki_store_try_lock(other, "notice"), JPKI_OK);
	assert_int_equal(jpki_store_try_lock(s, "notice"), JPKI_ERR_CONFLICT);
	/* Closing the connection releases what it holds. */
	jpki_store_close(other);
	assert_int_equal(jpki_store_try_lock(s, "notice"), JPKI_OK);
	assert_int_equal(jpki_store_try_lock(s, "notice-2"), JPKI_OK);
	jpki_store_unlock(s, "notice");
	jpki_store_unlock(s, "notice-2");
	jpki_store_unlock(s, "never-taken"); /* a no-op */

	/* A process that dies holding it does not keep it. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct jpki_store *c = NULL;
		struct jpki_errbuf eb = {{0}};
		if (jpki_store_open(path, &c, &eb) != JPKI_OK ||
		    jpki_store_try_lock(c, "notice") != JPKI_OK)
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (int i = 0; i < 100; i++) { /* PostgreSQL notices the death */
		jpki_err e = jpki_store_try_lock(s, "notice");
		if (e == JPKI_OK)
			break;
		assert_int_equal(e, JPKI_ERR_CONFLICT);
		assert_true(i < 99);
		usleep(50 * 1000);
	}
	jpki_store_close(s);
}

/* ---- PostgreSQL's own ---- */

static void test_pg_settings(void **state)
{
	static const struct {
		const char *sql;
		const char *want;
	} cases[] = {
	    {"SHOW client_encoding", "UTF8"},
	    {"SHOW server_encoding", "UTF8"},
	    {"SHOW lock_timeout", "5s"},
	    {"SHOW statement_timeout", "0"},
	    {"SHOW client_min_messages", "warning"},
	    {"SHOW default_transaction_isolation", "read committed"},
	    {"SELECT application_name FROM pg_stat_activity WHERE pid = "
	     "pg_backend_pid()",
	     "openjpki"},
	};
	char v[64];
	(void)state;

	struct jpki_store *s = open_fresh();
	assert_null(jpki_store_path(s));
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		query_text(s, cases[i].sql, v, sizeof v);
		if (strcmp(v, cases[i].want) != 0)
			fail_msg("%s = %s, expected %s", cases[i].sql, v,
				 cases[i].want);
	}
	/* Column types: bool, bytea, NULL, a number as text. */
	struct jpki_stmt *st = NULL;
	bool row = false;
	size_t n = 0;
	assert_int_equal(jpki_stmt_prepare(s,
					   "SELECT true, false, '\\x00ff'::bytea, "
					   "NULL::bytea, 42::text, 'ab'::text",
					   &st),
			 JPKI_OK);
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	assert_true(row);
	assert_int_equal(jpki_stmt_int64(st, 0), 1);
	assert_int_equal(jpki_stmt_int64(st, 1), 0);
	const unsigned char *b = jpki_stmt_blob(st, 2, &n);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], 0x00);
	assert_int_equal(b[1], 0xff);
	assert_ptr_equal(jpki_stmt_blob(st, 2, &n), b); /* decoded once */
	assert_null(jpki_stmt_blob(st, 3, &n));
	assert_int_equal(n, 0);
	assert_int_equal(jpki_stmt_int64(st, 4), 42);
	const char *ab = jpki_stmt_blob(st, 5, &n); /* not bytea: the bytes */
	assert_int_equal(n, 2);
	assert_memory_equal(ab, "ab", 2);
	/* Done, and done again without a reset: not run a second time. */
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	assert_false(row);
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	assert_false(row);
	jpki_stmt_finalize(st);
	/* A statement stepped to its end and again does not repeat an insert. */
	assert_int_equal(jpki_stmt_prepare(s,
					   "INSERT INTO municipality VALUES "
					   "('131016', '千代田区')",
					   &st),
			 JPKI_OK);
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_OK);
	jpki_stmt_finalize(st);
	assert_int_equal(query_int(s, "SELECT count(*) FROM municipality"), 1);
	jpki_store_close(s);
}

/* PostgreSQL aborts a transaction at its first error and answers COMMIT
 * with a rollback: the store must report that commit as failed. */
static void test_pg_aborted_commit(void **state)
{
	(void)state;

	struct jpki_store *s = open_fresh();
	static const char count[] = "SELECT count(*) FROM municipality";
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	exec_ok(s, "INSERT INTO municipality VALUES ('131016', '千代田区')");
	assert_int_equal(jpki_store_exec(s, "INSERT INTO municipality VALUES "
					    "('131016', 'again')"),
			 JPKI_ERR_CONFLICT);
	assert_true(jpki_store_in_transaction(s)); /* aborted, still open */
	/* Everything else fails until the end of the transaction. */
	struct jpki_stmt *st = NULL;
	assert_int_equal(jpki_stmt_prepare(s, count, &st), JPKI_ERR_STORE);
	assert_int_equal(jpki_store_commit(s), JPKI_ERR_STORE);
	assert_contains(jpki_store_errmsg(s), "rolled back");
	assert_false(jpki_store_in_transaction(s));
	assert_int_equal(query_int(s, count), 0);
	/* The same with the error at step, through a statement. */
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	exec_ok(s, "INSERT INTO municipality VALUES ('131024', '中央区')");
	assert_int_equal(jpki_stmt_prepare(s,
					   "SELECT 1 / (count(*) - 1) FROM "
					   "municipality",
					   &st),
			 JPKI_OK);
	bool row = true;
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_ERR_STORE); /* 1 / 0 */
	assert_int_equal(jpki_stmt_step(st, &row), JPKI_ERR_STORE); /* again */
	jpki_stmt_finalize(st);
	assert_int_equal(jpki_store_commit(s), JPKI_ERR_STORE);
	assert_false(jpki_store_in_transaction(s));
	assert_int_equal(query_int(s, count), 0);
	jpki_store_close(s);
}

/* Writers are serialized by the write lock taken at begin; a second one
 * waits lock_timeout (5 s) and fails with no transaction left open. */
static void test_pg_write_lock(void **state)
{
	char path[PATH_SZ];
	(void)state;

	fresh_path(path);
	struct jpki_store *s = open_path(path), *other = open_path(path);
	assert_int_equal(jpki_store_begin(s), JPKI_OK);
	/* Readers do not wait. */
	assert_int_equal(query_int(other, "SELECT count(*) FROM audit_log"), 0);
	struct timespec t0 = {0}, t1 = {0};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(jpki_store_begin(other), JPKI_ERR_STORE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_contains(jpki_store_errmsg(other), "busy");
	assert_false(jpki_store_in_transaction(other));
	double waited =
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (waited < 4.5 || waited > 30)
		fail_msg("the second writer waited %.1f s, expected about 5", waited);
	jpki_store_rollback(s);
	/* Free again: the other one gets it at once. */
	assert_int_equal(jpki_store_begin(other), JPKI_OK);
	jpki_store_rollback(other);
	jpki_store_close(other);
	jpki_store_close(s);
}

/* ---- the two groups ---- */

static int pg_setup(void **state)
{
	struct jpki_errbuf eb = {{0}};
	(void)state;
	if (jpki_store_open(g_pg, &g_admin, &eb) != JPKI_OK) {
		fprintf(stderr, "JPKI_TEST_STORE: %s\n", eb.msg);
		return -1;
	}
	return 0;
}

static int pg_teardown(void **state)
{
	char sql[64];
	(void)state;
	for (int i = 1; i <= g_files; i++) {
		snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS jpkitest_%03d CASCADE",
			 i);
		if (jpki_store_exec(g_admin, sql) != JPKI_OK)
			return -1;
	}
	jpki_store_close(g_admin);
	g_admin = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_migration_list),
	    cmocka_unit_test(test_open_creates_and_migrates),
	    cmocka_unit_test(test_reopen_is_a_no_op),
	    cmocka_unit_test(test_sqlite_settings),
	    cmocka_unit_test(test_open_urls),
	    cmocka_unit_test(test_foreign_history_refused),
	    cmocka_unit_test(test_placeholders),
	    cmocka_unit_test(test_prepare_refusals),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_conflicts),
	    cmocka_unit_test(test_transactions),
	    cmocka_unit_test(test_triggers),
	    cmocka_unit_test(test_audit_chain),
	    cmocka_unit_test(test_audit_worked_example),
	    cmocka_unit_test(test_audit_at),
	    cmocka_unit_test(test_audit_refusals),
	    cmocka_unit_test(test_audit_canonical),
	    cmocka_unit_test(test_audit_tamper),
	    cmocka_unit_test(test_audit_forgery),
	    cmocka_unit_test(test_data_version),
	    cmocka_unit_test(test_named_lock),
	};
	/* What does not depend on SQLite files, and PostgreSQL's own. */
	const struct CMUnitTest pg_tests[] = {
	    cmocka_unit_test(test_migration_list),
	    cmocka_unit_test(test_open_creates_and_migrates),
	    cmocka_unit_test(test_reopen_is_a_no_op),
	    cmocka_unit_test(test_foreign_history_refused),
	    cmocka_unit_test(test_placeholders),
	    cmocka_unit_test(test_prepare_refusals),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_conflicts),
	    cmocka_unit_test(test_transactions),
	    cmocka_unit_test(test_triggers),
	    cmocka_unit_test(test_audit_chain),
	    cmocka_unit_test(test_audit_worked_example),
	    cmocka_unit_test(test_audit_at),
	    cmocka_unit_test(test_audit_refusals),
	    cmocka_unit_test(test_audit_canonical),
	    cmocka_unit_test(test_audit_tamper),
	    cmocka_unit_test(test_audit_forgery),
	    cmocka_unit_test(test_data_version),
	    cmocka_unit_test(test_named_lock),
	    cmocka_unit_test(test_pg_settings),
	    cmocka_unit_test(test_pg_aborted_commit),
	    cmocka_unit_test(test_pg_write_lock),
	};
	const char *url = getenv("JPKI_TEST_STORE");
	if (is_pg_url(url)) {
		g_pg = url;
		return cmocka_run_group_tests_name("store on PostgreSQL", pg_tests,
						   pg_setup, pg_teardown);
	}
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
