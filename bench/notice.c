/* bench/notice: the monthly expiry-notice batch, beside its physical limits.
 *
 * One thread pinned to one core, SQLite stores in temp dirs set up as
 * `jpki init` does (jpki_ca_init: base_url, 131164 東京都豊島区), residents
 * inserted directly (bench/population.c: real names, addresses and postal
 * codes, varied). It prints:
 *   a. letters per second end to end: L residents (default 10,000) whose
 *      certificates all expire in the month after next, so all L are
 *      selected; jpki_notice_run (selection, claim, both series of PDF
 *      letters with the office data/offices/toshima.ini, manifest,
 *      summary), its seconds, letters/s, pages/s, MB written and MB/s,
 *      split into selection + claim (until the progress callback's first
 *      call), drawing the letters, and closing the files + manifest +
 *      summary; jpki_notice_select alone on the same store before the run.
 *      Beside it the renderer's physical limit, measured in the same
 *      process: the same number of A4 pages in two PDFs drawn by cairo
 *      alone (one pango layout per PDF, as much Japanese text per page as
 *      a letter carries, no store, no QR code, no lines), and the ratio;
 *      then the pages/s of both over the first and the last tenth of the
 *      letters (does drawing slow down as a file grows?).
 *   b. selection alone over N residents (default 1,000,000; expiries
 *      spread over five years; every 64th moved, every 256th lost the
 *      card): jpki_notice_select for a month in the middle of the spread,
 *      median of 5 runs after one warm-up, beside a plain SELECT of the
 *      same candidate rows (good certificates on active cards of
 *      registered residents expiring in the month, and the active cards
 *      expiring in it) with every row stepped through and read, median of
 *      5 as well; the row counts of both and the ratio.
 *
 * usage: bench_notice [--quick] [--letters L] [--residents N]
 *   --quick  a smoke run: L 500, N 20000
 * JPKI_OFFICE: the office file (default: the source tree's
 * data/offices/toshima.ini). JPKI_BENCH_DIR: where the temp dirs go
 * (default /tmp); JPKI_BENCH_KEEP: leave them behind (the letters too).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>

#include "jpki/notice.h"
#include "jpki/office.h"
#include "jpki/pki.h"
#include "jpki/registry.h"
#include "jpki/store.h"
#include "common.h"
#include "population.h"
#include "banned.h"

#ifndef JPKI_BENCH_OFFICE
#define JPKI_BENCH_OFFICE "data/offices/toshima.ini"
#endif

#define SPAN_MONTHS 60 /* b: expiries spread over five years */
#define RUNS	    5  /* b: median of */
#define MB	    1e6

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_notice: %s: %s\n", what, detail ? detail : "");
	exit(3);
}

/* One figure: the label padded to a column, the value with its unit, then
 * the rest (a printf format), then a new line. */
__attribute__((format(printf, 5, 6))) static void
figure(const char *label, int prec, double v, const char *unit, const char *fmt, ...)
{
	va_list ap;
	printf("%-60s %10.*f %-5s ", label, prec, v, unit);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* ---- a store as `jpki init` makes it ---- */

struct bed {
	char dir[256], url[320], keys[320];
	struct jpki_store *s;
	struct jpki_reg_ctx ctx;
	int64_t t0;
	struct jpki_municipality muni;
};

static void bed_open(struct bed *b)
{
	struct jpki_errbuf eb = {{0}};
	bench_bed_dir("notice", b->dir, sizeof b->dir);
	snprintf(b->keys, sizeof b->keys, "%s/keys", b->dir);
	snprintf(b->url, sizeof b->url, "%s/s.db", b->dir);
	b->t0 = (int64_t)time(NULL);
	/* jpki init's default municipality (cli/cmd_registry.c). */
	if (jpki_municipality_parse("131164:東京都豊島区", &b->muni, &eb))
		die("municipality", eb.msg);
	bench_bed_store(b->url, b->keys, &b->muni, 1, b->t0, 0, &b->s, &b->ctx);
}

static void bed_close(struct bed *b)
{
	bench_bed_close(b->s, b->dir);
}

static long load(struct bed *b, long n, jpki_day start, int months, bool history,
		 double *secs)
{
	struct bench_population p = {.store = b->s,
				     .residents = n,
				     .start = start,
				     .months = months,
				     .now = b->t0,
				     .munis = &b->muni,
				     .n_munis = 1,
				     .varied = true,
				     .history = history};
	long rows = bench_population_load(&p, secs);
	if (jpki_store_exec(b->s, "ANALYZE"))
		die("analyze", jpki_store_errmsg(b->s));
	return rows;
}

static struct jpki_office *office_load(char *path, size_t cap)
{
	struct jpki_errbuf eb = {{0}};
	struct jpki_office *o = NULL;
	const char *env = getenv("JPKI_OFFICE");
	snprintf(path, cap, "%s", env && *env ? env : JPKI_BENCH_OFFICE);
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		die("cannot open the office file (JPKI_OFFICE)", path);
	char *text = NULL;
	size_t len = 0, got;
	char buf[4096];
	while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
		char *t = realloc(text, len + got + 1);
		if (t == NULL)
			die("realloc", NULL);
		text = t;
		memcpy(text + len, buf, got);
		len += got;
	}
	if (ferror(f) || text == NULL)
		die("cannot read", path);
	fclose(f);
	text[len] = '\0';
	if (jpki_office_parse(text, len, &o, &eb))
		die(path, eb.msg);
	free(text);
	return o;
}

/* Bytes of the regular files in dir, and how many. */
static double dir_bytes(const char *dir, int *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	double sum = 0;
	*files = 0;
	if (d == NULL)
		die("opendir", dir);
	while ((e = readdir(d)) != NULL) {
		char path[600];
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
			sum += (double)sb.st_size;
			(*files)++;
		}
	}
	closedir(d);
	return sum;
}

/* When a drawing loop reached its 1st, (n/10)th, (n - n/10)th and nth
 * letter: whether it slows down as its files grow. */
struct marks {
	long n;
	double at[4];
};

static void mark(struct marks *m, long done, double t)
{
	long want[4] = {1, m->n / 10, m->n - m->n / 10, m->n};
	for (int k = 0; k < 4; k++)
		if (m->at[k] == 0 && done >= want[k])
			m->at[k] = t;
}

/* Pages per second over the first and the last tenth of the letters. */
static bool tenths(const struct marks *m, double pages_per_letter, double *first,
		   double *last)
{
	long tenth = m->n / 10;
	if (tenth < 2 || m->at[1] <= m->at[0] || m->at[3] <= m->at[2])
		return false;
	*first = pages_per_letter * (double)(tenth - 1) / (m->at[1] - m->at[0]);
	*last = pages_per_letter * (double)tenth / (m->at[3] - m->at[2]);
	return true;
}

/* ---- the peer: pages drawn by cairo and pango alone ---- */

#define PAGE_W 595.276 /* A4, as lib/notice/letter.c */
#define PAGE_H 841.89
#define MARGIN (20 * 72.0 / 25.4)

/* Characters of text per page of the letters (not counting white space),
 * measured with pdftotext on the PDFs of a run of this benchmark
 * (JPKI_BENCH_KEEP; 500 letters, 381 cert and 119 card notices): the
 * municipal letter's front 1849 and back 671 on average, the J-LIS
 * notice 592 (cert notices about 540, card notices about 760). The peer
 * lays out as many per page, in one layout. */
#define PEER_CHARS_FRONT 1849
#define PEER_CHARS_BACK	 671
#define PEER_CHARS_JLIS	 592

static const char peer_body[] =
    "マイナンバーカードの電子証明書の有効期限が近づいています。有効期限の3か月前"
    "の翌日から有効期限の日まで、お住まいの市区町村の窓口で電子証明書を更新でき"
    "ます。更新の手数料は無料です。更新しないと、電子証明書を使うサービス（コン"
    "ビニ交付、e-Tax、健康保険証としての利用など）が使えなくなります。カードは"
    "有効期限まで本人確認書類として使えます。来庁の際は、マイナンバーカードと"
    "各暗証番号をお持ちください。代理人が手続きする場合は、照会書兼回答書に本人"
    "が記入して封をし、代理人の本人確認書類と一緒にお持ちください。";
static const char *const peer_people[] = {
    "〒171-0022 東京都豊島区南池袋2-45-1\n佐藤 太郎 様",
    "〒170-0013 東京都豊島区東池袋3-1-1 グリーンハイツ203号室\n高橋 由美子 様",
    "〒171-0021 東京都豊島区西池袋1-18-2\n佐々木 陽菜 様",
    "〒170-0002 東京都豊島区巣鴨4-22-8 コーポ桜101号室\n中村 悠真 様"};

struct peer_pdf {
	cairo_surface_t *sf;
	cairo_t *cr;
	PangoLayout *lay;
	char path[300];
	long pages;
};

static void peer_open(struct peer_pdf *p, const char *path)
{
	PangoFontDescription *fd =
	    pango_font_description_from_string("Noto Sans CJK JP");
	snprintf(p->path, sizeof p->path, "%s", path);
	p->sf = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
	p->cr = cairo_create(p->sf);
	if (cairo_status(p->cr) != CAIRO_STATUS_SUCCESS)
		die("cairo", cairo_status_to_string(cairo_status(p->cr)));
	p->lay = pango_cairo_create_layout(p->cr);
	pango_font_description_set_absolute_size(fd, 9.5 * PANGO_SCALE);
	pango_layout_set_font_description(p->lay, fd);
	pango_layout_set_width(p->lay, (int)((PAGE_W - 2 * MARGIN) * PANGO_SCALE));
	pango_layout_set_wrap(p->lay, PANGO_WRAP_WORD_CHAR);
	pango_font_description_free(fd);
	p->pages = 0;
}

/* Appends UTF-8 text to buf (at *n, cap bytes) until *chars reaches want
 * characters other than white space, or text ends; whole characters only. */
static void append_chars(char *buf, size_t cap, size_t *n, const char *text, int *chars,
			 int want)
{
	for (const char *c = text; *c;) {
		size_t len = 1;
		while ((c[len] & 0xC0) == 0x80)
			len++;
		bool space = *c == ' ' || *c == '\n';
		if ((!space && *chars >= want) || *n + len + 1 > cap)
			break;
		memcpy(buf + *n, c, len);
		*n += len;
		*chars += !space;
		c += len;
	}
	buf[*n] = '\0';
}

/* One page: a person's address and name, a number, then the body to
 * `want` characters. Returns the layout's height in points. */
static double peer_page(struct peer_pdf *p, long i, int want)
{
	char text[8192], num[48];
	size_t n = 0;
	int chars = 0, w, h;
	snprintf(num, sizeof num, "\n通知番号 %ld\n\n", i + 1);
	append_chars(text, sizeof text, &n, peer_people[i % 4], &chars, want);
	append_chars(text, sizeof text, &n, num, &chars, want);
	while (chars < want) {
		int before = chars;
		append_chars(text, sizeof text, &n, peer_body, &chars, want);
		append_chars(text, sizeof text, &n, "\n", &chars, want);
		if (chars == before)
			die("peer", "page text buffer too small");
	}
	pango_layout_set_text(p->lay, text, (int)n);
	cairo_move_to(p->cr, MARGIN, MARGIN);
	pango_cairo_show_layout(p->cr, p->lay);
	cairo_show_page(p->cr);
	p->pages++;
	pango_layout_get_size(p->lay, &w, &h);
	return (double)h / PANGO_SCALE;
}

static void peer_close(struct peer_pdf *p, bool sync)
{
	g_object_unref(p->lay);
	cairo_destroy(p->cr);
	cairo_surface_finish(p->sf);
	if (cairo_surface_status(p->sf) != CAIRO_STATUS_SUCCESS)
		die("cairo", cairo_status_to_string(cairo_surface_status(p->sf)));
	cairo_surface_destroy(p->sf);
	if (sync) { /* the run fsyncs its PDFs too */
		int fd = open(p->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) != 0)
			die("fsync", p->path);
		close(fd);
	}
}

/* The pages of `letters` letters, as the run lays them out: two pages
 * (front, back) in one PDF and one in the other per letter. Seconds. */
static double peer_run(const char *dir, long letters, double *bytes, struct marks *mk)
{
	struct peer_pdf a, b;
	char pa[300], pb[300];
	snprintf(pa, sizeof pa, "%s/peer-municipal.pdf", dir);
	snprintf(pb, sizeof pb, "%s/peer-jlis.pdf", dir);
	double t0 = bench_now();
	peer_open(&a, pa);
	peer_open(&b, pb);
	for (long i = 0; i < letters; i++) {
		peer_page(&a, i, PEER_CHARS_FRONT);
		peer_page(&a, i, PEER_CHARS_BACK);
		peer_page(&b, i, PEER_CHARS_JLIS);
		mark(mk, i + 1, bench_now());
	}
	peer_close(&a, true);
	peer_close(&b, true);
	double t = bench_now() - t0;
	struct stat sa, sb;
	if (stat(pa, &sa) != 0 || stat(pb, &sb) != 0)
		die("stat", pa);
	*bytes = (double)sa.st_size + (double)sb.st_size;
	if (!getenv("JPKI_BENCH_KEEP")) {
		unlink(pa);
		unlink(pb);
	}
	return t;
}

/* Fonts found and loaded before anything is timed. */
static void peer_warm(const char *dir)
{
	struct peer_pdf p;
	char path[300];
	snprintf(path, sizeof path, "%s/warm.pdf", dir);
	peer_open(&p, path);
	/* The fullest page must fit on one A4 page. */
	if (peer_page(&p, 0, PEER_CHARS_FRONT) > PAGE_H - 2 * MARGIN)
		die("peer", "the front page's text does not fit on A4");
	peer_close(&p, false);
	unlink(path);
}

/* ---- a. letters end to end ---- */

/* The run's progress: t0 its start; mk.at[0] the first letter drawn (the
 * callback's first call), mk.at[3] the last. */
struct split {
	double t0;
	struct marks mk;
};

static void on_progress(const struct jpki_notice_progress *p, void *arg)
{
	struct split *s = arg;
	s->mk.n = (long)p->total;
	if (p->done > 0)
		mark(&s->mk, (long)p->done, bench_now());
}

static double time_select(struct bed *b, int y, int mo, int runs,
			  struct jpki_notice_selection *keep)
{
	double t[16];
	for (int r = -1; r < runs; r++) {
		struct jpki_notice_selection sel;
		struct jpki_reg_msg m = {0};
		double t0 = bench_now();
		if (jpki_notice_select(&b->ctx, y, mo, &sel, &m))
			die("jpki_notice_select", m.en);
		if (r >= 0)
			t[r] = bench_now() - t0;
		if (r == runs - 1)
			*keep = sel;
		else
			jpki_notice_selection_release(&sel);
	}
	return bench_median(t, runs);
}

static void bench_letters(long letters, const struct jpki_office *office,
			  const char *office_path)
{
	struct bed b = {0};
	struct jpki_notice_selection sel;
	struct jpki_notice_report rep;
	struct jpki_reg_msg m = {0};
	struct split sp = {0};
	char out[300], label[160];
	int y, mo;
	double secs;

	bed_open(&b);
	printf("\n== a. letters end to end: %s ==\n", b.url);
	jpki_notice_default_month(jpki_jst_day(b.t0), &y, &mo);
	jpki_day start = jpki_day_from_ymd_unchecked(y, mo, 1);
	long rows = load(&b, letters, start, 1, false, &secs);
	printf("   setup: %ld residents inserted directly, certificates expiring "
	       "%04d-%02d (%ld rows, %.1f s)\n",
	       letters, y, mo, rows, secs);

	double t_sel = time_select(&b, y, mo, 3, &sel);
	figure("   jpki_notice_select alone, same store, before the run", 3, t_sel, "s",
	       "%zu notices (%zu cert, %zu card), median of 3", sel.n,
	       sel.by_kind[JPKI_NOTICE_CERT], sel.by_kind[JPKI_NOTICE_CARD]);
	if (sel.n != (size_t)letters)
		printf(
		    "   !! expected every one of the %ld residents selected, got %zu\n",
		    letters, sel.n);
	jpki_notice_selection_release(&sel);

	snprintf(out, sizeof out, "%s/out", b.dir);
	if (mkdir(out, 0700) != 0)
		die("mkdir", out);
	peer_warm(b.dir);
	struct jpki_notice_run_opts o = {.year = y,
					 .month = mo,
					 .out_dir = out,
					 .per_file = 0,
					 .office = office,
					 .base_url = NULL, /* the CA's (ca_setting) */
					 .progress = on_progress,
					 .progress_arg = &sp};
	sp.t0 = bench_now();
	if (jpki_notice_run(&b.ctx, &o, &rep, &m))
		die("jpki_notice_run", m.en);
	double t1 = bench_now(), total = t1 - sp.t0;
	double first = sp.mk.at[0], last = sp.mk.at[3]; /* first and last letter */
	int nfiles;
	double bytes = dir_bytes(out, &nfiles);
	size_t printed = rep.printed;
	double pages = 3.0 * (double)printed; /* municipal front + back, J-LIS */
	if (rep.selected != (size_t)letters || printed != (size_t)letters ||
	    rep.cancelled != 0)
		printf(
		    "   !! run %lld: selected %zu, printed %zu, cancelled %zu of %ld\n",
		    (long long)rep.run, rep.selected, printed, rep.cancelled, letters);

	printf("   office: %s (%s)\n", jpki_office_name(office), office_path);
	snprintf(label, sizeof label,
		 "a. jpki_notice_run, %zu letters (%zu cert, %zu card)", printed,
		 rep.by_kind[JPKI_NOTICE_CERT], rep.by_kind[JPKI_NOTICE_CARD]);
	figure(label, 1, total, "s", "%zu PDFs + manifest.csv + summary.json",
	       rep.files);
	figure("   letters", 1, (double)printed / total, "/s", "%.1f ms each",
	       1000.0 * total / (double)printed);
	figure("   pages (2 municipal + 1 J-LIS per letter)", 1, pages / total, "/s",
	       "%.0f pages", pages);
	snprintf(label, sizeof label, "   written: %d files, %.1f MB", nfiles,
		 bytes / MB);
	figure(label, 2, bytes / MB / total, "MB/s", "%.1f KB per page",
	       bytes / 1e3 / pages);
	if (first > 0 && last > 0) {
		figure("   split: selection + claim (to the first letter drawn)", 2,
		       first - sp.t0, "s", "%.1f%%", 100.0 * (first - sp.t0) / total);
		figure("          drawing the letters (with their store reads)", 2,
		       last - first, "s", "%.1f%%", 100.0 * (last - first) / total);
		figure("          closing PDFs, manifest, summary, commit", 2,
		       t1 - last, "s", "%.1f%%", 100.0 * (t1 - last) / total);
	} else {
		printf("   !! the progress callback was never called\n");
	}

	double peer_bytes = 0, f1, f2, p1, p2;
	struct marks pmk = {.n = (long)printed};
	double t_peer = peer_run(b.dir, (long)printed, &peer_bytes, &pmk);
	snprintf(label, sizeof label, "peer: cairo + pango alone, the same %.0f pages",
		 pages);
	figure(label, 1, t_peer, "s", "%.1f pages/s, %.1f MB, %.1f KB per page",
	       pages / t_peer, peer_bytes / MB, peer_bytes / 1e3 / pages);
	figure("   the run's pages/s against cairo + pango alone", 2, t_peer / total,
	       "x", "(the run takes %.2fx its time; drawing alone: %.2fx)",
	       total / t_peer, last > first ? (last - first) / t_peer : 0.0);
	if (tenths(&sp.mk, 3, &f1, &f2) && tenths(&pmk, 3, &p1, &p2))
		printf("   pages/s over the first and the last tenth of the letters: "
		       "run %.1f -> %.1f, cairo + pango alone %.1f -> %.1f\n",
		       f1, f2, p1, p2);
	bed_close(&b);
}

/* ---- b. selection over a national-size population ---- */

/* The candidate rows of a month, fetched and read: what the selection
 * must read at the least. Seconds; *rows the rows. */
static double plain_select(struct bed *b, jpki_day first, jpki_day last, long *rows,
			   size_t *bytes)
{
	static const char sql[] =
	    "SELECT h.resident, h.serial, h.card, h.expires, r.postal_code, r.address "
	    "FROM holder_cert h JOIN resident r ON r.id = h.resident JOIN card c ON "
	    "c.serial = h.card WHERE h.expires BETWEEN $1 AND $2 AND r.status = "
	    "'registered' AND c.state = 'active' AND NOT EXISTS (SELECT 1 FROM "
	    "revocation v WHERE v.serial = h.serial) "
	    "UNION ALL SELECT c.resident, c.serial, c.serial, c.expires, "
	    "r.postal_code, r.address FROM card c JOIN resident r ON r.id = "
	    "c.resident WHERE c.state = 'active' AND c.expires BETWEEN $1 AND $2 "
	    "AND r.status = 'registered'";
	char d1[JPKI_DATE_BUFSZ], d2[JPKI_DATE_BUFSZ];
	struct jpki_stmt *st = NULL;
	bool row = false;
	double t0 = bench_now();
	if (jpki_stmt_prepare(b->s, sql, &st) ||
	    jpki_stmt_bind_text(st, 1, jpki_date_format(first, d1)) ||
	    jpki_stmt_bind_text(st, 2, jpki_date_format(last, d2)))
		die("plain select", jpki_store_errmsg(b->s));
	*rows = 0;
	*bytes = 0;
	jpki_err rc;
	while ((rc = jpki_stmt_step(st, &row)) == JPKI_OK && row) {
		int64_t id = jpki_stmt_int64(st, 0);
		for (int c = 1; c < 6; c++)
			*bytes += jpki_stmt_is_null(st, c)
				      ? 0
				      : strlen(jpki_stmt_text(st, c));
		*bytes += (size_t)(id & 1);
		(*rows)++;
	}
	if (rc != JPKI_OK)
		die("plain select", jpki_store_errmsg(b->s));
	jpki_stmt_finalize(st);
	return bench_now() - t0;
}

static void bench_select(long n)
{
	struct bed b = {0};
	struct jpki_notice_selection sel;
	char label[160];
	int y, mo, d;
	double secs;

	bed_open(&b);
	printf("\n== b. selection alone: %s ==\n", b.url);
	/* The spread starts on the first of next month. */
	jpki_day_to_ymd(jpki_jst_day(b.t0), &y, &mo, &d);
	jpki_day start =
	    bench_pop_months_after(jpki_day_from_ymd_unchecked(y, mo, 1), 1);
	double t0 = bench_now();
	long rows = load(&b, n, start, SPAN_MONTHS, true, &secs);
	printf("   setup: %ld residents inserted directly over %d months: %ld rows in "
	       "%.1f s (%.0f rows/s), ANALYZE %.1f s\n",
	       n, SPAN_MONTHS, rows, secs, rows / secs, bench_now() - t0 - secs);

	jpki_day first = bench_pop_months_after(start, SPAN_MONTHS / 2);
	jpki_day last = bench_pop_months_after(first, 1) - 1;
	jpki_day_to_ymd(first, &y, &mo, &d);
	double t_sel = time_select(&b, y, mo, RUNS, &sel);

	double t[RUNS];
	long plain_rows = 0;
	size_t bytes = 0;
	for (int r = -1; r < RUNS; r++) {
		double x = plain_select(&b, first, last, &plain_rows, &bytes);
		if (r >= 0)
			t[r] = x;
	}
	double t_plain = bench_median(t, RUNS);
	snprintf(label, sizeof label,
		 "b. jpki_notice_select %04d-%02d over %ld residents", y, mo, n);
	figure(label, 2, 1000 * t_sel, "ms",
	       "%zu notices (%zu cert, %zu card), %zu targets, %zu expired before; "
	       "median of %d",
	       sel.n, sel.by_kind[JPKI_NOTICE_CERT], sel.by_kind[JPKI_NOTICE_CARD],
	       sel.n_targets, sel.expired_before, RUNS);
	figure("   plain SELECT of the same candidate rows, every row read", 2,
	       1000 * t_plain, "ms", "%ld rows (%zu bytes of text); median of %d",
	       plain_rows, bytes, RUNS);
	figure("   jpki_notice_select against the plain SELECT", 2, t_sel / t_plain,
	       "x", "rows %s (%zu targets + %zu expired before vs %ld rows)",
	       (long)(sel.n_targets + sel.expired_before) == plain_rows ? "agree"
									: "DIFFER",
	       sel.n_targets, sel.expired_before, plain_rows);
	jpki_notice_selection_release(&sel);
	bed_close(&b);
}

/* ---- main ---- */

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static int usage(void)
{
	fputs("usage: bench_notice [--quick] [--letters L] [--residents N]\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	long letters = 10000, residents = 1000000;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;
		if (strcmp(a, "--quick") == 0) {
			letters = 500;
			residents = 20000;
			continue;
		} else if (strcmp(a, "--letters") == 0) {
			ok = parse_long(v, 1, 1000000, &letters);
		} else if (strcmp(a, "--residents") == 0) {
			ok = parse_long(v, 1, 10000000, &residents);
		} else {
			return usage();
		}
		if (!ok)
			return usage();
		i++;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	(void)sched_setaffinity(0, sizeof set, &set); /* one core, peer and run alike */
	double t_start = bench_now();
	char office_path[4096];
	struct jpki_office *office = office_load(office_path, sizeof office_path);

	printf("bench/notice — one thread pinned to one core\n");
	bench_letters(letters, office, office_path);
	bench_select(residents);
	jpki_office_free(office);
	printf("\ntotal %.0f s\n", bench_now() - t_start);
	return 0;
}
