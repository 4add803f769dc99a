/* The letters as PDF (lib/notice/letter.h; DOMAIN §6-7, seeds 000, 002,
 * 004), checked with independent tools: poppler's pdfinfo, pdffonts,
 * pdftotext and pdftoppm, and zbar's zbarimg for the QR code.
 *
 * The 和暦 dates and weekdays expected below were worked out by hand from
 * the dates the letters are given (2027-01-01 is a Friday, 2026-01-01 a
 * Thursday; 春分の日 2027 is Sunday 3/21, so 3/22 is a 振替休日); the code
 * under test is never asked to produce them.
 *
 * Run with JPKI_LETTER_BENCH=N to time N municipal letters (not a test). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "jpki/office.h"
#include "notice/letter.h"
#include "banned.h"

static char dir[64];
static struct jpki_office *toshima, *yokohama;
static const char *self_exe;

static jpki_day D(const char *s)
{
	jpki_day d;
	assert_int_equal(jpki_date_parse(s, &d, NULL), JPKI_OK);
	return d;
}

static struct jpki_office *load(const char *file)
{
	const char *offices = getenv("JPKI_OFFICES");
	char path[512];
	static char buf[65536];
	struct jpki_office *o = NULL;
	struct jpki_errbuf eb = {{0}};
	assert_non_null(offices);
	assert_true(snprintf(path, sizeof path, "%s/%s", offices, file) <
		    (int)sizeof path);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (jpki_office_parse(buf, n, &o, &eb) != JPKI_OK)
		fail_msg("%s: %s", file, eb.msg);
	return o;
}

/* Runs a shell command; returns its exit status and its output in *out
 * (malloc'd, NUL-terminated). */
static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && n < (int)sizeof cmd);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t k = fread(buf + len, 1, cap - len - 1, p);
		if (k == 0)
			break;
		len += k;
	}
	buf[len] = '\0';
	int st = pclose(p);
	if (out)
		*out = buf;
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Removes ASCII white space, form feeds and U+3000 (pdftotext puts
 * breaks and spaces between the cells and lines of CJK text). */
static char *squeeze(const char *s)
{
	char *o = malloc(strlen(s) + 1);
	assert_non_null(o);
	size_t k = 0;
	while (*s) {
		if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r' || *s == '\f') {
			s++;
		} else if ((unsigned char)s[0] == 0xE3 && (unsigned char)s[1] == 0x80 &&
			   (unsigned char)s[2] == 0x80) {
			s += 3;
		} else {
			o[k++] = *s++;
		}
	}
	o[k] = '\0';
	return o;
}

/* The text of pages [first, last], raw (content-stream order). */
static char *pdf_text(const char *pdf, int first, int last)
{
	char *out = NULL;
	assert_int_equal(run(&out, "pdftotext -raw -enc UTF-8 -f %d -l %d '%s' - 2>&1",
			     first, last, pdf),
			 0);
	return out;
}

static void expect_in(const char *text, const char *needle, bool present)
{
	char *t = squeeze(text), *n = squeeze(needle);
	if ((strstr(t, n) != NULL) != present)
		fail_msg("expected %s\"%s\" in:\n%s", present ? "" : "no ", needle,
			 text);
	free(t);
	free(n);
}

/* Where spacing matters (the IDs as printed): a plain search. */
static void expect_exact(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL)
		fail_msg("expected \"%s\" exactly in:\n%s", needle, text);
}

static int pdf_pages(const char *pdf)
{
	char *out = NULL;
	assert_int_equal(run(&out, "pdfinfo '%s' 2>&1", pdf), 0);
	const char *p = strstr(out, "\nPages:");
	assert_non_null(p);
	int n = (int)strtol(p + 7, NULL, 10);
	free(out);
	return n;
}

/* Every row of pdffonts says "yes" in its "emb" column. */
static void expect_fonts_embedded(const char *pdf)
{
	char *out = NULL;
	assert_int_equal(run(&out, "pdffonts '%s' 2>&1", pdf), 0);
	const char *emb = strstr(out, " emb ");
	assert_non_null(emb);
	size_t col = (size_t)(emb + 1 - out);
	const char *line = strchr(out, '\n'); /* the ---- line */
	assert_non_null(line);
	line = strchr(line + 1, '\n');
	assert_non_null(line);
	int rows = 0;
	for (line++; *line; rows++) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (len < col + 3 || strncmp(line + col, "yes", 3) != 0)
			fail_msg("font not embedded: %.*s", (int)len, line);
		if (!end)
			break;
		line = end + 1;
	}
	assert_true(rows >= 2); /* sans and mono at least */
	free(out);
}

struct box {
	double x0, y0, x1, y1;
	char text[64];
};

/* No two words of a page overlap and all lie inside the page with an 8 mm
 * margin, by the word boxes pdftotext -bbox reports (an independent
 * check that nothing was drawn over anything). The boxes span the font's
 * full line height, so each is first shrunk by 12% of it at top and
 * bottom: list lines are set at 1.3 em with a 1.45 em font box. */
static void expect_no_overlap(const char *pdf, int page)
{
	static struct box b[4096];
	const double margin = 8 * 72 / 25.4, w = 595.276, h = 841.89;
	char *out = NULL;
	size_t n = 0;
	assert_int_equal(
	    run(&out, "pdftotext -bbox -f %d -l %d '%s' - 2>&1", page, page, pdf), 0);
	for (const char *p = strstr(out, "<word "); p; p = strstr(p + 1, "<word ")) {
		struct box *c = &b[n];
		assert_true(n < sizeof b / sizeof b[0]);
		assert_int_equal(sscanf(p,
					"<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" "
					"yMax=\"%lf\">%63[^<]",
					&c->x0, &c->y0, &c->x1, &c->y1, c->text),
				 5);
		double shrink = (c->y1 - c->y0) * 0.12;
		c->y0 += shrink;
		c->y1 -= shrink;
		c->x0 += 0.3;
		c->x1 -= 0.3;
		if (c->x0 < margin || c->x1 > w - margin || c->y0 < margin ||
		    c->y1 > h - margin)
			fail_msg("page %d: \"%s\" outside the margins", page, c->text);
		n++;
	}
	assert_true(n > 20);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (b[i].x0 < b[j].x1 && b[j].x0 < b[i].x1 &&
			    b[i].y0 < b[j].y1 && b[j].y0 < b[i].y1)
				fail_msg("page %d: \"%s\" overlaps \"%s\"", page,
					 b[i].text, b[j].text);
	free(out);
}

/* clang-format off */
#define LONG_NAME                                                              \
	"寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末食う寝る処に住む処" \
	"藪ら柑子の藪柑子パイポパイポパイポのシューリンガンシューリンガンのグーリン" \
	"ダイグーリンダイのポンポコピーのポンポコナーの長久命の長助寿限無寿限"
#define LONG_ADDR                                                              \
	"北海道札幌市中央区北一条西二丁目一番地一号札幌市役所本庁舎第一別館三階東側" \
	"通路突き当たり右手奥の倉庫の隣の小部屋の前の廊下の先の階段を上がって左手" \
	"二番目の扉の向こうにある会議室の窓際の席の隣の机の引き出しの中にある小箱の" \
	"底に貼られた封筒の中の手紙に書かれた住所である北海道札幌市中央区北一条西二" \
	"丁目一番地一号札幌市役所本庁舎第一別館三階東側通路突き当たり右手奥の倉庫の" \
	"隣の小部屋の前の廊下の先の階段上"
/* clang-format on */

static struct jpkii_letter letter_cert(void)
{
	struct jpkii_letter x = {0};
	x.notice_id = 101;
	x.card = false;
	x.name = "山田 太郎";
	x.postal_code = "170-8422";
	x.address = "東京都豊島区南池袋二丁目45番1号";
	x.municipality_name = "東京都豊島区";
	x.sent_on = D("2027-01-15");
	x.sign_expires = D("2027-04-25");
	x.auth_expires = D("2027-04-25");
	x.card_expires = D("2031-08-10");
	x.expires = D("2027-04-25");
	x.window_first = D("2027-01-26");
	x.window_last = D("2027-04-25");
	x.reservation_id = "1234567890123456";
	x.reserve_url = "https://reserve.example.jp/reserve?id=1234567890123456";
	x.application_id = NULL;
	x.office = toshima;
	return x;
}

static struct jpkii_letter letter_card(void)
{
	struct jpkii_letter x = {0};
	x.notice_id = 102;
	x.card = true;
	x.name = "佐藤 花子";
	x.postal_code = NULL;
	x.address = "神奈川県横浜市中区港町一丁目1番地";
	x.municipality_name = "神奈川県横浜市中区";
	x.sent_on = D("2026-11-02");
	x.sign_expires = JPKI_DAY_NONE;
	x.auth_expires = D("2027-02-14");
	x.card_expires = D("2027-02-14");
	x.expires = D("2027-02-14");
	x.window_first = D("2026-11-15");
	x.window_last = D("2027-02-14");
	x.reservation_id = "9876543210987654";
	x.reserve_url = "https://reserve.example.jp/reserve?id=9876543210987654";
	x.application_id = "12345678901234567890123";
	x.office = yokohama;
	return x;
}

static struct jpkii_letter letter_long(void)
{
	struct jpkii_letter x = letter_cert();
	x.notice_id = 103;
	x.name = LONG_NAME;
	x.postal_code = "060-8611";
	x.address = LONG_ADDR;
	x.reservation_id = "5555666677778888";
	x.reserve_url = "https://reserve.example.jp/reserve?id=5555666677778888";
	return x;
}

static void add_ok(struct jpkii_letters *l, const struct jpkii_letter *x)
{
	struct jpki_errbuf eb = {{0}};
	if (jpkii_letters_add(l, x, &eb) != JPKI_OK)
		fail_msg("add: %s", eb.msg);
}

static void render(const char *pdf, enum jpkii_letter_kind kind)
{
	struct jpkii_letters *l = NULL;
	struct jpki_errbuf eb = {{0}};
	if (jpkii_letters_open(pdf, kind, &l, &eb) != JPKI_OK)
		fail_msg("open: %s", eb.msg);
	struct jpkii_letter a = letter_cert(), b = letter_card(), c = letter_long();
	add_ok(l, &a);
	add_ok(l, &b);
	add_ok(l, &c);
	assert_int_equal(jpkii_letters_pages(l),
			 kind == JPKII_LETTER_MUNICIPAL ? 6 : 3);
	assert_int_equal(jpkii_letters_close(l, &eb), JPKI_OK);
}

static void test_municipal(void **state)
{
	(void)state;
	char pdf[128], *t;
	snprintf(pdf, sizeof pdf, "%s/municipal.pdf", dir);
	render(pdf, JPKII_LETTER_MUNICIPAL);
	assert_int_equal(pdf_pages(pdf), 6);
	expect_fonts_embedded(pdf);

	/* Letter 1: a certificate notice, Toshima. */
	t = pdf_text(pdf, 1, 1);
	expect_in(t, "〒170-8422", true);
	expect_in(t, "東京都豊島区南池袋二丁目45番1号", true);
	expect_in(t, "山田 太郎 様", true);
	expect_in(t, "東京都豊島区長", true);
	expect_in(t, "通知番号 101", true);
	expect_in(t, "令和9年1月15日", true);
	expect_in(t, "マイナンバーカード電子証明書 有効期限のお知らせ（予約ID通知書）",
		  true);
	expect_in(t, "令和9年1月26日（火）～令和9年4月25日（日）", true);
	expect_in(t, "令和13年8月10日（日）", true); /* the card */
	expect_exact(t, "1234 5678 9012 3456");
	expect_in(t, "月～金 9:00～16:00", true);
	expect_in(t, "土・日 9:00～15:00", true);
	/* Holidays, the 3rd-Saturday maintenance with its Sunday, 振替休日. */
	expect_in(t,
		  "2月11日（木）、2月20日（土）・21日（日）、2月23日（火）、"
		  "3月20日（土）～22日（月）、4月17日（土）・18日（日）",
		  true);
	expect_in(t, "ご本人が来庁する場合", true);
	expect_in(t, "成年後見人が来庁する場合", true);
	expect_in(t, "登記事項証明書", true);
	free(t);
	t = pdf_text(pdf, 2, 2);
	expect_in(t, "照会書兼回答書", true);
	expect_in(t, "住民基本台帳用暗証番号", true);
	expect_in(t, "本人との関係", true);
	expect_in(t, "山田 太郎 様", true);
	expect_exact(t, "1234 5678 9012 3456");
	free(t);

	/* Letter 2: a card notice, Yokohama, no postal code. */
	t = pdf_text(pdf, 3, 3);
	expect_in(t, "〒", false);
	expect_in(t, "佐藤 花子 様", true);
	expect_in(t,
		  "マイナンバーカード・電子証明書 有効期限のお知らせ（予約ID通知書）",
		  true);
	expect_in(t, "令和8年11月15日（日）～令和9年2月14日（日）", true);
	expect_in(t, "発行されていません", true); /* no signing certificate */
	expect_in(t, "交付申請書", true);
	expect_exact(t, "9876 5432 1098 7654");
	expect_in(t, "月～金 8:45～17:00", true);
	expect_in(t, "第2・第4土曜 9:00～12:00", true);
	/* Sunday holidays are no news; the year-end closure reads whole. */
	expect_in(t,
		  "11月23日（月）、12月29日（火）～1月3日（日）、1月11日（月）、2月11日"
		  "（木）",
		  true);
	free(t);
	t = pdf_text(pdf, 4, 4);
	expect_in(t, "照会書兼回答書", true);
	free(t);

	/* Letter 3: a 100-character name and a 200-character address. */
	t = pdf_text(pdf, 5, 5);
	expect_in(t, LONG_NAME, true);
	expect_in(t, LONG_ADDR, true);
	expect_in(t, "…", false); /* nothing cut */
	free(t);

	for (int page = 1; page <= 6; page++)
		expect_no_overlap(pdf, page);

	char *out = NULL;
	assert_int_equal(
	    run(&out, "pdftoppm -r 50 -png -f 1 -l 1 '%s' '%s/low' 2>&1", pdf, dir), 0);
	free(out);
	/* The QR code decodes to the URL, and only to it. */
	assert_int_equal(run(NULL,
			     "pdftoppm -r 150 -png -f 1 -l 1 -singlefile '%s' '%s/qr'",
			     pdf, dir),
			 0);
	assert_int_equal(run(&out, "zbarimg -q --raw '%s/qr.png' 2>/dev/null", dir), 0);
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	assert_string_equal(out,
			    "https://reserve.example.jp/reserve?id=1234567890123456");
	free(out);
}

static void test_jlis(void **state)
{
	(void)state;
	char pdf[128], *t;
	snprintf(pdf, sizeof pdf, "%s/jlis.pdf", dir);
	render(pdf, JPKII_LETTER_JLIS);
	assert_int_equal(pdf_pages(pdf), 3);
	expect_fonts_embedded(pdf);

	t = pdf_text(pdf, 1, 1);
	expect_in(t, "マイナンバーカード・電子証明書有効期限通知書", true);
	expect_in(t, "〒170-8422", true);
	expect_in(t, "山田 太郎 様", true);
	/* The municipality is the sender; we never present ourselves as J-LIS. */
	expect_in(t, "東京都豊島区長", true);
	expect_in(t, "地方公共団体情報システム機構", false);
	expect_in(t, "令和9年1月26日（火）～令和9年4月25日（日）", true);
	expect_in(
	    t,
	    "お住まいの市区町村の窓口で更新の手続きをしてください（手数料は無料です）",
	    true);
	expect_in(t, "この通知書がなくても手続きはできます", true);
	expect_in(t, "申請書ID", false);
	free(t);

	t = pdf_text(pdf, 2, 2);
	expect_in(t, "〒", false);
	expect_in(t, "佐藤 花子 様", true);
	expect_in(t, "令和8年11月15日（日）～令和9年2月14日（日）", true);
	expect_in(t, "マイナンバーカード交付申請書", true);
	expect_in(t, "申請書ID", true);
	expect_exact(t, "1234 5678 9012 3456 7890 123");
	free(t);

	t = pdf_text(pdf, 3, 3);
	expect_in(t, LONG_NAME, true);
	expect_in(t, LONG_ADDR, true);
	free(t);

	for (int page = 1; page <= 3; page++)
		expect_no_overlap(pdf, page);

	char *out = NULL;
	assert_int_equal(
	    run(&out, "pdftoppm -r 50 -png -f 1 -l 1 '%s' '%s/jlow' 2>&1", pdf, dir),
	    0);
	free(out);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct jpkii_letters *l = (struct jpkii_letters *)&l; /* not NULL */
	struct jpki_errbuf eb = {{0}};
	char pdf[160];

	/* A directory that does not exist. */
	snprintf(pdf, sizeof pdf, "%s/no/such/dir/x.pdf", dir);
	assert_int_equal(jpkii_letters_open(pdf, JPKII_LETTER_MUNICIPAL, &l, &eb),
			 JPKI_ERR_IO);
	assert_null(l);
	assert_non_null(strstr(eb.msg, "No such file"));
	assert_int_equal(jpkii_letters_close(NULL, NULL), JPKI_OK);

	/* Bad letters are refused before anything is drawn. */
	snprintf(pdf, sizeof pdf, "%s/bad.pdf", dir);
	assert_int_equal(jpkii_letters_open(pdf, JPKII_LETTER_JLIS, &l, &eb), JPKI_OK);
	struct jpkii_letter x = letter_cert();
	x.reservation_id = "123456789012345"; /* 15 digits */
	assert_int_equal(jpkii_letters_add(l, &x, &eb), JPKI_ERR_INVALID);
	x = letter_cert();
	x.postal_code = "1708422";
	assert_int_equal(jpkii_letters_add(l, &x, &eb), JPKI_ERR_INVALID);
	x = letter_cert();
	x.name = "\xff\xfe";
	assert_int_equal(jpkii_letters_add(l, &x, &eb), JPKI_ERR_INVALID);
	x = letter_card();
	x.application_id = NULL; /* a card notice needs it */
	assert_int_equal(jpkii_letters_add(l, &x, &eb), JPKI_ERR_INVALID);
	x = letter_cert();
	x.window_first = x.window_last + 1;
	assert_int_equal(jpkii_letters_add(l, &x, &eb), JPKI_ERR_INVALID);
	x = letter_cert();
	x.sent_on = JPKI_DAY_MAX + 1;
	assert_int_equal(jpkii_letters_add(l, &x, &eb), JPKI_ERR_RANGE);
	assert_int_equal(jpkii_letters_pages(l), 0);
	x = letter_cert();
	add_ok(l, &x); /* and a good one still goes in */
	assert_int_equal(jpkii_letters_pages(l), 1);
	assert_int_equal(jpkii_letters_close(l, &eb), JPKI_OK);
	assert_int_equal(pdf_pages(pdf), 1);
}

/* Opens a municipal PDF in a fresh process whose fontconfig sees only
 * the fonts in font_dir (none when NULL); returns the exit status (the
 * jpki_err) and the error line in *out. */
static int open_with_fonts(const char *font_dir, const char *pdf, char **out)
{
	char conf[160];
	snprintf(conf, sizeof conf, "%s/fonts.conf", dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f,
		"<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n"
		"<fontconfig>%s%s%s<cachedir>%s/fc-cache</cachedir></fontconfig>\n",
		font_dir ? "<dir>" : "", font_dir ? font_dir : "",
		font_dir ? "</dir>" : "", dir);
	assert_int_equal(fclose(f), 0);
	/* pango leaks its patterns when no font at all matches: no leak
	 * check in the child. */
	return run(
	    out,
	    "ASAN_OPTIONS=detect_leaks=0 FONTCONFIG_FILE='%s' '%s' --open '%s' 2>&1",
	    conf, self_exe, pdf);
}

/* Without a CJK font: JPKI_ERR_CONFIG, a one-line hint, and no file. First
 * with no fonts at all, then with one font that has no Japanese (one that
 * fontconfig lists for English but not for Japanese, linked into a
 * directory of its own; skipped when the machine has none). */
static void test_no_cjk_font(void **state)
{
	(void)state;
	char pdf[160], fonts[160], *out = NULL;
	snprintf(pdf, sizeof pdf, "%s/nofont.pdf", dir);
	int st = open_with_fonts(NULL, pdf, &out);
	if (st != JPKI_ERR_CONFIG)
		fail_msg("exit %d: %s", st, out);
	assert_non_null(strstr(out, "fonts-noto-cjk"));
	const char *eol = strchr(out, '\n');
	assert_true(eol != NULL && eol[1] == '\0'); /* one line */
	assert_int_equal(access(pdf, F_OK), -1);
	free(out);

	snprintf(fonts, sizeof fonts, "%s/latin", dir);
	assert_int_equal(run(&out,
			     "cd '%s' && mkdir latin && "
			     "fc-list -f '%%{file}\\n' ':lang=en' | sort >en && "
			     "fc-list -f '%%{file}\\n' ':lang=ja' | sort >ja && "
			     "comm -23 en ja | head -n 1",
			     dir),
			 0);
	char *nl = strchr(out, '\n');
	if (nl == NULL || nl == out) {
		free(out);
		return; /* no font without Japanese here */
	}
	*nl = '\0';
	assert_int_equal(run(NULL, "ln -s '%s' '%s/'", out, fonts), 0);
	free(out);
	st = open_with_fonts(fonts, pdf, &out);
	if (st != JPKI_ERR_CONFIG)
		fail_msg("exit %d: %s", st, out);
	assert_non_null(strstr(out, "no CJK glyphs"));
	assert_int_equal(access(pdf, F_OK), -1);
	free(out);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_letter.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	toshima = load("toshima.ini");
	yokohama = load("yokohama-ward.ini");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	jpki_office_free(toshima);
	jpki_office_free(yokohama);
	if (getenv("JPKI_KEEP") == NULL)
		run(NULL, "rm -rf '%s'", dir);
	else
		printf("kept %s\n", dir);
	return 0;
}

/* LeakSanitizer: two leaks inside the libraries, not ours: cairo 1.16
 * while subsetting fonts in cairo_surface_finish, fontconfig 2.14 while
 * parsing its configuration. What we allocate is still checked: the
 * suppressions name those functions, which needs the slow unwinder (the
 * libraries have no frame pointers). ASAN_OPTIONS still overrides. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:cairo_surface_finish\nleak:FcInitLoadConfigAndFonts\n";
}

static int bench(long n)
{
	struct jpkii_letters *l = NULL;
	struct jpki_errbuf eb = {{0}};
	struct timespec t0, t1;
	char pdf[128];
	if (setup(NULL) != 0)
		return 1;
	snprintf(pdf, sizeof pdf, "%s/bench.pdf", dir);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (jpkii_letters_open(pdf, JPKII_LETTER_MUNICIPAL, &l, &eb) != JPKI_OK) {
		fprintf(stderr, "%s\n", eb.msg);
		return 1;
	}
	for (long i = 0; i < n; i++) {
		struct jpkii_letter x = i % 2 ? letter_card() : letter_cert();
		x.notice_id = i;
		if (jpkii_letters_add(l, &x, &eb) != JPKI_OK) {
			fprintf(stderr, "%s\n", eb.msg);
			return 1;
		}
	}
	if (jpkii_letters_close(l, &eb) != JPKI_OK) {
		fprintf(stderr, "%s\n", eb.msg);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%ld municipal letters in %.2f s: %.1f letters/s\n", n, s,
	       (double)n / s);
	teardown(NULL);
	return 0;
}

int main(int argc, char **argv)
{
	self_exe = argv[0];
	if (argc == 3 && strcmp(argv[1], "--open") == 0) {
		/* test_no_cjk_font's child. */
		struct jpkii_letters *l = NULL;
		struct jpki_errbuf eb = {{0}};
		jpki_err e =
		    jpkii_letters_open(argv[2], JPKII_LETTER_MUNICIPAL, &l, &eb);
		fprintf(stderr, "%s\n", eb.msg);
		jpkii_letters_close(l, NULL);
		return (int)e;
	}
	const char *b = getenv("JPKI_LETTER_BENCH");
	if (b)
		return bench(strtol(b, NULL, 10));
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_no_cjk_font),
	    cmocka_unit_test(test_municipal),
	    cmocka_unit_test(test_jlis),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
