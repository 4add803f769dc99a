/* Fuzz target: the store's statement preparation, above all the $N to ?N
 * placeholder translation (string literals, quoted names, comments). Only
 * prepared, never run: the input cannot change the store. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpki/store.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jpki_store *store;
static char dir[] = "/tmp/jpki-fuzz-sql-XXXXXX";

static void teardown(void)
{
	char cmd[128];
	jpki_store_close(store);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_sql: could not remove %s\n", dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (store == NULL) {
		char db[64];
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(db, sizeof db, "%s/s.db", dir);
		if (jpki_store_open(db, &store, NULL) != JPKI_OK)
			abort();
		atexit(teardown);
	}
	char *sql = malloc(size + 1);
	if (sql == NULL || size > 4096) {
		free(sql);
		return 0;
	}
	memcpy(sql, data, size);
	sql[size] = '\0';
	struct jpki_stmt *st = NULL;
	if (jpki_stmt_prepare(store, sql, &st) == JPKI_OK) {
		/* Bind past the end and at every index: must fail cleanly. */
		for (int i = 0; i < 4; i++)
			(void)jpki_stmt_bind_int64(st, i, 1);
		jpki_stmt_finalize(st);
	}
	free(sql);
	return 0;
}
