/* Expiry notices: selection, claiming a run, notices and runs as stored,
 * suspension (DOMAIN §6; seeds 000, 002, 004). The batch that prints a
 * run is in batch.c. Schema: migration 6 (lib/store/migrations.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "jpki/notice.h"
#include "notice_internal.h"
#include "registry/reg_internal.h"
#include "banned.h"

const char *jpki_notice_kind_name(enum jpki_notice_kind k)
{
	return k == JPKI_NOTICE_CARD ? "card" : "cert";
}

const char *jpki_notice_state_name(enum jpki_notice_state s)
{
	switch (s) {
	case JPKI_NOTICE_SELECTED:
		return "selected";
	case JPKI_NOTICE_PRINTED:
		return "printed";
	case JPKI_NOTICE_CANCELLED:
		return "cancelled";
	default:
		return "unknown";
	}
}

void jpkii_notice_month(int year, int month, char buf[static 8])
{
	snprintf(buf, 8, "%04u-%02u", (unsigned)year % 10000u, (unsigned)month % 100u);
}

/* ---- the schedule (seed 000: "毎月中旬に、翌々月に電子証明書の有効期限を
 * 迎える方に向けて有効期限通知書が発送されます") ---- */

jpki_err jpki_notice_parse_month(const char *s, int *year, int *month)
{
	static const char shape[] = "dddd-dd";
	if (s == NULL || strlen(s) != 7)
		return JPKI_ERR_INVALID;
	for (int i = 0; i < 7; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return JPKI_ERR_INVALID;
	int y =
	    (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	if (m < 1 || m > 12 || y < JPKI_YEAR_MIN || y > JPKI_YEAR_MAX)
		return JPKI_ERR_INVALID;
	*year = y;
	*month = m;
	return JPKI_OK;
}

void jpki_notice_default_month(jpki_day d, int *year, int *month)
{
	int y, m, dd;
	jpki_day_to_ymd(d, &y, &m, &dd);
	m += 2;
	if (m > 12)
		m -= 12, y++;
	*year = y;
	*month = m;
}

jpki_err jpki_notice_check_month(jpki_day d, int year, int month,
				 struct jpki_errbuf *eb)
{
	int y, m, dd, ly, lm;
	jpki_day first;
	if (month < 1 || month > 12 ||
	    jpki_day_from_ymd(year, month, 1, &first) != JPKI_OK)
		return jpki_errf(eb, JPKI_ERR_INVALID, "%04d-%02d is not a month", year,
				 month);
	jpki_day_to_ymd(d, &y, &m, &dd);
	jpki_notice_default_month(d, &ly, &lm);
	int want = year * 12 + month;
	if (want < y * 12 + m)
		return jpki_errf(eb, JPKI_ERR_RANGE,
				 "%04d-%02d has passed: a run on %04d-%02d-%02d sends "
				 "%04d-%02d to %04d-%02d",
				 year, month, y, m, dd, y, m, ly, lm);
	if (want > ly * 12 + lm)
		return jpki_errf(eb, JPKI_ERR_RANGE,
				 "%04d-%02d is too far ahead: a run on %04d-%02d-%02d "
				 "sends %04d-%02d at the latest (notices go out two "
				 "months ahead)",
				 year, month, y, m, dd, ly, lm);
	return JPKI_OK;
}

/* ---- selection ---- */

struct cand {
	int64_t resident;
	enum jpki_notice_kind kind; /* CARD: the card itself; CERT: a certificate */
	char serial[66];
	char card[33];
	jpki_day expires;
	char *postal, *address;
};

struct plan_key {
	struct jpki_notice_plan plan;
	const char *postal, *address;
};

static void cands_free(struct cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].postal);
		free(c[i].address);
	}
	free(c);
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->resident != y->resident)
		return x->resident < y->resident ? -1 : 1;
	if (x->kind != y->kind) /* the card first */
		return x->kind == JPKI_NOTICE_CARD ? -1 : 1;
	if (x->expires != y->expires)
		return x->expires < y->expires ? -1 : 1;
	return strcmp(x->serial, y->serial);
}

/* Postal order: the contractor sorts mail by postal code (unknown last),
 * then address, then resident. */
static int cmp_plan(const void *a, const void *b)
{
	const struct plan_key *x = a, *y = b;
	bool xp = x->postal && *x->postal, yp = y->postal && *y->postal;
	if (xp != yp)
		return xp ? -1 : 1;
	int c = xp ? strcmp(x->postal, y->postal) : 0;
	if (c == 0)
		c = strcmp(x->address, y->address);
	if (c == 0 && x->plan.resident != y->plan.resident)
		c = x->plan.resident < y->plan.resident ? -1 : 1;
	return c;
}

static jpki_err load_cands(const struct jpki_reg_ctx *ctx, jpki_day first,
			   jpki_day last, struct cand **out, size_t *n,
			   struct jpki_reg_msg *m)
{
	/* Both halves run on an index: holder_cert(expires, resident) and the
	 * partial card(expires) index of active cards. */
	static const char sql[] =
	    "SELECT h.resident, 0, h.serial, h.card, h.expires, r.postal_code, "
	    "r.address FROM holder_cert h JOIN resident r ON r.id = h.resident "
	    "JOIN card c ON c.serial = h.card WHERE h.expires BETWEEN $1 AND $2 "
	    "AND r.status = 'registered' AND c.state = 'active' "
	    "AND NOT EXISTS (SELECT 1 FROM revocation v WHERE v.serial = h.serial) "
	    "AND NOT EXISTS (SELECT 1 FROM notice_target t WHERE t.target = "
	    "'cert:' || h.serial) "
	    "UNION ALL SELECT c.resident, 1, c.serial, c.serial, c.expires, "
	    "r.postal_code, r.address FROM card c JOIN resident r ON r.id = "
	    "c.resident WHERE c.state = 'active' AND c.expires BETWEEN $1 AND $2 "
	    "AND r.status = 'registered' AND NOT EXISTS (SELECT 1 FROM notice_target "
	    "t WHERE t.target = 'card:' || c.serial)";
	struct jpki_stmt *st = NULL;
	struct cand *v = NULL;
	size_t k = 0, cap = 0;
	bool row = false;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "dd", sql, first, last);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (!jpkii_reg_grow(&v, &cap, k, sizeof *v)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
		struct cand *c = &v[k];
		memset(c, 0, sizeof *c);
		c->resident = jpki_stmt_int64(st, 0);
		c->kind = jpki_stmt_int64(st, 1) ? JPKI_NOTICE_CARD : JPKI_NOTICE_CERT;
		snprintf(c->serial, sizeof c->serial, "%s", jpki_stmt_text(st, 2));
		snprintf(c->card, sizeof c->card, "%s", jpki_stmt_text(st, 3));
		c->expires = jpkii_reg_col_day(st, 4);
		c->postal =
		    jpki_stmt_is_null(st, 5) ? NULL : strdup(jpki_stmt_text(st, 5));
		c->address = strdup(jpki_stmt_text(st, 6));
		k++;
		if (c->address == NULL ||
		    (!jpki_stmt_is_null(st, 5) && c->postal == NULL)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK) {
		cands_free(v, k);
		return rc == JPKI_ERR_NOMEM
			   ? jpkii_reg_fail(m, rc, "nomem", "out of memory",
					    "メモリが足りません")
			   : jpkii_reg_store_fail(ctx, m, rc);
	}
	*out = v;
	*n = k;
	return JPKI_OK;
}

void jpki_notice_selection_release(struct jpki_notice_selection *sel)
{
	if (sel == NULL)
		return;
	free(sel->plans);
	free(sel->targets);
	memset(sel, 0, sizeof *sel);
}

static bool push_target(struct jpki_notice_selection *sel, size_t *cap,
			const struct cand *c)
{
	if (!jpkii_reg_grow(&sel->targets, cap, sel->n_targets, sizeof *sel->targets))
		return false;
	snprintf(sel->targets[sel->n_targets++], sizeof sel->targets[0], "%s:%s",
		 c->kind == JPKI_NOTICE_CARD ? "card" : "cert", c->serial);
	return true;
}

/* One resident's candidates, cands[i..j), sorted card first then by
 * expiry: one plan. False when out of memory. */
static bool plan_resident(const struct cand *v, size_t i, size_t j, jpki_day today,
			  struct jpki_notice_selection *sel, size_t *tcap,
			  struct plan_key *pk)
{
	const struct cand *lead = NULL;
	size_t first = sel->n_targets;
	for (size_t x = i; x < j; x++) {
		const struct cand *c = &v[x];
		/* A target that expired before the run day gets no letter:
		 * the window is over (a catch-up run after a suspension). */
		if (c->expires < today) {
			sel->expired_before++;
			continue;
		}
		if (lead == NULL)
			lead = c;
		/* A card notice covers the certificates on that card. */
		else if (lead->kind == JPKI_NOTICE_CARD &&
			 c->kind == JPKI_NOTICE_CERT &&
			 strcmp(c->card, lead->serial) != 0)
			continue;
		if (!push_target(sel, tcap, c))
			return false;
	}
	memset(pk, 0, sizeof *pk);
	if (lead == NULL)
		return true;
	pk->plan.resident = lead->resident;
	pk->plan.kind = lead->kind;
	snprintf(pk->plan.target, sizeof pk->plan.target, "%s", lead->serial);
	pk->plan.expires = lead->expires;
	pk->plan.first_target = first;
	pk->plan.n_targets = sel->n_targets - first;
	pk->postal = lead->postal;
	pk->address = lead->address;
	return true;
}

jpki_err jpki_notice_select(const struct jpki_reg_ctx *ctx, int year, int month,
			    struct jpki_notice_selection *out, struct jpki_reg_msg *m)
{
	struct cand *v = NULL;
	struct plan_key *keys = NULL;
	size_t n = 0, nk = 0, tcap = 0;
	jpki_day first, last, today = jpki_jst_day(ctx->now);
	jpki_err rc;

	memset(out, 0, sizeof *out);
	if (jpki_day_from_ymd(year, month, 1, &first) != JPKI_OK ||
	    jpki_add_months(first, 1, &last) != JPKI_OK)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "%04d-%02d is not a month we support",
				      "%04d年%02d月は扱えない年月です", year, month);
	last -= 1;
	if ((rc = load_cands(ctx, first, last, &v, &n, m)) != JPKI_OK)
		return rc;
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_cand);
	if (n > 0 && (keys = calloc(n, sizeof *keys)) == NULL)
		goto nomem;
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && v[j].resident == v[i].resident; j++)
			;
		if (!plan_resident(v, i, j, today, out, &tcap, &keys[nk]))
			goto nomem;
		if (keys[nk].plan.resident != 0)
			nk++;
	}
	if (nk > 1)
		qsort(keys, nk, sizeof *keys, cmp_plan);
	if (nk > 0 && (out->plans = calloc(nk, sizeof *out->plans)) == NULL)
		goto nomem;
	for (size_t i = 0; i < nk; i++) {
		out->plans[i] = keys[i].plan;
		out->by_kind[keys[i].plan.kind]++;
	}
	out->n = nk;
	free(keys);
	cands_free(v, n);
	return JPKI_OK;
nomem:
	free(keys);
	cands_free(v, n);
	jpki_notice_selection_release(out);
	return jpkii_reg_fail(m, JPKI_ERR_NOMEM, "nomem", "out of memory",
			      "メモリが足りません");
}

/* ---- claiming a run ---- */

static jpki_err insert_notice(const struct jpki_reg_ctx *ctx, int64_t run, int64_t seq,
			      const char *month, const struct jpki_notice_plan *p,
			      int64_t *id)
{
	char rid[JPKI_RID_BUFSZ], app[25] = "";
	jpki_err rc;
	/* A clash of two random IDs is about one in 10^15: draw again. */
	for (int attempt = 0; attempt < 5; attempt++) {
		struct jpki_stmt *st = NULL;
		bool row = false;
		if ((rc = jpki_rid_new(rid)) != JPKI_OK)
			return rc;
		/* DOMAIN §6: a card notice carries the card application
		 * form's 23-digit ID. */
		if (p->kind == JPKI_NOTICE_CARD && (rc = jpkii_notice_digits(app, 22)))
			return rc;
		rc = jpkii_reg_query(
		    ctx->store, &st, "iititdttti",
		    "INSERT INTO notice (run, seq, kind, resident, target, expires, "
		    "expiring, state, reservation_id, application_id, created_at) "
		    "VALUES ($1, $2, $3, $4, $5, $6, $7, 'selected', $8, $9, $10) "
		    "ON CONFLICT (reservation_id) DO NOTHING RETURNING id",
		    run, seq, jpki_notice_kind_name(p->kind), p->resident, p->target,
		    p->expires, month, rid, app[0] ? app : NULL, ctx->now);
		if (rc == JPKI_OK)
			rc = jpki_stmt_step(st, &row);
		if (rc == JPKI_OK && row)
			*id = jpki_stmt_int64(st, 0);
		jpki_stmt_finalize(st);
		if (rc != JPKI_OK || row)
			return rc;
	}
	return JPKI_ERR_CONFLICT;
}

static char *claim_details(int64_t run, const char *month,
			   const struct jpki_notice_selection *sel, const char *out_dir)
{
	json_t *d = json_pack("{s:I,s:s,s:I,s:I,s:I,s:I,s:s}", "run", (json_int_t)run,
			      "expiring", month, "notices", (json_int_t)sel->n, "cert",
			      (json_int_t)sel->by_kind[0], "card",
			      (json_int_t)sel->by_kind[1], "expired_before",
			      (json_int_t)sel->expired_before, "out_dir", out_dir);
	char *s = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	return s;
}

jpki_err jpkii_notice_claim(const struct jpki_reg_ctx *ctx, int year, int month,
			    const char *out_dir, size_t per_file,
			    const struct jpki_notice_selection *sel, int64_t *run,
			    struct jpki_reg_msg *m)
{
	char mon[8], object[40], day[JPKI_DATE_BUFSZ];
	struct jpki_stmt *st = NULL;
	char *details = NULL;
	bool row = false;
	jpki_err rc;

	jpkii_notice_month(year, month, mon);
	jpki_date_format(jpki_jst_day(ctx->now), day);
	if ((rc = jpki_store_begin(ctx->store)) != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	rc = jpkii_reg_query(
	    ctx->store, &st, "ttttiiii",
	    "INSERT INTO notice_run (expiring, run_on, state, actor, "
	    "out_dir, per_file, selected, expired_before, started_at, "
	    "updated_at) VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, "
	    "$8, $8) RETURNING id",
	    mon, day, ctx->actor ? ctx->actor : "jpki", out_dir, (int64_t)per_file,
	    (int64_t)sel->n, (int64_t)sel->expired_before, ctx->now);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	if (rc == JPKI_OK && row)
		*run = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	for (size_t i = 0; rc == JPKI_OK && i < sel->n; i++) {
		const struct jpki_notice_plan *p = &sel->plans[i];
		int64_t id = 0;
		rc = insert_notice(ctx, *run, (int64_t)i + 1, mon, p, &id);
		for (size_t t = 0; rc == JPKI_OK && t < p->n_targets; t++)
			rc = jpkii_reg_sql(ctx->store, "ti",
					   "INSERT INTO notice_target (target, notice) "
					   "VALUES ($1, $2)",
					   sel->targets[p->first_target + t], id);
	}
	if (rc != JPKI_OK) {
		jpki_store_rollback(ctx->store);
		if (rc == JPKI_ERR_CONFLICT)
			return jpkii_reg_fail(
			    m, rc, "conflict",
			    "another process claimed notices of %s at "
			    "the same time; nothing was claimed, run again",
			    "別の処理が同時に%sの通知を作成しました。"
			    "もう一度実行してください",
			    mon);
		return rc == JPKI_ERR_CRYPTO
			   ? jpkii_reg_fail(m, rc, "crypto",
					    "the random generator failed",
					    "乱数の生成に失敗しました")
			   : jpkii_reg_store_fail(ctx, m, rc);
	}
	snprintf(object, sizeof object, "notice-run:%" PRId64, *run);
	if ((details = claim_details(*run, mon, sel, out_dir)) == NULL) {
		jpki_store_rollback(ctx->store);
		return jpkii_reg_fail(m, JPKI_ERR_NOMEM, "nomem", "out of memory",
				      "メモリが足りません");
	}
	rc = jpkii_reg_audit_commit(ctx, "notice.run", object, details, m);
	free(details);
	return rc;
}

jpki_err jpki_notice_unfinished(const struct jpki_reg_ctx *ctx, int year, int month,
				int64_t *run, struct jpki_reg_msg *m)
{
	char mon[8];
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpkii_notice_month(year, month, mon);
	*run = 0;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "t",
				      "SELECT id FROM notice_run WHERE expiring = $1 "
				      "AND state = 'running'",
				      mon);
	if (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row)
		*run = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	return rc == JPKI_OK ? rc : jpkii_reg_store_fail(ctx, m, rc);
}

/* ---- notices as stored ---- */

void jpkii_notice_from_row(struct jpki_stmt *st, struct jpki_notice *o)
{
	const char *state = jpki_stmt_text(st, 5);
	memset(o, 0, sizeof *o);
	o->id = jpki_stmt_int64(st, 0);
	o->run = jpki_stmt_int64(st, 1);
	o->seq = jpki_stmt_int64(st, 2);
	o->resident = jpki_stmt_int64(st, 3);
	o->kind = strcmp(jpki_stmt_text(st, 4), "card") == 0 ? JPKI_NOTICE_CARD
							     : JPKI_NOTICE_CERT;
	o->state = strcmp(state, "printed") == 0     ? JPKI_NOTICE_PRINTED
		   : strcmp(state, "cancelled") == 0 ? JPKI_NOTICE_CANCELLED
						     : JPKI_NOTICE_SELECTED;
	snprintf(o->target, sizeof o->target, "%s", jpki_stmt_text(st, 6));
	o->expires = jpkii_reg_col_day(st, 7);
	if (o->expires != JPKI_DAY_NONE)
		jpki_renewal_window(o->expires, &o->window_first, &o->window_last);
	if (jpki_notice_parse_month(jpki_stmt_text(st, 8), &o->year, &o->month))
		o->year = o->month = 0;
	snprintf(o->reservation_id, sizeof o->reservation_id, "%s",
		 jpki_stmt_text(st, 9));
	snprintf(o->application_id, sizeof o->application_id, "%s",
		 jpki_stmt_text(st, 10));
	o->created_at = jpki_stmt_int64(st, 11);
	o->printed_at = jpki_stmt_int64(st, 12);
	snprintf(o->file, sizeof o->file, "%s", jpki_stmt_text(st, 13));
	snprintf(o->cancel_reason, sizeof o->cancel_reason, "%s",
		 jpki_stmt_text(st, 14));
}

jpki_err jpki_notice_get(const struct jpki_reg_ctx *ctx, int64_t id,
			 struct jpki_notice *out, struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpkii_reg_query(
	    ctx->store, &st, "i",
	    "SELECT " JPKII_NOTICE_COLS " FROM notice n WHERE n.id = $1", id);
	if (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row)
		jpkii_notice_from_row(st, out);
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	if (!row)
		return jpkii_reg_fail(m, JPKI_ERR_NOTFOUND, "no_notice",
				      "no notice %" PRId64,
				      "通知%" PRId64 "はありません", id);
	return JPKI_OK;
}

jpki_err jpki_notice_verify_reservation(const struct jpki_reg_ctx *ctx, const char *rid,
					jpki_day birth, struct jpki_notice *out,
					struct jpki_reg_msg *m)
{
	char digits[JPKI_RID_BUFSZ], have[JPKI_DATE_BUFSZ] = "", want[JPKI_DATE_BUFSZ];
	struct jpki_errbuf eb = {{0}};
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc = jpki_rid_parse(rid, digits, &eb);
	if (rc != JPKI_OK)
		return jpkii_reg_fail(m, rc, "bad_reservation_id", "%s",
				      "予約IDが正しくありません（%s）", eb.msg);
	rc = jpkii_reg_query(ctx->store, &st, "t",
			     "SELECT " JPKII_NOTICE_COLS ", r.birth FROM notice n JOIN "
			     "resident r ON r.id = n.resident WHERE n.reservation_id = "
			     "$1 AND n.state <> 'cancelled'",
			     digits);
	if (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		jpkii_notice_from_row(st, out);
		snprintf(have, sizeof have, "%s",
			 jpki_stmt_text(st, JPKII_NOTICE_NCOLS));
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	jpki_date_format(birth, want);
	/* One answer for an unknown ID and a wrong birth date; the compare
	 * does not stop at the first differing byte. */
	bool match = row && strlen(have) == strlen(want) &&
		     CRYPTO_memcmp(have, want, strlen(want)) == 0;
	if (!match) {
		memset(out, 0, sizeof *out);
		return jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "no_match",
		    "no notice has this reservation ID with this "
		    "birth date",
		    "この予約IDと生年月日に一致するお知らせはありません");
	}
	return JPKI_OK;
}

/* ---- runs ---- */

#define RUN_COLS                                                                       \
	"id, expiring, run_on, state, actor, out_dir, per_file, selected, printed, "   \
	"cancelled, rendered, expired_before, started_at, updated_at, finished_at"

static void run_from_row(struct jpki_stmt *st, struct jpki_notice_run_info *o)
{
	memset(o, 0, sizeof *o);
	o->id = jpki_stmt_int64(st, 0);
	if (jpki_notice_parse_month(jpki_stmt_text(st, 1), &o->year, &o->month))
		o->year = o->month = 0;
	o->run_on = jpkii_reg_col_day(st, 2);
	o->done = strcmp(jpki_stmt_text(st, 3), "done") == 0;
	snprintf(o->actor, sizeof o->actor, "%s", jpki_stmt_text(st, 4));
	snprintf(o->out_dir, sizeof o->out_dir, "%s", jpki_stmt_text(st, 5));
	o->per_file = (size_t)jpki_stmt_int64(st, 6);
	o->selected = (size_t)jpki_stmt_int64(st, 7);
	o->printed = (size_t)jpki_stmt_int64(st, 8);
	o->cancelled = (size_t)jpki_stmt_int64(st, 9);
	o->rendered = (size_t)jpki_stmt_int64(st, 10);
	o->expired_before = (size_t)jpki_stmt_int64(st, 11);
	o->started_at = jpki_stmt_int64(st, 12);
	o->updated_at = jpki_stmt_int64(st, 13);
	o->finished_at = jpki_stmt_int64(st, 14);
}

jpki_err jpki_notice_runs(const struct jpki_reg_ctx *ctx, size_t limit,
			  struct jpki_notice_run_info **out, size_t *n,
			  struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	struct jpki_notice_run_info *v = NULL;
	size_t k = 0, cap = 0;
	bool row = false;
	*out = NULL;
	*n = 0;
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "i",
				      "SELECT " RUN_COLS " FROM notice_run ORDER BY id "
				      "DESC LIMIT $1",
				      (int64_t)limit);
	while (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		if (!jpkii_reg_grow(&v, &cap, k, sizeof *v)) {
			rc = JPKI_ERR_NOMEM;
			break;
		}
		run_from_row(st, &v[k++]);
	}
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK) {
		free(v);
		return jpkii_reg_store_fail(ctx, m, rc);
	}
	*out = v;
	*n = k;
	return JPKI_OK;
}

jpki_err jpki_notice_run_get(const struct jpki_reg_ctx *ctx, int64_t id,
			     struct jpki_notice_run_info *out, struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	jpki_err rc =
	    jpkii_reg_query(ctx->store, &st, "i",
			    "SELECT " RUN_COLS " FROM notice_run WHERE id = $1", id);
	if (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row)
		run_from_row(st, out);
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	if (!row)
		return jpkii_reg_fail(m, JPKI_ERR_NOTFOUND, "no_run",
				      "no notice run %" PRId64,
				      "通知の作成処理%" PRId64 "はありません", id);
	return JPKI_OK;
}

const char *jpki_month_state_name(enum jpki_month_state s)
{
	switch (s) {
	case JPKI_MONTH_NOT_SENT:
		return "not_sent";
	case JPKI_MONTH_UNFINISHED:
		return "unfinished";
	case JPKI_MONTH_DONE:
		return "done";
	default:
		return "unknown";
	}
}

jpki_err jpki_notice_months(const struct jpki_reg_ctx *ctx,
			    struct jpki_notice_month out[static 3],
			    struct jpki_reg_msg *m)
{
	int y, mo, d, dy, dm;
	jpki_day today = jpki_jst_day(ctx->now);
	jpki_day_to_ymd(today, &y, &mo, &d);
	jpki_notice_default_month(today, &dy, &dm);
	for (int k = 0; k < 3; k++) {
		struct jpki_notice_month *x = &out[k];
		struct jpki_stmt *st = NULL;
		char mon[8];
		bool row = false;
		memset(x, 0, sizeof *x);
		x->year = y;
		x->month = mo + k;
		if (x->month > 12)
			x->month -= 12, x->year++;
		x->due = x->year == dy && x->month == dm;
		jpkii_notice_month(x->year, x->month, mon);
		jpki_err rc = jpkii_reg_query(
		    ctx->store, &st, "t",
		    "SELECT count(*), coalesce(sum(selected), 0), "
		    "coalesce(sum(printed), 0), "
		    "coalesce(sum(cancelled), 0), coalesce(max(id), 0), "
		    "coalesce(sum(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0) "
		    "FROM notice_run WHERE expiring = $1",
		    mon);
		if (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK &&
		    row) {
			x->runs = (size_t)jpki_stmt_int64(st, 0);
			x->notices = (size_t)jpki_stmt_int64(st, 1);
			x->printed = (size_t)jpki_stmt_int64(st, 2);
			x->cancelled = (size_t)jpki_stmt_int64(st, 3);
			x->last_run = jpki_stmt_int64(st, 4);
			x->state = x->runs == 0			? JPKI_MONTH_NOT_SENT
				   : jpki_stmt_int64(st, 5) > 0 ? JPKI_MONTH_UNFINISHED
								: JPKI_MONTH_DONE;
		}
		jpki_stmt_finalize(st);
		if (rc != JPKI_OK)
			return jpkii_reg_store_fail(ctx, m, rc);
	}
	return JPKI_OK;
}

/* ---- suspension ---- */

jpki_err jpki_notice_suspension_get(const struct jpki_reg_ctx *ctx,
				    struct jpki_notice_suspension *out,
				    struct jpki_reg_msg *m)
{
	struct jpki_stmt *st = NULL;
	bool row = false;
	memset(out, 0, sizeof *out);
	jpki_err rc = jpkii_reg_query(ctx->store, &st, "",
				      "SELECT value FROM notice_setting WHERE key = "
				      "'suspended'");
	if (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		json_t *j = json_loads(jpki_stmt_text(st, 0), 0, NULL);
		json_int_t since = 0;
		const char *by = "", *reason = "";
		json_unpack(j, "{s?I,s?s,s?s}", "since", &since, "by", &by, "reason",
			    &reason);
		out->suspended = true;
		out->since = since;
		snprintf(out->by, sizeof out->by, "%s", by);
		snprintf(out->reason, sizeof out->reason, "%s", reason);
		json_decref(j);
	}
	jpki_stmt_finalize(st);
	return rc == JPKI_OK ? rc : jpkii_reg_store_fail(ctx, m, rc);
}

jpki_err jpkii_notice_suspended(const struct jpki_reg_ctx *ctx, bool *out,
				struct jpki_reg_msg *m)
{
	struct jpki_notice_suspension s;
	jpki_err rc = jpki_notice_suspension_get(ctx, &s, m);
	*out = s.suspended;
	return rc;
}

static jpki_err set_suspension(const struct jpki_reg_ctx *ctx, bool suspend,
			       const char *reason, struct jpki_reg_msg *m)
{
	struct jpki_notice_suspension cur;
	char *value = NULL, *details = NULL;
	json_t *v = NULL, *d = NULL;
	jpki_err rc;

	if (reason && strlen(reason) > 200)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "the reason is longer than 200 bytes",
				      "理由が長すぎます（200バイトまで）");
	if ((rc = jpki_store_begin(ctx->store)) != JPKI_OK)
		return jpkii_reg_store_fail(ctx, m, rc);
	if ((rc = jpki_notice_suspension_get(ctx, &cur, m)) != JPKI_OK)
		goto out;
	if (suspend && cur.suspended) {
		char since[JPKI_INSTANT_BUFSZ];
		jpki_instant_format(cur.since, since);
		rc = jpkii_reg_fail(
		    m, JPKI_ERR_REFUSED, "already_suspended",
		    "sending notices is already suspended (since %s by %s)",
		    "通知の発送はすでに停止中です（%s から、%s）", since, cur.by);
		goto out;
	}
	if (!suspend && !cur.suspended) {
		rc = jpkii_reg_fail(m, JPKI_ERR_REFUSED, "not_suspended",
				    "sending notices is not suspended",
				    "通知の発送は停止されていません");
		goto out;
	}
	v = json_pack("{s:I,s:s,s:s}", "since", (json_int_t)ctx->now, "by",
		      ctx->actor ? ctx->actor : "jpki", "reason", reason ? reason : "");
	d = json_pack("{s:s}", "reason", suspend ? (reason ? reason : "") : cur.reason);
	value = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	details = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (value == NULL || details == NULL) {
		rc = jpkii_reg_fail(m, JPKI_ERR_NOMEM, "nomem", "out of memory",
				    "メモリが足りません");
		goto out;
	}
	rc = suspend
		 ? jpkii_reg_sql(ctx->store, "t",
				 "INSERT INTO notice_setting (key, value) VALUES "
				 "('suspended', $1)",
				 value)
		 : jpkii_reg_sql(ctx->store, "",
				 "DELETE FROM notice_setting WHERE key = 'suspended'");
	if (rc != JPKI_OK) {
		rc = jpkii_reg_store_fail(ctx, m, rc);
		goto out;
	}
	rc = jpkii_reg_audit_commit(ctx, suspend ? "notice.suspend" : "notice.resume",
				    "notices", details, m);
out:
	if (rc != JPKI_OK)
		jpki_store_rollback(ctx->store);
	json_decref(v);
	json_decref(d);
	free(value);
	free(details);
	return rc;
}

jpki_err jpki_notice_suspend(const struct jpki_reg_ctx *ctx, const char *reason,
			     struct jpki_reg_msg *m)
{
	return set_suspension(ctx, true, reason, m);
}

jpki_err jpki_notice_resume(const struct jpki_reg_ctx *ctx, struct jpki_reg_msg *m)
{
	return set_suspension(ctx, false, NULL, m);
}
