/* openjpki — the store: one interface over the databases.
 *
 * Modules use only this header. The embedded backend is SQLite (a file);
 * PostgreSQL ("postgresql://...") is the other, behind the same calls.
 * SQL given to jpki_stmt_prepare() uses PostgreSQL-style placeholders
 * $1..$N, each number used once or more, in any order; the SQLite backend
 * translates them. Keep statements portable (no backend-specific syntax);
 * where a schema must differ, the migration carries one text per backend.
 * On PostgreSQL a failed statement aborts the open transaction: after an
 * error inside one, roll back (commit then fails, JPKI_ERR_STORE).
 *
 * Opening a store applies every pending migration, each in its own
 * transaction with its row in schema_migrations; migrations only go
 * forward and opening twice changes nothing.
 *
 * One operation = one transaction: jpki_store_begin() ... commit, or
 * rollback on any failure. Nothing here is thread-safe: one store handle
 * per thread.
 */
#ifndef JPKI_STORE_H
#define JPKI_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/err.h"

#ifdef __cplusplus
extern "C" {
#endif

struct jpki_store;
struct jpki_stmt;

/* Default store location, relative to the working directory. */
#define JPKI_STORE_DEFAULT "./var/jpki.db"

/* Opens (creating if needed) the store named by url: a SQLite file path,
 * optionally "sqlite:PATH", or a PostgreSQL URL ("postgresql://..." or
 * "postgres://...", given to libpq as it is; the database must exist and
 * be UTF8). The parent directory of a SQLite file must exist. SQLite is
 * opened with WAL, foreign keys on, a 5 s busy timeout and
 * synchronous=FULL (the CA tables must survive a power cut); PostgreSQL
 * with a 5 s lock_timeout. A PostgreSQL server that cannot be reached is
 * JPKI_ERR_INVALID, its URL shown with any password as "***". */
jpki_err jpki_store_open(const char *url, struct jpki_store **out,
			 struct jpki_errbuf *eb);
void jpki_store_close(struct jpki_store *s);

/* The SQLite file path, or NULL for a server backend. */
const char *jpki_store_path(const struct jpki_store *s);

/* The schema version after migrations (the highest applied). */
int jpki_store_schema_version(const struct jpki_store *s);

/* Opens a transaction holding the store's write lock at once (SQLite:
 * BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so a transaction never
 * fails half-way for want of it; a second writer waits up to 5 s here,
 * then JPKI_ERR_STORE. Nested begin is an error (JPKI_ERR_INTERNAL). */
jpki_err jpki_store_begin(struct jpki_store *s);
jpki_err jpki_store_commit(struct jpki_store *s);
void jpki_store_rollback(struct jpki_store *s); /* no-op outside a transaction */
bool jpki_store_in_transaction(const struct jpki_store *s);

/* Runs SQL without parameters or results (DDL, PRAGMA). */
jpki_err jpki_store_exec(struct jpki_store *s, const char *sql);

/* A number that changes whenever another connection (in this or another
 * process) commits to the store. Lets a process keep an in-memory copy of
 * stored data and know when to drop it. SQLite (PRAGMA data_version): this
 * connection's own commits leave it alone. PostgreSQL: every commit of a
 * writer moves it, ours and other databases' too (a needless drop, never a
 * missed one). */
jpki_err jpki_store_data_version(struct jpki_store *s, int64_t *out);

/* What data_version leaves out: a counter of this connection's own changes
 * that make stale what other objects on the same connection keep in memory
 * (a revocation by one CA object for the OCSP answers another remembers).
 * The writer calls jpki_store_touch(); readers compare jpki_store_epoch()
 * alongside the data version. Starts at 0; never goes back. */
void jpki_store_touch(struct jpki_store *s);
int64_t jpki_store_epoch(const struct jpki_store *s);

/* A named lock across connections and processes, for work that must not
 * run twice at once but is longer than a transaction (the monthly notice
 * batch). Held until jpki_store_unlock() or until the connection closes,
 * so a process that dies never keeps it. SQLite: flock(2) on the file
 * "<store>-lock-<name>" beside the store; PostgreSQL: a session advisory
 * lock keyed by the name. JPKI_ERR_CONFLICT when another connection (in
 * this or another process) holds it; JPKI_ERR_INVALID for a name that is
 * not 1-32 of [a-z0-9-]. Taking a lock this connection holds is
 * JPKI_ERR_CONFLICT too. At most 4 held at a time. */
jpki_err jpki_store_try_lock(struct jpki_store *s, const char *name);
void jpki_store_unlock(struct jpki_store *s, const char *name);

/* The backend's last error text (never NULL; "" if none). Never contains
 * bound values. */
const char *jpki_store_errmsg(const struct jpki_store *s);

/* ---- statements ---- */

jpki_err jpki_stmt_prepare(struct jpki_store *s, const char *sql,
			   struct jpki_stmt **out);
/* Parameters are 1-based ($1 is index 1). Text and blobs are copied. */
jpki_err jpki_stmt_bind_int64(struct jpki_stmt *st, int idx, int64_t v);
jpki_err jpki_stmt_bind_text(struct jpki_stmt *st, int idx, const char *v);
jpki_err jpki_stmt_bind_blob(struct jpki_stmt *st, int idx, const void *p,
			     size_t n);
jpki_err jpki_stmt_bind_null(struct jpki_stmt *st, int idx);

/* Runs or advances the statement. *row is true when a result row is ready
 * and false when the statement is done. A uniqueness or foreign-key
 * violation is JPKI_ERR_CONFLICT; other failures JPKI_ERR_STORE. */
jpki_err jpki_stmt_step(struct jpki_stmt *st, bool *row);

/* Columns of the current row, 0-based. Text and blob pointers stay valid
 * until the next step, reset or finalize. A NULL column reads as 0, "" or
 * (NULL, 0). */
int64_t jpki_stmt_int64(struct jpki_stmt *st, int col);
const char *jpki_stmt_text(struct jpki_stmt *st, int col);
const void *jpki_stmt_blob(struct jpki_stmt *st, int col, size_t *n);
bool jpki_stmt_is_null(struct jpki_stmt *st, int col);

/* Makes the statement runnable again and clears its bindings. */
jpki_err jpki_stmt_reset(struct jpki_stmt *st);
void jpki_stmt_finalize(struct jpki_stmt *st); /* NULL is fine */

/* ---- audit log (append-only, hash-chained) ----
 * Each row: seq (1, 2, ...), at (ISO 8601 JST, "2026-02-21T10:00:00+09:00"),
 * actor, action, object, details (JSON, stored canonical: keys sorted,
 * compact), prev_hash and hash (lowercase hex SHA-256). hash =
 * SHA-256(prev_hash bytes || canonical encoding of the row); the first
 * row's prev_hash is 32 zero bytes. The encoding is documented in
 * docs/internals/store.md. UPDATE and DELETE on the table are refused by
 * the database itself. */

/* Appends one row inside the caller's transaction (JPKI_ERR_INTERNAL when
 * none is open). details_json must be a JSON object ("{}" if nothing);
 * JPKI_ERR_INVALID otherwise. now is Unix seconds. */
jpki_err jpki_audit_append(struct jpki_store *s, int64_t now, const char *actor,
			   const char *action, const char *object,
			   const char *details_json, struct jpki_errbuf *eb);

struct jpki_audit_report {
	int64_t rows;    /* rows checked */
	int64_t bad_seq; /* the first bad row's seq, or 0 when all are good */
};

/* Checks the whole chain: seq contiguous from 1, each prev_hash equal to the
 * previous row's hash, each hash recomputed. JPKI_OK when intact;
 * JPKI_ERR_REFUSED with bad_seq and a one-line reason in eb ("row 7: hash
 * does not match its contents") at the first bad row. */
jpki_err jpki_audit_verify(struct jpki_store *s, struct jpki_audit_report *r,
			   struct jpki_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
