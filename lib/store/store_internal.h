/* Internals shared by the files of lib/store (prefix jpkii_). Not installed.
 *
 * store.c is the backend-neutral part: URL dispatch, the transaction rules,
 * the migration runner and the error text. A backend (sqlite.c,
 * postgresql.c) fills in a struct jpkii_store_ops and only talks to its
 * database. Callers never see any of this: they use jpki/store.h.
 */
#ifndef JPKI_STORE_INTERNAL_H
#define JPKI_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/store.h"
#include "migrations.h"

/* Size of the store's last-error text (the backend's message is cut to fit). */
#define JPKII_ERRMSG_SZ 256

/* What a backend provides. Every function that fails sets the store's
 * error text (jpkii_store_seterr) and maps its database's codes onto
 * jpki_err: a uniqueness or foreign-key violation is JPKI_ERR_CONFLICT, a
 * misuse by the caller (bad parameter index) JPKI_ERR_INTERNAL, anything
 * else the database reports JPKI_ERR_STORE. */
struct jpkii_store_ops {
	const char *name; /* "sqlite", "postgresql" */
	/* The statement that opens a transaction holding the write lock. */
	const char *begin_sql;
	/* A query whose one integer changes when other connections commit. */
	const char *data_version_sql;

	/* Connects to target (a file path, a connection string) into s->db and
	 * applies the session settings. On failure s->db is left NULL or for
	 * close() to release, and eb says why. */
	jpki_err (*open)(struct jpki_store *s, const char *target,
			 struct jpki_errbuf *eb);
	void (*close)(struct jpki_store *s); /* s->db may be NULL */
	/* One or more statements without parameters or results. */
	jpki_err (*exec)(struct jpki_store *s, const char *sql);
	bool (*in_transaction)(const struct jpki_store *s);
	/* Commits the open transaction; NULL: exec("COMMIT"). For a database
	 * whose COMMIT can quietly mean ROLLBACK (PostgreSQL, after an
	 * error): this must fail then. */
	jpki_err (*commit)(struct jpki_store *s);
	/* The text of a migration for this backend; NULL if it has none. */
	const char *(*migration_sql)(const struct jpkii_migration *m);

	/* Statements. prepare takes the portable text with $N placeholders. */
	jpki_err (*prepare)(struct jpki_store *s, const char *sql, void **h);
	jpki_err (*bind_int64)(struct jpki_stmt *st, int idx, int64_t v);
	jpki_err (*bind_text)(struct jpki_stmt *st, int idx, const char *v);
	jpki_err (*bind_blob)(struct jpki_stmt *st, int idx, const void *p, size_t n);
	jpki_err (*bind_null)(struct jpki_stmt *st, int idx);
	jpki_err (*step)(struct jpki_stmt *st, bool *row);
	int64_t (*col_int64)(struct jpki_stmt *st, int col);
	const char *(*col_text)(struct jpki_stmt *st, int col); /* never NULL */
	const void *(*col_blob)(struct jpki_stmt *st, int col, size_t *n);
	bool (*col_is_null)(struct jpki_stmt *st, int col);
	void (*reset)(struct jpki_stmt *st); /* also clears the bindings */
	void (*finalize)(void *h);	     /* must not need the store */
};

/* Prepared statements kept for reuse: parsing SQL costs more than running
 * most of our statements. Keyed by the SQL text. */
#define JPKII_STMT_CACHE 48

struct jpkii_cached_stmt {
	char *sql;
	struct jpki_stmt *st;
	bool busy; /* handed out, not yet finalized */
};

struct jpki_store {
	const struct jpkii_store_ops *ops;
	struct jpkii_cached_stmt cache[JPKII_STMT_CACHE];
	int n_cache;
	void *db;	    /* the backend's connection (sqlite3 *, PGconn *) */
	char *path;	    /* the SQLite file; NULL for a server backend */
	int schema_version; /* after migrations */
	int64_t epoch;	    /* jpki_store_touch() */
	char errmsg[JPKII_ERRMSG_SZ];
	struct {
		char name[33];
		int fd; /* SQLite: the flock(2)ed file; PostgreSQL: -1 */
	} locks[4];	/* jpki_store_try_lock(); name "" when free */
};

struct jpki_stmt {
	struct jpki_store *s;
	const struct jpkii_store_ops *ops;
	void *h;			/* the backend's statement */
	struct jpkii_cached_stmt *slot; /* when it lives in the cache */
};

extern const struct jpkii_store_ops jpkii_sqlite_ops;

/* The highest placeholder number: SQLite's default
 * SQLITE_MAX_VARIABLE_NUMBER since 3.32.0, and below PostgreSQL's 65535, so
 * a statement that runs on one backend runs on the other. */
#define JPKII_MAX_PARAMS 32766

/* Checks the placeholders of sql by one set of rules for every backend:
 * $1..$N, each number up to the highest used, N <= JPKII_MAX_PARAMS, none
 * of the backend-only forms (?, ?N, :name, @name, $name), one statement.
 * Literals, quoted names and comments are skipped. When sqlite is
 * non-NULL (a copy of sql), each $N in it becomes ?N, which means the
 * same in SQLite. JPKI_ERR_INTERNAL with the store's error text set. */
jpki_err jpkii_scan_placeholders(struct jpki_store *s, const char *sql, char *sqlite,
				 int *nparams);

/* True when nothing but blanks, semicolons and comments is left. */
bool jpkii_sql_only_trailer(const char *p);
extern const struct jpkii_store_ops jpkii_pg_ops;

/* Sets the store's last-error text (cut to fit). */
void jpkii_store_seterr(struct jpki_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
