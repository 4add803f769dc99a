/* The audit log: append-only and hash-chained.
 *
 * Each row's hash covers the previous row's hash and the row's own fields,
 * so editing, inserting or deleting any row but the newest breaks the chain
 * at that row (docs/internals/store.md: the encoding, a worked example, and
 * what the chain cannot detect). The canonical encoding of a row is, for
 * seq (decimal ASCII), at, actor, action, object and details in that order,
 * netstring style:
 *
 *     <byte length in decimal ASCII> ":" <bytes> ","
 *
 * and hash = SHA-256(prev_hash as 32 raw bytes || encoding), stored as 64
 * lowercase hex digits. details is JSON made canonical by jansson: an
 * object, keys sorted by their UTF-8 bytes, compact, UTF-8 kept as is.
 */
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpki/date.h"
#include "jpki/store.h"
#include "store_internal.h"
#include "banned.h"

#define HASH_LEN 32
#define HEX_LEN	 (2 * HASH_LEN)
#define N_FIELDS 6
/* "-9223372036854775808" plus the NUL. */
#define INT64_BUFSZ 21

static const char hex_digits[] = "0123456789abcdef";

static void to_hex(const uint8_t in[static HASH_LEN], char out[static HEX_LEN + 1])
{
	for (size_t i = 0; i < HASH_LEN; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 0x0f];
	}
	out[HEX_LEN] = '\0';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is not the stored form */
}

/* Exactly 64 lowercase hex digits. */
static bool from_hex(const char *in, uint8_t out[static HASH_LEN])
{
	if (strlen(in) != HEX_LEN)
		return false;
	for (size_t i = 0; i < HASH_LEN; i++) {
		int hi = hex_value(in[2 * i]), lo = hex_value(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* The stored form of details: NULL with eb set when it is not a JSON
 * object. The caller frees the result. */
static jpki_err canonical_details(const char *in, char **out, struct jpki_errbuf *eb)
{
	jpki_err rc = JPKI_ERR_INVALID;
	json_error_t je;
	json_t *v = NULL;

	*out = NULL;
	if (in == NULL) {
		jpki_errf(eb, rc, "audit: details missing (give \"{}\" for none)");
		goto out;
	}
	if ((v = json_loads(in, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		jpki_errf(eb, rc, "audit: details: %s (line %d, column %d)", je.text,
			  je.line, je.column);
		goto out;
	}
	if (!json_is_object(v)) {
		jpki_errf(eb, rc, "audit: details must be a JSON object");
		goto out;
	}
	if ((*out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		rc = jpki_errf(eb, JPKI_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = JPKI_OK;
out:
	json_decref(v);
	return rc;
}

/* hash = SHA-256(prev || encoding of field[0..5]), as lowercase hex. */
static jpki_err row_hash(const uint8_t prev[static HASH_LEN],
			 const char *const field[static N_FIELDS],
			 char out[static HEX_LEN + 1])
{
	jpki_err rc = JPKI_ERR_CRYPTO;
	EVP_MD_CTX *ctx = NULL;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char len[INT64_BUFSZ + 1];

	out[0] = '\0';
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, prev, HASH_LEN) != 1)
		goto out;
	for (size_t i = 0; i < N_FIELDS; i++) {
		size_t n = strlen(field[i]);
		int k = snprintf(len, sizeof len, "%zu:", n);
		if (k < 0 || (size_t)k >= sizeof len)
			goto out;
		if (EVP_DigestUpdate(ctx, len, (size_t)k) != 1 ||
		    EVP_DigestUpdate(ctx, field[i], n) != 1 ||
		    EVP_DigestUpdate(ctx, ",", 1) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != HASH_LEN)
		goto out;
	to_hex(md, out);
	rc = JPKI_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void seq_text(int64_t seq, char buf[static INT64_BUFSZ])
{
	snprintf(buf, INT64_BUFSZ, "%" PRId64, seq);
}

/* The newest row's seq and hash; 0 and 64 zeros when the log is empty. */
static jpki_err last_row(struct jpki_store *s, int64_t *seq,
			 uint8_t hash[static HASH_LEN], struct jpki_errbuf *eb)
{
	jpki_err rc;
	struct jpki_stmt *st = NULL;
	bool row = false;

	*seq = 0;
	memset(hash, 0, HASH_LEN);
	if ((rc = jpki_stmt_prepare(s,
				    "SELECT seq, hash FROM audit_log "
				    "ORDER BY seq DESC LIMIT 1",
				    &st)) != JPKI_OK ||
	    (rc = jpki_stmt_step(st, &row)) != JPKI_OK) {
		jpki_errf(eb, rc, "audit: %s", jpki_store_errmsg(s));
		goto out;
	}
	if (row) {
		*seq = jpki_stmt_int64(st, 0);
		if (!from_hex(jpki_stmt_text(st, 1), hash)) {
			rc = jpki_errf(eb, JPKI_ERR_STORE,
				       "audit: row %" PRId64 " has a malformed hash",
				       *seq);
			goto out;
		}
	}
	rc = JPKI_OK;
out:
	jpki_stmt_finalize(st);
	return rc;
}

static jpki_err insert_row(struct jpki_store *s,
			   const char *const field[static N_FIELDS], int64_t seq,
			   const char *prev_hex, const char *hash_hex,
			   struct jpki_errbuf *eb)
{
	jpki_err rc;
	struct jpki_stmt *st = NULL;
	bool row;

	if ((rc = jpki_stmt_prepare(s,
				    "INSERT INTO audit_log (seq, at, actor, action, "
				    "object, details, prev_hash, hash) "
				    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
				    &st)) != JPKI_OK)
		goto out_err;
	if ((rc = jpki_stmt_bind_int64(st, 1, seq)) != JPKI_OK)
		goto out_err;
	for (int i = 1; i < N_FIELDS; i++)
		if ((rc = jpki_stmt_bind_text(st, i + 1, field[i])) != JPKI_OK)
			goto out_err;
	if ((rc = jpki_stmt_bind_text(st, 7, prev_hex)) != JPKI_OK ||
	    (rc = jpki_stmt_bind_text(st, 8, hash_hex)) != JPKI_OK ||
	    (rc = jpki_stmt_step(st, &row)) != JPKI_OK)
		goto out_err;
	goto out;
out_err:
	jpki_errf(eb, rc, "audit: %s", jpki_store_errmsg(s));
out:
	jpki_stmt_finalize(st);
	return rc;
}

jpki_err jpki_audit_append(struct jpki_store *s, int64_t now, const char *actor,
			   const char *action, const char *object,
			   const char *details_json, struct jpki_errbuf *eb)
{
	jpki_err rc;
	char *details = NULL;
	char at[JPKI_INSTANT_BUFSZ];
	char seq_buf[INT64_BUFSZ];
	char prev_hex[HEX_LEN + 1], hash_hex[HEX_LEN + 1];
	uint8_t prev[HASH_LEN];
	int64_t last;

	/* The row belongs to the operation it records: both commit or neither. */
	if (!jpki_store_in_transaction(s)) {
		rc = jpki_errf(eb, JPKI_ERR_INTERNAL,
			       "audit: append needs the operation's open transaction");
		goto out;
	}
	if (actor == NULL || action == NULL || object == NULL) {
		rc = jpki_errf(eb, JPKI_ERR_INVALID,
			       "audit: actor, action and object are required");
		goto out;
	}
	if (jpki_instant_format(now, at) != JPKI_OK) {
		rc = jpki_errf(eb, JPKI_ERR_RANGE,
			       "audit: time %" PRId64 " is outside 1868..2199", now);
		goto out;
	}
	if ((rc = canonical_details(details_json, &details, eb)) != JPKI_OK)
		goto out;
	if ((rc = last_row(s, &last, prev, eb)) != JPKI_OK)
		goto out;
	if (last == INT64_MAX) {
		rc = jpki_errf(eb, JPKI_ERR_RANGE, "audit: the log is full");
		goto out;
	}
	seq_text(last + 1, seq_buf);
	const char *const field[N_FIELDS] = {seq_buf, at,     actor,
					     action,  object, details};
	if ((rc = row_hash(prev, field, hash_hex)) != JPKI_OK) {
		jpki_errf(eb, rc, "audit: SHA-256 failed");
		goto out;
	}
	to_hex(prev, prev_hex);
	rc = insert_row(s, field, last + 1, prev_hex, hash_hex, eb);
out:
	free(details);
	return rc;
}

/* ---- verification ---- */

struct chain {
	int64_t expect;		/* the seq the next row must have */
	char prev[HEX_LEN + 1]; /* the previous row's hash */
};

/* Checks one row against the chain so far; 0 and a reason in eb if bad.
 * The order of the checks decides which reason a row gets when several
 * apply: a missing row first, then the link, then the row's own hash, and
 * last whether details are in the form append writes (a row that passes
 * its hash but fails this was written by something else). */
static jpki_err check_row(struct jpki_stmt *st, struct chain *c, struct jpki_errbuf *eb)
{
	jpki_err rc = JPKI_ERR_REFUSED;
	char *canon = NULL;
	char seq_buf[INT64_BUFSZ];
	char hash_hex[HEX_LEN + 1];
	uint8_t prev[HASH_LEN];
	int64_t seq = jpki_stmt_int64(st, 0);
	const char *details = jpki_stmt_text(st, 5);
	const char *prev_hex = jpki_stmt_text(st, 6);
	const char *hash = jpki_stmt_text(st, 7);
	struct jpki_errbuf ignored;

	if (seq != c->expect) {
		jpki_errf(eb, rc, "row %" PRId64 ": seq gap (expected %" PRId64 ")",
			  seq, c->expect);
		goto out;
	}
	if (strcmp(prev_hex, c->prev) != 0) {
		if (seq == 1)
			jpki_errf(eb, rc, "row 1: prev_hash is not 64 zeros");
		else
			jpki_errf(eb, rc,
				  "row %" PRId64
				  ": prev_hash does not match row %" PRId64,
				  seq, seq - 1);
		goto out;
	}
	seq_text(seq, seq_buf);
	const char *const field[N_FIELDS] = {seq_buf,
					     jpki_stmt_text(st, 1),
					     jpki_stmt_text(st, 2),
					     jpki_stmt_text(st, 3),
					     jpki_stmt_text(st, 4),
					     details};
	/* c->prev is 64 hex digits: the zeros, or a hash checked below. */
	if (!from_hex(c->prev, prev)) {
		rc = jpki_errf(eb, JPKI_ERR_INTERNAL, "audit: bad chain state");
		goto out;
	}
	if (row_hash(prev, field, hash_hex) != JPKI_OK) {
		rc = jpki_errf(eb, JPKI_ERR_CRYPTO, "audit: SHA-256 failed");
		goto out;
	}
	if (strcmp(hash, hash_hex) != 0) {
		jpki_errf(eb, rc, "row %" PRId64 ": hash does not match its contents",
			  seq);
		goto out;
	}
	jpki_err crc = canonical_details(details, &canon, &ignored);
	if (crc == JPKI_ERR_NOMEM) {
		rc = jpki_errf(eb, crc, "out of memory");
		goto out;
	}
	if (crc != JPKI_OK || strcmp(canon, details) != 0) {
		jpki_errf(eb, rc, "row %" PRId64 ": details are not canonical JSON",
			  seq);
		goto out;
	}
	memcpy(c->prev, hash_hex, sizeof c->prev);
	c->expect++;
	rc = JPKI_OK;
out:
	free(canon);
	return rc;
}

jpki_err jpki_audit_verify(struct jpki_store *s, struct jpki_audit_report *r,
			   struct jpki_errbuf *eb)
{
	jpki_err rc;
	struct jpki_stmt *st = NULL;
	struct chain c = {.expect = 1};
	bool row = false;

	r->rows = 0;
	r->bad_seq = 0;
	memset(c.prev, '0', HEX_LEN);
	c.prev[HEX_LEN] = '\0';
	/* One SELECT reads one snapshot, even while others append (WAL). */
	if ((rc = jpki_stmt_prepare(s,
				    "SELECT seq, at, actor, action, object, details, "
				    "prev_hash, hash FROM audit_log ORDER BY seq",
				    &st)) != JPKI_OK) {
		jpki_errf(eb, rc, "audit: %s", jpki_store_errmsg(s));
		goto out;
	}
	for (;;) {
		if ((rc = jpki_stmt_step(st, &row)) != JPKI_OK) {
			jpki_errf(eb, rc, "audit: %s", jpki_store_errmsg(s));
			goto out;
		}
		if (!row)
			break;
		r->rows++;
		if ((rc = check_row(st, &c, eb)) != JPKI_OK) {
			if (rc == JPKI_ERR_REFUSED)
				r->bad_seq = jpki_stmt_int64(st, 0);
			goto out;
		}
	}
	rc = JPKI_OK;
out:
	jpki_stmt_finalize(st);
	return rc;
}
