/* A synthetic population inserted directly (bench/population.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpki/date.h"
#include "jpki/store.h"
#include "common.h"
#include "population.h"
#include "banned.h"

#define DAY	  86400
#define CHUNK	  64   /* residents per multi-row INSERT */
#define TX_CHUNKS 1024 /* chunks per transaction (65,536 residents) */

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
		detail ? detail : "");
	exit(3);
}

int64_t bench_pop_at_ten(jpki_day d)
{
	return (int64_t)d * DAY - JPKI_JST_OFFSET_SECONDS + 10 * 3600;
}

jpki_day bench_pop_months_after(jpki_day d, int n)
{
	jpki_day out;
	if (jpki_add_months(d, n, &out) != JPKI_OK)
		die("date", "out of range");
	return out;
}

/* ---- multi-row INSERTs ---- */

enum { V_INT, V_TEXT, V_BLOB };
struct val {
	int type;
	int64_t i;
	char t[128]; /* the longest address is about 90 bytes */
};

/* DER of SEQUENCE { NULL }: a placeholder certificate. */
static const uint8_t der_placeholder[4] = {0x30, 0x02, 0x05, 0x00};

/* Rows staged for one multi-row INSERT. In `row`, #k (1..9) is the row's
 * k-th value and $1 the one value shared by all rows. */
struct batch {
	struct jpki_store *s;
	const char *head, *row;
	struct val shared;
	int per_row, cap, n;
	struct jpki_stmt *full; /* cap rows */
	struct val *v;
	long rows;
};

static char *rows_sql(const struct batch *b, int nrows)
{
	size_t size = strlen(b->head) + (size_t)nrows * (strlen(b->row) + 64) + 1;
	char *sql = malloc(size), *o = sql;
	if (sql == NULL)
		die("malloc", NULL);
	o += snprintf(o, size, "%s", b->head);
	for (int r = 0; r < nrows; r++) {
		if (r > 0)
			*o++ = ',';
		for (const char *c = b->row; *c; c++) {
			if (*c == '#' && c[1] >= '1' && c[1] <= '9') {
				int k = *++c - '0';
				o += snprintf(o, size - (size_t)(o - sql), "$%d",
					      1 + r * b->per_row + k);
			} else {
				*o++ = *c;
			}
		}
	}
	*o = '\0';
	return sql;
}

static void batch_init(struct batch *b, struct jpki_store *s, const char *head,
		       const char *row, int per_row, struct val shared, int cap)
{
	*b = (struct batch){.s = s,
			    .head = head,
			    .row = row,
			    .shared = shared,
			    .per_row = per_row,
			    .cap = cap};
	char *sql = rows_sql(b, cap);
	if ((b->v = calloc((size_t)cap * (size_t)per_row, sizeof *b->v)) == NULL)
		die("calloc", NULL);
	if (jpki_stmt_prepare(s, sql, &b->full))
		die("prepare", jpki_store_errmsg(s));
	free(sql);
}

static void bind_val(struct batch *b, struct jpki_stmt *st, int idx,
		     const struct val *v)
{
	jpki_err rc =
	    v->type == V_INT ? jpki_stmt_bind_int64(st, idx, v->i)
	    : v->type == V_TEXT
		? jpki_stmt_bind_text(st, idx, v->t)
		: jpki_stmt_bind_blob(st, idx, der_placeholder, sizeof der_placeholder);
	if (rc != JPKI_OK)
		die("bind", jpki_store_errmsg(b->s));
}

static void batch_flush(struct batch *b)
{
	struct jpki_stmt *st = b->full;
	bool row;
	if (b->n == 0)
		return;
	if (b->n < b->cap) { /* the tail: a statement of its own */
		char *sql = rows_sql(b, b->n);
		if (jpki_stmt_prepare(b->s, sql, &st))
			die("prepare", jpki_store_errmsg(b->s));
		free(sql);
	}
	bind_val(b, st, 1, &b->shared);
	for (int i = 0; i < b->n * b->per_row; i++)
		bind_val(b, st, 2 + i, &b->v[i]);
	if (jpki_stmt_step(st, &row))
		die("bulk insert", jpki_store_errmsg(b->s));
	if (st == b->full) {
		if (jpki_stmt_reset(st))
			die("reset", jpki_store_errmsg(b->s));
	} else {
		jpki_stmt_finalize(st);
	}
	b->rows += b->n;
	b->n = 0;
}

/* The next row's values; a full batch is flushed first. */
static struct val *batch_row(struct batch *b)
{
	if (b->n == b->cap)
		batch_flush(b);
	return &b->v[b->n++ * b->per_row];
}

static void batch_release(struct batch *b)
{
	jpki_stmt_finalize(b->full);
	free(b->v);
}

static void set_i(struct val *v, int64_t i)
{
	v->type = V_INT;
	v->i = i;
}

static void set_t(struct val *v, const char *t)
{
	v->type = V_TEXT;
	snprintf(v->t, sizeof v->t, "%s", t);
}

static void set_d(struct val *v, jpki_day d)
{
	char buf[JPKI_DATE_BUFSZ];
	set_t(v, jpki_date_format(d, buf));
}

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* ---- names and addresses ---- */

struct names {
	const char *kanji, *kana;
};
/* The plain population's 64 names. */
static const struct names surnames[] = {{"佐藤", "サトウ"},   {"鈴木", "スズキ"},
					{"高橋", "タカハシ"}, {"田中", "タナカ"},
					{"伊藤", "イトウ"},   {"渡辺", "ワタナベ"},
					{"山本", "ヤマモト"}, {"中村", "ナカムラ"}};
static const struct names given[] = {
    {"太郎", "タロウ"}, {"花子", "ハナコ"}, {"健", "ケン"},	{"陽菜", "ヒナ"},
    {"蓮", "レン"},	{"結衣", "ユイ"},   {"大翔", "ヒロト"}, {"葵", "アオイ"}};

/* The varied population: common surnames, given names with their sex. */
static const struct names v_surnames[] = {
    {"佐藤", "サトウ"},	  {"鈴木", "スズキ"},	{"高橋", "タカハシ"},
    {"田中", "タナカ"},	  {"伊藤", "イトウ"},	{"渡辺", "ワタナベ"},
    {"山本", "ヤマモト"}, {"中村", "ナカムラ"}, {"小林", "コバヤシ"},
    {"加藤", "カトウ"},	  {"吉田", "ヨシダ"},	{"山田", "ヤマダ"},
    {"佐々木", "ササキ"}, {"山口", "ヤマグチ"}, {"松本", "マツモト"},
    {"井上", "イノウエ"}, {"木村", "キムラ"},	{"林", "ハヤシ"},
    {"斎藤", "サイトウ"}, {"清水", "シミズ"},	{"山崎", "ヤマザキ"},
    {"森", "モリ"},	  {"池田", "イケダ"},	{"橋本", "ハシモト"},
    {"阿部", "アベ"},	  {"石川", "イシカワ"}, {"山下", "ヤマシタ"},
    {"中島", "ナカジマ"}, {"石井", "イシイ"},	{"小川", "オガワ"},
    {"前田", "マエダ"},	  {"岡田", "オカダ"}};
struct given_name {
	const char *kanji, *kana;
	int sex; /* 1 male, 2 female */
};
static const struct given_name v_given[] = {
    {"太郎", "タロウ", 1},   {"大翔", "ヒロト", 1},   {"蓮", "レン", 1},
    {"湊", "ミナト", 1},     {"陽翔", "ハルト", 1},   {"健一", "ケンイチ", 1},
    {"誠", "マコト", 1},     {"翔太", "ショウタ", 1}, {"拓也", "タクヤ", 1},
    {"浩二", "コウジ", 1},   {"隆", "タカシ", 1},     {"悠真", "ユウマ", 1},
    {"和夫", "カズオ", 1},   {"清", "キヨシ", 1},     {"優斗", "ユウト", 1},
    {"修", "オサム", 1},     {"花子", "ハナコ", 2},   {"陽菜", "ヒナ", 2},
    {"結衣", "ユイ", 2},     {"葵", "アオイ", 2},     {"凛", "リン", 2},
    {"芽依", "メイ", 2},     {"さくら", "サクラ", 2}, {"美咲", "ミサキ", 2},
    {"恵子", "ケイコ", 2},   {"幸子", "サチコ", 2},   {"由美子", "ユミコ", 2},
    {"真由美", "マユミ", 2}, {"陽子", "ヨウコ", 2},   {"愛", "アイ", 2},
    {"優子", "ユウコ", 2},   {"千尋", "チヒロ", 2}};

/* Real towns (町名) with their postal codes; chome: how many 丁目 the
 * addresses use (from first_chome). */
struct town {
	const char *muni, *city, *name, *postal;
	int first_chome, chome;
};
static const struct town towns[] = {
    {"131164", "東京都豊島区", "西巣鴨", "170-0001", 1, 4},
    {"131164", "東京都豊島区", "巣鴨", "170-0002", 1, 5},
    {"131164", "東京都豊島区", "駒込", "170-0003", 1, 7},
    {"131164", "東京都豊島区", "北大塚", "170-0004", 1, 3},
    {"131164", "東京都豊島区", "南大塚", "170-0005", 1, 3},
    {"131164", "東京都豊島区", "池袋本町", "170-0011", 1, 4},
    {"131164", "東京都豊島区", "上池袋", "170-0012", 1, 4},
    {"131164", "東京都豊島区", "東池袋", "170-0013", 1, 5},
    {"131164", "東京都豊島区", "池袋", "171-0014", 2, 3},
    {"131164", "東京都豊島区", "西池袋", "171-0021", 1, 5},
    {"131164", "東京都豊島区", "南池袋", "171-0022", 1, 4},
    {"131164", "東京都豊島区", "目白", "171-0031", 1, 5},
    {"131164", "東京都豊島区", "雑司が谷", "171-0032", 1, 3},
    {"131164", "東京都豊島区", "高田", "171-0033", 1, 3},
    {"131164", "東京都豊島区", "千川", "171-0041", 1, 2},
    {"131164", "東京都豊島区", "高松", "171-0042", 1, 3},
    {"131164", "東京都豊島区", "要町", "171-0043", 1, 3},
    {"131164", "東京都豊島区", "千早", "171-0044", 1, 4},
    {"131164", "東京都豊島区", "長崎", "171-0051", 1, 6},
    {"131164", "東京都豊島区", "南長崎", "171-0052", 1, 6},
    {"131016", "東京都千代田区", "千代田", "100-0001", 1, 1},
    {"131016", "東京都千代田区", "丸の内", "100-0005", 1, 3},
    {"131016", "東京都千代田区", "永田町", "100-0014", 1, 2},
    {"131016", "東京都千代田区", "九段北", "102-0073", 1, 4},
    {"131016", "東京都千代田区", "麹町", "102-0083", 1, 6},
    {"131024", "東京都中央区", "日本橋", "103-0027", 1, 3},
    {"131024", "東京都中央区", "銀座", "104-0061", 1, 8},
    {"131024", "東京都中央区", "築地", "104-0045", 1, 7},
    {"131024", "東京都中央区", "月島", "104-0052", 1, 4},
    {"131024", "東京都中央区", "佃", "104-0051", 1, 3},
    {"131032", "東京都港区", "虎ノ門", "105-0001", 1, 5},
    {"131032", "東京都港区", "赤坂", "107-0052", 1, 9},
    {"131032", "東京都港区", "六本木", "106-0032", 1, 7},
    {"131032", "東京都港区", "麻布十番", "106-0045", 1, 4},
    {"131032", "東京都港区", "高輪", "108-0074", 1, 4},
    {"271004", "大阪府大阪市北区", "梅田", "530-0001", 1, 3},
    {"271004", "大阪府大阪市北区", "中之島", "530-0005", 1, 6},
    {"271004", "大阪府大阪市中央区", "難波", "542-0076", 1, 5},
    {"271004", "大阪府大阪市西区", "江戸堀", "550-0002", 1, 3},
    {"271004", "大阪府大阪市阿倍野区", "阿倍野筋", "545-0052", 1, 5},
    {"011002", "北海道札幌市中央区", "北一条西", "060-0001", 2, 10},
    {"011002", "北海道札幌市中央区", "南一条西", "060-0061", 2, 10},
    {"011002", "北海道札幌市中央区", "大通西", "060-0042", 2, 10},
};
#define N_TOWNS (sizeof towns / sizeof towns[0])

/* A third of the residents live in an apartment building. */
static const char *const buildings[] = {"グリーンハイツ",	"コーポ桜",
					"メゾン・ド・ソレイユ", "サンライズマンション",
					"パークハイム",		"ライオンズマンション",
					"レジデンス欅",		"第二富士荘"};

/* The towns of each municipality, as indexes into towns[]. */
struct muni_towns {
	size_t first[16], n[16];
};

static void towns_of(const struct bench_population *p, struct muni_towns *mt)
{
	if (p->n_munis > 16)
		die("population", "at most 16 municipalities with varied addresses");
	for (size_t m = 0; m < p->n_munis; m++) {
		mt->n[m] = 0;
		for (size_t t = 0; t < N_TOWNS; t++) {
			if (strcmp(towns[t].muni, p->munis[m].code) != 0)
				continue;
			if (mt->n[m]++ == 0)
				mt->first[m] = t;
		}
		if (mt->n[m] == 0)
			die("population: no towns for municipality", p->munis[m].code);
	}
}

/* ---- the rows ---- */

struct bulk {
	const struct bench_population *p;
	struct muni_towns mt;
	struct batch res, card, cert, holder, rev;
	int span; /* the spread in days */
	long revocations;
};

static void stage_person(struct bulk *k, struct val *v, uint64_t h, size_t muni)
{
	if (!k->p->varied) {
		const struct names *sn = &surnames[(h >> 32) % 8],
				   *gn = &given[(h >> 40) % 8];
		char name[48], kana[48];
		snprintf(name, sizeof name, "%s %s", sn->kanji, gn->kanji);
		snprintf(kana, sizeof kana, "%s %s", sn->kana, gn->kana);
		set_t(&v[1], name);
		set_t(&v[2], kana);
		set_i(&v[3], 1 + (int64_t)((h >> 48) & 1));
		return;
	}
	uint64_t g = mix(h); /* more bits, independent of the plain ones */
	const struct names *sn = &v_surnames[g % 32];
	const struct given_name *gn = &v_given[(g >> 8) % 32];
	const struct town *t =
	    &towns[k->mt.first[muni] + (size_t)((g >> 16) % k->mt.n[muni])];
	char name[64], kana[96], addr[128], bldg[64] = "";
	unsigned chome = (unsigned)t->first_chome +
			 (unsigned)((g >> 24) % (unsigned)t->chome),
		 ban = 1 + (unsigned)((g >> 28) % 40),
		 go = 1 + (unsigned)((g >> 34) % 25);
	snprintf(name, sizeof name, "%s %s", sn->kanji, gn->kanji);
	snprintf(kana, sizeof kana, "%s %s", sn->kana, gn->kana);
	if ((g >> 40) % 3 == 0)
		snprintf(bldg, sizeof bldg, " %s%u0%u号室", buildings[(g >> 42) % 8],
			 1 + (unsigned)((g >> 45) % 9), 1 + (unsigned)((g >> 49) % 8));
	snprintf(addr, sizeof addr, "%s%s%u-%u-%u%s", t->city, t->name, chome, ban, go,
		 bldg);
	set_t(&v[1], name);
	set_t(&v[2], kana);
	set_i(&v[3], gn->sex);
	set_t(&v[6], addr);
	set_t(&v[7], t->postal);
}

/* One resident: the resident row, the card (a 10-year card, or a 5-year
 * one for a minor at issue, which expires with the certificates), auth and
 * sign certificates issued five years before they expire, and their
 * holder_cert rows. Revocations are staged apart, after their parents. */
static void stage_resident(struct bulk *k, long i)
{
	const struct bench_population *p = k->p;
	uint64_t h = mix((uint64_t)i);
	jpki_day ends = p->start + (jpki_day)(h % (uint64_t)k->span);
	jpki_day issued = bench_pop_months_after(ends, -BENCH_POP_CERT_MONTHS);
	int age_at_exp = 1 + (int)((h >> 16) % 95);
	bool minor = age_at_exp - 5 < 18;
	size_t mi = (size_t)((h >> 24) % p->n_munis);
	const char *muni = p->munis[mi].code;
	char card[33];
	int64_t id = BENCH_POP_ID_BASE + i;
	snprintf(card, sizeof card, "BENCH%011ld", i);

	struct val *v = batch_row(&k->res);
	set_i(&v[0], id);
	stage_person(k, v, h, mi);
	/* expiry on a birthday */
	set_d(&v[4], bench_pop_months_after(ends, -12 * age_at_exp));
	set_t(&v[5], muni);

	bool lost = p->history && i % 256 == 11;
	v = batch_row(&k->card);
	set_t(&v[0], card);
	set_i(&v[1], id);
	set_t(&v[2], muni);
	set_d(&v[3], issued);
	set_d(&v[4],
	      minor ? ends : bench_pop_months_after(ends, BENCH_POP_CERT_MONTHS));
	set_t(&v[5], lost ? "lost" : "active");

	for (int kind = 0; kind < 2; kind++) {
		char serial[48], num[32];
		snprintf(serial, sizeof serial, "7e%014lx%016x", (unsigned long)i,
			 (unsigned)kind);
		snprintf(num, sizeof num, "BENCH-%c-%012ld", kind ? 'S' : 'A', i);
		v = batch_row(&k->cert);
		set_t(&v[0], serial);
		set_t(&v[1], kind ? "sign" : "auth");
		set_t(&v[2], muni);
		set_t(&v[3], num);
		set_i(&v[4], bench_pop_at_ten(issued));
		set_i(&v[5], (int64_t)ends * DAY + DAY - 1 - JPKI_JST_OFFSET_SECONDS);
		v = batch_row(&k->holder);
		set_t(&v[0], serial);
		set_i(&v[1], id);
		set_t(&v[2], card);
		set_t(&v[3], kind ? "sign" : "auth");
		set_d(&v[4], issued);
		set_d(&v[5], ends);
	}
}

/* Every 64th resident moved (sign certificate, affiliationChanged); the
 * lost cards of stage_resident (both, keyCompromise). */
static void stage_revocations(struct bulk *k, long from, long to)
{
	const struct bench_population *p = k->p;
	for (long i = from; p->history && i < to; i++) {
		bool moved = i % 64 == 7, lost = i % 256 == 11;
		if (!moved && !lost)
			continue;
		uint64_t h = mix((uint64_t)i);
		jpki_day ends = p->start + (jpki_day)(h % (uint64_t)k->span);
		for (int kind = lost ? 0 : 1; kind < 2; kind++) {
			char serial[48];
			snprintf(serial, sizeof serial, "7e%014lx%016x",
				 (unsigned long)i, (unsigned)kind);
			struct val *v = batch_row(&k->rev);
			set_t(&v[0], serial);
			set_t(&v[1], kind ? "sign" : "auth");
			set_t(&v[2], p->munis[(h >> 24) % p->n_munis].code);
			set_i(&v[3],
			      (int64_t)ends * DAY + DAY - 1 - JPKI_JST_OFFSET_SECONDS);
			set_i(&v[4], p->now - (int64_t)(h % 1000) * 3600);
			set_i(&v[5], lost ? 1 : 3);
			k->revocations++;
		}
	}
}

static void tx(struct jpki_store *s, bool commit)
{
	if (commit ? jpki_store_commit(s) : jpki_store_begin(s))
		die(commit ? "commit" : "begin", jpki_store_errmsg(s));
}

long bench_population_load(const struct bench_population *p, double *secs)
{
	struct bulk k = {.p = p};
	struct jpki_store *s = p->store;
	struct val now = {.type = V_INT, .i = p->now}, blob = {.type = V_BLOB},
		   one = {.type = V_INT, .i = 1};
	if (p->n_munis == 0 || p->months < 1)
		die("population", "no municipality or no months");
	if (p->varied)
		towns_of(p, &k.mt);
	k.span = bench_pop_months_after(p->start, p->months) - p->start;
	if (p->varied)
		batch_init(
		    &k.res, s,
		    "INSERT INTO resident (id, name, kana, sex, birth, address, "
		    "postal_code, municipality, synthetic, created_at, updated_at) "
		    "VALUES ",
		    "(#1, #2, #3, #4, #5, #7, #8, #6, 1, $1, $1)", 8, now, CHUNK);
	else
		batch_init(
		    &k.res, s,
		    "INSERT INTO resident (id, name, kana, sex, birth, address, "
		    "municipality, synthetic, created_at, updated_at) VALUES ",
		    "(#1, #2, #3, #4, #5, '東京都千代田区千代田1-1', #6, 1, $1, $1)", 6,
		    now, CHUNK);
	batch_init(&k.card, s,
		   "INSERT INTO card (serial, resident, municipality, issued, expires, "
		   "state, created_at) VALUES ",
		   "(#1, #2, #3, #4, #5, #6, $1)", 6, now, CHUNK);
	batch_init(&k.cert, s,
		   "INSERT INTO certificate (serial, ca, kind, municipality, "
		   "issue_number, not_before, not_after, der) VALUES ",
		   "(#1, #2, #2, #3, #4, #5, #6, $1)", 6, blob, 2 * CHUNK);
	batch_init(&k.holder, s,
		   "INSERT INTO holder_cert (serial, resident, card, kind, issued, "
		   "expires, synthetic) VALUES ",
		   "(#1, #2, #3, #4, #5, #6, $1)", 6, one, 2 * CHUNK);
	/* Every $N must be used: $1 is recorded_at here, synthetic above. */
	batch_init(&k.rev, s,
		   "INSERT INTO revocation (serial, kind, municipality, not_after, "
		   "revoked_at, reason, recorded_at) VALUES ",
		   "(#1, #2, #3, #4, #5, #6, $1)", 6, now, 1);
	double t0 = bench_now();
	long chunks = 0;
	tx(s, false);
	for (long i = 0; i < p->residents; i += CHUNK) {
		long to = i + CHUNK < p->residents ? i + CHUNK : p->residents;
		for (long j = i; j < to; j++)
			stage_resident(&k, j);
		/* Parents before children: the foreign keys are checked. */
		batch_flush(&k.res);
		batch_flush(&k.card);
		batch_flush(&k.cert);
		batch_flush(&k.holder);
		stage_revocations(&k, i, to);
		batch_flush(&k.rev);
		if (++chunks % TX_CHUNKS == 0) {
			tx(s, true);
			tx(s, false);
		}
	}
	tx(s, true);
	*secs = bench_now() - t0;
	long rows = k.res.rows + k.card.rows + k.cert.rows + k.holder.rows + k.rev.rows;
	batch_release(&k.res);
	batch_release(&k.card);
	batch_release(&k.cert);
	batch_release(&k.holder);
	batch_release(&k.rev);
	return rows;
}

/* ---- the bed ---- */

void bench_bed_dir(const char *name, char *dir, size_t cap)
{
	const char *tmp = getenv("JPKI_BENCH_DIR");
	int n = snprintf(dir, cap, "%s/jpki-bench-%s-XXXXXX", tmp ? tmp : "/tmp", name);
	if (n < 0 || (size_t)n >= cap || !mkdtemp(dir))
		die("mkdtemp", dir);
}

void bench_bed_store(const char *url, const char *keys_dir,
		     const struct jpki_municipality *munis, size_t n_munis, int64_t now,
		     int64_t not_before, struct jpki_store **s,
		     struct jpki_reg_ctx *ctx)
{
	struct jpki_errbuf eb = {{0}};
	struct jpki_ca_init_opts o = {.base_url = "http://127.0.0.1:8080",
				      .key_bits = 2048,
				      .crl_hours = 24,
				      .ocsp_days = 4,
				      .munis = munis,
				      .n_munis = n_munis,
				      .insecure_no_passphrase = true,
				      .now = now,
				      .not_before = not_before};
	if (jpki_store_open(url, s, &eb))
		die("store open", eb.msg);
	if (jpki_ca_init(*s, keys_dir, &o, &eb))
		die("ca init (the database must be empty)", eb.msg);
	*ctx = (struct jpki_reg_ctx){.store = *s,
				     .keys_dir = keys_dir,
				     .passphrase = NULL,
				     .actor = "bench",
				     .now = now,
				     .feb29 = JPKI_FEB29_FEB28};
}

void bench_bed_close(struct jpki_store *s, const char *dir)
{
	char cmd[4200];
	jpki_store_close(s);
	if (getenv("JPKI_BENCH_KEEP")) {
		printf("(kept %s)\n", dir);
		return;
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "%s: could not remove %s\n",
			program_invocation_short_name, dir);
}
