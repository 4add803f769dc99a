/* The expiry notices from the admin page (lib/notice, docs/notices.md):
 * status, a dry run, starting a run and watching it, suspend and resume.
 *
 * A run takes minutes, so it runs on a thread of its own with its own
 * store connection, one at a time in this process (the store's "notice"
 * lock keeps it to one across processes too). Its progress is kept here
 * for the page and committed to the run row every 100 letters, so a run
 * started by `jpki notice run` shows on the page as well. At shutdown a
 * run stops between two letters; running it again finishes it.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpki/notice.h"
#include "jpkid.h"
#include "banned.h"

static struct {
	pthread_mutex_t mu;
	pthread_t thread;
	bool started; /* a thread to join */
	bool running;
	atomic_bool stop;
	/* the latest run started here */
	int year, month;
	int64_t run;
	size_t done, total;
	char actor[48];
	char dir[4096];
	int64_t started_at, finished_at;
	char error_code[40], error_en[256], error_ja[512];
	size_t per_file;
} nr = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_progress(const struct jpki_notice_progress *p, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&nr.mu);
	nr.run = p->run;
	nr.done = p->done;
	nr.total = p->total;
	pthread_mutex_unlock(&nr.mu);
}

static bool should_stop(void *arg)
{
	(void)arg;
	return atomic_load(&nr.stop);
}

static void *run_thread(void *arg)
{
	(void)arg;
	struct jpki_store *s = NULL;
	struct jpki_errbuf eb = {{0}};
	struct jpki_reg_msg m = {0};
	struct jpki_notice_report rep;
	jpki_err e = jpki_store_open(cfg.store_url, &s, &eb);
	if (e == JPKI_OK) {
		struct jpki_reg_ctx ctx = {.store = s,
					   .keys_dir = cfg.keys_dir,
					   .passphrase = cfg.passphrase,
					   .actor = nr.actor,
					   .now = now_s(),
					   .feb29 = cfg.feb29};
		struct jpki_notice_run_opts o = {.year = nr.year,
						 .month = nr.month,
						 .out_dir = nr.dir,
						 .create_out = true,
						 .per_file = nr.per_file,
						 .office = office,
						 .progress = on_progress,
						 .should_stop = should_stop};
		e = jpki_notice_run(&ctx, &o, &rep, &m);
		jpki_store_close(s);
	} else {
		snprintf(m.code, sizeof m.code, "store");
		snprintf(m.en, sizeof m.en, "%s", eb.msg);
	}
	pthread_mutex_lock(&nr.mu);
	nr.running = false;
	nr.finished_at = now_s();
	if (e == JPKI_OK) {
		nr.run = rep.run;
		nr.done = nr.total = rep.total;
	} else {
		fprintf(stderr, "jpkid: notice run: %s\n", m.en);
		snprintf(nr.error_code, sizeof nr.error_code, "%s", m.code);
		/* A store failure's text may quote SQL: the log has it. */
		bool internal = strcmp(m.code, "store") == 0;
		snprintf(nr.error_en, sizeof nr.error_en, "%s",
			 internal ? "internal error (see the log)" : m.en);
		snprintf(nr.error_ja, sizeof nr.error_ja, "%s",
			 internal ? "内部エラーが発生しました。" : m.ja);
	}
	pthread_mutex_unlock(&nr.mu);
	return NULL;
}

static json_t *month_json(int y, int m)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%04d-%02d", y, m);
	return json_string(buf);
}

static json_t *run_json(const struct jpki_notice_run_info *x)
{
	return json_pack(
	    "{s:I,s:o,s:o,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "id",
	    (json_int_t)x->id, "expiring", month_json(x->year, x->month), "run_on",
	    jdate(x->run_on), "state", x->done ? "done" : "running", "actor", x->actor,
	    "notices", (json_int_t)x->selected, "printed", (json_int_t)x->printed,
	    "cancelled", (json_int_t)x->cancelled, "rendered", (json_int_t)x->rendered,
	    "expired_before", (json_int_t)x->expired_before, "started_at",
	    jinstant(x->started_at), "finished_at", jinstant(x->finished_at));
}

/* This process's latest run, or null. */
static json_t *current_json(void)
{
	pthread_mutex_lock(&nr.mu);
	json_t *j = NULL;
	if (nr.started_at != 0)
		j = json_pack("{s:s,s:o,s:o,s:I,s:I,s:o,s:o,s:o}", "state",
			      nr.running	 ? "running"
			      : nr.error_code[0] ? "failed"
						 : "done",
			      "expiring", month_json(nr.year, nr.month), "run",
			      nr.run ? json_integer(nr.run) : json_null(), "done",
			      (json_int_t)nr.done, "total", (json_int_t)nr.total,
			      "started_at", jinstant(nr.started_at), "finished_at",
			      jinstant(nr.finished_at), "error",
			      nr.error_code[0]
				  ? json_pack("{s:s,s:s,s:s}", "code", nr.error_code,
					      "message", nr.error_ja, "message_en",
					      nr.error_en)
				  : json_null());
	pthread_mutex_unlock(&nr.mu);
	return j ? j : json_null();
}

enum MHD_Result h_notice_status(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	char actor[48];
	struct jpki_reg_ctx ctx;
	struct jpki_reg_msg m = {0};
	struct jpki_notice_suspension s;
	struct jpki_notice_run_info *runs = NULL;
	size_t n = 0;
	if (!op_ctx(r, &ctx, actor, &res))
		return res;
	jpki_err e = jpki_notice_suspension_get(&ctx, &s, &m);
	if (e == JPKI_OK)
		e = jpki_notice_runs(&ctx, 24, &runs, &n, &m);
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	struct jpki_notice_month mons[3];
	if ((e = jpki_notice_months(&ctx, mons, &m)) != JPKI_OK) {
		free(runs);
		return reply_reg(r, e, &m);
	}
	int dy, dm;
	jpki_notice_default_month(jpki_jst_day(ctx.now), &dy, &dm);
	json_t *months = json_array(), *list = json_array();
	for (int k = 0; k < 3; k++)
		json_array_append_new(
		    months, json_pack("{s:o,s:s,s:b,s:I,s:I,s:I,s:I,s:o}", "expiring",
				      month_json(mons[k].year, mons[k].month), "state",
				      jpki_month_state_name(mons[k].state), "due",
				      mons[k].due, "runs", (json_int_t)mons[k].runs,
				      "notices", (json_int_t)mons[k].notices, "printed",
				      (json_int_t)mons[k].printed, "cancelled",
				      (json_int_t)mons[k].cancelled, "last_run",
				      mons[k].last_run ? json_integer(mons[k].last_run)
						       : json_null()));
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, run_json(&runs[i]));
	free(runs);
	return reply_json(r, 200,
			  json_pack("{s:{s:b,s:o,s:s,s:s},s:o,s:o,s:o,s:o}",
				    "suspension", "suspended", s.suspended, "since",
				    s.suspended ? jinstant(s.since) : json_null(), "by",
				    s.by, "reason", s.reason, "due", month_json(dy, dm),
				    "months", months, "runs", list, "current",
				    current_json()));
}

static bool run_id(struct req *r, const char *s, int64_t *id, enum MHD_Result *res)
{
	char *end = NULL;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || v <= 0 || strlen(s) > 18) {
		*res =
		    reply_bad(r, "id", "is not a run id", "処理番号として読めません。");
		return false;
	}
	*id = (int64_t)v;
	return true;
}

/* A finished run's files, each with the URL it downloads from. */
static json_t *files_json(const struct jpki_notice_file *f, size_t n, int64_t run)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		char url[160];
		snprintf(url, sizeof url, "/api/v1/notices/runs/%" PRId64 "/files/%s",
			 run, f[i].name);
		json_array_append_new(
		    a,
		    json_pack("{s:s,s:s,s:I,s:I,s:o,s:s}", "name", f[i].name, "series",
			      f[i].series, "letters", (json_int_t)f[i].letters, "pages",
			      (json_int_t)f[i].pages, "bytes",
			      f[i].bytes >= 0 ? json_integer(f[i].bytes) : json_null(),
			      "url", url));
	}
	return a;
}

enum MHD_Result h_notice_run_get(struct req *r, char **p)
{
	enum MHD_Result res;
	char actor[48];
	int64_t id;
	struct jpki_reg_ctx ctx;
	struct jpki_reg_msg m = {0};
	struct jpki_notice_run_info x;
	struct jpki_notice_file *f = NULL;
	size_t n = 0;
	if (!run_id(r, p[0], &id, &res) || !op_ctx(r, &ctx, actor, &res))
		return res;
	jpki_err e = jpki_notice_run_get(&ctx, id, &x, &m);
	if (e == JPKI_OK && x.done)
		e = jpki_notice_run_files(&ctx, id, &f, &n, &m);
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	json_t *j = run_json(&x);
	json_object_set_new(j, "files", x.done ? files_json(f, n, id) : json_array());
	free(f);
	return reply_json(r, 200, j);
}

/* One of a finished run's files, as an attachment: the letters for the
 * printing contractor. Audited (notice.download). */
enum MHD_Result h_notice_file(struct req *r, char **p)
{
	enum MHD_Result res;
	char actor[48];
	int64_t id;
	int fd = -1;
	struct jpki_reg_ctx ctx;
	struct jpki_reg_msg m = {0};
	struct jpki_notice_file f;
	if (!run_id(r, p[0], &id, &res) || !op_ctx(r, &ctx, actor, &res))
		return res;
	jpki_err e = jpki_notice_open_file(&ctx, id, p[1], &fd, &f, &m);
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	struct MHD_Response *resp = response_from_fd(fd, (uint64_t)f.bytes);
	if (resp == NULL)
		return reply_internal(r, "cannot send the file");
	char disp[128];
	/* The run in the name: files of two runs land in one Downloads folder. */
	snprintf(disp, sizeof disp, "attachment; filename=\"notice-run%" PRId64 "-%s\"",
		 id, f.name);
	MHD_add_response_header(resp, "Content-Disposition", disp);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	return reply(r, 200, f.type, NULL, (size_t)f.bytes, &resp);
}

/* {"expiring":"YYYY-MM"?, "dry_run":bool?, "per_file":n?} */
static bool run_body(struct req *r, json_t *b, int *y, int *mo, bool *dry, size_t *per,
		     enum MHD_Result *res)
{
	static const char *const keys[] = {"expiring", "dry_run", "per_file", NULL};
	const char *month = NULL;
	if (!only_keys(r, b, keys, res) ||
	    !jstr(r, b, "expiring", false, 7, &month, res))
		return false;
	if (month && jpki_notice_parse_month(month, y, mo) != JPKI_OK) {
		*res = reply_bad(r, "expiring", "is not a month (YYYY-MM)",
				 "年月（YYYY-MM）として読めません。");
		return false;
	}
	json_t *d = json_object_get(b, "dry_run"), *pf = json_object_get(b, "per_file");
	if (d && !json_is_boolean(d)) {
		*res = reply_bad(r, "dry_run", "must be true or false",
				 "true か false を指定してください。");
		return false;
	}
	*dry = d && json_is_true(d);
	if (pf && (!json_is_integer(pf) || json_integer_value(pf) < 1 ||
		   json_integer_value(pf) > 1000000)) {
		*res = reply_bad(r, "per_file", "must be a number from 1 to 1000000",
				 "1から1000000までの数を指定してください。");
		return false;
	}
	*per = pf ? (size_t)json_integer_value(pf) : 0;
	return true;
}

enum MHD_Result h_notice_run(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	char actor[48];
	struct jpki_reg_ctx ctx;
	struct jpki_reg_msg m = {0};
	struct jpki_errbuf eb = {{0}};
	int y = 0, mo = 0;
	bool dry = false;
	size_t per = 0;
	json_t *b = body_json(r, &res);
	if (b == NULL)
		return res;
	bool ok = run_body(r, b, &y, &mo, &dry, &per, &res);
	json_decref(b);
	if (!ok || !op_ctx(r, &ctx, actor, &res))
		return res;
	jpki_day today = jpki_jst_day(ctx.now);
	if (y == 0)
		jpki_notice_default_month(today, &y, &mo);
	jpki_err e = jpki_notice_check_month(today, y, mo, &eb);
	if (e != JPKI_OK)
		return reply_error(r, 400, "bad_month",
				   "その月の通知は作成できません。", eb.msg);
	if (dry) {
		struct jpki_notice_report rep;
		struct jpki_notice_run_opts o = {
		    .year = y, .month = mo, .dry_run = true};
		if ((e = jpki_notice_run(&ctx, &o, &rep, &m)) != JPKI_OK)
			return reply_reg(r, e, &m);
		return reply_json(r, 200,
				  json_pack("{s:o,s:b,s:I,s:{s:I,s:I},s:I}", "expiring",
					    month_json(y, mo), "dry_run", 1, "notices",
					    (json_int_t)rep.selected, "by_kind", "cert",
					    (json_int_t)rep.by_kind[0], "card",
					    (json_int_t)rep.by_kind[1],
					    "expired_before",
					    (json_int_t)rep.expired_before));
	}
	char dir[4096];
	if ((e = jpki_notice_out_dir(&ctx, cfg.notice_dir, y, mo, dir, sizeof dir, &m)))
		return reply_reg(r, e, &m);
	pthread_mutex_lock(&nr.mu);
	if (nr.running) {
		pthread_mutex_unlock(&nr.mu);
		return reply_error(r, 409, "busy", "通知の作成処理が実行中です。",
				   "a notice run is in progress");
	}
	if (nr.started) {
		pthread_join(nr.thread, NULL); /* the previous, finished run */
		nr.started = false;
	}
	nr.year = y;
	nr.month = mo;
	nr.per_file = per;
	nr.run = 0;
	nr.done = nr.total = 0;
	nr.started_at = now_s();
	nr.finished_at = 0;
	nr.error_code[0] = nr.error_en[0] = nr.error_ja[0] = '\0';
	snprintf(nr.actor, sizeof nr.actor, "%s", actor);
	snprintf(nr.dir, sizeof nr.dir, "%s", dir);
	nr.running = true;
	if (pthread_create(&nr.thread, NULL, run_thread, NULL) != 0) {
		nr.running = false;
		pthread_mutex_unlock(&nr.mu);
		return reply_internal(r, "cannot start the notice thread");
	}
	nr.started = true;
	pthread_mutex_unlock(&nr.mu);
	return reply_json(r, 202,
			  json_pack("{s:s,s:o,s:o}", "state", "running", "expiring",
				    month_json(y, mo), "current", current_json()));
}

static enum MHD_Result suspension(struct req *r, bool suspend)
{
	enum MHD_Result res;
	char actor[48];
	const char *reason = NULL;
	struct jpki_reg_ctx ctx;
	struct jpki_reg_msg m = {0};
	json_t *b = NULL;
	if (suspend) {
		static const char *const keys[] = {"reason", NULL};
		if ((b = body_json(r, &res)) == NULL)
			return res;
		if (!only_keys(r, b, keys, &res) ||
		    !jstr(r, b, "reason", false, 200, &reason, &res)) {
			json_decref(b);
			return res;
		}
	}
	if (!op_ctx(r, &ctx, actor, &res)) {
		json_decref(b);
		return res;
	}
	jpki_err e = suspend ? jpki_notice_suspend(&ctx, reason, &m)
			     : jpki_notice_resume(&ctx, &m);
	json_decref(b);
	if (e != JPKI_OK)
		return reply_reg(r, e, &m);
	return reply_json(r, 200, json_pack("{s:b}", "suspended", suspend));
}

enum MHD_Result h_notice_suspend(struct req *r, char **p)
{
	(void)p;
	return suspension(r, true);
}

enum MHD_Result h_notice_resume(struct req *r, char **p)
{
	(void)p;
	return suspension(r, false);
}

void notice_stop(void)
{
	atomic_store(&nr.stop, true);
	pthread_mutex_lock(&nr.mu);
	bool join = nr.started;
	nr.started = false;
	pthread_mutex_unlock(&nr.mu);
	if (join)
		pthread_join(nr.thread, NULL);
}
