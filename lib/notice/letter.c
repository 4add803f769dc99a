/* The letters as PDF (letter.h): cairo's PDF surface (it subsets and embeds
 * the fonts), pango for the Japanese text, libqrencode for the QR code.
 *
 * Wording and rules, and where they come from (nothing here goes beyond
 * them; DOMAIN.md is /work/shared/DOMAIN.md, seeds are seeds/00N_*.txt):
 *   - renewal is free; without it the card stays a photo ID until its own
 *     expiry; after expiry a new certificate is issued free while the card
 *     is valid; renewing before the window shortens the new certificate:
 *     seed 004, seed 000, DOMAIN §2;
 *   - the window runs from the day after the date three months before the
 *     expiry to the expiry: seed 002, seed 004, DOMAIN §2 (computed by the
 *     caller, printed here);
 *   - when the card ends the certificates end with it; the card is renewed
 *     (re-created) with the 交付申請書 J-LIS encloses, online, by photo booth
 *     or by post; the 23-digit 申請書ID; free when the old card is returned:
 *     seed 002, DOMAIN §5;
 *   - the municipality's white-envelope letter with the reservation ID and
 *     the 照会書兼回答書 on its back; booking from the window's first day until
 *     17:00 of the day before the visit, up to 40 days ahead: seed 004,
 *     DOMAIN §6-7 (the office's own booking rules are printed);
 *   - 照会書兼回答書: 回答書欄 (日付, 申請者氏名・住所, the three PINs) and
 *     委任状欄 (日付, 申請者氏名・住所, 代理人氏名・住所, 本人との関係); sealed in
 *     its envelope and handed to the proxy; incomplete forms are refused:
 *     seed 000; PINs: signing 6-16 letters and digits (clients upper-case
 *     letters), the others 4 digits: DOMAIN §3;
 *   - the blue-envelope 有効期限通知書 is sent by J-LIS in the municipality's
 *     name; it is not needed to renew: seed 004, seed 002, DOMAIN §6;
 *   - what to bring: jpki_bring() (lib/core/bring.c, seeds 000-004);
 *     opening hours and closed days: jpki_office_day() (data/offices/).
 *
 * Units are PostScript points (1/72 in), the PDF surface's user space;
 * MM() converts. Text is laid out by one PangoLayout, reused for every
 * string; sizes are absolute, in points.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include "jpki/bring.h"
#include "jpki/date.h"
#include "jpki/office.h"
#include "jpki/utf8.h"
#include "letter.h"
#include "banned.h"

#define MM(x)  ((x)*72.0 / 25.4)
#define PAGE_W 595.276 /* A4 */
#define PAGE_H 841.89

#define LEFT   MM(18)
#define RIGHT  (PAGE_W - MM(18))
#define WIDTH  (RIGHT - LEFT)
#define BOTTOM (PAGE_H - MM(12))

#define FONT_SANS  "Noto Sans CJK JP"
#define FONT_SERIF "Noto Serif CJK JP"
#define FONT_MONO  "Noto Sans Mono CJK JP"

/* Input limits, in bytes: far above any real name or address, low enough
 * that a letter stays one page. */
#define NAME_MAX_BYTES	  1024
#define ADDRESS_MAX_BYTES 2048
#define MUNI_MAX_BYTES	  256
#define URL_MAX_BYTES	  1024

#define RID_DIGITS   16
#define APPID_DIGITS 23
#define DATE_SZ	     (JPKI_WAREKI_BUFSZ + 16)

/* The office's weekly pattern: sampled over a year, see schedule_sample(). */
#define SAMPLE_DAYS   364
#define N_WEEKS	      5
#define MAX_SIGS      8
#define STATE_UNKNOWN (-1)
#define STATE_CLOSED  0

/* The renewal window is three months and a day; anything far longer is a
 * caller's mistake. */
#define WINDOW_MAX_DAYS 400

#define N_APPLICANTS 4
#define FIT_CACHE    8

struct font {
	const char *family;
	double size; /* points */
	bool bold;
	double spacing; /* line spacing factor; 0: the font's own */
};

/* Noto CJK's own line height is about 1.45 em, roomy for paragraphs;
 * lists and address lines use about 1.3 em. */
#define LIST_SPACING 0.9

struct schedule {
	struct jpki_hours sig[MAX_SIGS];
	int n_sig;
	/* By weekday (0 = Sunday) and week of the month: STATE_UNKNOWN,
	 * STATE_CLOSED, or 1 + an index into sig. */
	int state[7][N_WEEKS];
};

/* What the office block says for one office and window; letters of a
 * batch mostly share both, so the last one is kept. */
struct office_text {
	const struct jpki_office *office;
	jpki_day first, last;
	bool valid;
	char hours[1024];
	char closed[2048];
	char extra[1024];
};

struct bring_fit {
	double avail; /* the height it was fitted to */
	double size;
	size_t split; /* sections [0, split) go to the left column */
	int common;   /* the shared notes: 0 below both columns, 1 left, 2 right */
};

struct bring_text {
	const char *heading;
	char body[4096];
};

struct jpkii_letters {
	enum jpkii_letter_kind kind;
	FILE *fp;
	int write_errno;
	cairo_surface_t *surface;
	cairo_t *cr;
	PangoFontMap *fontmap; /* our own, so that close frees its caches */
	PangoContext *ctx;
	PangoLayout *lay;
	PangoFontDescription *fd;
	size_t pages;
	bool broken; /* a drawing or write error: nothing more is added */

	struct office_text ot;
	struct bring_text bring[N_APPLICANTS];
	char bring_common[1024];
	struct bring_fit fits[FIT_CACHE];
	size_t n_fits;

	/* Scratch for one letter. */
	char addr[ADDRESS_MAX_BYTES + 64];
	char name[NAME_MAX_BYTES + 16];
	char tmp[4096];
};

/* One letter's strings, formatted and checked before anything is drawn. */
struct facts {
	char sent_on[DATE_SZ];
	char sign[DATE_SZ], auth[DATE_SZ], card[DATE_SZ];
	char first[DATE_SZ], last[DATE_SZ];
	char window[2 * DATE_SZ + 8];
	char window2[2 * DATE_SZ + 8]; /* on two lines */
	char rid[24];
	char appid[40];
	char notice[48];
	char corner[96];
	char sender[MUNI_MAX_BYTES + 8];
	char booking[512];
	QRcode *qr;
};

static const char *const wday_ja[7] = {"日", "月", "火", "水", "木", "金", "土"};

/* ---- small strings ---- */

struct sbuf {
	char *p;
	size_t cap, len;
	bool overflow;
};

static void sb_init(struct sbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->overflow = false;
	p[0] = '\0';
}

static void sb_addf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->overflow)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = true;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
}

static void sb_cut(struct sbuf *b, size_t len)
{
	b->len = len;
	b->p[len] = '\0';
	b->overflow = false;
}

/* Ends the current item of a list of NUL-separated items. */
static void sb_next(struct sbuf *b)
{
	if (b->overflow)
		return;
	if (b->len + 1 >= b->cap) {
		b->overflow = true;
		return;
	}
	b->len++;
	b->p[b->len] = '\0';
}

static bool all_digits(const char *s, size_t n)
{
	if (s == NULL || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* "令和9年1月26日", with "（火）" when weekday. */
static jpki_err fmt_date(jpki_day d, bool weekday, char buf[static DATE_SZ])
{
	char w[JPKI_WAREKI_BUFSZ];
	jpki_err e = jpki_wareki(d, w, sizeof w, NULL, NULL);
	if (e != JPKI_OK)
		return e;
	int n = weekday
		    ? snprintf(buf, DATE_SZ, "%s（%s）", w, wday_ja[jpki_weekday(d)])
		    : snprintf(buf, DATE_SZ, "%s", w);
	return n < 0 || n >= DATE_SZ ? JPKI_ERR_INTERNAL : JPKI_OK;
}

/* "1月26日（火）", or "26日（火）" without the month. */
static void fmt_md(struct sbuf *b, jpki_day d, bool month)
{
	int y, m, dd;
	jpki_day_to_ymd(d, &y, &m, &dd);
	if (month)
		sb_addf(b, "%d月", m);
	sb_addf(b, "%d日（%s）", dd, wday_ja[jpki_weekday(d)]);
}

static void fmt_hours(struct sbuf *b, const struct jpki_hours *h)
{
	for (unsigned i = 0; i < h->n; i++)
		sb_addf(b, "%s%u:%02u～%u:%02u", i ? "、" : "", h->iv[i].open / 60u,
			h->iv[i].open % 60u, h->iv[i].close / 60u,
			h->iv[i].close % 60u);
}

/* A time of day as a letter says it: "午後5時", "午前8時30分", "正午". */
static void fmt_clock(struct sbuf *b, int minute)
{
	int h = minute / 60, m = minute % 60;
	if (h == 12 && m == 0) {
		sb_addf(b, "正午");
		return;
	}
	sb_addf(b, "%s%d時", h < 12 ? "午前" : "午後", h < 12 ? h : h - 12);
	if (m)
		sb_addf(b, "%d分", m);
}

/* ---- text ---- */

static double layout_height(PangoLayout *lay)
{
	PangoRectangle logical;
	pango_layout_get_extents(lay, NULL, &logical);
	return (double)logical.height / PANGO_SCALE;
}

/* Lays text out in the shared layout: font f, wrapped at width (points),
 * aligned. Returns its height in points. */
static double text_set(struct jpkii_letters *l, const char *text, const struct font *f,
		       double width, PangoAlignment align)
{
	PangoLayout *lay = l->lay;
	pango_font_description_set_family_static(l->fd, f->family);
	pango_font_description_set_absolute_size(l->fd, f->size * PANGO_SCALE);
	pango_font_description_set_weight(l->fd, f->bold ? PANGO_WEIGHT_BOLD
							 : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(lay, l->fd);
	pango_layout_set_width(lay, (int)(width * PANGO_SCALE));
	pango_layout_set_height(lay, -1);
	pango_layout_set_ellipsize(lay, PANGO_ELLIPSIZE_NONE);
	pango_layout_set_indent(lay, 0);
	pango_layout_set_line_spacing(lay, (float)f->spacing);
	pango_layout_set_alignment(lay, align);
	pango_layout_set_text(lay, text, -1);
	return layout_height(lay);
}

static void text_show(struct jpkii_letters *l, double x, double y)
{
	cairo_move_to(l->cr, x, y);
	pango_cairo_show_layout(l->cr, l->lay);
}

static double text_at(struct jpkii_letters *l, double x, double y, double width,
		      const struct font *f, PangoAlignment align, const char *text)
{
	double h = text_set(l, text, f, width, align);
	text_show(l, x, y);
	return h;
}

/* Lays text out to fit width x height: from f's size down to min_size in
 * half points; at min_size what still does not fit is cut with an
 * ellipsis, so that nothing ever runs into the next block. */
static double text_fit(struct jpkii_letters *l, const char *text, const struct font *f,
		       double min_size, double width, double height,
		       PangoAlignment align)
{
	struct font g = *f;
	for (;;) {
		double h = text_set(l, text, &g, width, align);
		if (h <= height + 0.01)
			return h;
		if (g.size - 0.5 < min_size)
			break;
		g.size -= 0.5;
	}
	pango_layout_set_height(l->lay, (int)(height * PANGO_SCALE));
	pango_layout_set_ellipsize(l->lay, PANGO_ELLIPSIZE_END);
	return layout_height(l->lay);
}

static double text_fit_at(struct jpkii_letters *l, double x, double y, double width,
			  double height, const struct font *f, double min_size,
			  PangoAlignment align, const char *text)
{
	double h = text_fit(l, text, f, min_size, width, height, align);
	text_show(l, x, y);
	return h;
}

/* ---- lines and boxes ---- */

static void set_gray(cairo_t *cr, double g)
{
	cairo_set_source_rgb(cr, g, g, g);
}

static void rect_stroke(cairo_t *cr, double x, double y, double w, double h, double lw)
{
	cairo_set_line_width(cr, lw);
	set_gray(cr, 0);
	cairo_rectangle(cr, x, y, w, h);
	cairo_stroke(cr);
}

static void rect_fill(cairo_t *cr, double x, double y, double w, double h, double g)
{
	set_gray(cr, g);
	cairo_rectangle(cr, x, y, w, h);
	cairo_fill(cr);
	set_gray(cr, 0);
}

static void hline(cairo_t *cr, double x0, double x1, double y, double lw)
{
	cairo_set_line_width(cr, lw);
	set_gray(cr, 0);
	cairo_move_to(cr, x0, y);
	cairo_line_to(cr, x1, y);
	cairo_stroke(cr);
}

/* A section heading: a dark bar at the left, the text in bold on a light
 * band. Returns its height. */
static double heading_at(struct jpkii_letters *l, double x, double y, double w,
			 double size, const char *text)
{
	const struct font f = {FONT_SANS, size, true, 0};
	double h = text_set(l, text, &f, w - MM(4), PANGO_ALIGN_LEFT) + MM(1.6);
	rect_fill(l->cr, x, y, w, h, 0.90);
	rect_fill(l->cr, x, y, MM(1.4), h, 0.25);
	text_show(l, x + MM(3), y + MM(0.8));
	return h;
}

/* The QR code as filled rectangles (one path, one fill), side points
 * square including the 4-module quiet zone; each run of dark modules in a
 * row is one rectangle. */
static void qr_draw(cairo_t *cr, const QRcode *qr, double x, double y, double side)
{
	int n = qr->width;
	double m = side / (n + 8);
	cairo_new_path(cr);
	for (int r = 0; r < n; r++) {
		const unsigned char *row = qr->data + (size_t)r * (size_t)n;
		int c = 0;
		while (c < n) {
			if (!(row[c] & 1)) {
				c++;
				continue;
			}
			int c0 = c;
			while (c < n && (row[c] & 1))
				c++;
			cairo_rectangle(cr, x + (4 + c0) * m, y + (4 + r) * m,
					(c - c0) * m, m);
		}
	}
	set_gray(cr, 0);
	cairo_fill(cr);
}

/* ---- tables ---- */

struct row {
	const char *label;
	const char *value; /* NULL: blank, to be written on */
	bool bold;
	double min_h; /* points; 0: as tall as its text */
	int boxes;    /* boxes for one character each; 0: none */
};

#define BOX_SIDE MM(6.8)

/* Rows of label | value with a shaded label column lw wide. Returns the
 * height. */
static double table_at(struct jpkii_letters *l, double x, double y, double w, double lw,
		       const struct row *rows, size_t n, double size)
{
	const double pad = MM(1.5);
	double top = y;
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		const struct font fl = {FONT_SANS, size, false, 0};
		const struct font fv = {FONT_SANS, size, r->bold, 0};
		double hl = text_set(l, r->label, &fl, lw - 2 * pad, PANGO_ALIGN_LEFT);
		double hv = 0;
		if (r->value)
			hv = text_set(l, r->value, &fv, w - lw - 2 * pad,
				      PANGO_ALIGN_LEFT);
		double h = hl > hv ? hl : hv;
		if (r->boxes && h < BOX_SIDE)
			h = BOX_SIDE;
		h += 2 * pad;
		if (h < r->min_h)
			h = r->min_h;
		rect_fill(l->cr, x, y, lw, h, 0.92);
		if (r->value)
			text_show(l, x + lw + pad, y + (h - hv) / 2);
		for (int b = 0; b < r->boxes; b++)
			rect_stroke(l->cr, x + lw + pad + b * BOX_SIDE,
				    y + (h - BOX_SIDE) / 2, BOX_SIDE, BOX_SIDE, 0.6);
		text_set(l, r->label, &fl, lw - 2 * pad, PANGO_ALIGN_LEFT);
		text_show(l, x + pad, y + (h - hl) / 2);
		rect_stroke(l->cr, x, y, w, h, 0.6);
		cairo_move_to(l->cr, x + lw, y);
		cairo_line_to(l->cr, x + lw, y + h);
		cairo_stroke(l->cr);
		y += h;
	}
	return y - top;
}

/* ---- the office's hours (jpki_office_day over the window) ---- */

static bool hours_equal(const struct jpki_hours *a, const struct jpki_hours *b)
{
	return a->n == b->n && memcmp(a->iv, b->iv, a->n * sizeof a->iv[0]) == 0;
}

static int sig_find(struct schedule *s, const struct jpki_hours *h, bool add)
{
	for (int i = 0; i < s->n_sig; i++)
		if (hours_equal(&s->sig[i], h))
			return i;
	if (!add || s->n_sig == MAX_SIGS)
		return -1;
	s->sig[s->n_sig] = *h;
	return s->n_sig++;
}

static int week_of_month(jpki_day d)
{
	int y, m, dd;
	jpki_day_to_ymd(d, &y, &m, &dd);
	return (dd - 1) / 7; /* 0 = the first such weekday of the month */
}

/* Each weekday and week of the month, sampled over a year from `from`:
 * open with which hours, or closed by the weekly schedule. Holidays,
 * year-end, maintenance and closures say nothing about the schedule and
 * are left out; a (weekday, week) never seen is STATE_UNKNOWN. A state
 * needs a strict majority of its samples, so one-off extra openings (an
 * office's [openings]) do not read as a weekly rule. */
static void schedule_sample(const struct jpki_office *o, jpki_day from,
			    struct schedule *s)
{
	int count[7][N_WEEKS][1 + MAX_SIGS];
	memset(count, 0, sizeof count);
	memset(s, 0, sizeof *s);
	for (jpki_day d = from; d < from + SAMPLE_DAYS; d++) {
		struct jpki_office_day od;
		if (jpki_office_day(o, d, &od) != JPKI_OK)
			break; /* past 2099: what was seen is enough */
		int slot;
		if (od.open)
			slot = 1 + sig_find(s, &od.hours, true);
		else if (od.reason == JPKI_REASON_WEEKEND)
			slot = STATE_CLOSED;
		else
			continue;
		if (slot < 0)
			continue; /* more distinct hours than MAX_SIGS */
		count[jpki_weekday(d)][week_of_month(d)][slot]++;
	}
	for (int w = 0; w < 7; w++) {
		for (int k = 0; k < N_WEEKS; k++) {
			int total = 0, best = 0;
			for (int i = 0; i <= s->n_sig; i++) {
				total += count[w][k][i];
				if (count[w][k][i] > count[w][k][best])
					best = i;
			}
			if (total == 0)
				s->state[w][k] = STATE_UNKNOWN;
			else
				s->state[w][k] =
				    2 * count[w][k][best] > total ? best : STATE_CLOSED;
		}
	}
}

/* A weekday's usual state: the most frequent over its weeks, closed on a
 * tie (Yokohama's 2nd and 4th Saturdays are the exception, not the rule). */
static int weekday_base(const struct schedule *s, int w)
{
	int count[1 + MAX_SIGS] = {0};
	int best = STATE_CLOSED;
	bool any = false;
	for (int k = 0; k < N_WEEKS; k++) {
		if (s->state[w][k] == STATE_UNKNOWN)
			continue;
		count[s->state[w][k]]++;
		any = true;
	}
	if (!any)
		return STATE_UNKNOWN;
	for (int i = 1; i <= s->n_sig; i++)
		if (count[i] > count[best])
			best = i;
	return best;
}

/* Weekdays as a Japanese list in Monday-first order: runs of three or
 * more as "月～金", the rest joined by "・". in[w] for w = 0 (Sunday)..6. */
static void fmt_weekdays(struct sbuf *b, const bool in[7])
{
	static const int order[7] = {1, 2, 3, 4, 5, 6, 0};
	bool first = true;
	int i = 0;
	while (i < 7) {
		if (!in[order[i]]) {
			i++;
			continue;
		}
		int j = i;
		while (j + 1 < 7 && in[order[j + 1]])
			j++;
		if (j - i >= 2) {
			sb_addf(b, "%s%s～%s", first ? "" : "・", wday_ja[order[i]],
				wday_ja[order[j]]);
		} else {
			for (int k = i; k <= j; k++)
				sb_addf(b, "%s%s", first && k == i ? "" : "・",
					wday_ja[order[k]]);
		}
		first = false;
		i = j + 1;
	}
}

/* "月～金 9:00～16:00　／　第2・第4土曜 9:00～12:00". */
#define GROUP_SEP "　／　"
static void fmt_schedule(struct sbuf *b, const struct schedule *s)
{
	static const int order[7] = {1, 2, 3, 4, 5, 6, 0};
	int base[7];
	bool done[1 + MAX_SIGS] = {false};
	bool any = false;
	for (int w = 0; w < 7; w++)
		base[w] = weekday_base(s, w);
	for (int i = 0; i < 7; i++) {
		int st = base[order[i]];
		if (st <= STATE_CLOSED || done[st])
			continue;
		bool in[7] = {false};
		for (int w = 0; w < 7; w++)
			in[w] = base[w] == st;
		done[st] = true;
		sb_addf(b, "%s", any ? GROUP_SEP : "");
		fmt_weekdays(b, in);
		sb_addf(b, " ");
		fmt_hours(b, &s->sig[st - 1]);
		any = true;
	}
	/* The weeks that differ from the weekday's usual state. */
	for (int i = 0; i < 7; i++) {
		int w = order[i];
		bool seen[1 + MAX_SIGS] = {false};
		if (base[w] == STATE_UNKNOWN)
			continue;
		for (int k = 0; k < N_WEEKS; k++) {
			int st = s->state[w][k];
			if (st == STATE_UNKNOWN || st == base[w] || seen[st])
				continue;
			seen[st] = true;
			sb_addf(b, "%s", any ? GROUP_SEP : "");
			bool first = true;
			for (int k2 = k; k2 < N_WEEKS; k2++) {
				if (s->state[w][k2] != st)
					continue;
				sb_addf(b, "%s第%d", first ? "" : "・", k2 + 1);
				first = false;
			}
			if (st == STATE_CLOSED) {
				sb_addf(b, "%s曜は休業", wday_ja[w]);
			} else {
				sb_addf(b, "%s曜 ", wday_ja[w]);
				fmt_hours(b, &s->sig[st - 1]);
			}
			any = true;
		}
	}
	if (!any)
		sb_addf(b, "（定例の受付日はありません）");
}

/* A run of days [a, z]: "2月11日（木）", "1月17日（土）・18日（日）",
 * "12月29日（火）～1月3日（日）". */
static void fmt_run(struct sbuf *b, jpki_day a, jpki_day z)
{
	int ya, ma, da, yz, mz, dz;
	jpki_day_to_ymd(a, &ya, &ma, &da);
	jpki_day_to_ymd(z, &yz, &mz, &dz);
	fmt_md(b, a, true);
	if (z == a)
		return;
	sb_addf(b, "%s", z == a + 1 ? "・" : "～");
	fmt_md(b, z, mz != ma || yz != ya);
}

/* Joins items (each NUL-terminated, one after the other in items) with
 * "、" so that the result takes at most max_lines lines at width in font
 * f; what does not fit is cut and "ほか" added. */
static void join_fit(struct jpkii_letters *l, struct sbuf *out, const char *items,
		     size_t n, const struct font *f, double width, int max_lines)
{
	size_t keep = n;
	for (;;) {
		const char *p = items;
		sb_cut(out, 0);
		for (size_t i = 0; i < keep; i++) {
			sb_addf(out, "%s%s", i ? "、" : "", p);
			p += strlen(p) + 1;
		}
		if (keep < n)
			sb_addf(out, "%sほか", keep ? "、" : "");
		if (out->overflow && keep > 0) {
			keep--;
			continue;
		}
		text_set(l, out->p, f, width, PANGO_ALIGN_LEFT);
		if (pango_layout_get_line_count(l->lay) <= max_lines || keep == 0)
			return;
		keep--;
	}
}

/* The office block's font and value width (table_at's value column). */
#define OFFICE_SIZE   8.5
#define OFFICE_LABELW MM(40)
#define OFFICE_VALUEW (WIDTH - OFFICE_LABELW - 2 * MM(1.5))

/* Hours, closed days in the window and extra opening days, for the
 * office block; kept for the next letter with the same office and window. */
static jpki_err office_text(struct jpkii_letters *l, const struct jpki_office *o,
			    jpki_day first, jpki_day last)
{
	struct office_text *t = &l->ot;
	const struct font f = {FONT_SANS, OFFICE_SIZE, false, 0};
	struct schedule s;
	struct sbuf b, items, extras;
	size_t n_items = 0, n_extras = 0;

	if (t->valid && t->office == o && t->first == first && t->last == last)
		return JPKI_OK;
	t->valid = false;
	schedule_sample(o, first, &s);
	sb_init(&b, t->hours, sizeof t->hours);
	fmt_schedule(&b, &s);
	if (b.overflow)
		return JPKI_ERR_INTERNAL;

	/* mark: 0 open or closed by the weekly schedule; 1 closed on a day
	 * the office usually opens (listed); 2 closed for a holiday or the
	 * like on a day it is shut anyway (Yokohama's Sundays), listed only
	 * as part of a run with a listed day, so that 12/29-1/3 reads whole. */
	unsigned char mark[WINDOW_MAX_DAYS + 1];
	size_t n = (size_t)(last - first) + 1;
	sb_init(&items, l->tmp, sizeof l->tmp / 2);
	sb_init(&extras, l->tmp + sizeof l->tmp / 2, sizeof l->tmp / 2);
	for (size_t i = 0; i < n; i++) {
		struct jpki_office_day od;
		jpki_day d = first + (jpki_day)i;
		jpki_err e = jpki_office_day(o, d, &od);
		if (e != JPKI_OK)
			return e;
		int st = s.state[jpki_weekday(d)][week_of_month(d)];
		mark[i] = 0;
		if (od.open) {
			int sig = sig_find(&s, &od.hours, false);
			if (st != STATE_UNKNOWN && (sig < 0 || st != 1 + sig)) {
				fmt_md(&extras, d, true);
				sb_addf(&extras, " ");
				fmt_hours(&extras, &od.hours);
				sb_next(&extras);
				n_extras++;
			}
		} else if (od.reason != JPKI_REASON_WEEKEND) {
			mark[i] = st == STATE_CLOSED ? 2 : 1;
		}
	}
	for (size_t i = 0; i < n;) {
		if (mark[i] == 0) {
			i++;
			continue;
		}
		size_t j = i;
		bool listed = false;
		while (j < n && mark[j] != 0)
			listed |= mark[j++] == 1;
		if (listed) {
			fmt_run(&items, first + (jpki_day)i, first + (jpki_day)j - 1);
			sb_next(&items);
			n_items++;
		}
		i = j;
	}
	if (items.overflow || extras.overflow)
		return JPKI_ERR_INTERNAL;

	struct sbuf out;
	sb_init(&out, t->closed, sizeof t->closed);
	if (n_items == 0)
		sb_addf(&out, "ありません");
	else
		join_fit(l, &out, items.p, n_items, &f, OFFICE_VALUEW, 3);
	sb_init(&out, t->extra, sizeof t->extra);
	if (n_extras)
		join_fit(l, &out, extras.p, n_extras, &f, OFFICE_VALUEW, 2);
	t->office = o;
	t->first = first;
	t->last = last;
	t->valid = true;
	return JPKI_OK;
}

/* ---- what to bring (jpki_bring) ---- */

static const struct {
	enum jpki_applicant who;
	const char *heading;
} applicants[N_APPLICANTS] = {
    {JPKI_APPLICANT_SELF, "ご本人が来庁する場合"},
    {JPKI_APPLICANT_PROXY_WITH_FORM,
     "代理人が来庁する場合（照会書兼回答書あり・即日）"},
    {JPKI_APPLICANT_PROXY_WITHOUT_FORM,
     "代理人が来庁する場合（照会書兼回答書なし・2回来庁）"},
    {JPKI_APPLICANT_GUARDIAN, "成年後見人が来庁する場合"},
};

static bool note_in(const struct jpki_bring_list *list, const char *note)
{
	for (size_t i = 0; i < list->n_notes; i++)
		if (strcmp(list->notes[i], note) == 0)
			return true;
	return false;
}

/* Whether an item of a later visit was already asked for on the first. */
static bool item_earlier(const struct jpki_bring_list *list,
			 const struct jpki_bring_item *it)
{
	for (size_t k = 0; k < list->n_items; k++)
		if (list->items[k].visit < it->visit &&
		    strcmp(list->items[k].text, it->text) == 0)
			return true;
	return false;
}

/* One line for the items a later visit repeats from the first: their
 * names without the explanation in brackets. */
static void bring_again(struct sbuf *b, const struct jpki_bring_list *list, int visit)
{
	bool any = false;
	for (size_t k = 0; k < list->n_items; k++) {
		const struct jpki_bring_item *it = &list->items[k];
		if (it->visit != visit || !item_earlier(list, it))
			continue;
		const char *paren = strstr(it->text, "（");
		int len = paren ? (int)(paren - it->text) : (int)strlen(it->text);
		sb_addf(b, "%s%.*s", any ? "、" : "\n・1回目と同じもの：", len,
			it->text);
		any = true;
	}
}

/* The four lists as text, once per letters object: items as "・" lines
 * (with 1回目/2回目 for two visits), the list's own notes as "※" lines;
 * notes all four share are printed once, below both columns. */
static jpki_err bring_prepare(struct jpkii_letters *l, struct jpki_errbuf *eb)
{
	const struct jpki_bring_list *lists[N_APPLICANTS];
	struct sbuf common;
	for (size_t i = 0; i < N_APPLICANTS; i++) {
		jpki_err e =
		    jpki_bring(JPKI_PROC_RENEW, applicants[i].who, &lists[i], eb);
		if (e != JPKI_OK)
			return e;
	}
	sb_init(&common, l->bring_common, sizeof l->bring_common);
	for (size_t j = 0; j < lists[0]->n_notes; j++) {
		const char *note = lists[0]->notes[j];
		bool shared = true;
		for (size_t i = 1; i < N_APPLICANTS; i++)
			shared = shared && note_in(lists[i], note);
		if (shared)
			sb_addf(&common, "%s※%s", common.len ? "\n" : "", note);
	}
	for (size_t i = 0; i < N_APPLICANTS; i++) {
		const struct jpki_bring_list *list = lists[i];
		struct sbuf b;
		int visit = 0;
		l->bring[i].heading = applicants[i].heading;
		sb_init(&b, l->bring[i].body, sizeof l->bring[i].body);
		for (size_t k = 0; k < list->n_items; k++) {
			const struct jpki_bring_item *it = &list->items[k];
			if (list->visits > 1 && it->visit != visit) {
				visit = it->visit;
				sb_addf(&b, "%s【%d回目】", b.len ? "\n" : "", visit);
				if (visit > 1)
					bring_again(&b, list, visit);
			}
			if (visit <= 1 || !item_earlier(list, it))
				sb_addf(&b, "%s・%s", b.len ? "\n" : "", it->text);
		}
		for (size_t k = 0; k < list->n_notes; k++) {
			const char *note = list->notes[k];
			bool shared = true;
			for (size_t m = 0; m < N_APPLICANTS; m++)
				shared = shared && note_in(lists[m], note);
			if (!shared)
				sb_addf(&b, "\n※%s", note);
		}
		if (b.overflow)
			return jpki_errf(eb, JPKI_ERR_INTERNAL,
					 "what-to-bring text too long");
	}
	if (common.overflow)
		return jpki_errf(eb, JPKI_ERR_INTERNAL, "what-to-bring notes too long");
	return JPKI_OK;
}

#define BRING_GAP  MM(5)
#define BRING_COLW ((WIDTH - BRING_GAP) / 2)

static double bring_section(struct jpkii_letters *l, size_t i, double size, double x,
			    double y, bool draw)
{
	const struct font fh = {FONT_SANS, size + 0.5, true, 0};
	const struct font fb = {FONT_SANS, size, false, LIST_SPACING};
	double h = text_set(l, l->bring[i].heading, &fh, BRING_COLW, PANGO_ALIGN_LEFT);
	if (draw)
		text_show(l, x, y);
	text_set(l, l->bring[i].body, &fb, BRING_COLW, PANGO_ALIGN_LEFT);
	pango_layout_set_indent(l->lay, (int)(-size * PANGO_SCALE)); /* hanging "・" */
	double hb = layout_height(l->lay);
	if (draw)
		text_show(l, x, y + h);
	return h + hb + MM(2);
}

/* The font size, column split and place of the shared notes for avail
 * points of height: the largest size, in quarter points from 9 down to
 * 6.5, at which it all fits. Cached: the text is the same in every letter
 * and avail takes few values. */
static struct bring_fit bring_fit(struct jpkii_letters *l, double avail)
{
	struct bring_fit best = {avail, 6.5, 2, 0};
	for (size_t i = 0; i < l->n_fits; i++)
		if (l->fits[i].avail > avail - 0.01 && l->fits[i].avail < avail + 0.01)
			return l->fits[i];
	for (double size = 9.0; size >= 6.5; size -= 0.25) {
		double h[N_APPLICANTS], total = 0;
		for (size_t i = 0; i < N_APPLICANTS; i++)
			total += h[i] = bring_section(l, i, size, 0, 0, false);
		const struct font fc = {FONT_SANS, size, false, LIST_SPACING};
		double hc_full =
		    text_set(l, l->bring_common, &fc, WIDTH, PANGO_ALIGN_LEFT);
		double hc_col =
		    text_set(l, l->bring_common, &fc, BRING_COLW, PANGO_ALIGN_LEFT);
		double need = 1e9, left = 0;
		for (size_t k = 1; k < N_APPLICANTS; k++) {
			left += h[k - 1];
			double right = total - left;
			double tall = left > right ? left : right;
			double low = left > right ? right : left;
			/* Below both columns, or under the shorter one. */
			double below = tall + hc_full;
			double beside = low + hc_col > tall ? low + hc_col : tall;
			if (below < need) {
				need = below;
				best.split = k;
				best.common = 0;
			}
			if (beside < need) {
				need = beside;
				best.split = k;
				best.common = left > right ? 2 : 1;
			}
		}
		best.size = size;
		if (need <= avail)
			break;
	}
	if (l->n_fits < FIT_CACHE)
		l->fits[l->n_fits++] = best;
	return best;
}

static void bring_block(struct jpkii_letters *l, double y, double bottom)
{
	y += heading_at(l, LEFT, y, WIDTH, 9.5, "手続きに必要なもの（更新手続き）") +
	     MM(2);
	struct bring_fit fit = bring_fit(l, bottom - y);
	const double xr = LEFT + BRING_COLW + BRING_GAP;
	/* At the smallest size it still might not fit (it does with today's
	 * lists): clip rather than run into the footer. */
	cairo_save(l->cr);
	cairo_rectangle(l->cr, LEFT - 1, y - 1, WIDTH + 2, bottom - y + 2);
	cairo_clip(l->cr);
	double yl = y, yr = y;
	for (size_t i = 0; i < N_APPLICANTS; i++) {
		if (i < fit.split)
			yl += bring_section(l, i, fit.size, LEFT, yl, true);
		else
			yr += bring_section(l, i, fit.size, xr, yr, true);
	}
	const struct font fc = {FONT_SANS, fit.size, false, LIST_SPACING};
	if (fit.common == 0)
		text_at(l, LEFT, yl > yr ? yl : yr, WIDTH, &fc, PANGO_ALIGN_LEFT,
			l->bring_common);
	else
		text_at(l, fit.common == 1 ? LEFT : xr, fit.common == 1 ? yl : yr,
			BRING_COLW, &fc, PANGO_ALIGN_LEFT, l->bring_common);
	cairo_restore(l->cr);
}

/* ---- the letter's parts ---- */

/* The address block for a window envelope (top left) and the date, notice
 * number and sender (top right). Returns where they end, at most MM(63). */
static double header(struct jpkii_letters *l, const struct jpkii_letter *x,
		     const struct facts *f)
{
	const double ax = MM(20), aw = MM(90);
	double y = MM(16);
	const struct font fa = {FONT_SANS, 10.5, false, LIST_SPACING};
	const struct font fn = {FONT_SANS, 14, false, LIST_SPACING};
	if (x->postal_code) {
		const struct font fp = {FONT_SANS, 10.5, false, 0};
		snprintf(l->tmp, sizeof l->tmp, "〒%s", x->postal_code);
		y += text_at(l, ax, y, aw, &fp, PANGO_ALIGN_LEFT, l->tmp) + MM(0.5);
	}
	y += text_fit_at(l, ax, y, aw, MM(21), &fa, 7, PANGO_ALIGN_LEFT, x->address) +
	     MM(2);
	y += text_fit_at(l, ax + MM(2), y, aw - MM(2), MM(16), &fn, 7.5,
			 PANGO_ALIGN_LEFT, l->name);
	double bottom = y;

	const double rx = MM(118), rw = RIGHT - rx;
	const struct font fs = {FONT_SANS, 8.5, false, 0};
	const struct font fd = {FONT_SANS, 10, false, 0};
	const struct font fm = {FONT_SANS, 11, false, 0};
	y = MM(16);
	y += text_at(l, rx, y, rw, &fs, PANGO_ALIGN_RIGHT, f->notice);
	y += text_at(l, rx, y, rw, &fd, PANGO_ALIGN_RIGHT, f->sent_on) + MM(1);
	y += text_fit_at(l, rx, y, rw, MM(12), &fm, 8, PANGO_ALIGN_RIGHT, f->sender);
	/* The blue envelope names the municipality as its sender (seed 004);
	 * we never present ourselves as J-LIS (README). */
	return bottom > y ? bottom : y;
}

static double title_at(struct jpkii_letters *l, double y, const char *text, double size)
{
	const struct font f = {FONT_SERIF, size, true, 0};
	double h = text_fit_at(l, LEFT, y, WIDTH, size * 1.6, &f, 10,
			       PANGO_ALIGN_CENTER, text);
	hline(l->cr, LEFT + MM(10), RIGHT - MM(10), y + h + MM(1), 0.8);
	return h + MM(1);
}

static double paragraph_at(struct jpkii_letters *l, double y, double size,
			   const char *text)
{
	const struct font f = {FONT_SANS, size, false, 0};
	return text_at(l, LEFT, y, WIDTH, &f, PANGO_ALIGN_LEFT, text);
}

/* Expiries and the renewal window at (x0, y), w wide; the rows this notice
 * is about in bold. Narrow: the short labels under a heading (the
 * municipal letter, beside the reservation box), rows at least min_h. */
static double expiry_table(struct jpkii_letters *l, const struct jpkii_letter *x,
			   const struct facts *f, double x0, double y, double w,
			   bool narrow, double min_h, double size)
{
	struct row rows[4];
	size_t n = 0;
	double top = y;
	if (narrow)
		y += heading_at(l, x0, y, w, 9, "有効期限と更新手続期間");
	rows[n++] =
	    (struct row){narrow ? "署名用電子証明書" : "署名用電子証明書の有効期限",
			 f->sign, x->sign_expires == x->expires && !x->card, min_h, 0};
	rows[n++] = (struct row){
	    narrow ? "利用者証明用電子証明書" : "利用者証明用電子証明書の有効期限",
	    f->auth, x->auth_expires == x->expires && !x->card, min_h, 0};
	if (x->card_expires != JPKI_DAY_NONE)
		rows[n++] = (struct row){narrow ? "マイナンバーカード"
						: "マイナンバーカードの有効期限",
					 f->card, x->card, min_h, 0};
	rows[n++] = (struct row){"更新手続期間", narrow ? f->window2 : f->window, true,
				 min_h, 0};
	y += table_at(l, x0, y, w, narrow ? MM(44) : MM(66), rows, n, size);
	return y - top;
}

#define RBOX_W	MM(68)
#define RBOX_QR MM(25)

/* The reservation ID, the QR code of the booking URL beside it, the
 * booking rules and the URL, in a box RBOX_W wide at the right. */
static double reservation_box(struct jpkii_letters *l, const struct facts *f,
			      const char *url, double y)
{
	const double pad = MM(2.5), x0 = RIGHT - RBOX_W;
	const double tx = x0 + pad, tw = RBOX_W - 2 * pad;
	const double nx = tx + RBOX_QR + MM(2), nw = tw - RBOX_QR - MM(2);
	const struct font fl = {FONT_SANS, 9, true, 0};
	const struct font fi = {FONT_MONO, 16, true, 0};
	const struct font fn = {FONT_SANS, 7.5, false, LIST_SPACING};
	const struct font fu = {FONT_SANS, 6.5, false, LIST_SPACING};
	double ty = y + pad;
	ty += text_at(l, tx, ty, tw, &fl, PANGO_ALIGN_LEFT,
		      "予約ID（窓口の予約に必要です）");
	ty += text_fit_at(l, tx + MM(1), ty, tw - MM(1), 16 * 1.5, &fi, 9,
			  PANGO_ALIGN_LEFT, f->rid) +
	      MM(1);
	qr_draw(l->cr, f->qr, tx, ty, RBOX_QR);
	text_fit_at(l, nx, ty + MM(1.5), nw, RBOX_QR - MM(3), &fn, 6, PANGO_ALIGN_LEFT,
		    f->booking);
	ty += RBOX_QR;
	ty += text_fit_at(l, tx, ty, tw, MM(6), &fu, 5.5, PANGO_ALIGN_LEFT, url);
	double h = ty - y + pad;
	cairo_set_line_width(l->cr, 1.2);
	cairo_rectangle(l->cr, x0, y, RBOX_W, h);
	cairo_stroke(l->cr);
	return h;
}

static double office_block(struct jpkii_letters *l, const struct jpkii_letter *x,
			   double y)
{
	struct row rows[4];
	size_t n = 0;
	double top = y;
	y += heading_at(l, LEFT, y, WIDTH, 9.5, "手続きの窓口と受付時間");
	rows[n++] = (struct row){"窓口", jpki_office_name(x->office), true, 0, 0};
	rows[n++] = (struct row){"受付時間", l->ot.hours, false, 0, 0};
	rows[n++] = (struct row){"更新手続期間中の休業日", l->ot.closed, false, 0, 0};
	if (l->ot.extra[0])
		rows[n++] = (struct row){"上記以外の受付日", l->ot.extra, false, 0, 0};
	y += table_at(l, LEFT, y, WIDTH, OFFICE_LABELW, rows, n, OFFICE_SIZE);
	return y - top;
}

/* clang-format off */
#define INTRO_CERT \
	"あなたのマイナンバーカードに搭載されている電子証明書の有効期限が近づいてい" \
	"ます。コンビニエンスストアでの証明書の交付やe-Tax（税の電子申告）などを引" \
	"き続きご利用になる場合は、下記の更新手続期間中に窓口で更新の手続きをしてく" \
	"ださい（手数料は無料です）。\n" \
	"更新しない場合も、マイナンバーカードはカードの有効期限まで顔写真付きの本人" \
	"確認書類としてお使いいただけます。有効期限を過ぎても、カードが有効な間は電" \
	"子証明書の発行を無料で受けられます。更新手続期間より前に手続きをすると、新" \
	"しい電子証明書の有効期間が短くなりますのでご注意ください。"
#define INTRO_CARD \
	"あなたのマイナンバーカードの有効期限が近づいています。カードの有効期限が過" \
	"ぎると、カードは本人確認書類として使えなくなり、搭載されている電子証明書も" \
	"失効して、コンビニエンスストアでの証明書の交付やe-Tax（税の電子申告）など" \
	"が利用できなくなります。電子証明書の手続きは、下記の更新手続期間中に窓口で" \
	"できます。手数料は無料です。\n" \
	"カードの更新（再作成）は、更新手続期間から申請できます。別にお届けする" \
	"「マイナンバーカード・電子証明書有効期限通知書」に同封の「マイナンバーカード交付申請書」により、スマートフォン、パソコン、" \
	"証明写真機または郵送で申請してください。新しいカードを受け取る際に現在のカ" \
	"ードを返却される場合、手数料は無料です。"

#define Q_INQUIRY \
	"代理人が電子証明書の更新の手続きをする場合に、ご本人の意思と暗証番号を確認" \
	"するため照会します。代理人に手続きを依頼される場合は、下の回答書欄と委任状" \
	"欄のすべての項目をご本人が記入してください。"
#define Q_ANSWER \
	"上記の照会について、次のとおり回答します。代理人による電子証明書の更新の申" \
	"請は、私の意思によるものです。"
#define Q_PROXY \
	"私は、次の者を代理人と定め、署名用電子証明書及び利用者証明用電子証明書の更" \
	"新の申請に関する権限を委任します。"
#define Q_NOTES \
	"・暗証番号を記入したら、照会書兼回答書封入用封筒に入れて封をし、代理人にお" \
	"渡しください。代理人の方は、封を開けずに窓口へお持ちください。\n" \
	"・記入されていない箇所がある場合は手続きできません。\n" \
	"・氏名は、ご本人が署名してください（記名の場合は押印してください）。\n" \
	"・署名用電子証明書の暗証番号は英数字6～16桁です。1マスに1文字ずつ、英字は" \
	"大文字で記入してください。\n" \
	"・暗証番号が照合できない場合は暗証番号の再設定が必要となり、文書照会による" \
	"再度の来庁が必要です。"

#define J_INTRO_CERT \
	"あなたのマイナンバーカードに搭載されている電子証明書の有効期限が近づいてい" \
	"ますので、お知らせします。"
#define J_INTRO_CARD \
	"あなたのマイナンバーカードの有効期限が近づいていますので、お知らせします。" \
	"カードの有効期限が過ぎると、カードは本人確認書類として使えなくなり、搭載さ" \
	"れている電子証明書も失効します。"
#define J_RENEW \
	"・お住まいの市区町村の窓口で更新の手続きをしてください（手数料は無料です）。\n" \
	"・更新手続期間は、有効期限の3か月前の翌日から有効期限までです。\n" \
	"・この通知書がなくても手続きはできます。\n" \
	"・代理人が手続きをする場合は、同封の照会書兼回答書にご本人が必要事項を記入" \
	"し、照会書兼回答書封入用封筒に入れて封をして、代理人にお渡しください。\n" \
	"・有効期限を過ぎた後でも、マイナンバーカードが有効な間は、電子証明書の発行" \
	"を無料で受けることができます。"
#define J_RENEW_CERT \
	"\n・更新の手続きをしない場合も、マイナンバーカードはカードの有効期限まで顔" \
	"写真付きの本人確認書類としてお使いいただけます。"
#define J_CARD \
	"マイナンバーカードの更新（再作成）には、同封のマイナンバーカード交付申請書" \
	"をご利用ください。カードの更新は、有効期限の3か月前の翌日から申請できます。" \
	"スマートフォン、パソコン、証明写真機または郵送で申請できます。パソコンで申" \
	"請する場合は、申請用WEBサイトで上記の申請書ID（23桁）を入力してください。" \
	"新しいカードを受け取る際に現在のカードを返却される場合、手数料は無料です。"
/* clang-format on */

static void municipal_front(struct jpkii_letters *l, const struct jpkii_letter *x,
			    const struct facts *f)
{
	double y = header(l, x, f) + MM(7);
	if (y < MM(50))
		y = MM(50);
	y += title_at(l, y,
		      x->card ? "マイナンバーカード・電子証明書 "
				"有効期限のお知らせ（予約ID通知書）"
			      : "マイナンバーカード電子証明書 "
				"有効期限のお知らせ（予約ID通知書）",
		      15) +
	     MM(3);
	y += paragraph_at(l, y, 8.8, x->card ? INTRO_CARD : INTRO_CERT) + MM(3);
	/* The reservation box first: the table's rows are stretched to
	 * match its height. */
	double hb = reservation_box(l, f, x->reserve_url, y);
	double tw = WIDTH - RBOX_W - MM(4);
	double rows_h = (hb - MM(7)) / (x->card_expires != JPKI_DAY_NONE ? 4.5 : 3.5);
	double ht = expiry_table(l, x, f, LEFT, y, tw, true, rows_h, 9.5);
	y += (hb > ht ? hb : ht) + MM(3);
	y += office_block(l, x, y) + MM(3);
	bring_block(l, y, BOTTOM - MM(5));
	const struct font ff = {FONT_SANS, 8, false, 0};
	text_at(l, LEFT, BOTTOM - MM(3.5), WIDTH, &ff, PANGO_ALIGN_RIGHT,
		"裏面は、代理人が手続きをする場合の「照会書兼回答書」です。");
}

/* A form field: a shaded label and room to write. */
#define FIELD_H MM(10.5)

static void municipal_back(struct jpkii_letters *l, const struct facts *f)
{
	const struct font fs = {FONT_SANS, 7.5, false, 0};
	const struct font fp = {FONT_SANS, 8.5, false, 0};
	const struct font fn = {FONT_SANS, 10.5, false, 0};
	const struct font fd = {FONT_SANS, 9, false, 0};
	const char *date = "令和　　　年　　　月　　　日";
	double y = MM(10);

	text_at(l, LEFT, y, WIDTH, &fs, PANGO_ALIGN_RIGHT, f->corner);
	y = MM(16);
	y += title_at(l, y, "署名用電子証明書・利用者証明用電子証明書 照会書兼回答書",
		      14) +
	     MM(4);

	/* 照会書: from the municipality head to the resident. */
	double top = y;
	y += heading_at(l, LEFT, y, WIDTH, 9.5, "照会書") + MM(2);
	double yr = y;
	yr += text_at(l, MM(118), yr, RIGHT - MM(118) - MM(3), &fd, PANGO_ALIGN_RIGHT,
		      f->sent_on);
	text_fit_at(l, MM(118), yr, RIGHT - MM(118) - MM(3), MM(10), &fd, 7,
		    PANGO_ALIGN_RIGHT, f->sender);
	y += text_fit_at(l, LEFT + MM(3), y, MM(92), MM(12), &fn, 7, PANGO_ALIGN_LEFT,
			 l->name) +
	     MM(3);
	if (y < yr + MM(8))
		y = yr + MM(8);
	y += text_at(l, LEFT + MM(3), y, WIDTH - MM(6), &fp, PANGO_ALIGN_LEFT,
		     Q_INQUIRY) +
	     MM(2);
	rect_stroke(l->cr, LEFT, top, WIDTH, y - top, 0.8);
	y += MM(4);

	/* 回答書欄 (seed 000). */
	top = y;
	y += heading_at(l, LEFT, y, WIDTH, 9.5, "回答書（ご本人が記入してください）") +
	     MM(2);
	y += text_at(l, LEFT + MM(3), y, WIDTH - MM(6), &fp, PANGO_ALIGN_LEFT,
		     Q_ANSWER) +
	     MM(2);
	const struct row answer[] = {
	    {"日付", date, false, FIELD_H, 0},
	    {"申請者の住所", NULL, false, FIELD_H + MM(2.5), 0},
	    {"申請者の氏名", NULL, false, FIELD_H + MM(2.5), 0},
	    {"署名用電子証明書の暗証番号\n（英数字6～16桁）", NULL, false, 0, 16},
	    {"利用者証明用電子証明書の暗証番号\n（数字4桁）", NULL, false, 0, 4},
	    {"住民基本台帳用暗証番号\n（数字4桁）", NULL, false, 0, 4},
	};
	y += table_at(l, LEFT + MM(3), y, WIDTH - MM(6), MM(55), answer,
		      sizeof answer / sizeof answer[0], 9) +
	     MM(3);
	rect_stroke(l->cr, LEFT, top, WIDTH, y - top, 0.8);
	y += MM(4);

	/* 委任状欄 (seed 000). */
	top = y;
	y += heading_at(l, LEFT, y, WIDTH, 9.5, "委任状（ご本人が記入してください）") +
	     MM(2);
	y +=
	    text_at(l, LEFT + MM(3), y, WIDTH - MM(6), &fp, PANGO_ALIGN_LEFT, Q_PROXY) +
	    MM(2);
	const struct row proxy[] = {
	    {"日付", date, false, FIELD_H, 0},
	    {"申請者（委任者）の住所", NULL, false, FIELD_H + MM(2.5), 0},
	    {"申請者（委任者）の氏名", NULL, false, FIELD_H + MM(2.5), 0},
	    {"代理人の住所", NULL, false, FIELD_H + MM(2.5), 0},
	    {"代理人の氏名", NULL, false, FIELD_H + MM(2.5), 0},
	    {"本人との関係", NULL, false, FIELD_H, 0},
	};
	y += table_at(l, LEFT + MM(3), y, WIDTH - MM(6), MM(55), proxy,
		      sizeof proxy / sizeof proxy[0], 9) +
	     MM(3);
	rect_stroke(l->cr, LEFT, top, WIDTH, y - top, 0.8);
	y += MM(4);

	const struct font fnote = {FONT_SANS, 8.5, false, LIST_SPACING};
	text_set(l, Q_NOTES, &fnote, WIDTH, PANGO_ALIGN_LEFT);
	pango_layout_set_indent(l->lay, (int)(-8.5 * PANGO_SCALE));
	text_show(l, LEFT, y);
}

static void jlis_page(struct jpkii_letters *l, const struct jpkii_letter *x,
		      const struct facts *f)
{
	const struct font fp = {FONT_SANS, 10.5, false, 0};
	double y = header(l, x, f) + MM(10);
	if (y < MM(60))
		y = MM(60);
	y += title_at(l, y, "マイナンバーカード・電子証明書有効期限通知書", 17) + MM(5);
	y += paragraph_at(l, y, 10.5, x->card ? J_INTRO_CARD : J_INTRO_CERT) + MM(4);
	y += expiry_table(l, x, f, LEFT, y, WIDTH, false, 0, 10.5) + MM(6);

	y += heading_at(l, LEFT, y, WIDTH, 10, "電子証明書の更新手続き") + MM(2);
	snprintf(l->tmp, sizeof l->tmp, "%s%s", J_RENEW, x->card ? "" : J_RENEW_CERT);
	text_set(l, l->tmp, &fp, WIDTH - MM(4), PANGO_ALIGN_LEFT);
	pango_layout_set_indent(l->lay, (int)(-10.5 * PANGO_SCALE));
	double h = layout_height(l->lay);
	text_show(l, LEFT + MM(2), y);
	y += h + MM(6);

	if (x->card) {
		const struct font fl = {FONT_SANS, 10, true, 0};
		const struct font fi = {FONT_MONO, 16, true, 0};
		double top = y;
		y += heading_at(l, LEFT, y, WIDTH, 10, "マイナンバーカード交付申請書") +
		     MM(3);
		double hl = text_at(l, LEFT + MM(4), y + MM(1.5), MM(30), &fl,
				    PANGO_ALIGN_LEFT, "申請書ID");
		double hi = text_fit_at(l, LEFT + MM(34), y, WIDTH - MM(38), 16 * 1.5,
					&fi, 10, PANGO_ALIGN_LEFT, f->appid);
		y += (hl > hi ? hl : hi) + MM(2);
		y += text_at(l, LEFT + MM(4), y, WIDTH - MM(8), &fp, PANGO_ALIGN_LEFT,
			     J_CARD) +
		     MM(3);
		rect_stroke(l->cr, LEFT, top, WIDTH, y - top, 0.8);
	}
}

/* ---- checking and formatting one letter ---- */

static jpki_err check_text(const char *what, const char *s, size_t max,
			   struct jpki_errbuf *eb)
{
	if (s == NULL || s[0] == '\0')
		return jpki_errf(eb, JPKI_ERR_INVALID, "letter: no %s", what);
	size_t n = strlen(s);
	if (n > max)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "letter: %s too long (%zu bytes, at most %zu)", what,
				 n, max);
	if (jpki_utf8_chars(s, n) < 0)
		return jpki_errf(eb, JPKI_ERR_INVALID, "letter: %s is not UTF-8", what);
	return JPKI_OK;
}

/* "NNN-NNNN" */
static bool postal_ok(const char *s)
{
	if (strlen(s) != 8 || s[3] != '-')
		return false;
	for (size_t i = 0; i < 8; i++)
		if (i != 3 && (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

static jpki_err expiry_text(jpki_day d, char buf[static DATE_SZ])
{
	if (d == JPKI_DAY_NONE) {
		snprintf(buf, DATE_SZ, "発行されていません");
		return JPKI_OK;
	}
	return fmt_date(d, true, buf);
}

static jpki_err prepare(struct jpkii_letters *l, const struct jpkii_letter *x,
			struct facts *f, struct jpki_errbuf *eb)
{
	jpki_err e;
	if ((e = check_text("name", x->name, NAME_MAX_BYTES, eb)) ||
	    (e = check_text("address", x->address, ADDRESS_MAX_BYTES, eb)) ||
	    (e = check_text("municipality name", x->municipality_name, MUNI_MAX_BYTES,
			    eb)) ||
	    (e = check_text("reservation URL", x->reserve_url, URL_MAX_BYTES, eb)))
		return e;
	if (x->postal_code && !postal_ok(x->postal_code))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "letter: postal code is not NNN-NNNN");
	if (!all_digits(x->reservation_id, RID_DIGITS))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "letter: the reservation ID must be %d digits",
				 RID_DIGITS);
	if (x->application_id && !all_digits(x->application_id, APPID_DIGITS))
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "letter: the application ID must be %d digits",
				 APPID_DIGITS);
	if (x->card && x->application_id == NULL && l->kind == JPKII_LETTER_JLIS)
		return jpki_errf(eb, JPKI_ERR_INVALID,
				 "letter: a card notice needs its application ID");
	if (x->office == NULL)
		return jpki_errf(eb, JPKI_ERR_INVALID, "letter: no office");
	if (x->window_first > x->window_last ||
	    x->window_last - x->window_first > WINDOW_MAX_DAYS)
		return jpki_errf(eb, JPKI_ERR_INVALID, "letter: bad renewal window");
	if ((e = fmt_date(x->sent_on, false, f->sent_on)) ||
	    (e = expiry_text(x->sign_expires, f->sign)) ||
	    (e = expiry_text(x->auth_expires, f->auth)) ||
	    (e = expiry_text(x->card_expires, f->card)) ||
	    (e = fmt_date(x->window_first, true, f->first)) ||
	    (e = fmt_date(x->window_last, true, f->last)))
		return jpki_errf(eb, e == JPKI_ERR_RANGE ? e : JPKI_ERR_INVALID,
				 "letter %" PRId64 ": a date is out of range",
				 x->notice_id);
	snprintf(f->window, sizeof f->window, "%s～%s", f->first, f->last);
	snprintf(f->window2, sizeof f->window2, "%s～\n%s", f->first, f->last);
	const char *r = x->reservation_id;
	snprintf(f->rid, sizeof f->rid, "%.4s %.4s %.4s %.4s", r, r + 4, r + 8, r + 12);
	if (x->application_id) {
		const char *a = x->application_id;
		snprintf(f->appid, sizeof f->appid, "%.4s %.4s %.4s %.4s %.4s %.3s", a,
			 a + 4, a + 8, a + 12, a + 16, a + 20);
	}
	snprintf(f->notice, sizeof f->notice, "通知番号 %" PRId64, x->notice_id);
	snprintf(f->corner, sizeof f->corner, "通知番号 %" PRId64 "　予約ID %s",
		 x->notice_id, f->rid);
	snprintf(f->sender, sizeof f->sender, "%s長", x->municipality_name);
	snprintf(l->name, sizeof l->name, "%s　様", x->name);

	struct jpki_booking_rules rules;
	struct sbuf b;
	jpki_office_booking_rules(x->office, &rules);
	sb_init(&b, f->booking, sizeof f->booking);
	sb_addf(&b, "予約サイトでご予約のうえ、お越しください。予約は更新手続期間の初日"
		    "から、来庁希望日の前日");
	fmt_clock(&b, rules.deadline_minute);
	sb_addf(&b, "まで受け付けます（%d日先まで予約できます）。", rules.horizon_days);
	if (b.overflow)
		return jpki_errf(eb, JPKI_ERR_INTERNAL,
				 "letter: booking text too long");

	if (l->kind == JPKII_LETTER_MUNICIPAL) {
		if ((e = office_text(l, x->office, x->window_first, x->window_last)) !=
		    JPKI_OK)
			return jpki_errf(eb, e,
					 "letter %" PRId64 ": office calendar: %s",
					 x->notice_id, jpki_strerror(e));
		errno = 0;
		f->qr =
		    QRcode_encodeString(x->reserve_url, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
		if (f->qr == NULL)
			return jpki_errf(
			    eb, errno == ENOMEM ? JPKI_ERR_NOMEM : JPKI_ERR_INVALID,
			    "letter %" PRId64 ": QR code: %s", x->notice_id,
			    errno ? strerror(errno) : "cannot encode");
	}
	return JPKI_OK;
}

/* ---- the object ---- */

static cairo_status_t write_out(void *closure, const unsigned char *data,
				unsigned int len)
{
	struct jpkii_letters *l = closure;
	if (fwrite(data, 1, len, l->fp) != len) {
		l->write_errno = errno ? errno : EIO;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

/* Whether the sans font resolves to one with Japanese glyphs: without
 * one, pango would draw empty boxes for every character. */
static jpki_err check_font(struct jpkii_letters *l, struct jpki_errbuf *eb)
{
	static const gunichar probe[] = {0x3042 /* あ */, 0x30A2 /* ア */,
					 0x6F22 /* 漢 */, 0x3012 /* 〒 */};
	jpki_err rc = JPKI_ERR_CONFIG;
	PangoCoverage *cov = NULL;
	PangoFontDescription *got = NULL;
	PangoFont *font = pango_context_load_font(l->ctx, l->fd);
	if (font == NULL) {
		rc = jpki_errf(eb, JPKI_ERR_CONFIG,
			       "no font for \"%s\": install fonts-noto-cjk", FONT_SANS);
		goto out;
	}
	cov = pango_font_get_coverage(font, pango_language_from_string("ja"));
	got = pango_font_describe(font);
	const char *family = pango_font_description_get_family(got);
	for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
		if (cov == NULL ||
		    pango_coverage_get(cov, (int)probe[i]) != PANGO_COVERAGE_EXACT) {
			rc = jpki_errf(
			    eb, JPKI_ERR_CONFIG,
			    "no Japanese font: \"%s\" resolves to \"%s\", "
			    "which has no CJK glyphs (install fonts-noto-cjk)",
			    FONT_SANS, family ? family : "(none)");
			goto out;
		}
	}
	rc = JPKI_OK;
out:
	if (got)
		pango_font_description_free(got);
	if (cov)
		pango_coverage_unref(cov);
	if (font)
		g_object_unref(font);
	return rc;
}

static void letters_free(struct jpkii_letters *l)
{
	if (l->lay)
		g_object_unref(l->lay);
	if (l->ctx)
		g_object_unref(l->ctx);
	if (l->fontmap)
		g_object_unref(l->fontmap);
	if (l->cr)
		cairo_destroy(l->cr);
	if (l->surface)
		cairo_surface_destroy(l->surface);
	if (l->fd)
		pango_font_description_free(l->fd);
	if (l->fp)
		fclose(l->fp);
	free(l);
}

jpki_err jpkii_letters_open(const char *path, enum jpkii_letter_kind kind,
			    struct jpkii_letters **out, struct jpki_errbuf *eb)
{
	jpki_err rc = JPKI_ERR_INVALID;
	struct jpkii_letters *l = NULL;
	int fd = -1;

	*out = NULL;
	if (path == NULL ||
	    (kind != JPKII_LETTER_MUNICIPAL && kind != JPKII_LETTER_JLIS))
		return jpki_errf(eb, JPKI_ERR_INVALID, "letters: bad arguments");
	if ((l = calloc(1, sizeof *l)) == NULL)
		return jpki_errf(eb, JPKI_ERR_NOMEM, "letters: out of memory");
	l->kind = kind;
	l->fontmap = pango_cairo_font_map_new();
	if (l->fontmap)
		l->ctx = pango_font_map_create_context(l->fontmap);
	l->fd = pango_font_description_new();
	if (l->ctx == NULL || l->fd == NULL) {
		rc = jpki_errf(eb, JPKI_ERR_NOMEM, "letters: out of memory");
		goto out;
	}
	pango_context_set_language(l->ctx, pango_language_from_string("ja-jp"));
	pango_font_description_set_family_static(l->fd, FONT_SANS);
	pango_font_description_set_absolute_size(l->fd, 10 * PANGO_SCALE);
	if ((rc = check_font(l, eb)) != JPKI_OK)
		goto out;
	if (kind == JPKII_LETTER_MUNICIPAL && (rc = bring_prepare(l, eb)) != JPKI_OK)
		goto out;

	/* Names and addresses: readable by the owner only. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = jpki_errf(eb, JPKI_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((l->fp = fdopen(fd, "wb")) == NULL) {
		rc = jpki_errf(eb, JPKI_ERR_IO, "%s: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	l->surface = cairo_pdf_surface_create_for_stream(write_out, l, PAGE_W, PAGE_H);
	l->cr = cairo_create(l->surface);
	if (cairo_status(l->cr) != CAIRO_STATUS_SUCCESS) {
		rc = jpki_errf(eb, JPKI_ERR_NOMEM, "letters: cairo: %s",
			       cairo_status_to_string(cairo_status(l->cr)));
		goto out;
	}
	cairo_pdf_surface_set_metadata(l->surface, CAIRO_PDF_METADATA_CREATOR,
				       "openjpki");
	cairo_pdf_surface_set_metadata(
	    l->surface, CAIRO_PDF_METADATA_TITLE,
	    kind == JPKII_LETTER_JLIS ? "マイナンバーカード・電子証明書有効期限通知書"
				      : "有効期限のお知らせ（予約ID通知書）");
	pango_cairo_update_context(l->cr, l->ctx);
	if ((l->lay = pango_layout_new(l->ctx)) == NULL) {
		rc = jpki_errf(eb, JPKI_ERR_NOMEM, "letters: out of memory");
		goto out;
	}
	pango_layout_set_wrap(l->lay, PANGO_WRAP_WORD_CHAR);
	*out = l;
	l = NULL;
	rc = JPKI_OK;
out:
	if (l)
		letters_free(l);
	return rc;
}

jpki_err jpkii_letters_add(struct jpkii_letters *l, const struct jpkii_letter *x,
			   struct jpki_errbuf *eb)
{
	struct facts f;
	jpki_err rc;
	if (l == NULL || x == NULL)
		return jpki_errf(eb, JPKI_ERR_INVALID, "letters: bad arguments");
	if (l->broken)
		return jpki_errf(eb, JPKI_ERR_IO, "letters: an earlier letter failed");
	memset(&f, 0, sizeof f);
	if ((rc = prepare(l, x, &f, eb)) != JPKI_OK)
		goto out;
	if (l->kind == JPKII_LETTER_MUNICIPAL) {
		municipal_front(l, x, &f);
		cairo_show_page(l->cr);
		municipal_back(l, &f);
		cairo_show_page(l->cr);
		l->pages += 2;
	} else {
		jlis_page(l, x, &f);
		cairo_show_page(l->cr);
		l->pages++;
	}
	cairo_status_t st = cairo_status(l->cr);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(l->surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		l->broken = true;
		rc = jpki_errf(eb,
			       st == CAIRO_STATUS_WRITE_ERROR ? JPKI_ERR_IO
							      : JPKI_ERR_INTERNAL,
			       "letters: %s%s%s", cairo_status_to_string(st),
			       l->write_errno ? ": " : "",
			       l->write_errno ? strerror(l->write_errno) : "");
		goto out;
	}
	rc = JPKI_OK;
out:
	if (f.qr)
		QRcode_free(f.qr);
	return rc;
}

size_t jpkii_letters_pages(const struct jpkii_letters *l)
{
	return l ? l->pages : 0;
}

jpki_err jpkii_letters_close(struct jpkii_letters *l, struct jpki_errbuf *eb)
{
	jpki_err rc = JPKI_OK;
	if (l == NULL)
		return JPKI_OK;
	cairo_surface_finish(l->surface);
	cairo_status_t st = cairo_surface_status(l->surface);
	if (st != CAIRO_STATUS_SUCCESS) {
		rc = jpki_errf(eb, JPKI_ERR_IO, "letters: %s%s%s",
			       cairo_status_to_string(st), l->write_errno ? ": " : "",
			       l->write_errno ? strerror(l->write_errno) : "");
		goto out;
	}
	if (fflush(l->fp) != 0 || fsync(fileno(l->fp)) != 0) {
		rc = jpki_errf(eb, JPKI_ERR_IO, "letters: %s", strerror(errno));
		goto out;
	}
	FILE *fp = l->fp;
	l->fp = NULL;
	if (fclose(fp) != 0)
		rc = jpki_errf(eb, JPKI_ERR_IO, "letters: %s", strerror(errno));
out:
	letters_free(l);
	return rc;
}
