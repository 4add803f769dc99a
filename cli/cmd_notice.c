/* jpki notice run|suspend|resume|status|show|verify-reservation: the
 * monthly expiry notices (lib/notice, DOMAIN §6). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jpki/notice.h"
#include "jpki/office.h"
#include "jpki/registry.h"
#include "jpki/store.h"
#include "banned.h"

#ifndef JPKI_DEFAULT_OFFICE
#define JPKI_DEFAULT_OFFICE "data/offices/toshima.ini"
#endif
#define NOTICES_ROOT "var/notices"

static const char notice_usage[] =
    "usage: jpki [--store URL] notice run [--expiring YYYY-MM] [--out DIR] "
    "[--dry-run]\n"
    "                                 [--per-file N] [--office FILE] [--base-url URL]\n"
    "                                 [--json]\n"
    "       jpki [--store URL] notice suspend [--reason TEXT] [--json]\n"
    "       jpki [--store URL] notice resume [--json]\n"
    "       jpki [--store URL] notice status [--json]\n"
    "       jpki [--store URL] notice show ID [--json]\n"
    "       jpki [--store URL] notice verify-reservation --id RID --birth D [--json]\n"
    "\n"
    "The monthly expiry notices (docs/notices.md). In the middle of each month,\n"
    "holders whose certificates or card expire in the month after next get the\n"
    "municipality's letter (with a reservation ID and the 照会書兼回答書 on its\n"
    "back) and a J-LIS-style 有効期限通知書.\n"
    "  run      selects the month's notices (default: the month after next;\n"
    "           --expiring from this month to the month after next, to catch\n"
    "           up), stores them, and writes DIR/municipal-NNN.pdf,\n"
    "           DIR/jlis-NNN.pdf, DIR/manifest.csv and DIR/summary.json. DIR\n"
    "           defaults to var/notices/YYYY-MM (YYYY-MM.2 ... when taken); a\n"
    "           run that stopped half-way is finished by running again, in its\n"
    "           own directory. Nobody gets a notice twice. --dry-run only\n"
    "           counts. --per-file N splits the letters into PDFs of N (default:\n"
    "           one PDF per series). --office: the calendar on the letters\n"
    "           (default data/offices/toshima.ini); --base-url: of the QR code's\n"
    "           {base}/reserve?id=RID (default: the CA's base URL). A progress\n"
    "           bar on a terminal, plain lines otherwise. Exit 1 while sending is\n"
    "           suspended or another run is in progress.\n"
    "  suspend  stops sending (also a run in progress, at its next file);\n"
    "  resume   allows it again; a suspended month is caught up with run\n"
    "           --expiring.\n"
    "  status   suspended or not, the months due, the latest runs.\n"
    "  show     one notice.\n"
    "  verify-reservation\n"
    "           the notice of a reservation ID, if the birth date matches.\n"
    "           A mistyped ID (check digit) is exit 2; an unknown ID or a\n"
    "           wrong birth date exit 1, with one message for both.\n";

/* args_parse's positional count, for commands that take none. */
static size_t no_pos;

/* ---- the store ---- */

struct nctx {
	struct jpki_store *store;
	char keys[4096];
	struct jpki_reg_ctx ctx;
};

static int nopen(const struct cmd_ctx *c, struct nctx *n)
{
	int rc;
	memset(n, 0, sizeof *n);
	n->ctx.actor = "jpki";
	n->ctx.feb29 = JPKI_FEB29_FEB28;
	if ((rc = cli_now(c, &n->ctx.now)) >= 0)
		return rc;
	if ((rc = cli_open_store(c, false, &n->store, n->keys, sizeof n->keys)) >= 0)
		return rc;
	n->ctx.store = n->store;
	n->ctx.keys_dir = n->keys;
	return -1;
}

static void nclose(struct nctx *n)
{
	if (n->store)
		jpki_store_close(n->store);
	memset(n, 0, sizeof *n);
}

/* The exit code and the one line: an unknown notice or run is bad input
 * (2); another run holding the lock (CONFLICT) is a refusal (1). */
static int nfail(const struct cmd_ctx *c, jpki_err e, const struct jpki_reg_msg *m)
{
	int code = exit_for(e);
	if (strcmp(m->code, "no_notice") == 0 || strcmp(m->code, "no_run") == 0)
		code = EXIT_USAGE;
	return fail_msg_line(c, code, e, m);
}

static json_t *json_instant(int64_t t)
{
	char buf[JPKI_INSTANT_BUFSZ];
	if (t == 0 || jpki_instant_format(t, buf) != JPKI_OK)
		return json_null();
	return json_string(buf);
}

static int parse_month(const struct cmd_ctx *c, const char *s, int *y, int *mo)
{
	if (jpki_notice_parse_month(s, y, mo) != JPKI_OK)
		return fail(c, EXIT_USAGE,
			    "--expiring: '%.20s' is not a month (YYYY-MM)", s ? s : "");
	return -1;
}

static int load_office(const struct cmd_ctx *c, const char *path,
		       struct jpki_office **o)
{
	char *text = NULL;
	size_t len = 0;
	struct jpki_errbuf eb = {{0}};
	int rc = read_file(c, path, 1 << 20, &text, &len);
	if (rc >= 0)
		return rc;
	jpki_err e = jpki_office_parse(text, len, o, &eb);
	free(text);
	if (e != JPKI_OK)
		return fail(c, EXIT_USAGE, "--office %s: %s", path, eb.msg);
	return -1;
}

/* The output directory, absolute: --out, or the library's default (the
 * unfinished run's, or var/notices/YYYY-MM). */
static int out_dir(const struct cmd_ctx *c, struct nctx *n, const char *given, int y,
		   int mo, char abs[static PATH_MAX])
{
	struct jpki_reg_msg m = {0};
	if (given == NULL) {
		jpki_err e = jpki_notice_out_dir(&n->ctx, NOTICES_ROOT, y, mo, abs,
						 PATH_MAX, &m);
		return e == JPKI_OK ? -1 : nfail(c, e, &m);
	}
	if (realpath(given, abs) == NULL)
		return fail(c, EXIT_USAGE, "--out %s: %s", given, strerror(errno));
	return -1;
}

/* ---- run ---- */

struct bar {
	bool tty;
	size_t last_tenth;
	time_t started;
};

static void show_progress(const struct jpki_notice_progress *p, void *arg)
{
	struct bar *b = arg;
	if (p->total == 0)
		return;
	if (b->tty) {
		int width = 30, fill = (int)(p->done * (size_t)width / p->total);
		double secs = difftime(time(NULL), b->started);
		fprintf(stderr, "\r[%.*s%*s] %zu/%zu letters", fill,
			"##############################", width - fill, "", p->done,
			p->total);
		if (secs >= 1)
			fprintf(stderr, " %.0f/s", (double)p->done / secs);
		if (p->done == p->total)
			fputc('\n', stderr);
		return;
	}
	size_t tenth = p->done * 10 / p->total;
	if (tenth != b->last_tenth || p->done == p->total) {
		if (tenth == b->last_tenth && p->done == p->total && tenth == 10)
			return;
		b->last_tenth = tenth;
		fprintf(stderr, "notice run %" PRId64 ": %zu/%zu letters\n", p->run,
			p->done, p->total);
	}
}

static int print_report(const struct cmd_ctx *c, const struct jpki_notice_report *r,
			bool dry)
{
	char mon[32];
	snprintf(mon, sizeof mon, "%04d-%02d", r->year, r->month);
	if (*c->json)
		return print_json(
		    c, json_pack(
			   "{s:o,s:s,s:b,s:b,s:I,s:I,s:I,s:I,s:{s:I,s:I},s:I,s:I,s:o}",
			   "run", r->run ? json_integer(r->run) : json_null(),
			   "expiring", mon, "dry_run", dry, "resumed", r->resumed,
			   "selected", (json_int_t)r->selected, "notices",
			   (json_int_t)r->total, "printed", (json_int_t)r->printed,
			   "cancelled", (json_int_t)r->cancelled, "by_kind", "cert",
			   (json_int_t)r->by_kind[0], "card", (json_int_t)r->by_kind[1],
			   "expired_before", (json_int_t)r->expired_before, "files",
			   (json_int_t)r->files, "out",
			   dry ? json_null() : json_string(r->out_dir)));
	if (dry) {
		printf("dry run %s: %zu notices would be sent (%zu certificate, %zu "
		       "card); %zu expired before today; nothing stored or written\n",
		       mon, r->selected, r->by_kind[0], r->by_kind[1],
		       r->expired_before);
		return EXIT_OK;
	}
	if (r->resumed)
		printf("run %" PRId64 " (%s) resumed and finished: ", r->run, mon);
	else
		printf("run %" PRId64
		       " (%s): %zu notices (%zu certificate, %zu card); ",
		       r->run, mon, r->selected, r->by_kind[0], r->by_kind[1]);
	printf("%zu printed, %zu cancelled; %zu expired before today\n", r->printed,
	       r->cancelled, r->expired_before);
	printf("%s: %zu PDF%s, manifest.csv, summary.json\n", r->out_dir, r->files,
	       r->files == 1 ? "" : "s");
	return EXIT_OK;
}

static int notice_run(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *expiring = NULL, *out = NULL, *per_s = NULL, *office_f = NULL,
		   *base = NULL;
	bool dry = false;
	struct opt opts[] = {
	    {"expiring", OPT_STRING, &expiring, false, false},
	    {"out", OPT_STRING, &out, false, false},
	    {"dry-run", OPT_FLAG, &dry, false, false},
	    {"per-file", OPT_STRING, &per_s, false, false},
	    {"office", OPT_STRING, &office_f, false, false},
	    {"base-url", OPT_STRING, &base, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	struct jpki_notice_run_opts o = {0};
	struct jpki_notice_report rep;
	struct jpki_reg_msg m = {0};
	struct jpki_office *office = NULL;
	struct nctx n = {0};
	struct bar bar = {
	    .tty = isatty(STDERR_FILENO) != 0, .last_tenth = 0, .started = time(NULL)};
	char abs[PATH_MAX];
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &no_pos);
	if (rc >= 0)
		return rc;
	if (expiring && (rc = parse_month(c, expiring, &o.year, &o.month)) >= 0)
		return rc;
	if (per_s) {
		char *end = NULL;
		errno = 0;
		unsigned long long v = strtoull(per_s, &end, 10);
		if (*per_s == '\0' || *per_s == '-' || *end || errno || v == 0 ||
		    v > 1000000)
			return fail(
			    c, EXIT_USAGE,
			    "--per-file: '%.20s' is not a number from 1 to 1000000",
			    per_s);
		o.per_file = (size_t)v;
	}
	if (base &&
	    ((strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) ||
	     strlen(base) > 200 || strpbrk(base, " \t\r\n\"<>") ||
	     base[strlen(base) - 1] == '/'))
		return fail(c, EXIT_USAGE,
			    "--base-url: an http(s) URL without spaces or a trailing "
			    "slash, at most 200 characters");
	if (!dry && (rc = load_office(c, office_f ? office_f : JPKI_DEFAULT_OFFICE,
				      &office)) >= 0)
		return rc;
	if ((rc = nopen(c, &n)) >= 0)
		goto out;
	if (o.year == 0)
		jpki_notice_default_month(jpki_jst_day(n.ctx.now), &o.year, &o.month);
	struct jpki_errbuf eb = {{0}};
	jpki_err e =
	    jpki_notice_check_month(jpki_jst_day(n.ctx.now), o.year, o.month, &eb);
	if (e != JPKI_OK) {
		rc = fail(c, EXIT_USAGE, "--expiring: %s", eb.msg);
		goto out;
	}
	if (!dry && (rc = out_dir(c, &n, out, o.year, o.month, abs)) >= 0)
		goto out;
	o.out_dir = dry ? NULL : abs;
	o.create_out = out == NULL;
	o.dry_run = dry;
	o.office = office;
	o.base_url = base;
	o.progress = show_progress;
	o.progress_arg = &bar;
	e = jpki_notice_run(&n.ctx, &o, &rep, &m);
	if (e != JPKI_OK) {
		rc = nfail(c, e, &m);
		goto out;
	}
	rc = print_report(c, &rep, dry);
out:
	nclose(&n);
	jpki_office_free(office);
	return rc;
}

/* ---- suspend, resume ---- */

static int notice_suspend(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *reason = NULL;
	struct opt opts[] = {
	    {"reason", OPT_STRING, &reason, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	struct jpki_reg_msg m = {0};
	struct nctx n;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &no_pos);
	if (rc >= 0 || (rc = nopen(c, &n)) >= 0)
		return rc;
	jpki_err e = jpki_notice_suspend(&n.ctx, reason, &m);
	nclose(&n);
	if (e != JPKI_OK)
		return nfail(c, e, &m);
	if (*c->json)
		return print_json(c, json_pack("{s:b}", "suspended", 1));
	puts("sending notices is suspended");
	return EXIT_OK;
}

static int notice_resume(const struct cmd_ctx *c, int argc, char **argv)
{
	struct opt opts[] = {{"json", OPT_FLAG, (bool *)c->json, false, false}};
	struct jpki_reg_msg m = {0};
	struct nctx n;
	int rc = args_parse(c, argc, argv, opts, 1, NULL, 0, &no_pos);
	if (rc >= 0 || (rc = nopen(c, &n)) >= 0)
		return rc;
	jpki_err e = jpki_notice_resume(&n.ctx, &m);
	nclose(&n);
	if (e != JPKI_OK)
		return nfail(c, e, &m);
	if (*c->json)
		return print_json(c, json_pack("{s:b}", "suspended", 0));
	puts("sending notices is resumed; catch up missed months with "
	     "jpki notice run --expiring YYYY-MM");
	return EXIT_OK;
}

/* ---- status ---- */

static json_t *run_json(const struct jpki_notice_run_info *r)
{
	char mon[32], day[JPKI_DATE_BUFSZ];
	snprintf(mon, sizeof mon, "%04d-%02d", r->year, r->month);
	return json_pack(
	    "{s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "id",
	    (json_int_t)r->id, "expiring", mon, "run_on",
	    jpki_date_format(r->run_on, day), "state", r->done ? "done" : "running",
	    "actor", r->actor, "out", r->out_dir, "notices", (json_int_t)r->selected,
	    "printed", (json_int_t)r->printed, "cancelled", (json_int_t)r->cancelled,
	    "rendered", (json_int_t)r->rendered, "expired_before",
	    (json_int_t)r->expired_before, "started_at", json_instant(r->started_at),
	    "finished_at", json_instant(r->finished_at));
}

static int notice_status(const struct cmd_ctx *c, int argc, char **argv)
{
	struct opt opts[] = {{"json", OPT_FLAG, (bool *)c->json, false, false}};
	struct jpki_notice_suspension s;
	struct jpki_notice_run_info *runs = NULL;
	struct jpki_reg_msg m = {0};
	struct nctx n;
	size_t nruns = 0;
	int rc = args_parse(c, argc, argv, opts, 1, NULL, 0, &no_pos);
	if (rc >= 0 || (rc = nopen(c, &n)) >= 0)
		return rc;
	jpki_day today = jpki_jst_day(n.ctx.now);
	jpki_err e = jpki_notice_suspension_get(&n.ctx, &s, &m);
	if (e == JPKI_OK)
		e = jpki_notice_runs(&n.ctx, 12, &runs, &nruns, &m);
	if (e != JPKI_OK) {
		nclose(&n);
		return nfail(c, e, &m);
	}
	struct jpki_notice_month mons[3];
	if ((e = jpki_notice_months(&n.ctx, mons, &m)) != JPKI_OK) {
		free(runs);
		nclose(&n);
		return nfail(c, e, &m);
	}
	nclose(&n);
	int dy, dm;
	jpki_notice_default_month(today, &dy, &dm);
	json_t *months = json_array(), *recent = json_array();
	char since[JPKI_INSTANT_BUFSZ] = "";
	if (s.suspended)
		jpki_instant_format(s.since, since);
	if (!*c->json) {
		if (s.suspended)
			printf("sending: suspended since %s by %s%s%s\n", since, s.by,
			       s.reason[0] ? ": " : "", s.reason);
		else
			puts("sending: active");
		printf("due: %04d-%02d (notices go out mid-month for the month after "
		       "next)\nmonths:\n",
		       dy, dm);
	}
	for (int k = 0; k < 3; k++) {
		const struct jpki_notice_month *x = &mons[k];
		char mon[32];
		snprintf(mon, sizeof mon, "%04d-%02d", x->year, x->month);
		json_array_append_new(
		    months,
		    json_pack("{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:o}", "expiring", mon,
			      "state", jpki_month_state_name(x->state), "due", x->due,
			      "runs", (json_int_t)x->runs, "notices",
			      (json_int_t)x->notices, "printed", (json_int_t)x->printed,
			      "cancelled", (json_int_t)x->cancelled, "last_run",
			      x->last_run ? json_integer(x->last_run) : json_null()));
		if (*c->json)
			continue;
		if (x->state == JPKI_MONTH_NOT_SENT && x->due)
			printf("  %s  not sent (due this month)\n", mon);
		else if (x->state == JPKI_MONTH_NOT_SENT)
			printf("  %s  not sent (catch up: jpki notice run --expiring "
			       "%s)\n",
			       mon, mon);
		else
			printf(
			    "  %s  %s (%zu run%s: %zu printed, %zu cancelled)%s\n", mon,
			    x->state == JPKI_MONTH_DONE ? "done" : "unfinished",
			    x->runs, x->runs == 1 ? "" : "s", x->printed, x->cancelled,
			    x->state == JPKI_MONTH_DONE ? "" : "; run again to finish");
	}
	if (!*c->json && nruns > 0)
		puts("runs:\n  id\tmonth\trun "
		     "on\tstate\tnotices\tprinted\tcancelled\tout");
	for (size_t i = 0; i < nruns && i < 12; i++) {
		char day[JPKI_DATE_BUFSZ];
		json_array_append_new(recent, run_json(&runs[i]));
		if (!*c->json)
			printf("  %" PRId64 "\t%04d-%02d\t%s\t%s\t%zu\t%zu\t%zu\t%s\n",
			       runs[i].id, runs[i].year, runs[i].month,
			       jpki_date_format(runs[i].run_on, day),
			       runs[i].done ? "done" : "running", runs[i].selected,
			       runs[i].printed, runs[i].cancelled, runs[i].out_dir);
	}
	free(runs);
	if (*c->json) {
		char due[32];
		snprintf(due, sizeof due, "%04d-%02d", dy, dm);
		return print_json(
		    c, json_pack("{s:{s:b,s:o,s:s,s:s},s:s,s:o,s:o}", "suspension",
				 "suspended", s.suspended, "since",
				 s.suspended ? json_string(since) : json_null(), "by",
				 s.by, "reason", s.reason, "due", due, "months", months,
				 "runs", recent));
	}
	json_decref(months);
	json_decref(recent);
	return EXIT_OK;
}

/* ---- show, verify-reservation ---- */

static int print_notice(const struct cmd_ctx *c, const struct jpki_notice *x)
{
	char e[JPKI_DATE_BUFSZ], f[JPKI_DATE_BUFSZ], l[JPKI_DATE_BUFSZ], rid[20],
	    mon[8];
	snprintf(mon, sizeof mon, "%04d-%02d", x->year, x->month);
	if (*c->json)
		return print_json(
		    c, json_pack(
			   "{s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,"
			   "s:o,s:o,s:o}",
			   "id", (json_int_t)x->id, "run", (json_int_t)x->run, "seq",
			   (json_int_t)x->seq, "resident", (json_int_t)x->resident,
			   "kind", jpki_notice_kind_name(x->kind), "state",
			   jpki_notice_state_name(x->state), "target", x->target,
			   "expires", jpki_date_format(x->expires, e), "window_first",
			   jpki_date_format(x->window_first, f), "window_last",
			   jpki_date_format(x->window_last, l), "expiring", mon,
			   "reservation_id", x->reservation_id, "application_id",
			   x->application_id[0] ? json_string(x->application_id)
						: json_null(),
			   "created_at", json_instant(x->created_at), "printed_at",
			   json_instant(x->printed_at), "file",
			   x->file[0] ? json_string(x->file) : json_null(),
			   "cancel_reason",
			   x->cancel_reason[0] ? json_string(x->cancel_reason)
					       : json_null()));
	printf("notice %" PRId64 " (run %" PRId64 ", #%" PRId64 "): %s, %s\n", x->id,
	       x->run, x->seq, jpki_notice_kind_name(x->kind),
	       jpki_notice_state_name(x->state));
	printf("resident %" PRId64 "\n%s %s expires %s; window %s to %s\n", x->resident,
	       x->kind == JPKI_NOTICE_CARD ? "card" : "certificate", x->target,
	       jpki_date_format(x->expires, e), jpki_date_format(x->window_first, f),
	       jpki_date_format(x->window_last, l));
	printf("reservation ID %s\n", jpki_rid_format(x->reservation_id, rid));
	if (x->application_id[0])
		printf("application ID %s\n", x->application_id);
	if (x->file[0])
		printf("printed in %s\n", x->file);
	if (x->cancel_reason[0])
		printf("cancelled: %s\n", x->cancel_reason);
	return EXIT_OK;
}

static int notice_show(const struct cmd_ctx *c, int argc, char **argv)
{
	struct opt opts[] = {{"json", OPT_FLAG, (bool *)c->json, false, false}};
	const char *pos[1] = {NULL};
	size_t npos = 0;
	struct jpki_reg_msg m = {0};
	struct jpki_notice x;
	struct nctx n;
	int rc = args_parse(c, argc, argv, opts, 1, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	char *end = NULL;
	errno = 0;
	long long id = npos ? strtoll(pos[0], &end, 10) : 0;
	if (npos == 0 || *pos[0] == '\0' || *end || errno || id <= 0)
		return fail(c, EXIT_USAGE, "'%.30s' is not a notice id",
			    npos ? pos[0] : "");
	if ((rc = nopen(c, &n)) >= 0)
		return rc;
	jpki_err e = jpki_notice_get(&n.ctx, (int64_t)id, &x, &m);
	nclose(&n);
	if (e != JPKI_OK)
		return nfail(c, e, &m);
	return print_notice(c, &x);
}

static int notice_verify(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *id = NULL;
	jpki_day birth = JPKI_DAY_NONE;
	struct opt opts[] = {
	    {"id", OPT_STRING, &id, true, false},
	    {"birth", OPT_DATE, &birth, true, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	struct jpki_reg_msg m = {0};
	struct jpki_notice x;
	struct nctx n;
	char digits[JPKI_RID_BUFSZ];
	struct jpki_errbuf eb = {{0}};
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &no_pos);
	if (rc >= 0)
		return rc;
	/* A mistyped ID is caught before the store is asked. */
	if (jpki_rid_parse(id, digits, &eb) != JPKI_OK)
		return fail(c, EXIT_USAGE, "--id: %s", eb.msg);
	if ((rc = nopen(c, &n)) >= 0)
		return rc;
	jpki_err e = jpki_notice_verify_reservation(&n.ctx, digits, birth, &x, &m);
	nclose(&n);
	if (e != JPKI_OK)
		return nfail(c, e, &m);
	return print_notice(c, &x);
}

int cmd_notice(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"run", notice_run},       {"suspend", notice_suspend},
	    {"resume", notice_resume}, {"status", notice_status},
	    {"show", notice_show},     {"verify-reservation", notice_verify},
	};
	return cli_dispatch("notice", notice_usage, false, subs,
			    sizeof subs / sizeof subs[0], argc, argv);
}
