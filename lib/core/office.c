/* Office calendars (DOMAIN §7; seeds 000, 001, 003, 004).
 *
 * The file format is INI, read with inih (Debian libinih-dev): it is the
 * plainest format a municipal clerk can edit, and inih is small and well
 * kept. The grammar is in docs/OFFICES.md; every key is checked here and an
 * unknown one is an error, so a typo never silently changes the calendar.
 */
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpki/holiday.h"
#include "jpki/office.h"
#include "jpki/utf8.h"
#include "internal.h"
#include "banned.h"

#define NAME_MAX_BYTES 160
#define NOTE_MAX_BYTES 160
#define RULES_MAX      16
#define DATED_MAX      4096
/* inih reads lines into a 200-byte buffer; longer lines would be split. */
#define LINE_MAX_BYTES 199

struct nth_rule {
	uint8_t wd;		 /* 0 = Sunday */
	uint8_t n;		 /* 1..5 */
	int8_t offset;		 /* days after the nth weekday, -6..6 */
	struct jpki_hours hours; /* for an hours override */
};

struct dated {
	jpki_day day;
	struct jpki_hours hours; /* openings */
	char *note;		 /* closures, may be NULL */
};

struct dated_list {
	struct dated *v;
	size_t n, cap;
};

struct jpki_office {
	char name[NAME_MAX_BYTES + 1];
	bool main;
	struct jpki_hours week[7];
	uint8_t week_set; /* bit wd: the day was given */
	uint8_t weeks[7]; /* bit n-1: the nth such day opens; 0x1f: all */
	uint8_t weeks_set;
	struct nth_rule over[RULES_MAX];
	size_t n_over;
	bool holiday_open_on_weekend;
	bool year_end;
	uint8_t ye_from_m, ye_from_d, ye_to_m, ye_to_d;
	struct nth_rule maint[RULES_MAX];
	size_t n_maint;
	struct dated_list closures, openings;
	int deadline_minute;
	int horizon_days;
	unsigned seen; /* single-valued keys already given */
};

enum seen_key {
	SEEN_NAME = 1u << 0,
	SEEN_KIND = 1u << 1,
	SEEN_HOLIDAYS = 1u << 2,
	SEEN_YEAR_END = 1u << 3,
	SEEN_MAINT = 1u << 4,
	SEEN_DEADLINE = 1u << 5,
	SEEN_HORIZON = 1u << 6,
	SEEN_SOURCE = 1u << 7,
};

static const char *const wd_names[7] = {"sun", "mon", "tue", "wed",
					"thu", "fri", "sat"};

const char *jpki_closed_reason_name(enum jpki_closed_reason r)
{
	switch (r) {
	case JPKI_REASON_NONE:
		return "open";
	case JPKI_REASON_WEEKEND:
		return "weekend";
	case JPKI_REASON_HOLIDAY:
		return "holiday";
	case JPKI_REASON_YEAR_END:
		return "year-end";
	case JPKI_REASON_MAINTENANCE:
		return "maintenance";
	case JPKI_REASON_CLOSURE:
		return "closure";
	default:
		return "unknown";
	}
}

/* ---- small parsers; each consumes from *p and fails without side effects ---- */

static void skip_spaces(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static int weekday_of(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (strncmp(s, wd_names[i], 3) == 0)
			return i;
	return -1;
}

/* "HH:MM" with HH 00..24 and 24 only as 24:00. */
static int parse_hhmm(const char **p)
{
	const char *s = *p;
	int h = jpkii_digits(s, 2);
	int m = (h >= 0 && s[2] == ':') ? jpkii_digits(s + 3, 2) : -1;
	if (m < 0 || m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*p = s + 5;
	return h * 60 + m;
}

/* "closed" or "HH:MM-HH:MM[, HH:MM-HH:MM]..." in ascending order. */
static bool parse_hours(const char *s, struct jpki_hours *h)
{
	memset(h, 0, sizeof *h);
	if (strcmp(s, "closed") == 0)
		return true;
	const char *p = s;
	for (;;) {
		if (h->n == JPKI_HOURS_MAX)
			return false;
		skip_spaces(&p);
		int o = parse_hhmm(&p);
		if (o < 0 || *p++ != '-')
			return false;
		int c = parse_hhmm(&p);
		if (c < 0 || c <= o)
			return false;
		if (h->n > 0 && o <= h->iv[h->n - 1].close)
			return false; /* overlapping, touching or out of order */
		h->iv[h->n].open = (uint16_t)o;
		h->iv[h->n].close = (uint16_t)c;
		h->n++;
		skip_spaces(&p);
		if (*p == '\0')
			return true;
		if (*p++ != ',')
			return false;
	}
}

/* "sat#3" or "sat#3+1" / "sun#1-1"; the offset is in days. */
static bool parse_nth(const char *s, struct nth_rule *r, bool allow_offset)
{
	int wd = weekday_of(s);
	if (wd < 0 || s[3] != '#' || s[4] < '1' || s[4] > '5')
		return false;
	memset(r, 0, sizeof *r);
	r->wd = (uint8_t)wd;
	r->n = (uint8_t)(s[4] - '0');
	if (s[5] == '\0')
		return true;
	if (!allow_offset || (s[5] != '+' && s[5] != '-') || s[6] < '0' || s[6] > '6' ||
	    s[7] != '\0')
		return false;
	r->offset = (int8_t)((s[6] - '0') * (s[5] == '-' ? -1 : 1));
	return true;
}

/* "2,4" -> bits 1 and 3. */
static bool parse_weeks(const char *s, uint8_t *mask)
{
	const char *p = s;
	*mask = 0;
	for (;;) {
		skip_spaces(&p);
		if (*p < '1' || *p > '5')
			return false;
		uint8_t bit = (uint8_t)(1u << (*p - '1'));
		if (*mask & bit)
			return false;
		*mask |= bit;
		p++;
		skip_spaces(&p);
		if (*p == '\0')
			return true;
		if (*p++ != ',')
			return false;
	}
}

static bool parse_mmdd(const char *s, uint8_t *m, uint8_t *d)
{
	int mm = jpkii_digits(s, 2);
	int dd = (mm >= 0 && s[2] == '-') ? jpkii_digits(s + 3, 2) : -1;
	/* 2000 is a leap year, so 02-29 is allowed. */
	if (dd < 1 || mm < 1 || mm > 12 || dd > jpki_days_in_month(2000, mm))
		return false;
	*m = (uint8_t)mm;
	*d = (uint8_t)dd;
	return true;
}

static bool utf8_valid(const char *s)
{
	return jpki_utf8_chars(s, strlen(s)) >= 0;
}

static bool dated_push(struct dated_list *l, const struct dated *d)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].day == d->day)
			return false;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct dated *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return false;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *d;
	return true;
}

static int cmp_dated(const void *a, const void *b)
{
	jpki_day x = ((const struct dated *)a)->day, y = ((const struct dated *)b)->day;
	return (x > y) - (x < y);
}

static const struct dated *dated_find(const struct dated_list *l, jpki_day d)
{
	struct dated key = {.day = d};
	if (l->n == 0)
		return NULL;
	return bsearch(&key, l->v, l->n, sizeof *l->v, cmp_dated);
}

/* ---- the INI handler ---- */

struct parse_ctx {
	struct jpki_office *o;
	struct jpki_errbuf *eb;
	bool failed;
	bool nomem;
};

/* Records the first error only; inih reports the line number of the first
 * failing line, which is the one this message describes. */
__attribute__((format(printf, 2, 3))) static int fail(struct parse_ctx *c,
						      const char *fmt, ...)
{
	if (!c->failed && c->eb) {
		va_list ap;
		va_start(ap, fmt);
		if (vsnprintf(c->eb->msg, sizeof c->eb->msg, fmt, ap) < 0)
			c->eb->msg[0] = '\0';
		va_end(ap);
	}
	c->failed = true;
	return 0;
}

static bool once(struct jpki_office *o, enum seen_key k)
{
	if (o->seen & k)
		return false;
	o->seen |= k;
	return true;
}

static int on_office(struct parse_ctx *c, const char *key, const char *val)
{
	struct jpki_office *o = c->o;
	if (strcmp(key, "name") == 0) {
		if (!once(o, SEEN_NAME))
			return fail(c, "[%s] %s given twice", "office", key);
		if (strlen(val) == 0 || strlen(val) > NAME_MAX_BYTES ||
		    !utf8_valid(val))
			return fail(c, "[%s] %s: empty, too long or not UTF-8",
				    "office", key);
		memcpy(o->name, val, strlen(val) + 1);
		return 1;
	}
	if (strcmp(key, "kind") == 0) {
		if (!once(o, SEEN_KIND))
			return fail(c, "[%s] %s given twice", "office", key);
		if (strcmp(val, "main") == 0)
			o->main = true;
		else if (strcmp(val, "branch") == 0)
			o->main = false;
		else
			return fail(c, "[office] kind: '%s' is not main or branch",
				    val);
		return 1;
	}
	if (strcmp(key, "source") == 0) {
		if (!once(o, SEEN_SOURCE) || !utf8_valid(val))
			return fail(c, "[%s] %s given twice or not UTF-8", "office",
				    key);
		return 1; /* documentation only */
	}
	return fail(c, "[%s] unknown key '%s'", "office", key);
}

static int on_hours(struct parse_ctx *c, const char *key, const char *val)
{
	struct jpki_office *o = c->o;
	struct jpki_hours h;
	int wd = weekday_of(key);

	if (strcmp(key, "weekdays") == 0) {
		if (!parse_hours(val, &h))
			return fail(c, "[hours] %s: bad hours '%s'", key, val);
		for (int d = 1; d <= 5; d++) {
			if (o->week_set & (1u << d))
				return fail(c, "[hours] %s: %s already given", key,
					    wd_names[d]);
			o->week[d] = h;
			o->week_set |= (uint8_t)(1u << d);
		}
		return 1;
	}
	if (wd >= 0 && key[3] == '\0') {
		if (o->week_set & (1u << wd))
			return fail(c, "[hours] %s given twice", key);
		if (!parse_hours(val, &h))
			return fail(c, "[hours] %s: bad hours '%s'", key, val);
		o->week[wd] = h;
		o->week_set |= (uint8_t)(1u << wd);
		return 1;
	}
	if (wd >= 0 && strcmp(key + 3, ".weeks") == 0) {
		uint8_t mask;
		if (o->weeks_set & (1u << wd))
			return fail(c, "[hours] %s given twice", key);
		if (!parse_weeks(val, &mask))
			return fail(c, "[hours] %s: '%s' is not a list of 1-5", key,
				    val);
		o->weeks[wd] = mask;
		o->weeks_set |= (uint8_t)(1u << wd);
		return 1;
	}
	struct nth_rule r;
	if (parse_nth(key, &r, false)) {
		for (size_t i = 0; i < o->n_over; i++)
			if (o->over[i].wd == r.wd && o->over[i].n == r.n)
				return fail(c, "[hours] %s given twice", key);
		if (o->n_over == RULES_MAX)
			return fail(c, "[hours] %s: too many rules", key);
		if (!parse_hours(val, &r.hours))
			return fail(c, "[hours] %s: bad hours '%s'", key, val);
		o->over[o->n_over++] = r;
		return 1;
	}
	return fail(c, "[hours] unknown key '%s'", key);
}

static int on_rules(struct parse_ctx *c, const char *key, const char *val)
{
	struct jpki_office *o = c->o;
	if (strcmp(key, "holidays") == 0) {
		if (!once(o, SEEN_HOLIDAYS))
			return fail(c, "[rules] %s given twice", key);
		if (strcmp(val, "closed") == 0)
			o->holiday_open_on_weekend = false;
		else if (strcmp(val, "open-on-weekend") == 0)
			o->holiday_open_on_weekend = true;
		else
			return fail(c,
				    "[rules] holidays: '%s' is not closed or "
				    "open-on-weekend",
				    val);
		return 1;
	}
	if (strcmp(key, "year-end") == 0) {
		if (!once(o, SEEN_YEAR_END))
			return fail(c, "[rules] %s given twice", key);
		if (strcmp(val, "none") == 0)
			return 1;
		if (strlen(val) != 12 || strncmp(val + 5, "..", 2) != 0 ||
		    !parse_mmdd(val, &o->ye_from_m, &o->ye_from_d) ||
		    !parse_mmdd(val + 7, &o->ye_to_m, &o->ye_to_d))
			return fail(c, "[rules] year-end: '%s' is not MM-DD..MM-DD",
				    val);
		o->year_end = true;
		return 1;
	}
	if (strcmp(key, "maintenance") == 0) {
		if (!once(o, SEEN_MAINT))
			return fail(c, "[rules] %s given twice", key);
		char buf[LINE_MAX_BYTES + 1];
		size_t len = strlen(val);
		if (len > LINE_MAX_BYTES)
			return fail(c, "[rules] %s: too long", key);
		memcpy(buf, val, len + 1);
		char *save = NULL;
		for (char *t = strtok_r(buf, ",", &save); t;
		     t = strtok_r(NULL, ",", &save)) {
			while (*t == ' ' || *t == '\t')
				t++;
			char *end = t + strlen(t);
			while (end > t && (end[-1] == ' ' || end[-1] == '\t'))
				*--end = '\0';
			if (o->n_maint == RULES_MAX ||
			    !parse_nth(t, &o->maint[o->n_maint], true))
				return fail(c,
					    "[rules] maintenance: '%s' is not "
					    "WDY#N[+D]",
					    t);
			o->n_maint++;
		}
		return 1;
	}
	if (strcmp(key, "booking-deadline") == 0) {
		const char *p = val;
		int m = parse_hhmm(&p);
		if (!once(o, SEEN_DEADLINE) || m < 0 || *p != '\0')
			return fail(c, "[rules] %s: '%s' is not HH:MM or given twice",
				    key, val);
		o->deadline_minute = m;
		return 1;
	}
	if (strcmp(key, "booking-horizon") == 0) {
		int n = -1;
		size_t len = strlen(val);
		if (len >= 1 && len <= 3)
			n = jpkii_digits(val, (int)len);
		if (!once(o, SEEN_HORIZON) || n < 1 || n > 366)
			return fail(c,
				    "[rules] %s: '%s' is not 1-366 days or given twice",
				    key, val);
		o->horizon_days = n;
		return 1;
	}
	return fail(c, "[rules] unknown key '%s'", key);
}

static int on_dated(struct parse_ctx *c, bool opening, const char *key, const char *val)
{
	struct dated d = {0};
	const char *sect = opening ? "openings" : "closures";
	if (jpki_date_parse(key, &d.day, NULL) != JPKI_OK)
		return fail(c, "[%s] '%s' is not a date YYYY-MM-DD", sect, key);
	struct dated_list *l = opening ? &c->o->openings : &c->o->closures;
	if (l->n == DATED_MAX)
		return fail(c, "[%s] too many dates (%s)", sect, key);
	if (opening) {
		if (!parse_hours(val, &d.hours) || d.hours.n == 0)
			return fail(c, "[openings] %s: bad hours '%s'", key, val);
	} else if (val[0] != '\0') {
		if (strlen(val) > NOTE_MAX_BYTES || !utf8_valid(val))
			return fail(c, "[closures] %s: note too long or not UTF-8",
				    key);
		d.note = strdup(val);
		if (d.note == NULL) {
			c->nomem = true;
			return fail(c, "out of memory");
		}
	}
	if (!dated_push(l, &d)) {
		free(d.note);
		return fail(c, "[%s] %s given twice (or out of memory)", sect, key);
	}
	return 1;
}

static int handler(void *user, const char *section, const char *key, const char *val)
{
	struct parse_ctx *c = user;
	if (c->failed)
		return 0;
	if (strcmp(section, "office") == 0)
		return on_office(c, key, val);
	if (strcmp(section, "hours") == 0)
		return on_hours(c, key, val);
	if (strcmp(section, "rules") == 0)
		return on_rules(c, key, val);
	if (strcmp(section, "closures") == 0)
		return on_dated(c, false, key, val);
	if (strcmp(section, "openings") == 0)
		return on_dated(c, true, key, val);
	if (section[0] == '\0')
		return fail(c, "'%s' outside a section", key);
	return fail(c, "unknown section [%s]", section); /* prescan caught it */
}

static void dated_release(struct dated_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].note);
	free(l->v);
	memset(l, 0, sizeof *l);
}

void jpki_office_free(struct jpki_office *o)
{
	if (o == NULL)
		return;
	dated_release(&o->closures);
	dated_release(&o->openings);
	free(o);
}

static const char *const sections[] = {"office", "hours", "rules", "closures",
				       "openings"};

/* A "[name]" header line (after leading blanks): true if it names one of
 * our sections. inih calls the handler for keys only, so this is where an
 * unknown or empty section gets its own line number. */
static bool known_section(const char *line, size_t len)
{
	const char *close = memchr(line, ']', len);
	if (close == NULL)
		return false;
	size_t n = (size_t)(close - line) - 1;
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		if (strlen(sections[i]) == n && memcmp(line + 1, sections[i], n) == 0)
			return true;
	return false;
}

/* Each line is blank, a comment, a known [section] or key = value. inih
 * would also take indented lines as continuations of the previous value
 * and "key: value"; refusing those here means every error inih could
 * report comes from our handler, so its line number is the right one. */
static jpki_err check_line(const char *l, size_t n, size_t line, struct jpki_errbuf *eb)
{
	if (n == 0 || *l == ';' || *l == '#')
		return JPKI_OK;
	if (*l == ' ' || *l == '\t') {
		while (n > 0 && (*l == ' ' || *l == '\t'))
			l++, n--;
		if (n == 0 || *l == ';' || *l == '#')
			return JPKI_OK; /* blank, or an indented comment */
		return jpki_errf(eb, JPKI_ERR_CONFIG,
				 "line %zu: starts with a blank "
				 "(continuation lines are not allowed)",
				 line);
	}
	if (*l == '[') {
		if (known_section(l, n))
			return JPKI_OK;
		return jpki_errf(eb, JPKI_ERR_CONFIG, "line %zu: unknown section %.*s",
				 line, (int)(n > 40 ? 40 : n), l);
	}
	const char *eq = memchr(l, '=', n), *colon = memchr(l, ':', n);
	if (eq == NULL || (colon != NULL && colon < eq) || eq == l)
		return jpki_errf(eb, JPKI_ERR_CONFIG,
				 "line %zu: not a section, key = value or comment",
				 line);
	return JPKI_OK;
}

/* inih stops at a NUL and splits long lines; refuse both up front with the
 * line number, so what we parse is exactly what the file says. */
static jpki_err prescan(const char *text, size_t len, struct jpki_errbuf *eb)
{
	size_t line = 1;
	for (size_t start = 0; start <= len;) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *l = text + start;
		size_t n = end - start;
		if (memchr(l, '\0', n) != NULL)
			return jpki_errf(eb, JPKI_ERR_CONFIG, "line %zu: NUL byte",
					 line);
		if (n > LINE_MAX_BYTES)
			return jpki_errf(eb, JPKI_ERR_CONFIG,
					 "line %zu: longer than %d bytes", line,
					 LINE_MAX_BYTES);
		if (line == 1 && n >= 3 && memcmp(l, "\xef\xbb\xbf", 3) == 0)
			l += 3, n -= 3; /* a UTF-8 byte order mark */
		while (n > 0 &&
		       (l[n - 1] == '\r' || l[n - 1] == ' ' || l[n - 1] == '\t'))
			n--;
		jpki_err e = check_line(l, n, line, eb);
		if (e != JPKI_OK)
			return e;
		if (nl == NULL)
			break;
		start = end + 1;
		line++;
	}
	return JPKI_OK;
}

static bool ever_opens(const struct jpki_office *o)
{
	for (int wd = 0; wd < 7; wd++)
		if (o->week[wd].n > 0)
			return true;
	for (size_t i = 0; i < o->n_over; i++)
		if (o->over[i].hours.n > 0)
			return true;
	return o->openings.n > 0;
}

jpki_err jpki_office_parse(const char *text, size_t len, struct jpki_office **out,
			   struct jpki_errbuf *eb)
{
	jpki_err rc = JPKI_ERR_CONFIG;
	char *copy = NULL;
	struct jpki_office *o = NULL;
	struct jpki_errbuf local = {{0}};

	*out = NULL;
	if ((rc = prescan(text, len, eb)) != JPKI_OK)
		goto out;
	rc = JPKI_ERR_NOMEM;
	if ((copy = malloc(len + 1)) == NULL || (o = calloc(1, sizeof *o)) == NULL)
		goto out;
	memcpy(copy, text, len);
	copy[len] = '\0';
	o->main = true;
	o->deadline_minute = 17 * 60; /* seed 004: 来庁希望日前日の午後5時まで */
	o->horizon_days = 40;	      /* seed 004: 40日後まで */
	for (int i = 0; i < 7; i++)
		o->weeks[i] = 0x1f;

	struct parse_ctx c = {.o = o, .eb = &local};
	int line = ini_parse_string(copy, handler, &c);
	if (c.nomem) {
		rc = jpki_errf(eb, JPKI_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = JPKI_ERR_CONFIG;
	if (line != 0) {
		if (c.failed)
			jpki_errf(eb, rc, "line %d: %s", line, local.msg);
		else
			jpki_errf(eb, rc,
				  "line %d: not a section, key = value "
				  "or comment",
				  line);
		goto out;
	}
	if (!(o->seen & SEEN_NAME)) {
		jpki_errf(eb, rc, "[office] name is required");
		goto out;
	}
	for (int wd = 0; wd < 7; wd++) {
		if ((o->weeks_set & (1u << wd)) && o->week[wd].n == 0) {
			jpki_errf(eb, rc, "[hours] %s.weeks given for a closed day",
				  wd_names[wd]);
			goto out;
		}
	}
	if (!ever_opens(o)) {
		jpki_errf(eb, rc, "the office never opens: give [hours] or [openings]");
		goto out;
	}
	/* qsort's base must not be NULL, even for zero elements. */
	if (o->closures.n > 0)
		qsort(o->closures.v, o->closures.n, sizeof *o->closures.v, cmp_dated);
	if (o->openings.n > 0)
		qsort(o->openings.v, o->openings.n, sizeof *o->openings.v, cmp_dated);
	*out = o;
	o = NULL;
	rc = JPKI_OK;
out:
	jpki_office_free(o);
	free(copy);
	return rc;
}

const char *jpki_office_name(const struct jpki_office *o)
{
	return o->name;
}

bool jpki_office_is_main(const struct jpki_office *o)
{
	return o->main;
}

void jpki_office_booking_rules(const struct jpki_office *o,
			       struct jpki_booking_rules *out)
{
	out->deadline_minute = o->deadline_minute;
	out->horizon_days = o->horizon_days;
}

/* ---- deciding a day ---- */

static bool in_year_end(const struct jpki_office *o, int m, int d)
{
	int x = m * 100 + d;
	int from = o->ye_from_m * 100 + o->ye_from_d;
	int to = o->ye_to_m * 100 + o->ye_to_d;
	if (!o->year_end)
		return false;
	if (from <= to)
		return x >= from && x <= to;
	return x >= from || x <= to; /* wraps over New Year: 12-29..01-03 */
}

/* Whether day d is the nth weekday of some month plus the rule's offset.
 * With an offset the base day can lie in the neighbouring month. */
static bool nth_rule_hits(const struct nth_rule *r, jpki_day d, int y, int m)
{
	for (int k = -1; k <= 1; k++) {
		int mm = m + k, yy = y;
		if (mm == 0)
			mm = 12, yy--;
		else if (mm == 13)
			mm = 1, yy++;
		jpki_day base = jpki_nth_weekday(yy, mm, r->wd, r->n);
		if (base != JPKI_DAY_NONE && base + r->offset == d)
			return true;
	}
	return false;
}

/* The weekly schedule alone (step 6). */
static void weekly(const struct jpki_office *o, jpki_day d, int dom,
		   struct jpki_office_day *out)
{
	int wd = jpki_weekday(d);
	int nth = (dom - 1) / 7 + 1;
	for (size_t i = 0; i < o->n_over; i++) {
		if (o->over[i].wd == wd && o->over[i].n == nth) {
			out->hours = o->over[i].hours;
			goto decided;
		}
	}
	if (o->weeks[wd] & (1u << (nth - 1)))
		out->hours = o->week[wd];
decided:
	out->open = out->hours.n > 0;
	out->reason = out->open ? JPKI_REASON_NONE : JPKI_REASON_WEEKEND;
}

jpki_err jpki_office_day(const struct jpki_office *o, jpki_day d,
			 struct jpki_office_day *out)
{
	struct jpki_holiday hol;
	const struct dated *x;
	int y, m, dom;

	memset(out, 0, sizeof *out);
	jpki_err e = jpki_holiday_on(d, &hol);
	if (e != JPKI_OK)
		return e;
	jpki_day_to_ymd(d, &y, &m, &dom);
	out->detail = hol.name;

	if ((x = dated_find(&o->openings, d)) != NULL) {
		out->open = true;
		out->hours = x->hours;
		return JPKI_OK;
	}
	if ((x = dated_find(&o->closures, d)) != NULL) {
		out->reason = JPKI_REASON_CLOSURE;
		out->detail = x->note;
		return JPKI_OK;
	}
	if (in_year_end(o, m, dom)) {
		out->reason = JPKI_REASON_YEAR_END;
		return JPKI_OK;
	}
	for (size_t i = 0; i < o->n_maint; i++) {
		if (nth_rule_hits(&o->maint[i], d, y, m)) {
			out->reason = JPKI_REASON_MAINTENANCE;
			return JPKI_OK;
		}
	}
	weekly(o, d, dom, out);
	if (hol.name != NULL) {
		int wd = jpki_weekday(d);
		/* Seeds 003 and 004: open when a holiday falls on an opening
		 * Saturday (or Sunday); 振替休日 are weekdays, so closed. */
		bool weekend = wd == 0 || wd == 6;
		if (!(o->holiday_open_on_weekend && weekend && out->open)) {
			memset(&out->hours, 0, sizeof out->hours);
			out->open = false;
			out->reason = JPKI_REASON_HOLIDAY;
		}
	}
	return JPKI_OK;
}

/* The first open day from `from` stepping by `step` (+1 or -1). */
static jpki_err scan_open(const struct jpki_office *o, jpki_day from, int step,
			  int limit, jpki_day *out)
{
	struct jpki_office_day od;
	for (int i = 0; i < limit; i++) {
		jpki_day d = from + step * i;
		jpki_err e = jpki_office_day(o, d, &od);
		if (e != JPKI_OK)
			return e;
		if (od.open) {
			*out = d;
			return JPKI_OK;
		}
	}
	return JPKI_ERR_NOTFOUND;
}

jpki_err jpki_office_next_open(const struct jpki_office *o, jpki_day from, int limit,
			       jpki_day *out)
{
	return scan_open(o, from, +1, limit, out);
}

jpki_err jpki_office_prev_open(const struct jpki_office *o, jpki_day from, int limit,
			       jpki_day *out)
{
	return scan_open(o, from, -1, limit, out);
}

jpki_err jpki_office_open_days(const struct jpki_office *o, jpki_day from, jpki_day to,
			       jpki_day *out, size_t cap, size_t *count)
{
	struct jpki_office_day od;
	size_t n = 0;
	for (jpki_day d = from; d <= to; d++) {
		jpki_err e = jpki_office_day(o, d, &od);
		if (e != JPKI_OK)
			return e;
		if (!od.open)
			continue;
		if (n < cap)
			out[n] = d;
		n++;
	}
	*count = n;
	return JPKI_OK;
}
