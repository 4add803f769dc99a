/* A synthetic population for demos and benchmarks (jpki demo seed).
 *
 * Not the lifecycle path: residents, cards and certificates are written in
 * batches of one transaction each (one audit row "demo.seed" per batch),
 * key pairs come from a small pool generated at the start instead of on
 * each card, card PINs are hashed with few PBKDF2 iterations and card
 * files are written without fsync. Certificates are real, signed by the
 * store's CA, with notBefore in the past where the population's history
 * says so (the CA must date from before: jpki init --history-from).
 * docs/internals/registry.md describes the distributions. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jpki/card.h"
#include "jpki/pki.h"
#include "jpki/registry.h"
#include "reg_internal.h"
#include "banned.h"

#define BATCH	     250
#define DEMO_PBKDF2  100
#define CARD_DAY_MIN 16801 /* 2016-01-01: the first My Number cards */

/* ---- a small deterministic PRNG (splitmix64): the same seed, the same
 * population ---- */

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int below(uint64_t *s, int n)
{
	return n <= 1 ? 0 : (int)(next(s) % (uint64_t)n);
}

static bool chance(uint64_t *s, int per_mille)
{
	return below(s, 1000) < per_mille;
}

/* Japan's population by age, 5-year groups 0-4 .. 100+, in 10,000s
 * (Statistics Bureau, 人口推計 2023-10-01, rounded). */
static const int pyramid[21] = {420, 490, 530, 550, 630, 640, 640, 710, 790, 930, 960,
				820, 740, 740, 900, 710, 570, 380, 190, 50,  10};

static int sample_age(uint64_t *s)
{
	int total = 0;
	for (int i = 0; i < 21; i++)
		total += pyramid[i];
	int x = below(s, total);
	for (int i = 0; i < 21; i++) {
		if (x < pyramid[i])
			return i * 5 + below(s, 5);
		x -= pyramid[i];
	}
	return 40;
}

/* Names: kanji and kana together. */
struct name {
	const char *kanji, *kana;
};
static const struct name surnames[] = {
    {"佐藤", "サトウ"},	  {"鈴木", "スズキ"},	{"高橋", "タカハシ"},
    {"田中", "タナカ"},	  {"伊藤", "イトウ"},	{"渡辺", "ワタナベ"},
    {"山本", "ヤマモト"}, {"中村", "ナカムラ"}, {"小林", "コバヤシ"},
    {"加藤", "カトウ"},	  {"吉田", "ヨシダ"},	{"山田", "ヤマダ"},
    {"佐々木", "ササキ"}, {"松本", "マツモト"}, {"井上", "イノウエ"},
    {"木村", "キムラ"},
};
static const struct name male[] = {
    {"翔太", "ショウタ"}, {"大輔", "ダイスケ"}, {"健一", "ケンイチ"}, {"蓮", "レン"},
    {"悠真", "ユウマ"},	  {"浩", "ヒロシ"},	{"誠", "マコト"},     {"湊", "ミナト"},
};
static const struct name female[] = {
    {"陽菜", "ヒナ"},	{"美咲", "ミサキ"},   {"花子", "ハナコ"}, {"結衣", "ユイ"},
    {"恵子", "ケイコ"}, {"さくら", "サクラ"}, {"葵", "アオイ"},	  {"由美", "ユミ"},
};
static const struct name foreign[] = {
    {"グエン ヴァン アン", "グエン ヴァン アン"},
    {"リ ウェイ", "リ ウェイ"},
    {"サントス マリア", "サントス マリア"},
    {"キム ミンジュン", "キム ミンジュン"},
    {"タパ ラム", "タパ ラム"},
    {"スミス ジョン", "スミス ジョン"},
};
/* The nationality of each name of foreign[]. */
static const char *const nationalities[] = {"VN", "CN", "PH", "KR", "NP", "US"};
static const char *const towns[] = {"東池袋", "西池袋",	  "南大塚", "駒込", "巣鴨",
				    "目白",   "雑司が谷", "長崎",   "千早", "要町"};

#define N(a) ((int)(sizeof a / sizeof a[0]))

/* ---- the key pool ---- */

static void free_pool(EVP_PKEY **pool, size_t n)
{
	for (size_t i = 0; i < n; i++)
		EVP_PKEY_free(pool[i]);
	free(pool);
}

static char *pubkey_pem(EVP_PKEY *k, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *out = NULL, *data;
	if (b && PEM_write_bio_PUBKEY(b, k)) {
		long n = BIO_get_mem_data(b, &data);
		if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
			memcpy(out, data, (size_t)n);
			out[n] = '\0';
			*len = (size_t)n;
		}
	}
	BIO_free(b);
	return out;
}

/* ---- one resident ---- */

struct person {
	struct jpki_resident r;
	char name[160], kana[160], address[300], postal[9];
	bool has_card, lost, moved;
	jpki_day card_issued, card_expires, cert_issued, auth_expires, sign_expires;
	bool sign;
};

static jpki_day day_between(uint64_t *s, jpki_day a, jpki_day b)
{
	return b <= a ? a : a + below(s, b - a + 1);
}

static void make_person(uint64_t *s, const struct jpki_municipality *mu, jpki_day today,
			jpki_day history, enum jpki_feb29 feb29, struct person *p)
{
	memset(p, 0, sizeof *p);
	int age = sample_age(s);
	p->r.birth = today - (jpki_day)age * 365 - (jpki_day)(age / 4) - below(s, 365);
	int r = below(s, 1000);
	p->r.sex = r < 490 ? 1 : r < 999 ? 2 : 3;
	bool alien = chance(s, 25) && age >= 18;
	if (alien) {
		int f = below(s, N(foreign)); /* a name and its nationality */
		snprintf(p->name, sizeof p->name, "%s", foreign[f].kanji);
		snprintf(p->kana, sizeof p->kana, "%s", foreign[f].kana);
		p->r.nationality = (char *)nationalities[f];
		p->r.stay_expires = today + 60 + below(s, 1500);
	} else {
		const struct name *sn = &surnames[below(s, N(surnames))];
		const struct name *gn = p->r.sex == 1 ? &male[below(s, N(male))]
						      : &female[below(s, N(female))];
		snprintf(p->name, sizeof p->name, "%s %s", sn->kanji, gn->kanji);
		snprintf(p->kana, sizeof p->kana, "%s %s", sn->kana, gn->kana);
		p->r.stay_expires = JPKI_DAY_NONE;
	}
	snprintf(p->address, sizeof p->address, "%s%s%d丁目%d番%d号", mu->name,
		 towns[below(s, N(towns))], 1 + below(s, 5), 1 + below(s, 30),
		 1 + below(s, 20));
	snprintf(p->postal, sizeof p->postal, "170-%04d", below(s, 10000));
	p->r.name = p->name;
	p->r.kana = p->kana;
	p->r.address = p->address;
	p->r.postal_code = p->postal;
	snprintf(p->r.municipality, sizeof p->r.municipality, "%s", mu->code);
	p->r.adult_ward = age >= 20 && chance(s, 3 + age / 20);
	p->r.synthetic = false;

	/* About 8 in 10 hold a card (Digital Agency, 2024). Issue dates:
	 * since 2016, with the 2022-2023 wave of the マイナポイント campaign. */
	p->has_card = chance(s, 800);
	if (!p->has_card)
		return;
	jpki_day lo = history > CARD_DAY_MIN ? history : CARD_DAY_MIN;
	if (p->r.birth + 30 > lo)
		lo = p->r.birth + 30;
	if (lo > today) {
		p->has_card = false;
		return;
	}
	jpki_day d = chance(s, 450) ? day_between(s, 19083, 19722) /* 2022..2023 */
				    : day_between(s, lo, today);
	if (d < lo || d > today)
		d = day_between(s, lo, today);
	struct jpki_card_validity cv;
	for (int guard = 0; guard < 8; guard++) {
		jpki_day applied = d - 30 > p->r.birth ? d - 30 : p->r.birth;
		if (jpki_card_expiry(p->r.birth, applied, d, p->r.stay_expires, feb29,
				     &cv, NULL) != JPKI_OK) {
			p->has_card = false;
			return;
		}
		if (cv.expires >= today)
			break;
		/* That card ran out: it was re-made in its window. */
		d = cv.expires - below(s, 80);
	}
	if (cv.expires < today) {
		p->has_card = false;
		return;
	}
	p->card_issued = d;
	p->card_expires = cv.expires;

	/* Certificates from the card's day; renewed in each window, except
	 * for some who let them lapse (already expired). */
	jpki_day t = d, renewing = JPKI_DAY_NONE;
	for (int guard = 0; guard < 8; guard++) {
		struct jpki_cert_request rq;
		struct jpki_cert_validity v;
		jpki_cert_request_init(&rq, JPKI_CERT_AUTH, p->r.birth, t);
		rq.card_expires = p->card_expires;
		rq.stay_expires = p->r.stay_expires;
		rq.renewing = renewing;
		rq.feb29 = feb29;
		if (jpki_cert_expiry(&rq, &v, NULL) != JPKI_OK) {
			p->has_card = false;
			return;
		}
		p->cert_issued = t;
		p->auth_expires = v.expires;
		if (v.expires >= today || chance(s, 150))
			break;
		renewing = v.expires;
		t = v.expires - below(s, 85);
	}
	struct jpki_eligibility el;
	jpki_eligibility(p->r.birth, p->cert_issued, p->r.adult_ward, false, &el);
	p->sign = el.sign == JPKI_ELIGIBLE;
	p->sign_expires = p->auth_expires;
	p->lost = p->auth_expires >= today && chance(s, 5);
	p->moved = !p->lost && p->sign && p->auth_expires >= today && chance(s, 30);
}

/* ---- the batch ---- */

struct seeder {
	const struct jpki_reg_ctx *ctx;
	const struct jpki_seed_opts *o;
	struct jpki_ca *ca;
	EVP_PKEY **pool;
	size_t npool;
	char *pool_pem[64];
	size_t pool_pem_len[64];
	uint8_t *ca_der[2];
	size_t ca_len[2];
	void *issuer_key[64];
	uint8_t issuer_pub[64][32];
	struct jpki_municipality *munis;
	size_t nmunis;
	uint64_t rng;
	size_t key_turn;
	struct jpki_seed_report *rep;
	int64_t history; /* the issuing CAs' notBefore (and the caller's bound) */
	char cards_dir[PATH_MAX]; /* absolute */
};

/* The DER of a PEM certificate; *not_before (if given) is raised to its
 * notBefore. */
static jpki_err der_of_pem_nb(const char *pem, uint8_t **der, size_t *len,
			      int64_t *not_before)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	unsigned char *out = NULL;
	struct tm tm;
	if (x && not_before && ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1) {
		int64_t t = (int64_t)timegm(&tm);
		if (t > *not_before)
			*not_before = t;
	}
	int n = x ? i2d_X509(x, &out) : -1;
	X509_free(x);
	BIO_free(b);
	if (n <= 0)
		return JPKI_ERR_CRYPTO;
	*der = malloc((size_t)n);
	if (*der)
		memcpy(*der, out, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(out);
	return *der ? JPKI_OK : JPKI_ERR_NOMEM;
}

static jpki_err der_of_pem(const char *pem, uint8_t **der, size_t *len)
{
	return der_of_pem_nb(pem, der, len, NULL);
}

static const char *const demo_pins[4] = {"ABC123", "1234", "1234", "1234"};

/* Issues one certificate backdated to day t (09:00 JST plus a little),
 * records it, and puts it on the card. */
static jpki_err seed_cert(struct seeder *sd, struct person *p, int64_t id,
			  const char *card, struct jpki_card *c, struct jpki_term *t,
			  int kind, size_t key, struct jpki_reg_msg *m, char serial[66])
{
	struct jpkii_subject_buf subj;
	struct jpki_issued is = {0};
	struct jpki_errbuf eb = {{0}};
	jpkii_reg_subject(&p->r, &subj);
	int64_t nb = (int64_t)p->cert_issued * 86400 + below(&sd->rng, 8 * 3600);
	if (nb < sd->history) /* not before the issuing CA */
		nb = sd->history;
	if (nb > sd->ctx->now)
		nb = sd->ctx->now;
	jpki_day exp = kind == 0 ? p->auth_expires : p->sign_expires;
	jpki_err rc = jpki_ca_issue_backdated(
	    sd->ca, kind == 0 ? JPKI_PKI_AUTH : JPKI_PKI_SIGN, sd->pool_pem[key],
	    sd->pool_pem_len[key], &subj.s, exp, nb, sd->ctx->now, &is, &eb);
	if (rc != JPKI_OK) {
		jpki_issued_release(&is);
		return jpkii_reg_eb_fail(m, rc, "issue", &eb);
	}
	snprintf(serial, 66, "%s", is.serial);
	uint8_t *der = NULL;
	size_t len = 0;
	rc = der_of_pem(is.pem, &der, &len);
	jpki_issued_release(&is);
	if (rc == JPKI_OK)
		rc = jpki_card_demo_set_key(
		    c, kind == 0 ? JPKI_KEY_AUTH : JPKI_KEY_SIGN, sd->pool[key]);
	if (rc == JPKI_OK)
		rc = jpki_term_write_ef(
		    t, JPKI_APP_JPKI, kind == 0 ? JPKI_EF_AUTH_CERT : JPKI_EF_SIGN_CERT,
		    der, len, &eb);
	if (rc == JPKI_OK)
		rc = jpki_term_write_ef(t, JPKI_APP_JPKI,
					kind == 0 ? JPKI_EF_AUTH_CA : JPKI_EF_SIGN_CA,
					sd->ca_der[kind], sd->ca_len[kind], &eb);
	free(der);
	if (rc != JPKI_OK)
		return jpkii_reg_fail(m, rc, "card", "demo card: %s",
				      "デモ用カード: %s", eb.msg);
	rc = jpkii_reg_sql(
	    sd->ctx->store, "tittdd",
	    "INSERT INTO holder_cert (serial, resident, card, kind, issued, "
	    "expires) VALUES ($1, $2, $3, $4, $5, $6)",
	    serial, id, card, kind == 0 ? "auth" : "sign", p->cert_issued, exp);
	sd->rep->certificates++;
	return rc == JPKI_OK ? rc : jpkii_reg_store_fail(sd->ctx, m, rc);
}

static jpki_err seed_one(struct seeder *sd, struct jpki_card **cards,
			 char (*paths)[PATH_MAX], size_t *ncards,
			 struct jpki_reg_msg *m)
{
	const struct jpki_reg_ctx *ctx = sd->ctx;
	jpki_day today = jpki_jst_day(ctx->now);
	jpki_day history = jpki_jst_day(sd->history);
	size_t mi = (size_t)below(&sd->rng, (int)sd->nmunis);
	struct person p;
	struct jpki_stmt *st = NULL;
	bool row = false;
	make_person(&sd->rng, &sd->munis[mi], today, history, ctx->feb29, &p);
	jpki_err rc = jpkii_reg_query(
	    ctx->store, &st, "ttidtttttdiii",
	    "INSERT INTO resident (name, kana, sex, birth, address, postal_code, "
	    "municipality, nationality, status, stay_expires, adult_ward, synthetic, "
	    "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
	    "$11, $12, $13, $13) RETURNING id",
	    p.r.name, p.r.kana, (int64_t)p.r.sex, p.r.birth, p.r.address,
	    p.r.postal_code, p.r.municipality, p.r.nationality, "registered",
	    p.r.stay_expires, (int64_t)p.r.adult_ward, (int64_t)0, ctx->now);
	if (rc == JPKI_OK)
		rc = jpki_stmt_step(st, &row);
	int64_t id = rc == JPKI_OK && row ? jpki_stmt_int64(st, 0) : 0;
	jpki_stmt_finalize(st);
	if (rc != JPKI_OK || !row)
		return jpkii_reg_store_fail(ctx, m, rc ? rc : JPKI_ERR_STORE);
	sd->rep->residents++;
	if (p.r.nationality)
		sd->rep->foreign++;
	if (p.r.adult_ward)
		sd->rep->adult_wards++;
	if ((rc = jpkii_reg_event(ctx, id, "added", today, "{\"demo\":true}")))
		return jpkii_reg_store_fail(ctx, m, rc);
	if (!p.has_card)
		return JPKI_OK;

	struct jpki_card_init init = {
	    .issuer_pub = sd->issuer_pub[mi],
	    .municipality = p.r.municipality,
	    .holder_name = p.name,
	    .holder_address = p.address,
	    .holder_birth = p.r.birth,
	    .holder_sex = p.r.sex,
	    .now = ctx->now,
	    .pbkdf2_iterations = DEMO_PBKDF2,
	};
	for (int k = 0; k < 4; k++)
		init.pin[k] = k == JPKI_PIN_SIGN && !p.sign ? NULL : demo_pins[k];
	struct jpki_card *c = NULL;
	struct jpki_card_info info;
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	if ((rc = jpki_card_create_memory(&init, &c, &eb)))
		return jpkii_reg_eb_fail(m, rc, "card", &eb);
	jpki_card_info(c, &info);
	cards[*ncards] = c;
	(*ncards)++;
	if (strlen(sd->cards_dir) + 40 > PATH_MAX)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "%s: path too long", "%s: パスが長すぎます",
				      sd->cards_dir);
	memcpy(paths[*ncards - 1], sd->cards_dir, strlen(sd->cards_dir));
	snprintf(paths[*ncards - 1] + strlen(sd->cards_dir), 40, "/%s.card",
		 info.serial);
	jpki_term_local(&t, c);
	if ((rc = jpki_term_issuer_auth(&t, sd->issuer_key[mi], &eb)))
		return jpkii_reg_eb_fail(m, rc, "card", &eb);
	const char *state = p.lost ? "lost" : "active";
	if ((rc = jpkii_reg_sql(
		 ctx->store, "titddttdi",
		 "INSERT INTO card (serial, resident, municipality, issued, "
		 "expires, image, state, state_on, created_at) VALUES ($1, $2, "
		 "$3, $4, $5, $6, $7, $8, $9)",
		 info.serial, id, p.r.municipality, p.card_issued, p.card_expires,
		 paths[*ncards - 1], state, p.lost ? today : JPKI_DAY_NONE, ctx->now)))
		return jpkii_reg_store_fail(ctx, m, rc);
	sd->rep->cards++;
	char serial[2][66] = {"", ""};
	for (int kind = 0; kind < 2; kind++) {
		if (kind == 1 && !p.sign)
			continue;
		size_t key = sd->key_turn++ % sd->npool;
		if ((rc = seed_cert(sd, &p, id, info.serial, c, &t, kind, key, m,
				    serial[kind])))
			return rc;
	}
	if (p.auth_expires < today)
		sd->rep->expired += p.sign ? 2 : 1;
	if (!p.sign)
		sd->rep->without_sign++;
	/* Some certificates are revoked already: a lost card (both), a move
	 * (the signing one). */
	for (int kind = 0; kind < 2; kind++) {
		if (!serial[kind][0] || !(p.lost || (p.moved && kind == 1)))
			continue;
		struct jpki_revoke_result rr;
		int64_t at =
		    (int64_t)day_between(&sd->rng, p.cert_issued + 1, today) * 86400;
		if (at > ctx->now)
			at = ctx->now;
		if (at < (int64_t)p.cert_issued * 86400 + 8 * 3600)
			at = ctx->now;
		rc = jpki_ca_revoke(sd->ca, serial[kind],
				    p.lost ? JPKI_REASON_KEY_COMPROMISE
					   : JPKI_REASON_AFFILIATION_CHANGED,
				    at, ctx->now, &rr, &eb);
		if (rc != JPKI_OK)
			return jpkii_reg_eb_fail(m, rc, "revoke", &eb);
		sd->rep->revoked++;
	}
	return JPKI_OK;
}

static jpki_err load_issuers(struct seeder *sd, struct jpki_reg_msg *m)
{
	struct jpki_errbuf eb = {{0}};
	jpki_err rc = jpki_municipalities(sd->ctx->store, &sd->munis, &sd->nmunis, &eb);
	if (rc != JPKI_OK)
		return jpkii_reg_eb_fail(m, rc, "store", &eb);
	if (sd->nmunis == 0 || sd->nmunis > 64)
		return jpkii_reg_fail(
		    m, JPKI_ERR_CONFIG, "no_ca",
		    "the store has %zu municipalities (1 to 64 for seeding)",
		    "市区町村が %zu 件あります (1〜64件で実行できます)", sd->nmunis);
	for (size_t i = 0; i < sd->nmunis; i++) {
		char muni[7];
		if ((rc = jpki_card_issuer_public(sd->ctx->store, sd->munis[i].code,
						  sd->issuer_pub[i], &eb)) ||
		    (rc = jpki_card_issuer_key(sd->ctx->store, sd->ctx->keys_dir,
					       sd->ctx->passphrase, sd->issuer_pub[i],
					       &sd->issuer_key[i], muni, &eb)))
			return jpkii_reg_eb_fail(m, rc, "issuer", &eb);
	}
	return JPKI_OK;
}

jpki_err jpki_reg_demo_seed(const struct jpki_reg_ctx *ctx,
			    const struct jpki_seed_opts *o,
			    struct jpki_seed_report *rep, struct jpki_reg_msg *m)
{
	struct seeder sd = {
	    .ctx = ctx, .o = o, .rep = rep, .rng = o->seed, .history = o->history_from};
	struct jpki_card *cards[BATCH];
	static char paths[BATCH][PATH_MAX];
	size_t ncards = 0;
	jpki_err rc;
	memset(rep, 0, sizeof *rep);
	if (o->residents == 0 || o->residents > 10000000)
		return jpkii_reg_fail(m, JPKI_ERR_INVALID, "bad_input",
				      "--residents must be 1 to 10000000",
				      "住民数は 1〜10000000 です");
	if (mkdir(o->cards_dir, 0700) != 0 && errno != EEXIST)
		return jpkii_reg_fail(m, JPKI_ERR_IO, "io", "%s: %s", "%s: %s",
				      o->cards_dir, strerror(errno));
	if (realpath(o->cards_dir, sd.cards_dir) == NULL)
		return jpkii_reg_fail(m, JPKI_ERR_IO, "io", "%s: %s", "%s: %s",
				      o->cards_dir, strerror(errno));
	if ((rc = jpkii_reg_ca(ctx, &sd.ca, m)) || (rc = load_issuers(&sd, m)))
		goto out;
	for (int k = 0; k < 2; k++) {
		char *pem = NULL;
		struct jpki_errbuf eb = {{0}};
		if ((rc = jpki_ca_cert_pem(sd.ca, k == 0 ? "auth" : "sign", &pem,
					   &eb)) == JPKI_OK)
			rc = der_of_pem_nb(pem, &sd.ca_der[k], &sd.ca_len[k],
					   &sd.history);
		free(pem);
		if (rc != JPKI_OK) {
			jpkii_reg_eb_fail(m, rc, "ca", &eb);
			goto out;
		}
	}
	sd.npool = o->key_pool ? o->key_pool : 16;
	if (sd.npool > 64)
		sd.npool = 64;
	if ((sd.pool = calloc(sd.npool, sizeof *sd.pool)) == NULL) {
		rc = JPKI_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < sd.npool; i++) {
		if ((sd.pool[i] = EVP_RSA_gen(2048)) == NULL ||
		    (sd.pool_pem[i] = pubkey_pem(sd.pool[i], &sd.pool_pem_len[i])) ==
			NULL) {
			rc = jpkii_reg_fail(m, JPKI_ERR_CRYPTO, "crypto",
					    "cannot generate the key pool",
					    "鍵を生成できません");
			goto out;
		}
	}
	for (size_t done = 0; done < o->residents;) {
		size_t n = o->residents - done < BATCH ? o->residents - done : BATCH;
		ncards = 0;
		if ((rc = jpki_store_begin(ctx->store))) {
			jpkii_reg_store_fail(ctx, m, rc);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if ((rc = seed_one(&sd, cards, paths, &ncards, m)))
				goto out;
		char details[96];
		snprintf(details, sizeof details,
			 "{\"from\":%zu,\"residents\":%zu,\"seed\":%" PRIu64 "}", done,
			 n, o->seed);
		if ((rc = jpkii_reg_audit_commit(ctx, "demo.seed", "registry", details,
						 m)))
			goto out;
		for (size_t i = 0; i < ncards; i++) {
			struct jpki_errbuf eb = {{0}};
			rc = jpki_card_save_as(cards[i], paths[i], false, &eb);
			jpki_card_close(cards[i]);
			cards[i] = NULL;
			if (rc != JPKI_OK) {
				jpkii_reg_eb_fail(m, rc, "card", &eb);
				for (size_t j = i + 1; j < ncards; j++)
					jpki_card_close(cards[j]);
				ncards = 0;
				goto out;
			}
		}
		ncards = 0;
		done += n;
		if (o->progress)
			o->progress(done, o->residents, o->progress_arg);
	}
	rc = JPKI_OK;
out:
	jpki_store_rollback(ctx->store);
	for (size_t i = 0; i < ncards; i++)
		jpki_card_close(cards[i]);
	for (size_t i = 0; i < sd.nmunis && i < 64; i++)
		jpki_card_issuer_key_free(sd.issuer_key[i]);
	for (size_t i = 0; i < 64; i++)
		free(sd.pool_pem[i]);
	free_pool(sd.pool, sd.pool ? sd.npool : 0);
	free(sd.ca_der[0]);
	free(sd.ca_der[1]);
	free(sd.munis);
	jpki_ca_close(sd.ca);
	return rc;
}
