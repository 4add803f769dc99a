/* The SQLite backend: the sqlite3 C API (Debian libsqlite3-dev).
 *
 * Session settings, and why (docs/internals/store.md has the long form):
 *   journal_mode=WAL     readers never block the writer, nor it them;
 *   synchronous=FULL     a commit is on disk when it returns, WAL included
 *                        (the CA's serials and CRL numbers must survive a
 *                        power cut: reusing one is a real-world error);
 *   foreign_keys=ON      off by default in SQLite, per connection;
 *   recursive_triggers=ON  without it INSERT OR REPLACE deletes a row
 *                        without firing its DELETE trigger, which would
 *                        let an "append-only" row be replaced;
 *   busy timeout 5 s     a second writer waits for the lock instead of
 *                        failing at once;
 *   mmap_size 1 GiB, cache_size 64 MiB
 *                        pages are read through a memory map, not a read()
 *                        per page (large scans: CRLs, OCSP refresh).
 * Statements come with PostgreSQL's $N placeholders; they are rewritten to
 * SQLite's ?N, which has the same meaning (numbered, reusable, any order).
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_internal.h"
#include "banned.h"

#define BUSY_TIMEOUT_MS	 5000
#define PRAGMA_VALUE_MAX 32

static jpki_err map_code(int code)
{
	switch (code) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return JPKI_OK;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_ROWID:
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return JPKI_ERR_CONFLICT;
	case SQLITE_NOMEM:
		return JPKI_ERR_NOMEM;
	case SQLITE_RANGE:
	case SQLITE_MISUSE:
		return JPKI_ERR_INTERNAL;
	default:
		return JPKI_ERR_STORE;
	}
}

/* Keeps SQLite's message (it names the constraint or the syntax error,
 * never a bound value) and maps the code. */
static jpki_err fail(struct jpki_store *s, int code)
{
	jpkii_store_seterr(s, "%s", sqlite3_errmsg(s->db));
	jpki_err e = map_code(code);
	return e == JPKI_OK ? JPKI_ERR_STORE : e;
}

/* ---- connection ---- */

/* The file holds residents' certificates: create it owner-only. SQLite gives
 * its -wal and -shm files the database file's mode. An existing file is
 * left as it is. */
static jpki_err create_private(const char *path, struct jpki_errbuf *eb)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		(void)close(fd);
		return JPKI_OK;
	}
	if (errno == EEXIST)
		return JPKI_OK;
	if (errno == ENOENT)
		return jpki_errf(eb, JPKI_ERR_IO, "%s: no such directory", path);
	return jpki_errf(eb, JPKI_ERR_IO, "%s: %s", path, strerror(errno));
}

/* Runs a PRAGMA and copies the first column of its row (or ""). */
static jpki_err pragma(struct jpki_store *s, const char *sql,
		       char out[PRAGMA_VALUE_MAX])
{
	sqlite3_stmt *h = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &h, NULL);
	jpki_err e = JPKI_OK;

	out[0] = '\0';
	if (rc != SQLITE_OK) {
		e = fail(s, rc);
		goto out;
	}
	rc = sqlite3_step(h);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(h, 0);
		snprintf(out, PRAGMA_VALUE_MAX, "%s", t != NULL ? (const char *)t : "");
		rc = sqlite3_step(h);
	}
	if (rc != SQLITE_DONE)
		e = fail(s, rc);
out:
	sqlite3_finalize(h);
	return e;
}

struct setting {
	const char *set;   /* the PRAGMA that sets it */
	const char *check; /* the PRAGMA that reads it back, if the set is silent */
	const char *want;  /* what it must read */
};

/* Each is read back: a PRAGMA SQLite does not know, or cannot apply (WAL on
 * some file systems), does nothing and says nothing. */
static const struct setting settings[] = {
    {"PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", "1"},
    {"PRAGMA recursive_triggers = ON", "PRAGMA recursive_triggers", "1"},
    {"PRAGMA journal_mode = WAL", NULL, "wal"},
    {"PRAGMA synchronous = FULL", "PRAGMA synchronous", "2"},
    /* Performance, not correctness: read pages through a memory map and
     * keep 64 MiB of them, so a scan of a large table (a CRL of a million
     * entries) is not a read() system call per page. */
    {"PRAGMA mmap_size = 1073741824", "PRAGMA mmap_size", "1073741824"},
    {"PRAGMA cache_size = -65536", "PRAGMA cache_size", "-65536"},
};

static jpki_err apply_settings(struct jpki_store *s, const char *path,
			       struct jpki_errbuf *eb)
{
	char got[PRAGMA_VALUE_MAX];
	jpki_err rc;

	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
		const struct setting *t = &settings[i];
		if ((rc = pragma(s, t->set, got)) != JPKI_OK ||
		    (t->check != NULL && (rc = pragma(s, t->check, got)) != JPKI_OK))
			return jpki_errf(eb, rc, "%s: %s", path, s->errmsg);
		if (strcmp(got, t->want) != 0)
			return jpki_errf(
			    eb, JPKI_ERR_STORE,
			    "%s: \"%s\" did not take effect (reads \"%s\")", path,
			    t->set, got);
	}
	return JPKI_OK;
}

static jpki_err sq_open(struct jpki_store *s, const char *path, struct jpki_errbuf *eb)
{
	jpki_err rc;
	sqlite3 *db = NULL;

	if (strcmp(path, ":memory:") == 0)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "store: an in-memory database cannot be a store");
	if ((rc = create_private(path, eb)) != JPKI_OK)
		return rc;
	int code = sqlite3_open_v2(
	    path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	s->db = db; /* even on failure: close() releases it */
	if (code != SQLITE_OK) {
		if (db == NULL)
			return jpki_errf(eb, JPKI_ERR_NOMEM, "out of memory");
		rc = fail(s, code);
		if (code == SQLITE_CANTOPEN)
			rc = JPKI_ERR_IO;
		return jpki_errf(eb, rc, "%s: %s", path, s->errmsg);
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	return apply_settings(s, path, eb);
}

static void sq_close(struct jpki_store *s)
{
	/* close_v2: a statement the caller forgot does not keep the file open
	 * for ever; SQLite closes it when the last one is finalized. */
	if (s->db != NULL)
		sqlite3_close_v2(s->db);
	s->db = NULL;
}

static jpki_err sq_exec(struct jpki_store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? JPKI_OK : fail(s, rc);
}

static bool sq_in_transaction(const struct jpki_store *s)
{
	/* SQLite's own answer, not a flag of ours: it also ends a transaction
	 * by itself after some errors (SQLITE_FULL, SQLITE_IOERR). */
	return s->db != NULL && !sqlite3_get_autocommit(s->db);
}

static const char *sq_migration_sql(const struct jpkii_migration *m)
{
	return m->sqlite;
}

static jpki_err sq_prepare(struct jpki_store *s, const char *sql, void **out)
{
	jpki_err rc;
	char *copy = NULL;
	sqlite3_stmt *h = NULL;
	const char *tail = NULL;
	int nparams;

	*out = NULL;
	if ((copy = strdup(sql)) == NULL) {
		jpkii_store_seterr(s, "out of memory");
		rc = JPKI_ERR_NOMEM;
		goto out;
	}
	/* $N becomes ?N in the copy: the same meaning in SQLite. */
	if ((rc = jpkii_scan_placeholders(s, sql, copy, &nparams)) != JPKI_OK)
		goto out;
	int code = sqlite3_prepare_v2(s->db, copy, -1, &h, &tail);
	if (code != SQLITE_OK) {
		rc = fail(s, code);
		goto out;
	}
	rc = JPKI_ERR_INTERNAL;
	if (h == NULL) {
		jpkii_store_seterr(s, "prepare: no statement in the SQL");
		goto out;
	}
	if (tail != NULL && !jpkii_sql_only_trailer(tail)) {
		jpkii_store_seterr(s, "prepare: one statement at a time");
		goto out;
	}
	/* "?", ":name", "@name" and "$name" are SQLite-only. */
	if (sqlite3_bind_parameter_count(h) != nparams) {
		jpkii_store_seterr(s, "prepare: use $1..$N placeholders only");
		goto out;
	}
	*out = h;
	h = NULL;
	rc = JPKI_OK;
out:
	sqlite3_finalize(h);
	free(copy);
	return rc;
}

/* ---- statements ---- */

static sqlite3_stmt *handle(struct jpki_stmt *st)
{
	return st->h;
}

static jpki_err bound(struct jpki_stmt *st, int idx, int code)
{
	if (code == SQLITE_OK)
		return JPKI_OK;
	if (code == SQLITE_RANGE) {
		jpkii_store_seterr(st->s,
				   "bind: no parameter $%d (the statement has %d)", idx,
				   sqlite3_bind_parameter_count(handle(st)));
		return JPKI_ERR_INTERNAL;
	}
	return fail(st->s, code);
}

static jpki_err sq_bind_int64(struct jpki_stmt *st, int idx, int64_t v)
{
	return bound(st, idx, sqlite3_bind_int64(handle(st), idx, (sqlite3_int64)v));
}

static jpki_err sq_bind_text(struct jpki_stmt *st, int idx, const char *v)
{
	return bound(st, idx,
		     sqlite3_bind_text64(handle(st), idx, v, strlen(v),
					 SQLITE_TRANSIENT, SQLITE_UTF8));
}

static jpki_err sq_bind_blob(struct jpki_stmt *st, int idx, const void *p, size_t n)
{
	/* SQLite binds a NULL pointer as SQL NULL; an empty blob is a blob. */
	if (n == 0)
		return bound(st, idx, sqlite3_bind_zeroblob(handle(st), idx, 0));
	return bound(st, idx,
		     sqlite3_bind_blob64(handle(st), idx, p, (sqlite3_uint64)n,
					 SQLITE_TRANSIENT));
}

static jpki_err sq_bind_null(struct jpki_stmt *st, int idx)
{
	return bound(st, idx, sqlite3_bind_null(handle(st), idx));
}

static jpki_err sq_step(struct jpki_stmt *st, bool *row)
{
	int code = sqlite3_step(handle(st));
	if (code == SQLITE_ROW) {
		*row = true;
		return JPKI_OK;
	}
	if (code == SQLITE_DONE)
		return JPKI_OK;
	return fail(st->s, code);
}

static int64_t sq_col_int64(struct jpki_stmt *st, int col)
{
	return (int64_t)sqlite3_column_int64(handle(st), col);
}

static const char *sq_col_text(struct jpki_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(handle(st), col);
	return t != NULL ? (const char *)t : "";
}

static const void *sq_col_blob(struct jpki_stmt *st, int col, size_t *n)
{
	/* blob first, then bytes: the order SQLite documents. */
	const void *p = sqlite3_column_blob(handle(st), col);
	int len = p != NULL ? sqlite3_column_bytes(handle(st), col) : 0;
	*n = len > 0 ? (size_t)len : 0;
	return p;
}

static bool sq_col_is_null(struct jpki_stmt *st, int col)
{
	return sqlite3_column_type(handle(st), col) == SQLITE_NULL;
}

static void sq_reset(struct jpki_stmt *st)
{
	/* reset repeats the last step's error, already reported by step. */
	(void)sqlite3_reset(handle(st));
	(void)sqlite3_clear_bindings(handle(st));
}

static void sq_finalize(void *h)
{
	sqlite3_finalize(h);
}

const struct jpkii_store_ops jpkii_sqlite_ops = {
    .name = "sqlite",
    /* IMMEDIATE: the write lock is taken now, so no statement inside the
     * transaction can fail later for want of it (SQLITE_BUSY mid-way). */
    .begin_sql = "BEGIN IMMEDIATE",
    /* Changes on every commit by another connection, not our own. */
    .data_version_sql = "PRAGMA data_version",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .in_transaction = sq_in_transaction,
    .migration_sql = sq_migration_sql,
    .prepare = sq_prepare,
    .bind_int64 = sq_bind_int64,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_int64 = sq_col_int64,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .col_is_null = sq_col_is_null,
    .reset = sq_reset,
    .finalize = sq_finalize,
};
