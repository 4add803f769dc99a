/* The schema, as forward-only migrations (lib/store internal). */
#ifndef JPKI_STORE_MIGRATIONS_H
#define JPKI_STORE_MIGRATIONS_H

#include <stddef.h>

struct jpkii_migration {
	int version;            /* 1, 2, ...: strictly increasing */
	const char *name;       /* what it adds */
	const char *sqlite;     /* SQL for SQLite (several statements) */
	const char *postgresql; /* SQL for PostgreSQL (the same logical schema) */
};

extern const struct jpkii_migration jpkii_migrations[];
extern const size_t jpkii_n_migrations;

#endif
