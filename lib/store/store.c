/* The store, backend-neutral: URL dispatch, transactions, migrations.
 *
 * A URL picks a backend (struct jpkii_store_ops: sqlite.c, postgresql.c);
 * everything a caller can do goes through that table, so callers never know
 * which database they use. The rules that do not depend on the database
 * live here: no nested transactions, a failed begin or commit leaves
 * nothing behind, and migrations only go forward.
 * Documented in docs/internals/store.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "jpki/date.h"
#include "jpki/store.h"
#include "migrations.h"
#include "store_internal.h"
#include "banned.h"

#define SQLITE_PREFIX	  "sqlite:"
#define POSTGRES_PREFIX_1 "postgresql://"
#define POSTGRES_PREFIX_2 "postgres://"

void jpkii_store_seterr(struct jpki_store *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
	va_end(ap);
	if (n < 0)
		s->errmsg[0] = '\0';
	/* A cut message is still a useful one; vsnprintf terminated it. */
}

/* ---- URL dispatch ---- */

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "name://..." with a letter first, as URL schemes are (RFC 3986 3.1). */
static bool looks_like_url(const char *s)
{
	size_t i = 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	       (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' ||
	       s[i] == '.')
		i++;
	return strncmp(s + i, "://", 3) == 0;
}

/* Picks the backend for url and the target it is given (a path). */
static jpki_err parse_url(const char *url, const struct jpkii_store_ops **ops,
			  const char **target, struct jpki_errbuf *eb)
{
	if (url == NULL || url[0] == '\0')
		return jpki_errf(eb, JPKI_ERR_INVALID, "store: no URL or path given");
	/* libpq reads the URL itself (host, port, user, query parameters). */
	if (has_prefix(url, POSTGRES_PREFIX_1) || has_prefix(url, POSTGRES_PREFIX_2)) {
		*ops = &jpkii_pg_ops;
		*target = url;
		return JPKI_OK;
	}
	if (has_prefix(url, SQLITE_PREFIX)) {
		const char *path = url + strlen(SQLITE_PREFIX);
		/* "sqlite://var/x.db" would silently mean "/var/x.db". */
		if (has_prefix(path, "//"))
			return jpki_errf(eb, JPKI_ERR_INVALID,
					 "store: write sqlite:PATH, without \"//\"");
		if (path[0] == '\0')
			return jpki_errf(eb, JPKI_ERR_INVALID,
					 "store: sqlite: needs a file path");
		*ops = &jpkii_sqlite_ops;
		*target = path;
		return JPKI_OK;
	}
	if (looks_like_url(url))
		return jpki_errf(
		    eb, JPKI_ERR_INVALID,
		    "store: unknown URL scheme (use a path, sqlite:PATH or "
		    "postgresql://...)");
	*ops = &jpkii_sqlite_ops;
	*target = url;
	return JPKI_OK;
}

/* ---- placeholders (shared by the backends) ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_start(char c)
{
	unsigned char u = (unsigned char)c;
	return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' ||
	       u >= 0x80;
}

/* A character that continues a name in both SQLite and PostgreSQL. */
static bool is_name_char(char c)
{
	return is_name_start(c) || is_digit(c) || c == '$';
}

/* Where a comment starting at p ends, or NULL when p starts none. */
static const char *skip_comment(const char *p)
{
	const char *end = NULL;
	if (p[0] == '-' && p[1] == '-') {
		end = strchr(p, '\n');
		return end != NULL ? end + 1 : p + strlen(p);
	}
	if (p[0] == '/' && p[1] == '*') {
		end = strstr(p + 2, "*/");
		return end != NULL ? end + 2 : p + strlen(p);
	}
	return NULL;
}

/* True when nothing but blanks, semicolons and comments is left. */
bool jpkii_sql_only_trailer(const char *p)
{
	while (*p != '\0') {
		const char *after = skip_comment(p);
		if (after != NULL)
			p = after;
		else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' ||
			 *p == ';')
			p++;
		else
			return false;
	}
	return true;
}

static jpki_err refuse(struct jpki_store *s, const char *what)
{
	jpkii_store_seterr(s, "prepare: %s", what);
	return JPKI_ERR_INTERNAL;
}

/* One set of rules for every backend (store_internal.h), so a statement
 * accepted by one is accepted by the other. A doubled quote inside a
 * literal ('it''s') closes it and opens the next, which comes to the same;
 * an unterminated literal is left for the database to report. */
jpki_err jpkii_scan_placeholders(struct jpki_store *s, const char *sql, char *sqlite,
				 int *nparams)
{
	uint8_t used[JPKII_MAX_PARAMS / 8 + 1];
	int max = 0;
	const char *p = sql;

	memset(used, 0, sizeof used);
	*nparams = 0;
	if (jpkii_sql_only_trailer(sql))
		return refuse(s, "no statement in the SQL");
	while (*p != '\0') {
		const char *after = skip_comment(p);
		bool after_name = p > sql && is_name_char(p[-1]);
		if (after != NULL) {
			p = after;
			continue;
		}
		if (*p == '\'' || *p == '"') {
			const char *end = strchr(p + 1, *p);
			if (end == NULL)
				break; /* for the server to report */
			p = end + 1;
			continue;
		}
		if (*p == ';') {
			if (!jpkii_sql_only_trailer(p))
				return refuse(s, "one statement at a time");
			break;
		}
		/* "::" is PostgreSQL's cast, not a ":name". */
		if (*p == '?' ||
		    (*p == ':' && is_name_start(p[1]) && (p == sql || p[-1] != ':')) ||
		    (*p == '@' && is_name_start(p[1])) ||
		    (*p == '$' && !after_name && (is_name_start(p[1]) || p[1] == '$')))
			return refuse(s, "use $1..$N placeholders only");
		if (*p != '$' || !is_digit(p[1]) || after_name) {
			p++;
			continue;
		}
		int n = 0;
		const char *q = p + 1;
		for (; is_digit(*q); q++) {
			int d = *q - '0';
			if (n > (JPKII_MAX_PARAMS - d) / 10) {
				jpkii_store_seterr(s,
						   "prepare: placeholders stop at $%d",
						   JPKII_MAX_PARAMS);
				return JPKI_ERR_INTERNAL;
			}
			n = n * 10 + d;
		}
		if (n == 0)
			return refuse(s, "placeholders start at $1");
		if (is_name_char(*q)) {
			jpkii_store_seterr(s, "prepare: $%d runs into a name", n);
			return JPKI_ERR_INTERNAL;
		}
		if (sqlite != NULL)
			sqlite[p - sql] = '?'; /* ?N: the same length */
		used[n / 8] |= (uint8_t)(1u << (n % 8));
		if (n > max)
			max = n;
		p = q;
	}
	for (int n = 1; n <= max; n++) {
		if (!(used[n / 8] & (1u << (n % 8)))) {
			jpkii_store_seterr(s,
					   "prepare: $%d is never used (placeholders "
					   "are $1..$%d, each at least once)",
					   n, max);
			return JPKI_ERR_INTERNAL;
		}
	}
	*nparams = max;
	return JPKI_OK;
}

/* ---- migrations ---- */

/* The table itself is portable SQL, so it is not a migration: it has to
 * exist before the first one can be recorded. */
static const char schema_migrations_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  applied_at TEXT NOT NULL)";

/* The migration table is part of the program: versions 1, 2, ... in order. */
static bool migrations_well_formed(void)
{
	for (size_t i = 0; i < jpkii_n_migrations; i++)
		if (jpkii_migrations[i].version != (int)i + 1 ||
		    jpkii_migrations[i].name == NULL)
			return false;
	return true;
}

static int known_version(void)
{
	return (int)jpkii_n_migrations;
}

/* Reads schema_migrations and checks it is a prefix of this build's list:
 * versions 1..cur, each with the name we know. A newer version means a newer
 * program wrote the store; a gap or another name means it was not written by
 * openjpki's migrations at all. Either way we must not touch it. */
static jpki_err check_history(struct jpki_store *s, int *cur, struct jpki_errbuf *eb)
{
	jpki_err rc;
	struct jpki_stmt *st = NULL;
	bool row = false;
	int64_t expect = 1;

	*cur = 0;
	rc = jpki_stmt_prepare(s,
			       "SELECT version, name FROM schema_migrations "
			       "ORDER BY version",
			       &st);
	if (rc != JPKI_OK) {
		jpki_errf(eb, rc, "schema_migrations: %s", s->errmsg);
		goto out;
	}
	for (;;) {
		rc = jpki_stmt_step(st, &row);
		if (rc != JPKI_OK) {
			jpki_errf(eb, rc, "schema_migrations: %s", s->errmsg);
			goto out;
		}
		if (!row)
			break;
		int64_t v = jpki_stmt_int64(st, 0);
		const char *name = jpki_stmt_text(st, 1);
		rc = JPKI_ERR_STORE;
		if (v > known_version()) {
			jpki_errf(eb, rc,
				  "schema version %" PRId64 " is newer than this "
				  "build knows (%d): use a newer openjpki",
				  v, known_version());
			goto out;
		}
		if (v != expect) {
			jpki_errf(eb, rc,
				  "schema_migrations: version %" PRId64
				  " is missing; the store was not made by openjpki",
				  expect);
			goto out;
		}
		const char *want = jpkii_migrations[v - 1].name;
		if (strcmp(name, want) != 0) {
			jpki_errf(eb, rc,
				  "schema_migrations: version %" PRId64
				  " is \"%s\", this build expects \"%s\"",
				  v, name, want);
			goto out;
		}
		expect++;
	}
	*cur = (int)(expect - 1);
	rc = JPKI_OK;
out:
	jpki_stmt_finalize(st);
	return rc;
}

static jpki_err record_migration(struct jpki_store *s, const struct jpkii_migration *m,
				 const char *applied_at)
{
	jpki_err rc;
	struct jpki_stmt *st = NULL;
	bool row;

	rc = jpki_stmt_prepare(
	    s,
	    "INSERT INTO schema_migrations (version, name, applied_at) "
	    "VALUES ($1, $2, $3)",
	    &st);
	if (rc != JPKI_OK)
		goto out;
	if ((rc = jpki_stmt_bind_int64(st, 1, m->version)) != JPKI_OK ||
	    (rc = jpki_stmt_bind_text(st, 2, m->name)) != JPKI_OK ||
	    (rc = jpki_stmt_bind_text(st, 3, applied_at)) != JPKI_OK)
		goto out;
	rc = jpki_stmt_step(st, &row);
out:
	jpki_stmt_finalize(st);
	return rc;
}

/* One migration in one transaction with its schema_migrations row. The
 * history is read again under the write lock: another process opening the
 * same store may have applied it meanwhile. */
static jpki_err apply_migration(struct jpki_store *s, const struct jpkii_migration *m,
				const char *applied_at, struct jpki_errbuf *eb)
{
	jpki_err rc;
	int cur;
	const char *sql = s->ops->migration_sql(m);

	if (sql == NULL)
		return jpki_errf(eb, JPKI_ERR_INTERNAL,
				 "migration %d (%s) has no SQL for %s", m->version,
				 m->name, s->ops->name);
	if ((rc = jpki_store_begin(s)) != JPKI_OK) {
		jpki_errf(eb, rc, "migration %d (%s): %s", m->version, m->name,
			  s->errmsg);
		goto out;
	}
	if ((rc = check_history(s, &cur, eb)) != JPKI_OK)
		goto out;
	if (cur >= m->version) {
		rc = jpki_store_commit(s);
		goto out_report;
	}
	if ((rc = s->ops->exec(s, sql)) != JPKI_OK)
		goto out_report;
	if ((rc = record_migration(s, m, applied_at)) != JPKI_OK)
		goto out_report;
	rc = jpki_store_commit(s);
out_report:
	if (rc != JPKI_OK)
		jpki_errf(eb, rc, "migration %d (%s): %s", m->version, m->name,
			  s->errmsg);
out:
	jpki_store_rollback(s); /* no-op after a commit */
	return rc;
}

static jpki_err create_under_lock(struct jpki_store *s, const char *sql)
{
	jpki_err rc = jpki_store_begin(s);
	if (rc == JPKI_OK && (rc = s->ops->exec(s, sql)) == JPKI_OK)
		rc = jpki_store_commit(s);
	jpki_store_rollback(s); /* no-op after a commit */
	return rc;
}

static jpki_err migrate(struct jpki_store *s, struct jpki_errbuf *eb)
{
	jpki_err rc;
	int cur;
	char applied_at[JPKI_INSTANT_BUFSZ];

	if (!migrations_well_formed())
		return jpki_errf(eb, JPKI_ERR_INTERNAL,
				 "the migration list is not numbered 1, 2, ...");
	/* jpki_store_open() has no "now" parameter: applied_at records when the
	 * schema really changed, so the wall clock is the right source here
	 * (a pinned JPKI_NOW would make it lie). */
	if (jpki_instant_format((int64_t)time(NULL), applied_at) != JPKI_OK)
		return jpki_errf(eb, JPKI_ERR_INTERNAL,
				 "the system clock is outside 1868..2199");

	/* One statement, atomic by itself. When the table exists it writes
	 * nothing, so opening an up-to-date store takes no write lock. Two
	 * processes creating it at once in PostgreSQL can make one fail (a
	 * duplicate catalog row): that one tries again under the write lock,
	 * after the other has committed. */
	if ((rc = s->ops->exec(s, schema_migrations_sql)) != JPKI_OK &&
	    (rc = create_under_lock(s, schema_migrations_sql)) != JPKI_OK)
		return jpki_errf(eb, rc, "schema_migrations: %s", s->errmsg);
	if ((rc = check_history(s, &cur, eb)) != JPKI_OK)
		return rc;
	for (size_t i = (size_t)cur; i < jpkii_n_migrations; i++)
		if ((rc = apply_migration(s, &jpkii_migrations[i], applied_at, eb)) !=
		    JPKI_OK)
			return rc;
	if ((rc = check_history(s, &cur, eb)) != JPKI_OK)
		return rc;
	s->schema_version = cur;
	return JPKI_OK;
}

/* ---- the store ---- */

jpki_err jpki_store_open(const char *url, struct jpki_store **out,
			 struct jpki_errbuf *eb)
{
	jpki_err rc;
	struct jpki_store *s = NULL;
	const struct jpkii_store_ops *ops = NULL;
	const char *target = NULL;

	*out = NULL;
	if ((rc = parse_url(url, &ops, &target, eb)) != JPKI_OK)
		goto out;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		rc = jpki_errf(eb, JPKI_ERR_NOMEM, "out of memory");
		goto out;
	}
	s->ops = ops;
	if (ops == &jpkii_sqlite_ops && (s->path = strdup(target)) == NULL) {
		rc = jpki_errf(eb, JPKI_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((rc = ops->open(s, target, eb)) != JPKI_OK)
		goto out;
	if ((rc = migrate(s, eb)) != JPKI_OK)
		goto out;
	*out = s;
	s = NULL;
	rc = JPKI_OK;
out:
	jpki_store_close(s);
	return rc;
}

static void stmt_destroy(struct jpki_stmt *st)
{
	st->ops->finalize(st->h);
	free(st);
}

/* ---- named locks ---- */

static bool lock_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
			return false;
	return true;
}

/* The advisory lock key of a name on PostgreSQL: FNV-1a of the name in the
 * low 32 bits, a fixed tag in the high ones so no other user of advisory
 * locks (the write lock) collides with it. */
static int64_t pg_lock_key(const char *name)
{
	uint32_t h = 2166136261u;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return (int64_t)((uint64_t)0x6a706b69u << 32 | h); /* "jpki" */
}

static int lock_slot(struct jpki_store *s, const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s->locks[i].name, name) == 0)
			return i;
	return -1;
}

static jpki_err pg_lock_call(struct jpki_store *s, const char *sql, const char *name,
			     bool *got)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err e = jpki_stmt_prepare(s, sql, &st);
	if (e == JPKI_OK)
		e = jpki_stmt_bind_int64(st, 1, pg_lock_key(name));
	if (e == JPKI_OK)
		e = jpki_stmt_step(st, &row);
	if (e == JPKI_OK && got)
		*got = row && jpki_stmt_int64(st, 0) != 0;
	jpki_stmt_finalize(st);
	return e;
}

jpki_err jpki_store_try_lock(struct jpki_store *s, const char *name)
{
	if (!lock_name_ok(name)) {
		jpkii_store_seterr(s, "lock name must be 1-32 of [a-z0-9-]");
		return JPKI_ERR_INVALID;
	}
	if (lock_slot(s, name) >= 0) {
		jpkii_store_seterr(s, "lock %s is already held by this connection",
				   name);
		return JPKI_ERR_CONFLICT;
	}
	int slot = lock_slot(s, "");
	if (slot < 0) {
		jpkii_store_seterr(s, "too many locks held");
		return JPKI_ERR_INTERNAL;
	}
	int fd = -1;
	if (s->path != NULL) {
		char file[4200];
		int n = snprintf(file, sizeof file, "%s-lock-%s", s->path, name);
		if (n < 0 || (size_t)n >= sizeof file) {
			jpkii_store_seterr(s, "store path too long for a lock file");
			return JPKI_ERR_INVALID;
		}
		fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			jpkii_store_seterr(s, "lock file %s: %s", file,
					   strerror(errno));
			return JPKI_ERR_STORE;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int err = errno;
			close(fd);
			if (err == EWOULDBLOCK) {
				jpkii_store_seterr(
				    s, "lock %s is held by another process", name);
				return JPKI_ERR_CONFLICT;
			}
			jpkii_store_seterr(s, "lock file %s: %s", file, strerror(err));
			return JPKI_ERR_STORE;
		}
	} else {
		bool got = false;
		jpki_err e =
		    pg_lock_call(s, "SELECT pg_try_advisory_lock($1)::int", name, &got);
		if (e != JPKI_OK)
			return e;
		if (!got) {
			jpkii_store_seterr(s, "lock %s is held by another connection",
					   name);
			return JPKI_ERR_CONFLICT;
		}
	}
	snprintf(s->locks[slot].name, sizeof s->locks[slot].name, "%s", name);
	s->locks[slot].fd = fd;
	return JPKI_OK;
}

void jpki_store_unlock(struct jpki_store *s, const char *name)
{
	int slot = (s && name && *name) ? lock_slot(s, name) : -1;
	if (slot < 0)
		return;
	if (s->locks[slot].fd >= 0)
		close(s->locks[slot].fd); /* releases the flock */
	else
		(void)pg_lock_call(s, "SELECT pg_advisory_unlock($1)::int", name, NULL);
	s->locks[slot].name[0] = '\0';
	s->locks[slot].fd = -1;
}

void jpki_store_close(struct jpki_store *s)
{
	if (s == NULL)
		return;
	jpki_store_rollback(s);
	/* Released one by one rather than left to the disconnect: a PostgreSQL
	 * backend drops its session locks only once it notices the client has
	 * gone, so the next holder could still be refused after we return. */
	for (int i = 0; i < 4; i++)
		if (s->locks[i].name[0])
			jpki_store_unlock(s, s->locks[i].name);
	for (int i = 0; i < s->n_cache; i++) {
		stmt_destroy(s->cache[i].st);
		free(s->cache[i].sql);
	}
	s->ops->close(s);
	free(s->path);
	free(s);
}

jpki_err jpki_store_data_version(struct jpki_store *s, int64_t *out)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpki_stmt_prepare(s, s->ops->data_version_sql, &st);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && !row)
		rc = JPKI_ERR_STORE;
	if (rc == JPKI_OK)
		*out = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	return rc;
}

const char *jpki_store_path(const struct jpki_store *s)
{
	return s->path;
}

int jpki_store_schema_version(const struct jpki_store *s)
{
	return s->schema_version;
}

/* A begin that fails leaves no transaction behind (PostgreSQL's BEGIN has
 * already opened one when taking the write lock times out). */
jpki_err jpki_store_begin(struct jpki_store *s)
{
	char saved[JPKII_ERRMSG_SZ];

	if (s->ops->in_transaction(s)) {
		jpkii_store_seterr(s, "a transaction is already open");
		return JPKI_ERR_INTERNAL;
	}
	jpki_err rc = s->ops->exec(s, s->ops->begin_sql);
	if (rc != JPKI_OK && s->ops->in_transaction(s)) {
		memcpy(saved, s->errmsg, sizeof saved);
		jpki_store_rollback(s);
		memcpy(s->errmsg, saved, sizeof saved);
	}
	return rc;
}

/* A commit that fails is rolled back here, so the store is as it was before
 * begin() whatever the caller does next (DESIGN: nothing lost, nothing
 * half-done). */
void jpki_store_touch(struct jpki_store *s)
{
	s->epoch++;
}

int64_t jpki_store_epoch(const struct jpki_store *s)
{
	return s->epoch;
}

jpki_err jpki_store_commit(struct jpki_store *s)
{
	char saved[JPKII_ERRMSG_SZ];

	if (!s->ops->in_transaction(s)) {
		jpkii_store_seterr(s, "commit without an open transaction");
		return JPKI_ERR_INTERNAL;
	}
	jpki_err rc =
	    s->ops->commit != NULL ? s->ops->commit(s) : s->ops->exec(s, "COMMIT");
	if (rc != JPKI_OK) {
		memcpy(saved, s->errmsg, sizeof saved);
		jpki_store_rollback(s);
		memcpy(s->errmsg, saved, sizeof saved);
	}
	return rc;
}

void jpki_store_rollback(struct jpki_store *s)
{
	if (s->ops->in_transaction(s))
		(void)s->ops->exec(s, "ROLLBACK");
}

bool jpki_store_in_transaction(const struct jpki_store *s)
{
	return s->ops->in_transaction(s);
}

jpki_err jpki_store_exec(struct jpki_store *s, const char *sql)
{
	if (sql == NULL) {
		jpkii_store_seterr(s, "exec: no SQL");
		return JPKI_ERR_INTERNAL;
	}
	return s->ops->exec(s, sql);
}

const char *jpki_store_errmsg(const struct jpki_store *s)
{
	return s == NULL ? "" : s->errmsg;
}

/* ---- statements ---- */

jpki_err jpki_stmt_prepare(struct jpki_store *s, const char *sql,
			   struct jpki_stmt **out)
{
	jpki_err rc;
	struct jpki_stmt *st = NULL;

	*out = NULL;
	if (sql == NULL) {
		jpkii_store_seterr(s, "prepare: no SQL");
		return JPKI_ERR_INTERNAL;
	}
	for (int i = 0; i < s->n_cache; i++) {
		struct jpkii_cached_stmt *c = &s->cache[i];
		if (!c->busy && strcmp(c->sql, sql) == 0) {
			c->busy = true;
			*out = c->st;
			return JPKI_OK;
		}
	}
	if ((st = calloc(1, sizeof *st)) == NULL) {
		jpkii_store_seterr(s, "out of memory");
		return JPKI_ERR_NOMEM;
	}
	st->s = s;
	st->ops = s->ops;
	if ((rc = s->ops->prepare(s, sql, &st->h)) != JPKI_OK) {
		free(st);
		return rc;
	}
	if (s->n_cache < JPKII_STMT_CACHE) {
		struct jpkii_cached_stmt *c = &s->cache[s->n_cache];
		if ((c->sql = strdup(sql)) != NULL) {
			c->st = st;
			c->busy = true;
			st->slot = c;
			s->n_cache++;
		}
	}
	*out = st;
	return JPKI_OK;
}

jpki_err jpki_stmt_bind_int64(struct jpki_stmt *st, int idx, int64_t v)
{
	return st->ops->bind_int64(st, idx, v);
}

jpki_err jpki_stmt_bind_text(struct jpki_stmt *st, int idx, const char *v)
{
	if (v == NULL) {
		jpkii_store_seterr(
		    st->s, "bind $%d: NULL text (use jpki_stmt_bind_null)", idx);
		return JPKI_ERR_INTERNAL;
	}
	return st->ops->bind_text(st, idx, v);
}

jpki_err jpki_stmt_bind_blob(struct jpki_stmt *st, int idx, const void *p, size_t n)
{
	if (p == NULL && n > 0) {
		jpkii_store_seterr(st->s, "bind $%d: NULL blob of %zu bytes", idx, n);
		return JPKI_ERR_INTERNAL;
	}
	return st->ops->bind_blob(st, idx, p, n);
}

jpki_err jpki_stmt_bind_null(struct jpki_stmt *st, int idx)
{
	return st->ops->bind_null(st, idx);
}

jpki_err jpki_stmt_step(struct jpki_stmt *st, bool *row)
{
	*row = false;
	return st->ops->step(st, row);
}

int64_t jpki_stmt_int64(struct jpki_stmt *st, int col)
{
	return st->ops->col_int64(st, col);
}

const char *jpki_stmt_text(struct jpki_stmt *st, int col)
{
	return st->ops->col_text(st, col);
}

const void *jpki_stmt_blob(struct jpki_stmt *st, int col, size_t *n)
{
	return st->ops->col_blob(st, col, n);
}

bool jpki_stmt_is_null(struct jpki_stmt *st, int col)
{
	return st->ops->col_is_null(st, col);
}

jpki_err jpki_stmt_reset(struct jpki_stmt *st)
{
	st->ops->reset(st);
	return JPKI_OK;
}

void jpki_stmt_finalize(struct jpki_stmt *st)
{
	if (st == NULL)
		return;
	if (st->slot != NULL) {
		/* Back to the cache, reset and with its bindings cleared. */
		st->ops->reset(st);
		st->slot->busy = false;
		return;
	}
	stmt_destroy(st);
}
