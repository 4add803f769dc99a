/* The PostgreSQL backend: libpq (Debian libpq-dev).
 *
 * The URL ("postgresql://...", "postgres://...") goes to libpq as it is.
 * Session settings, and why (docs/internals/store.md has the long form):
 *   client_encoding UTF8      our text is UTF-8 whatever the client locale;
 *   lock_timeout 5s           a second writer waits up to 5 s for the write
 *                             lock, like SQLite's busy timeout, then fails;
 *   statement_timeout 0       a CRL of a million entries is one long SELECT;
 *   client_min_messages warning
 *                             "relation already exists, skipping" and other
 *                             notices are not for the operator;
 *   default_transaction_isolation read committed
 *                             the write lock is taken by the first statement
 *                             of a transaction; under REPEATABLE READ its
 *                             snapshot would predate the lock, and a writer
 *                             would miss the previous writer's rows.
 *
 * Writers are serialized by a transaction-scoped advisory lock taken in
 * begin, the equivalent of SQLite's BEGIN IMMEDIATE: the audit log is a hash
 * chain, so appends must be serialized anyway, and no statement inside a
 * transaction can then fail for want of a lock.
 *
 * Statements are checked when prepared (the placeholders here, the SQL by
 * the server through the unnamed prepared statement) and run with
 * PQexecParams: nothing is left on the server, so finalize needs no
 * connection. Parameters go as text (int64 in decimal), blobs as binary,
 * types inferred by the server; results come back as text, bytea decoded.
 */
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "banned.h"

/* OIDs of the built-in types we decode (pg_type.dat). */
#define BOOLOID	 16
#define BYTEAOID 17
/* ASCII "jpkistor": the key of the store's write lock (any constant would
 * do; this one is unlikely to collide with another application's). */
#define WRITE_LOCK_KEY "7669748266064703346"
#define INT64_BUFSZ    24
/* Cut a connection error to this many bytes of its first line. */
#define CONNERR_MAX 160

/* ---- errors ---- */

/* The first line of s, at most max bytes, into out. */
static void first_line(const char *s, char *out, size_t max)
{
	size_t n = strcspn(s != NULL ? s : "", "\n");
	if (n >= max)
		n = max - 1;
	memcpy(out, s != NULL ? s : "", n);
	out[n] = '\0';
}

/* Maps a failed result onto jpki_err and keeps a message without bound
 * values: the primary message only (DETAIL shows key values), and none at
 * all for data exceptions (class 22), whose messages quote the input
 * ("invalid input syntax for type bigint: \"...\""). */
static jpki_err fail_result(struct jpki_store *s, const PGresult *res)
{
	char line[JPKII_ERRMSG_SZ];
	const char *state =
	    res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg =
	    res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (state == NULL)
		state = "";
	if (msg == NULL) {
		/* No server error: the connection failed, or out of memory. */
		first_line(PQerrorMessage(s->db), line, sizeof line);
		jpkii_store_seterr(s, "%s", line[0] != '\0' ? line : "no result");
		return res == NULL && PQstatus(s->db) == CONNECTION_OK ? JPKI_ERR_NOMEM
								       : JPKI_ERR_STORE;
	}
	if (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0) {
		jpkii_store_seterr(s, "%s", msg);
		return JPKI_ERR_CONFLICT;
	}
	if (strcmp(state, "55P03") == 0) {
		jpkii_store_seterr(s, "the store is busy: another transaction held a "
				      "lock for 5 s (lock_timeout); try again");
		return JPKI_ERR_STORE;
	}
	if (strncmp(state, "22", 2) == 0) {
		jpkii_store_seterr(s,
				   "a value does not fit its column or operation "
				   "(SQLSTATE %s)",
				   state);
		return JPKI_ERR_STORE;
	}
	jpkii_store_seterr(s, "%s", msg);
	return JPKI_ERR_STORE;
}

/* An ok result is cleared and JPKI_OK; anything else is mapped. */
static jpki_err check_result(struct jpki_store *s, PGresult *res)
{
	jpki_err rc = JPKI_OK;
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		break;
	default:
		rc = fail_result(s, res);
		break;
	}
	PQclear(res);
	return rc;
}

/* ---- connection ---- */

/* Decodes %XX in place (a URL query key); returns s. */
static char *percent_decode(char *s)
{
	char *w = s;
	for (const char *r = s; *r != '\0'; r++) {
		unsigned int v = 0;
		if (r[0] == '%' && r[1] != '\0' && r[2] != '\0' &&
		    sscanf(r + 1, "%2x", &v) == 1) {
			*w++ = (char)v;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return s;
}

/* url with any password replaced by "***": the one in the user info
 * ("postgresql://user:secret@host") and a "password=" query parameter. The
 * user info is taken to end at the last '@' before the query, not at the
 * first as libpq reads it: a password with a raw '@' or '/' is hidden too. */
static void redact_url(const char *url, char *out, size_t cap)
{
	size_t w = 0;
	const char *p = url;
	const char *scheme_end = strstr(url, "://");

#define PUT(ptr, len)                                                                  \
	do {                                                                           \
		size_t n_ = (len);                                                     \
		if (w + n_ >= cap)                                                     \
			n_ = cap - 1 - w;                                              \
		memcpy(out + w, (ptr), n_);                                            \
		w += n_;                                                               \
	} while (0)

	out[0] = '\0';
	if (cap == 0)
		return;
	if (scheme_end != NULL) {
		const char *auth = scheme_end + 3;
		const char *at = NULL;
		for (const char *c = auth; *c != '\0' && *c != '?'; c++)
			if (*c == '@')
				at = c;
		PUT(url, (size_t)(auth - url));
		p = auth;
		const char *colon =
		    at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon != NULL) {
			PUT(auth, (size_t)(colon - auth));
			PUT(":***", 4);
			p = at;
		}
	}
	const char *q = strchr(p, '?');
	if (q == NULL) {
		PUT(p, strlen(p));
		out[w] = '\0';
		return;
	}
	PUT(p, (size_t)(q + 1 - p));
	for (const char *param = q + 1; *param != '\0';) {
		size_t len = strcspn(param, "&");
		const char *eq = memchr(param, '=', len);
		char key[32];
		size_t klen = eq != NULL ? (size_t)(eq - param) : len;
		bool secret = false;
		if (klen < sizeof key) {
			memcpy(key, param, klen);
			key[klen] = '\0';
			secret = strcmp(percent_decode(key), "password") == 0;
		}
		if (secret && eq != NULL) {
			PUT(param, klen + 1);
			PUT("***", 3);
		} else {
			PUT(param, len);
		}
		param += len;
		if (*param == '&') {
			PUT("&", 1);
			param++;
		}
	}
	out[w] = '\0';
#undef PUT
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static const char session_sql[] =
    "SET client_encoding = 'UTF8';"
    "SET lock_timeout = '5s';"
    "SET statement_timeout = 0;"
    "SET client_min_messages = warning;"
    "SET default_transaction_isolation = 'read committed'";

static jpki_err pg_open(struct jpki_store *s, const char *url, struct jpki_errbuf *eb)
{
	char shown[512], why[CONNERR_MAX];
	/* connect_timeout first, so that one in the URL wins: the URL is
	 * expanded in place of dbname and later values override earlier
	 * ones. Without it, an unreachable host blocks for minutes. */
	const char *const keys[] = {"connect_timeout", "fallback_application_name",
				    "dbname", NULL};
	const char *const values[] = {"10", "openjpki", url, NULL};
	PGconn *conn = PQconnectdbParams(keys, values, 1);

	s->db = conn; /* even on failure: close() releases it */
	if (conn == NULL)
		return jpki_errf(eb, JPKI_ERR_NOMEM, "out of memory");
	if (PQstatus(conn) != CONNECTION_OK) {
		redact_url(url, shown, sizeof shown);
		first_line(PQerrorMessage(conn), why, sizeof why);
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "store: cannot connect to %s: %s", shown, why);
	}
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	jpki_err rc = check_result(s, PQexec(conn, session_sql));
	if (rc != JPKI_OK)
		return jpki_errf(eb, rc, "store: session settings: %s", s->errmsg);
	/* Text is stored as the UTF-8 it is; a database in another encoding
	 * would refuse Japanese names or, with SQL_ASCII, not check them. */
	const char *enc = PQparameterStatus(conn, "server_encoding");
	if (enc == NULL || strcmp(enc, "UTF8") != 0)
		return jpki_errf(
		    eb, JPKI_ERR_STORE,
		    "store: the database's encoding is %s; it must be UTF8 "
		    "(CREATE DATABASE ... ENCODING 'UTF8')",
		    enc != NULL ? enc : "unknown");
	return JPKI_OK;
}

static void pg_close(struct jpki_store *s)
{
	if (s->db != NULL)
		PQfinish(s->db);
	s->db = NULL;
}

static jpki_err pg_exec(struct jpki_store *s, const char *sql)
{
	return check_result(s, PQexec(s->db, sql));
}

static bool pg_in_transaction(const struct jpki_store *s)
{
	/* An aborted transaction (INERROR) is still open: it needs ROLLBACK. */
	PGTransactionStatusType t =
	    s->db != NULL ? PQtransactionStatus(s->db) : PQTRANS_UNKNOWN;
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/* PostgreSQL answers COMMIT of an aborted transaction with success and a
 * rollback; jpki_store_commit must never report that as a commit. */
static jpki_err pg_commit(struct jpki_store *s)
{
	if (PQtransactionStatus(s->db) == PQTRANS_INERROR) {
		jpkii_store_seterr(s, "commit: an earlier statement failed, so the "
				      "transaction was rolled back");
		return JPKI_ERR_STORE;
	}
	PGresult *res = PQexec(s->db, "COMMIT");
	if (PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		PQclear(res);
		jpkii_store_seterr(s, "commit: the server rolled the transaction back");
		return JPKI_ERR_STORE;
	}
	return check_result(s, res);
}

static const char *pg_migration_sql(const struct jpkii_migration *m)
{
	return m->postgresql;
}

/* ---- statements ---- */

enum run_state { FRESH, ROWS, DONE, FAILED };

struct blob {
	unsigned char *p; /* PQunescapeBytea's, for PQfreemem */
	size_t n;
};

struct pg_stmt {
	char *sql;
	int nparams;
	char **values; /* per parameter: a copy, or NULL for SQL NULL */
	int *lengths;
	int *formats; /* 1 (binary) for blobs, else 0 (text) */
	PGresult *res;
	int row; /* the current row of res */
	enum run_state state;
	jpki_err failed; /* what step returned when it failed */
	/* bytea columns of the current row, decoded when first read */
	struct blob *blobs;
	int nblobs;
};

static void free_blobs(struct pg_stmt *h)
{
	for (int i = 0; i < h->nblobs; i++)
		PQfreemem(h->blobs[i].p);
	free(h->blobs);
	h->blobs = NULL;
	h->nblobs = 0;
}

static void clear_run(struct pg_stmt *h)
{
	free_blobs(h);
	PQclear(h->res);
	h->res = NULL;
	h->row = -1;
	h->state = FRESH;
}

static void clear_bindings(struct pg_stmt *h)
{
	for (int i = 0; i < h->nparams; i++) {
		free(h->values[i]);
		h->values[i] = NULL;
		h->lengths[i] = 0;
		h->formats[i] = 0;
	}
}

static void pg_finalize(void *p)
{
	struct pg_stmt *h = p;
	if (h == NULL)
		return;
	clear_run(h);
	if (h->values != NULL)
		clear_bindings(h);
	free(h->values);
	free(h->lengths);
	free(h->formats);
	free(h->sql);
	free(h);
}

/* The server parses sql as the unnamed prepared statement (replaced by the
 * next one; nothing to deallocate), so a syntax error or a missing table
 * is reported here, as SQLite does, and the number of parameters it sees
 * is checked against ours. */
static jpki_err server_check(struct jpki_store *s, const char *sql, int nparams)
{
	jpki_err rc = check_result(s, PQprepare(s->db, "", sql, 0, NULL));
	if (rc != JPKI_OK)
		return rc;
	PGresult *res = PQdescribePrepared(s->db, "");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return check_result(s, res);
	int server = PQnparams(res);
	PQclear(res);
	if (server != nparams) {
		jpkii_store_seterr(s, "prepare: use $1..$N placeholders only");
		return JPKI_ERR_INTERNAL;
	}
	return JPKI_OK;
}

static jpki_err pg_prepare(struct jpki_store *s, const char *sql, void **out)
{
	jpki_err rc;
	struct pg_stmt *h = NULL;
	int nparams = 0;

	*out = NULL;
	if ((rc = jpkii_scan_placeholders(s, sql, NULL, &nparams)) != JPKI_OK)
		goto out;
	if ((rc = server_check(s, sql, nparams)) != JPKI_OK)
		goto out;
	rc = JPKI_ERR_NOMEM;
	if ((h = calloc(1, sizeof *h)) == NULL || (h->sql = strdup(sql)) == NULL)
		goto out_nomem;
	h->nparams = nparams;
	h->row = -1;
	if (nparams > 0 &&
	    ((h->values = calloc((size_t)nparams, sizeof *h->values)) == NULL ||
	     (h->lengths = calloc((size_t)nparams, sizeof *h->lengths)) == NULL ||
	     (h->formats = calloc((size_t)nparams, sizeof *h->formats)) == NULL))
		goto out_nomem;
	*out = h;
	h = NULL;
	rc = JPKI_OK;
	goto out;
out_nomem:
	jpkii_store_seterr(s, "out of memory");
out:
	pg_finalize(h);
	return rc;
}

static struct pg_stmt *handle(struct jpki_stmt *st)
{
	return st->h;
}

/* Replaces parameter idx with a copy of n bytes at p (p NULL: SQL NULL). */
static jpki_err bind(struct jpki_stmt *st, int idx, const void *p, size_t n, int format)
{
	struct pg_stmt *h = handle(st);
	char *copy = NULL;

	if (idx < 1 || idx > h->nparams) {
		jpkii_store_seterr(st->s,
				   "bind: no parameter $%d (the statement has %d)", idx,
				   h->nparams);
		return JPKI_ERR_INTERNAL;
	}
	if (n > INT32_MAX) {
		jpkii_store_seterr(st->s, "bind $%d: %zu bytes is too large", idx, n);
		return JPKI_ERR_INTERNAL;
	}
	if (p != NULL) {
		/* One byte more: text is NUL-terminated, and an empty blob
		 * must be a non-NULL pointer (NULL would mean SQL NULL). */
		if ((copy = malloc(n + 1)) == NULL) {
			jpkii_store_seterr(st->s, "out of memory");
			return JPKI_ERR_NOMEM;
		}
		if (n > 0)
			memcpy(copy, p, n);
		copy[n] = '\0';
	}
	free(h->values[idx - 1]);
	h->values[idx - 1] = copy;
	h->lengths[idx - 1] = (int)n;
	h->formats[idx - 1] = format;
	return JPKI_OK;
}

static jpki_err pg_bind_int64(struct jpki_stmt *st, int idx, int64_t v)
{
	char buf[INT64_BUFSZ];
	int n = snprintf(buf, sizeof buf, "%" PRId64, v);
	return bind(st, idx, buf, (size_t)n, 0);
}

static jpki_err pg_bind_text(struct jpki_stmt *st, int idx, const char *v)
{
	return bind(st, idx, v, strlen(v), 0);
}

static jpki_err pg_bind_blob(struct jpki_stmt *st, int idx, const void *p, size_t n)
{
	return bind(st, idx, p != NULL ? p : "", n, 1);
}

static jpki_err pg_bind_null(struct jpki_stmt *st, int idx)
{
	return bind(st, idx, NULL, 0, 0);
}

/* The first step runs the statement and keeps all its rows; the next ones
 * walk them. Stepped again after the end without a reset, a statement
 * stays done (it is not run a second time); after a failure it fails
 * again until reset. */
static jpki_err pg_step(struct jpki_stmt *st, bool *row)
{
	struct pg_stmt *h = handle(st);

	switch (h->state) {
	case FAILED:
		return h->failed;
	case DONE:
		return JPKI_OK;
	case FRESH: {
		PGresult *res = PQexecParams(st->s->db, h->sql, h->nparams, NULL,
					     (const char *const *)h->values, h->lengths,
					     h->formats, 0);
		ExecStatusType t = PQresultStatus(res);
		if (t == PGRES_TUPLES_OK) {
			h->res = res;
			h->state = ROWS;
			break;
		}
		jpki_err rc = check_result(st->s, res);
		h->state = rc == JPKI_OK ? DONE : FAILED;
		h->failed = rc;
		return rc;
	}
	case ROWS:
		break;
	default:
		jpkii_store_seterr(st->s, "step: bad statement state");
		return JPKI_ERR_INTERNAL;
	}
	free_blobs(h);
	if (++h->row < PQntuples(h->res)) {
		*row = true;
		return JPKI_OK;
	}
	clear_run(h);
	h->state = DONE;
	return JPKI_OK;
}

/* True when col of the current row exists. */
static bool have(const struct pg_stmt *h, int col)
{
	return h->res != NULL && h->row >= 0 && h->row < PQntuples(h->res) &&
	       col >= 0 && col < PQnfields(h->res);
}

static int64_t pg_col_int64(struct jpki_stmt *st, int col)
{
	struct pg_stmt *h = handle(st);
	if (!have(h, col) || PQgetisnull(h->res, h->row, col))
		return 0;
	const char *v = PQgetvalue(h->res, h->row, col);
	if (PQftype(h->res, col) == BOOLOID)
		return v[0] == 't';
	errno = 0;
	long long n = strtoll(v, NULL, 10);
	return errno == 0 ? (int64_t)n : 0;
}

static const char *pg_col_text(struct jpki_stmt *st, int col)
{
	struct pg_stmt *h = handle(st);
	if (!have(h, col))
		return "";
	return PQgetvalue(h->res, h->row, col); /* "" for NULL */
}

static const void *pg_col_blob(struct jpki_stmt *st, int col, size_t *n)
{
	struct pg_stmt *h = handle(st);
	*n = 0;
	if (!have(h, col) || PQgetisnull(h->res, h->row, col))
		return NULL;
	const char *v = PQgetvalue(h->res, h->row, col);
	if (PQftype(h->res, col) != BYTEAOID) {
		int len = PQgetlength(h->res, h->row, col);
		*n = len > 0 ? (size_t)len : 0;
		return *n > 0 ? v : NULL;
	}
	if (h->blobs == NULL) {
		int nf = PQnfields(h->res);
		if ((h->blobs = calloc((size_t)nf, sizeof *h->blobs)) == NULL)
			return NULL;
		h->nblobs = nf;
	}
	struct blob *b = &h->blobs[col];
	if (b->p == NULL &&
	    (b->p = PQunescapeBytea((const unsigned char *)v, &b->n)) == NULL)
		return NULL;
	*n = b->n;
	return b->n > 0 ? b->p : NULL;
}

static bool pg_col_is_null(struct jpki_stmt *st, int col)
{
	struct pg_stmt *h = handle(st);
	return !have(h, col) || PQgetisnull(h->res, h->row, col);
}

static void pg_reset(struct jpki_stmt *st)
{
	struct pg_stmt *h = handle(st);
	clear_run(h);
	clear_bindings(h);
}

const struct jpkii_store_ops jpkii_pg_ops = {
    .name = "postgresql",
    /* The write lock, held until COMMIT or ROLLBACK: writers are serialized
     * exactly as by SQLite's BEGIN IMMEDIATE, and a second writer waits
     * here (lock_timeout 5 s) before anything was done. READ COMMITTED
     * whatever the server's default: each later statement sees what the
     * previous writer committed. */
    .begin_sql = "BEGIN ISOLATION LEVEL READ COMMITTED;"
		 "SELECT pg_advisory_xact_lock(" WRITE_LOCK_KEY ")",
    /* How many transactions of the cluster have ended: xmax counts every
     * transaction that got an id, the in-progress list those still
     * running. Every commit (and rollback) of a writer anywhere, ours
     * included, moves it; our own make the caller drop its cache for
     * nothing, which is harmless. Not xmax alone: it moves when a writer
     * starts, not when it commits. */
    .data_version_sql =
	"SELECT CAST(CAST(pg_snapshot_xmax(s) AS TEXT) AS BIGINT) - "
	"(SELECT count(*) FROM pg_snapshot_xip(s)) FROM pg_current_snapshot() AS s",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .in_transaction = pg_in_transaction,
    .commit = pg_commit,
    .migration_sql = pg_migration_sql,
    .prepare = pg_prepare,
    .bind_int64 = pg_bind_int64,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_int64 = pg_col_int64,
    .col_text = pg_col_text,
    .col_blob = pg_col_blob,
    .col_is_null = pg_col_is_null,
    .reset = pg_reset,
    .finalize = pg_finalize,
};
