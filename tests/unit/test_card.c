/* The virtual My Number card (lib/card; include/jpki/card.h): the APDU
 * contract, session state, PIN counters on disk, issuer operations, the
 * terminal helpers and the card file.
 *
 * Everything is checked from outside, as a reader would: APDUs in, data
 * and status words out. Signatures are checked with OpenSSL against the
 * public keys the card hands out, issuer authentication is done both with
 * jpki_term_issuer_auth and by hand (GET CHALLENGE, Ed25519, EXTERNAL
 * AUTHENTICATE), and the 券面事項 TLV is rebuilt here independently.
 *
 * RSA key generation is slow under the sanitizers, so the signature tests
 * share one card whose two key pairs are generated on first use (keyed());
 * each of them starts with jpki_card_reset and uses only right PINs. Card
 * files live in one temporary directory, removed at the end. */
#include <dirent.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "jpki/card.h"
#include "jpki/date.h"
#include "jpki/err.h"
#include "jpki/pin.h"
#include "banned.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define PATH_SZ 512

/* 2026-02-21T10:00:00+09:00 */
#define T0   INT64_C(1771635600)
#define ITER 1000u
#define MUNI "131016"

#define PIN_SIGN "ABC123"
#define PIN_AUTH "1234"
#define PIN_JUKI "5678"
#define PIN_TEXT "4321"

#define HOLDER_NAME    "山田花子"
#define HOLDER_ADDRESS "東京都千代田区霞が関一丁目一番一号"
#define HOLDER_NUMBER  "123456789012"

#define ISSUER_CONTEXT "openjpki-card-issuer-v1"
#define TOKEN_INFO     "JPKIAPICCTOKEN2                 " /* 15 + 17 spaces */

#define NO_LE (-1L)

/* Where each PIN lives, its right value, a wrong one and its maximum. */
static const struct pin_place {
	enum jpki_card_app app;
	uint16_t ef;
	const char *right, *wrong;
	int max;
} PINS[4] = {
    [JPKI_PIN_SIGN] = {JPKI_APP_JPKI, JPKI_EF_SIGN_PIN, PIN_SIGN, "ZZZ999", 5},
    [JPKI_PIN_AUTH] = {JPKI_APP_JPKI, JPKI_EF_AUTH_PIN, PIN_AUTH, "0000", 3},
    [JPKI_PIN_JUKI] = {JPKI_APP_JUKI, JPKI_EF_JUKI_PIN, PIN_JUKI, "0000", 3},
    [JPKI_PIN_TEXT] = {JPKI_APP_TEXT, JPKI_EF_TEXT_PIN, PIN_TEXT, "0000", 3},
};

static char g_dir[PATH_SZ];
static int g_files;

static EVP_PKEY *g_issuer; /* the card issuer's Ed25519 key */
static EVP_PKEY *g_other;  /* somebody else's Ed25519 key */
static uint8_t g_issuer_pub[32];

/* The shared card with both key pairs (keyed()), and its public keys as
 * read from the GENERATE response. */
static struct jpki_card *g_keyed;
static bool g_keyed_tried;
static EVP_PKEY *g_kpub[2];

/* The last response (data without SW) and a printable copy of the last
 * command, for failure messages. */
static uint8_t g_r[JPKI_CARD_RESP_MAX];
static size_t g_rn;
static char g_last[160];

#define assert_sw(expr, want)                                                          \
	do {                                                                           \
		uint16_t sw_ = (expr);                                                 \
		if (sw_ != (uint16_t)(want))                                           \
			fail_msg(                                                      \
			    "%s\n      last APDU %s\n      SW %04X, expected %04X",    \
			    #expr, g_last, (unsigned)sw_, (unsigned)(want));           \
	} while (0)

/* ---- APDUs ---- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Hex with optional spaces to bytes. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == ' ')
			continue;
		int v = hexval(*p);
		if (v < 0)
			fail_msg("bad hex \"%s\"", s);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			fail_msg("hex too long \"%s\"", s);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		fail_msg("odd hex \"%s\"", s);
	return n;
}

static void note_cmd(const uint8_t *cmd, size_t len)
{
	size_t o = 0, shown = len < 40 ? len : 40;
	g_last[0] = '\0';
	for (size_t i = 0; i < shown && o + 4 < sizeof g_last; i++)
		o += (size_t)snprintf(g_last + o, sizeof g_last - o, "%02X ", cmd[i]);
	if (shown < len)
		snprintf(g_last + o, sizeof g_last - o, "... (%zu bytes)", len);
}

/* Sends one command APDU; the response data is in g_r/g_rn. */
static uint16_t xmit(struct jpki_card *c, const uint8_t *cmd, size_t len)
{
	note_cmd(cmd, len);
	size_t n = jpki_card_apdu(c, cmd, len, g_r, sizeof g_r);
	if (n < 2 || n > sizeof g_r)
		fail_msg("APDU %s: response length %zu", g_last, n);
	g_rn = n - 2;
	return (uint16_t)(g_r[n - 2] << 8 | g_r[n - 1]);
}

/* A whole APDU as hex: apdu(c, "00 A4 04 0C 0A D3 92 ...") */
static uint16_t apdu(struct jpki_card *c, const char *hex)
{
	uint8_t cmd[600];
	size_t n = unhex(hex, cmd, sizeof cmd);
	return xmit(c, cmd, n);
}

/* Header (4 bytes hex), data, Le (NO_LE, 1..256 short, up to 65536
 * extended). Extended when the data or Le need it. */
static uint16_t cmdx(struct jpki_card *c, const char *hdr, const void *data,
		     size_t dlen, long le)
{
	static uint8_t buf[7 + 65536 + 2];
	size_t n = unhex(hdr, buf, 4);
	bool ext = dlen > 255 || le > 256;

	assert_int_equal(n, 4);
	assert_true(le != 0 && le <= 65536 && dlen <= 65535);
	if (dlen > 0) {
		if (ext) {
			buf[n++] = 0;
			buf[n++] = (uint8_t)(dlen >> 8);
		}
		buf[n++] = (uint8_t)dlen;
		memcpy(buf + n, data, dlen);
		n += dlen;
	}
	if (le > 0) {
		if (ext) {
			if (dlen == 0)
				buf[n++] = 0;
			buf[n++] = (uint8_t)((unsigned long)le >> 8);
		}
		buf[n++] = (uint8_t)le; /* 256 and 65536 encode as zeros */
	}
	return xmit(c, buf, n);
}

static const uint8_t *aid_of(enum jpki_card_app app)
{
	switch (app) {
	case JPKI_APP_JPKI:
		return jpki_aid_jpki;
	case JPKI_APP_TEXT:
		return jpki_aid_text;
	case JPKI_APP_JUKI:
		return jpki_aid_juki;
	default:
		fail_msg("no AID for app %d", (int)app);
	}
	return NULL;
}

static uint16_t select_app(struct jpki_card *c, enum jpki_card_app app)
{
	return cmdx(c, "00 A4 04 0C", aid_of(app), 10, NO_LE);
}

static uint16_t select_ef(struct jpki_card *c, uint16_t fid)
{
	uint8_t d[2] = {(uint8_t)(fid >> 8), (uint8_t)fid};
	return cmdx(c, "00 A4 02 0C", d, 2, NO_LE);
}

/* Selects an application and one of its EFs, both must succeed. */
static void sel(struct jpki_card *c, enum jpki_card_app app, uint16_t fid)
{
	assert_sw(select_app(c, app), 0x9000);
	assert_sw(select_ef(c, fid), 0x9000);
}

/* VERIFY on the current EF; NULL: the status query (no data). */
static uint16_t verify(struct jpki_card *c, const char *pin)
{
	return cmdx(c, "00 20 00 80", pin, pin ? strlen(pin) : 0, NO_LE);
}

/* Selects the PIN's application and EF (clearing every verified flag),
 * then VERIFY with pin (NULL: query). */
static uint16_t pin_op(struct jpki_card *c, enum jpki_pin_kind k, const char *pin)
{
	sel(c, PINS[k].app, PINS[k].ef);
	return verify(c, pin);
}

/* READ BINARY of the current EF with an extended Le of 65536: everything. */
static uint16_t read_all(struct jpki_card *c)
{
	return apdu(c, "00 B0 00 00 00 00 00");
}

static void assert_resp(const void *want, size_t n)
{
	if (g_rn != n)
		fail_msg("last APDU %s: %zu data bytes, expected %zu", g_last, g_rn, n);
	assert_memory_equal(g_r, want, n);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8) * 3u);
}

static void assert_ef(const struct jpki_card *c, enum jpki_card_app app, uint16_t fid,
		      const void *want, size_t n)
{
	size_t len = 99999;
	const uint8_t *p = jpki_card_ef(c, app, fid, &len);
	assert_int_equal(len, n);
	if (n == 0)
		assert_null(p);
	else
		assert_memory_equal(p, want, n);
}

/* ---- issuer authentication by hand ---- */

static void ed_sign(EVP_PKEY *k, const uint8_t *msg, size_t n, uint8_t sig[64])
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	size_t sl = 64;
	assert_non_null(m);
	assert_int_equal(EVP_DigestSignInit(m, NULL, NULL, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(m, sig, &sl, msg, n), 1);
	assert_int_equal(sl, 64);
	EVP_MD_CTX_free(m);
}

/* Ed25519 over "openjpki-card-issuer-v1" || challenge. */
static void issuer_sig(EVP_PKEY *k, const uint8_t *chal, size_t n, uint8_t sig[64])
{
	uint8_t msg[64];
	size_t pl = strlen(ISSUER_CONTEXT);
	assert_true(pl + n <= sizeof msg);
	memcpy(msg, ISSUER_CONTEXT, pl);
	memcpy(msg + pl, chal, n);
	ed_sign(k, msg, pl + n, sig);
}

/* GET CHALLENGE (16), sign with k, EXTERNAL AUTHENTICATE: its SW. */
static uint16_t issuer_auth_with(struct jpki_card *c, EVP_PKEY *k)
{
	uint8_t chal[16], sig[64];
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	assert_int_equal(g_rn, 16);
	memcpy(chal, g_r, 16);
	issuer_sig(k, chal, 16, sig);
	return cmdx(c, "00 82 00 00", sig, 64, NO_LE);
}

static void issuer_auth(struct jpki_card *c)
{
	assert_sw(issuer_auth_with(c, g_issuer), 0x9000);
}

/* Replaces a data EF's contents with UPDATE BINARY (issuer-authenticated
 * session required). Leaves the EF selected. */
static void put_ef(struct jpki_card *c, enum jpki_card_app app, uint16_t fid,
		   const uint8_t *data, size_t len)
{
	size_t cur = 0;
	sel(c, app, fid);
	(void)jpki_card_ef(c, app, fid, &cur);
	if (cur > 0)
		assert_sw(apdu(c, "00 0E 00 00"), 0x9000);
	assert_sw(cmdx(c, "00 D6 00 00", data, len, NO_LE), 0x9000);
	assert_ef(c, app, fid, data, len);
}

/* ---- cards ---- */

static void init_default(struct jpki_card_init *in)
{
	memset(in, 0, sizeof *in);
	in->pin[JPKI_PIN_SIGN] = PIN_SIGN;
	in->pin[JPKI_PIN_AUTH] = PIN_AUTH;
	in->pin[JPKI_PIN_JUKI] = PIN_JUKI;
	in->pin[JPKI_PIN_TEXT] = PIN_TEXT;
	in->issuer_pub = g_issuer_pub;
	in->municipality = MUNI;
	in->holder_birth = JPKI_DAY_NONE;
	in->holder_sex = 0;
	in->now = T0;
	in->pbkdf2_iterations = ITER;
}

static jpki_day day_of(int y, int m, int d)
{
	jpki_day out = 0;
	assert_int_equal(jpki_day_from_ymd(y, m, d, &out), JPKI_OK);
	return out;
}

static void init_holder(struct jpki_card_init *in)
{
	init_default(in);
	in->holder_name = HOLDER_NAME;
	in->holder_address = HOLDER_ADDRESS;
	in->holder_birth = day_of(1985, 4, 1);
	in->holder_sex = 2;
	in->holder_number = HOLDER_NUMBER;
}

static struct jpki_card *card_from(const struct jpki_card_init *in)
{
	struct jpki_card *c = NULL;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_card_create_memory(in, &c, &eb);
	if (e != JPKI_OK)
		fail_msg("jpki_card_create_memory: %s: %s", jpki_strerror(e), eb.msg);
	assert_non_null(c);
	return c;
}

static struct jpki_card *new_card(void)
{
	struct jpki_card_init in;
	init_default(&in);
	return card_from(&in);
}

static struct jpki_card *new_holder_card(void)
{
	struct jpki_card_init in;
	init_holder(&in);
	return card_from(&in);
}

/* ---- RSA ---- */

/* The 7F49 template of GENERATE: exactly
 * 7F49 82 0109 { 81 82 0100 <modulus> 82 03 010001 }, 270 bytes. */
static void parse_template(const uint8_t *t, size_t n, uint8_t mod[256])
{
	static const uint8_t head[9] = {0x7F, 0x49, 0x82, 0x01, 0x09,
					0x81, 0x82, 0x01, 0x00};
	static const uint8_t tail[5] = {0x82, 0x03, 0x01, 0x00, 0x01};
	assert_int_equal(n, 270);
	assert_memory_equal(t, head, sizeof head);
	assert_memory_equal(t + 9 + 256, tail, sizeof tail);
	assert_true(t[9] & 0x80); /* a 2048-bit modulus */
	assert_true(t[9 + 255] & 0x01);
	memcpy(mod, t + 9, 256);
}

static EVP_PKEY *rsa_pub(const uint8_t mod[256])
{
	static const uint8_t e65537[3] = {0x01, 0x00, 0x01};
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	BIGNUM *n = BN_bin2bn(mod, 256, NULL), *e = BN_bin2bn(e65537, 3, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pk = NULL;

	assert_true(b && n && e && ctx);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e), 1);
	params = OSSL_PARAM_BLD_to_param(b);
	assert_non_null(params);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* The modulus of an RSA key, 256 bytes big-endian. */
static void rsa_modulus(EVP_PKEY *pk, uint8_t mod[256])
{
	BIGNUM *n = NULL;
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n), 1);
	assert_int_equal(BN_bn2binpad(n, mod, 256), 256);
	BN_free(n);
}

/* A DER SPKI that must be an RSA-2048 key with e = 65537. */
static EVP_PKEY *spki_rsa2048(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)len);
	BIGNUM *e = NULL;
	assert_non_null(pk);
	assert_true(p == der + len); /* nothing after it */
	assert_int_equal(EVP_PKEY_get_base_id(pk), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(pk), 2048);
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e), 1);
	assert_true(BN_is_word(e, 65537));
	BN_free(e);
	return pk;
}

/* PKCS#1 v1.5 type 1 over exactly tbs (no hashing by OpenSSL). */
static bool rsa_raw_ok(EVP_PKEY *pk, const uint8_t *sig, size_t sl, const uint8_t *tbs,
		       size_t tl)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0);
	int r = EVP_PKEY_verify(ctx, sig, sl, tbs, tl);
	EVP_PKEY_CTX_free(ctx);
	return r == 1;
}

/* What a relying party does: RSA PKCS#1 v1.5 with SHA-256 over msg. */
static bool rsa_sha256_ok(EVP_PKEY *pk, const uint8_t *sig, size_t sl, const void *msg,
			  size_t ml)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	assert_non_null(m);
	assert_int_equal(EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, pk), 1);
	int r = EVP_DigestVerify(m, sig, sl, msg, ml);
	EVP_MD_CTX_free(m);
	return r == 1;
}

#define DI_LEN 51

/* The SHA-256 DigestInfo of msg. */
static void digest_info(const char *msg, uint8_t out[DI_LEN])
{
	static const uint8_t prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
					   0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					   0x01, 0x05, 0x00, 0x04, 0x20};
	unsigned int hl = 0;
	memcpy(out, prefix, sizeof prefix);
	assert_int_equal(
	    EVP_Digest(msg, strlen(msg), out + 19, &hl, EVP_sha256(), NULL), 1);
	assert_int_equal(hl, 32);
}

/* The shared card with both key pairs, reset. Made on first use, by hand
 * (GENERATE with an extended Le), so that the signature tests depend on
 * the APDUs and not on the terminal helpers. */
static struct jpki_card *keyed(void)
{
	static const uint16_t key_ef[2] = {
	    [JPKI_KEY_SIGN] = JPKI_EF_SIGN_KEY, [JPKI_KEY_AUTH] = JPKI_EF_AUTH_KEY};
	uint8_t mod[256];

	if (g_keyed != NULL) {
		jpki_card_reset(g_keyed);
		return g_keyed;
	}
	if (g_keyed_tried)
		fail_msg("the shared card with keys could not be made (see the first "
			 "failure)");
	g_keyed_tried = true;
	struct jpki_card *c = new_card();
	issuer_auth(c);
	for (int k = 0; k < 2; k++) {
		sel(c, JPKI_APP_JPKI, key_ef[k]);
		assert_sw(apdu(c, "00 47 80 00 00 00 00"), 0x9000);
		parse_template(g_r, g_rn, mod);
		g_kpub[k] = rsa_pub(mod);
	}
	jpki_card_reset(c);
	g_keyed = c;
	return c;
}

/* ---- files ---- */

static int rm_tree(const char *path)
{
	char child[PATH_SZ];
	struct stat st;
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int n = snprintf(child, sizeof child, "%s/%s", path, e->d_name);
		if (n < 0 || (size_t)n >= sizeof child)
			continue;
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(child);
		else
			unlink(child);
	}
	closedir(d);
	return rmdir(path);
}

static void fresh_path(char path[static PATH_SZ])
{
	int n = snprintf(path, PATH_SZ, "%s/card%03d.jpkicard", g_dir, ++g_files);
	assert_true(n > 0 && n < PATH_SZ);
}

static void fresh_subdir(char dir[static PATH_SZ])
{
	int n = snprintf(dir, PATH_SZ, "%s/d%03d-XXXXXX", g_dir, ++g_files);
	assert_true(n > 0 && n < PATH_SZ);
	assert_non_null(mkdtemp(dir));
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	assert_non_null(f);
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	assert_int_equal(ferror(f), 0);
	fclose(f);
	*len = n;
	return buf;
}

static void spit(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	if (len > 0)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void create_file(const char *path, const struct jpki_card_init *in,
			struct jpki_card **out)
{
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_card_create(path, in, out, &eb);
	if (e != JPKI_OK)
		fail_msg("jpki_card_create %s: %s: %s", path, jpki_strerror(e), eb.msg);
	if (out != NULL)
		assert_non_null(*out);
}

static struct jpki_card *open_file(const char *path, bool lock)
{
	struct jpki_card *c = NULL;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_card_open(path, lock, &c, &eb);
	if (e != JPKI_OK)
		fail_msg("jpki_card_open %s: %s: %s", path, jpki_strerror(e), eb.msg);
	assert_non_null(c);
	return c;
}

static jpki_err open_err(const char *path, bool lock)
{
	struct jpki_card *c = NULL;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_card_open(path, lock, &c, &eb);
	if (e == JPKI_OK)
		jpki_card_close(c);
	else
		assert_true(eb.msg[0] != '\0'); /* a reason is given */
	return e;
}

static void assert_mode_0600(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != 0600)
		fail_msg("%s: mode %04o, expected 0600", path,
			 (unsigned)(st.st_mode & 07777));
}

/* ---- fixture ---- */

static int group_setup(void **state)
{
	size_t pl = sizeof g_issuer_pub;
	(void)state;
	int n = snprintf(g_dir, sizeof g_dir, "/tmp/jpki-test-card-XXXXXX");
	if (n < 0 || (size_t)n >= sizeof g_dir || mkdtemp(g_dir) == NULL)
		return -1;
	g_issuer = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	g_other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (g_issuer == NULL || g_other == NULL)
		return -1;
	if (EVP_PKEY_get_raw_public_key(g_issuer, g_issuer_pub, &pl) != 1 || pl != 32)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (g_keyed != NULL)
		jpki_card_close(g_keyed);
	for (int k = 0; k < 2; k++)
		EVP_PKEY_free(g_kpub[k]);
	EVP_PKEY_free(g_issuer);
	EVP_PKEY_free(g_other);
	return rm_tree(g_dir);
}

/* ==== constants, info ==== */

static void test_constants(void **state)
{
	static const uint8_t atr[9] = {0x3B, 0xE0, 0x00, 0xFF, 0x81,
				       0x31, 0xFE, 0x45, 0x14};
	static const uint8_t aj[10] = {0xD3, 0x92, 0xF0, 0x00, 0x26,
				       0x01, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t at[10] = {0xD3, 0x92, 0x10, 0x00, 0x31,
				       0x00, 0x01, 0x01, 0x04, 0x08};
	static const uint8_t au[10] = {0xD3, 0x92, 0x10, 0x00, 0x31,
				       0x00, 0x01, 0x01, 0x04, 0x01};
	(void)state;
	assert_int_equal(JPKI_CARD_ATR_LEN, 9);
	assert_memory_equal(jpki_card_atr, atr, 9);
	assert_memory_equal(jpki_aid_jpki, aj, 10);
	assert_memory_equal(jpki_aid_text, at, 10);
	assert_memory_equal(jpki_aid_juki, au, 10);

	assert_int_equal(jpki_pin_kind_parse("sign"), JPKI_PIN_SIGN);
	assert_int_equal(jpki_pin_kind_parse("auth"), JPKI_PIN_AUTH);
	assert_int_equal(jpki_pin_kind_parse("juki"), JPKI_PIN_JUKI);
	assert_int_equal(jpki_pin_kind_parse("text"), JPKI_PIN_TEXT);
	assert_int_equal(jpki_pin_kind_parse("SIGN"), -1);
	assert_int_equal(jpki_pin_kind_parse(""), -1);
	assert_int_equal(jpki_pin_kind_parse("signx"), -1);
	assert_string_equal(jpki_pin_kind_name(JPKI_PIN_SIGN), "sign");
	assert_string_equal(jpki_pin_kind_name(JPKI_PIN_AUTH), "auth");
	assert_string_equal(jpki_pin_kind_name(JPKI_PIN_JUKI), "juki");
	assert_string_equal(jpki_pin_kind_name(JPKI_PIN_TEXT), "text");
	assert_int_equal(jpki_pin_max_tries(JPKI_PIN_SIGN), 5);
	assert_int_equal(jpki_pin_max_tries(JPKI_PIN_TEXT), 3);
}

static void assert_serial(const char *s)
{
	assert_int_equal(strlen(s), 32);
	for (size_t i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			fail_msg("serial \"%s\": '%c' at %zu", s, s[i], i);
}

static void test_info(void **state)
{
	struct jpki_card *a = new_card(), *b = new_card();
	struct jpki_card_info ia, ib;
	(void)state;

	memset(&ia, 0x5A, sizeof ia);
	jpki_card_info(a, &ia);
	jpki_card_info(b, &ib);
	assert_serial(ia.serial);
	assert_serial(ib.serial);
	assert_string_not_equal(ia.serial, ib.serial);
	assert_string_equal(ia.municipality, MUNI);
	assert_int_equal(ia.created, T0);
	assert_false(ia.has_key[JPKI_KEY_SIGN]);
	assert_false(ia.has_key[JPKI_KEY_AUTH]);
	for (int k = 0; k < 4; k++) {
		assert_true(ia.pin[k].set);
		assert_false(ia.pin[k].blocked);
		assert_int_equal(ia.pin[k].max_tries, PINS[k].max);
		assert_int_equal(ia.pin[k].tries_left, PINS[k].max);
	}
	assert_memory_equal(jpki_card_issuer_pub(a), g_issuer_pub, 32);

	/* The counters follow the card. */
	assert_sw(pin_op(a, JPKI_PIN_TEXT, "0000"), 0x63C2);
	assert_sw(pin_op(a, JPKI_PIN_SIGN, "ZZZ999"), 0x63C4);
	for (int i = 0; i < 3; i++)
		(void)pin_op(a, JPKI_PIN_JUKI, "0000");
	jpki_card_info(a, &ia);
	assert_int_equal(ia.pin[JPKI_PIN_TEXT].tries_left, 2);
	assert_false(ia.pin[JPKI_PIN_TEXT].blocked);
	assert_int_equal(ia.pin[JPKI_PIN_SIGN].tries_left, 4);
	assert_int_equal(ia.pin[JPKI_PIN_JUKI].tries_left, 0);
	assert_true(ia.pin[JPKI_PIN_JUKI].blocked);
	assert_int_equal(ia.pin[JPKI_PIN_AUTH].tries_left, 3);
	jpki_card_close(a);
	jpki_card_close(b);

	/* A card without a signing PIN. */
	struct jpki_card_init in;
	init_default(&in);
	in.pin[JPKI_PIN_SIGN] = NULL;
	a = card_from(&in);
	jpki_card_info(a, &ia);
	assert_false(ia.pin[JPKI_PIN_SIGN].set);
	assert_true(ia.pin[JPKI_PIN_AUTH].set);
	jpki_card_close(a);

	/* With keys (the shared card). */
	b = keyed();
	jpki_card_info(b, &ib);
	assert_true(ib.has_key[JPKI_KEY_SIGN]);
	assert_true(ib.has_key[JPKI_KEY_AUTH]);
}

/* ==== framing ==== */

static void test_framing_lengths(void **state)
{
	struct jpki_card *c = new_card();
	uint8_t none[1] = {0};
	(void)state;

	assert_sw(xmit(c, none, 0), 0x6700);
	assert_sw(apdu(c, "00"), 0x6700);
	assert_sw(apdu(c, "00 A4 04"), 0x6700);
	/* Lc 10, 3 bytes of data. */
	assert_sw(apdu(c, "00 A4 04 0C 0A D3 92 F0"), 0x6700);
	/* Lc 2, but 4 bytes follow it (neither case 3 nor case 4). */
	assert_sw(apdu(c, "00 A4 04 0C 02 D3 92 F0 00"), 0x6700);
	/* Lc 10 with 12 bytes of data. */
	assert_sw(apdu(c, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01 00 00"),
		  0x6700);
	/* Byte 4 zero and six bytes: neither short nor extended. */
	assert_sw(apdu(c, "00 B0 00 00 00 00"), 0x6700);
	/* Extended Lc 10 with 5 bytes of data. */
	assert_sw(apdu(c, "00 A4 04 0C 00 00 0A D3 92 F0 00 26"), 0x6700);
	/* Extended case 4 with a one-byte Le. */
	assert_sw(apdu(c, "00 A4 04 0C 00 00 0A D3 92 F0 00 26 01 00 00 00 01 00"),
		  0x6700);
	/* Extended Lc 0000 followed by a Le (ISO 7816-4: Lc is never 0). */
	assert_sw(apdu(c, "00 B0 00 00 00 00 00 00 20"), 0x6700);
	/* None of those selected anything. */
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x6A82);
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	jpki_card_close(c);
}

static void test_framing_cla_ins(void **state)
{
	struct jpki_card *c = new_card();
	(void)state;

	assert_sw(apdu(c, "A0 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"), 0x6E00);
	assert_sw(apdu(c, "0C A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"), 0x6E00);
	assert_sw(apdu(c, "FF A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"), 0x6E00);
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x6A82); /* nothing selected */
	/* CLA 80 works for any INS. */
	assert_sw(apdu(c, "80 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"), 0x9000);
	assert_sw(apdu(c, "80 A4 02 0C 02 00 06"), 0x9000);
	assert_sw(apdu(c, "80 B0 00 00 0F"), 0x9000);
	assert_resp("JPKIAPICCTOKEN2", 15);

	assert_sw(apdu(c, "00 FE 00 00"), 0x6D00);
	assert_sw(apdu(c, "00 CA 01 00 00"), 0x6D00);
	assert_sw(apdu(c, "00 B2 01 04 00"), 0x6D00);
	assert_sw(apdu(c, "80 FE 00 00 01 00"), 0x6D00);
	jpki_card_close(c);
}

static void test_framing_extended(void **state)
{
	struct jpki_card *c = new_card();
	uint8_t blob[1200];
	(void)state;

	fill(blob, sizeof blob, 1);
	issuer_auth(c);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, blob, sizeof blob);
	jpki_card_reset(c);

	/* Case 3E SELECT by AID, case 4E SELECT of an EF. */
	assert_sw(apdu(c, "00 A4 04 0C 00 00 0A D3 92 F0 00 26 01 00 00 00 01"),
		  0x9000);
	assert_int_equal(g_rn, 0);
	assert_sw(apdu(c, "00 A4 02 0C 00 00 02 00 0A 00 00"), 0x9000);
	assert_int_equal(g_rn, 0);
	/* Case 2E, Le 0000 = 65536: the whole certificate, short of Ne. */
	assert_sw(apdu(c, "00 B0 00 00 00 00 00"), 0x6282);
	assert_resp(blob, sizeof blob);
	/* Exactly its size. */
	assert_sw(apdu(c, "00 B0 00 00 00 04 B0"), 0x9000);
	assert_resp(blob, sizeof blob);
	/* Extended Le of 256 and 300. */
	assert_sw(apdu(c, "00 B0 00 00 00 01 00"), 0x9000);
	assert_resp(blob, 256);
	assert_sw(apdu(c, "00 B0 00 64 00 01 2C"), 0x9000);
	assert_resp(blob + 100, 300);
	/* From offset 1024: 176 left. */
	assert_sw(apdu(c, "00 B0 04 00 00 01 00"), 0x6282);
	assert_resp(blob + 1024, 176);
	/* Short Le 00 = 256. */
	assert_sw(apdu(c, "00 B0 01 00 00"), 0x9000);
	assert_resp(blob + 256, 256);
	jpki_card_close(c);
}

static void test_get_response(void **state)
{
	struct jpki_card *f = new_card();
	uint8_t full[270], part[270];
	(void)state;

	assert_sw(apdu(f, "00 C0 00 00 10"), 0x6985);
	jpki_card_close(f);

	struct jpki_card *c = keyed();
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_KEY);
	/* The reference: the template in one extended response. */
	assert_sw(apdu(c, "00 47 81 00 00 00 00"), 0x9000);
	assert_int_equal(g_rn, 270);
	memcpy(full, g_r, 270);

	/* Short Le 00: 256 bytes, 14 pending; then in pieces. */
	assert_sw(apdu(c, "00 47 81 00 00"), 0x610E);
	assert_int_equal(g_rn, 256);
	memcpy(part, g_r, 256);
	assert_sw(apdu(c, "00 C0 00 00 04"), 0x610A);
	assert_int_equal(g_rn, 4);
	memcpy(part + 256, g_r, 4);
	assert_sw(apdu(c, "00 C0 00 00 0A"), 0x9000);
	assert_int_equal(g_rn, 10);
	memcpy(part + 260, g_r, 10);
	assert_memory_equal(part, full, 270);
	assert_sw(apdu(c, "00 C0 00 00 00"), 0x6985); /* nothing left */

	/* Case 1 (Ne 0): no data, 61 00 (270 pending, >= 256). */
	assert_sw(apdu(c, "00 47 81 00"), 0x6100);
	assert_int_equal(g_rn, 0);
	assert_sw(apdu(c, "00 C0 00 00 00"), 0x610E);
	assert_resp(full, 256);
	/* Le 256 with 14 left: the 14 and done. */
	assert_sw(apdu(c, "00 C0 00 00 00"), 0x9000);
	assert_resp(full + 256, 14);

	/* Any other command drops what is pending. */
	assert_sw(apdu(c, "00 47 81 00 00"), 0x610E);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	assert_sw(apdu(c, "00 C0 00 00 0E"), 0x6985);
	assert_sw(apdu(c, "00 47 81 00 00"), 0x610E);
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6981); /* even a failing one */
	assert_sw(apdu(c, "00 C0 00 00 0E"), 0x6985);
	/* And so does a reset. */
	assert_sw(apdu(c, "00 47 81 00 00"), 0x610E);
	jpki_card_reset(c);
	assert_sw(apdu(c, "00 C0 00 00 0E"), 0x6985);

	/* P1P2 other than 0000. */
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_KEY);
	assert_sw(apdu(c, "00 47 81 00 00"), 0x610E);
	assert_sw(apdu(c, "00 C0 00 01 0E"), 0x6A86);
	assert_sw(apdu(c, "00 47 81 00 00"), 0x610E);
	assert_sw(apdu(c, "00 C0 01 00 0E"), 0x6A86);
}

/* ==== SELECT ==== */

static void test_select_aids(void **state)
{
	static const enum jpki_card_app apps[] = {JPKI_APP_JPKI, JPKI_APP_TEXT,
						  JPKI_APP_JUKI};
	struct jpki_card *c = new_card();
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(apps); i++) {
		assert_sw(select_app(c, apps[i]), 0x9000);
		assert_int_equal(g_rn, 0);
		/* P2 00 and a Le: still no FCI. */
		assert_sw(cmdx(c, "00 A4 04 00", aid_of(apps[i]), 10, 256), 0x9000);
		assert_int_equal(g_rn, 0);
		assert_sw(cmdx(c, "80 A4 04 0C", aid_of(apps[i]), 10, NO_LE), 0x9000);
	}
	/* Each AID selected its own application. */
	assert_sw(select_app(c, JPKI_APP_JUKI), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_JUKI_PIN), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x6A82);
	assert_sw(select_app(c, JPKI_APP_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_JUKI_PIN), 0x6A82);
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x6A82);
	jpki_card_close(c);
}

static void test_select_errors(void **state)
{
	struct jpki_card *c = new_card();
	(void)state;

	/* No application: no EF. */
	assert_sw(apdu(c, "00 A4 02 0C 02 00 06"), 0x6A82);
	assert_sw(apdu(c, "00 A4 02 0C 02 00 1B"), 0x6A82);
	/* PIV, a prefix of the JPKI AID, the JPKI AID plus a byte. */
	assert_sw(apdu(c, "00 A4 04 0C 09 A0 00 00 03 08 00 00 10 00"), 0x6A82);
	assert_sw(apdu(c, "00 A4 04 0C 05 D3 92 F0 00 26"), 0x6A82);
	assert_sw(apdu(c, "00 A4 04 0C 0B D3 92 F0 00 26 01 00 00 00 01 00"), 0x6A82);
	assert_sw(apdu(c, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 02"), 0x6A82);
	/* P1 and P2. */
	assert_sw(apdu(c, "00 A4 00 0C 0A D3 92 F0 00 26 01 00 00 00 01"), 0x6A86);
	assert_sw(apdu(c, "00 A4 08 0C 0A D3 92 F0 00 26 01 00 00 00 01"), 0x6A86);
	assert_sw(apdu(c, "00 A4 04 04 0A D3 92 F0 00 26 01 00 00 00 01"), 0x6A86);
	assert_sw(apdu(c, "00 A4 04 0D 0A D3 92 F0 00 26 01 00 00 00 01"), 0x6A86);
	assert_sw(apdu(c, "00 A4 04 02 0A D3 92 F0 00 26 01 00 00 00 01"), 0x6A86);
	/* Still nothing selected. */
	assert_sw(apdu(c, "00 A4 02 0C 02 00 06"), 0x6A82);

	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(apdu(c, "00 A4 02 04 02 00 06"), 0x6A86);
	assert_sw(apdu(c, "00 A4 00 0C 02 00 06"), 0x6A86);
	/* Lc must be 2 for an EF. */
	assert_sw(apdu(c, "00 A4 02 0C 01 06"), 0x6700);
	assert_sw(apdu(c, "00 A4 02 0C 03 00 00 06"), 0x6700);
	/* FIDs of other applications, and made-up ones. */
	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x6A82);
	assert_sw(select_ef(c, JPKI_EF_JUKI_PIN), 0x6A82);
	assert_sw(select_ef(c, 0x0003), 0x6A82);
	assert_sw(select_ef(c, 0x3F00), 0x6A82);
	assert_sw(select_app(c, JPKI_APP_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x6A82);
	assert_sw(select_ef(c, JPKI_EF_AUTH_PIN), 0x6A82);
	assert_sw(select_ef(c, JPKI_EF_JUKI_PIN), 0x6A82);
	assert_sw(select_app(c, JPKI_APP_JUKI), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_AUTH_PIN), 0x6A82);
	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x6A82);
	assert_sw(select_ef(c, 0x0001), 0x6A82);
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x6A82);
	jpki_card_close(c);
}

static void test_select_failed_changes_nothing(void **state)
{
	struct jpki_card *c = new_holder_card();
	(void)state;

	assert_sw(pin_op(c, JPKI_PIN_TEXT, PIN_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_resp(HOLDER_NUMBER, 12);

	/* Unknown AID: the app, the EF and the verified PIN stay. */
	assert_sw(apdu(c, "00 A4 04 0C 09 A0 00 00 03 08 00 00 10 00"), 0x6A82);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_resp(HOLDER_NUMBER, 12);
	/* FID not in the app. */
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x6A82);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_resp(HOLDER_NUMBER, 12);
	/* Bad P2, bad Lc. */
	assert_sw(cmdx(c, "00 A4 04 04", jpki_aid_jpki, 10, NO_LE), 0x6A86);
	assert_sw(apdu(c, "00 A4 02 0C 01 02"), 0x6700);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_resp(HOLDER_NUMBER, 12);
	/* The text AP is still the selected one. */
	assert_sw(select_ef(c, JPKI_EF_TEXT_ATTRS), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_AUTH_PIN), 0x6A82);
	jpki_card_close(c);
}

static void test_select_empty_efs(void **state)
{
	static const uint16_t data_efs[] = {JPKI_EF_SIGN_CERT, JPKI_EF_SIGN_CA,
					    JPKI_EF_AUTH_CERT, JPKI_EF_AUTH_CA};
	static const uint16_t always[] = {JPKI_EF_TOKEN_INFO, JPKI_EF_AUTH_KEY,
					  JPKI_EF_AUTH_PIN, JPKI_EF_SIGN_KEY,
					  JPKI_EF_SIGN_PIN};
	struct jpki_card *c = new_card();
	(void)state;

	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	for (size_t i = 0; i < ARRAY_LEN(data_efs); i++)
		assert_sw(select_ef(c, data_efs[i]), 0x6A82);
	for (size_t i = 0; i < ARRAY_LEN(always); i++)
		assert_sw(select_ef(c, always[i]), 0x9000);
	assert_sw(select_app(c, JPKI_APP_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x6A82);
	assert_sw(select_ef(c, JPKI_EF_TEXT_ATTRS), 0x6A82);
	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x9000);
	assert_sw(select_app(c, JPKI_APP_JUKI), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_JUKI_PIN), 0x9000);

	/* Issuer-authenticated, the empty EFs can be selected (to write). */
	issuer_auth(c);
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	for (size_t i = 0; i < ARRAY_LEN(data_efs); i++)
		assert_sw(select_ef(c, data_efs[i]), 0x9000);
	/* Reading one: offset 0 is beyond its size 0. */
	assert_sw(select_ef(c, JPKI_EF_AUTH_CA), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6B00);
	assert_sw(select_app(c, JPKI_APP_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_ATTRS), 0x9000);

	/* Without it again: 6A82. */
	jpki_card_reset(c);
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_AUTH_CERT), 0x6A82);
	jpki_card_close(c);
}

static void test_select_aid_clears_ef(void **state)
{
	struct jpki_card *c = new_card();
	(void)state;

	sel(c, JPKI_APP_JPKI, JPKI_EF_TOKEN_INFO);
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x9000);
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000); /* the same AP again */
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6986);
	assert_sw(verify(c, NULL), 0x6986);
	assert_sw(select_ef(c, JPKI_EF_AUTH_PIN), 0x9000);
	assert_sw(select_app(c, JPKI_APP_TEXT), 0x9000);
	assert_sw(verify(c, NULL), 0x6986);
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6986);
	jpki_card_close(c);
}

/* ==== READ BINARY ==== */

static void test_read_token_info(void **state)
{
	struct jpki_card *c = new_card();
	(void)state;

	assert_int_equal(strlen(TOKEN_INFO), 32);
	sel(c, JPKI_APP_JPKI, JPKI_EF_TOKEN_INFO);
	assert_sw(apdu(c, "00 B0 00 00 20"), 0x9000);
	assert_resp(TOKEN_INFO, 32);
	assert_sw(apdu(c, "00 B0 00 00 00"), 0x6282); /* Ne 256 */
	assert_resp(TOKEN_INFO, 32);
	assert_sw(apdu(c, "00 B0 00 00 0F"), 0x9000);
	assert_resp("JPKIAPICCTOKEN2", 15);
	assert_sw(apdu(c, "00 B0 00 04 05"), 0x9000);
	assert_resp("APICC", 5);
	assert_sw(apdu(c, "00 B0 00 0E 02"), 0x9000);
	assert_resp("2 ", 2);
	assert_sw(apdu(c, "00 B0 00 1F 01"), 0x9000);
	assert_resp(" ", 1);
	assert_sw(apdu(c, "00 B0 00 1C 08"), 0x6282);
	assert_resp("    ", 4);
	assert_sw(apdu(c, "00 B0 00 20 01"), 0x6B00);
	assert_int_equal(g_rn, 0);
	assert_sw(apdu(c, "00 B0 01 00 01"), 0x6B00);
	assert_sw(apdu(c, "00 B0 7F FF 01"), 0x6B00);
	jpki_card_close(c);
}

static void test_read_errors(void **state)
{
	static const uint16_t no_read[] = {JPKI_EF_AUTH_PIN, JPKI_EF_SIGN_PIN,
					   JPKI_EF_AUTH_KEY, JPKI_EF_SIGN_KEY};
	struct jpki_card *c = new_card();
	(void)state;

	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6986); /* nothing selected */
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6986); /* no EF */
	for (size_t i = 0; i < ARRAY_LEN(no_read); i++) {
		assert_sw(select_ef(c, no_read[i]), 0x9000);
		assert_sw(apdu(c, "00 B0 00 00 01"), 0x6981);
	}
	sel(c, JPKI_APP_TEXT, JPKI_EF_TEXT_PIN);
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6981);
	sel(c, JPKI_APP_JUKI, JPKI_EF_JUKI_PIN);
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6981);

	sel(c, JPKI_APP_JPKI, JPKI_EF_TOKEN_INFO);
	assert_sw(apdu(c, "00 B0 00 00"), 0x6700); /* case 1 */
	assert_sw(apdu(c, "00 B0 80 00 01"), 0x6A86);
	assert_sw(apdu(c, "00 B0 86 00 01"), 0x6A86);
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x9000);
	assert_resp("J", 1);
	jpki_card_close(c);
}

static void test_read_sign_cert_needs_sign_pin(void **state)
{
	struct jpki_card *c = new_card();
	uint8_t cert[1200], ca[900], auth[1100];
	(void)state;

	fill(cert, sizeof cert, 2);
	fill(ca, sizeof ca, 3);
	fill(auth, sizeof auth, 4);
	issuer_auth(c);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT, cert, sizeof cert);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CA, ca, sizeof ca);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, auth, sizeof auth);
	jpki_card_reset(c);

	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT); /* selectable: it has data */
	assert_sw(read_all(c), 0x6982);
	assert_int_equal(g_rn, 0);
	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6982);
	/* The others need nothing. */
	assert_sw(select_ef(c, JPKI_EF_SIGN_CA), 0x9000);
	assert_sw(read_all(c), 0x6282);
	assert_resp(ca, sizeof ca);
	assert_sw(select_ef(c, JPKI_EF_AUTH_CERT), 0x9000);
	assert_sw(read_all(c), 0x6282);
	assert_resp(auth, sizeof auth);
	/* The auth PIN does not open it. */
	assert_sw(select_ef(c, JPKI_EF_AUTH_PIN), 0x9000);
	assert_sw(verify(c, PIN_AUTH), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_SIGN_CERT), 0x9000);
	assert_sw(read_all(c), 0x6982);
	/* The signing PIN does. */
	assert_sw(select_ef(c, JPKI_EF_SIGN_PIN), 0x9000);
	assert_sw(verify(c, PIN_SIGN), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_SIGN_CERT), 0x9000);
	assert_sw(read_all(c), 0x6282);
	assert_resp(cert, sizeof cert);
	assert_sw(apdu(c, "00 B0 02 00 10"), 0x9000);
	assert_resp(cert + 512, 16);
	jpki_card_close(c);
}

/* ==== VERIFY ==== */

static void test_verify_fresh_counters(void **state)
{
	struct jpki_card *c = new_card();
	(void)state;

	assert_sw(pin_op(c, JPKI_PIN_SIGN, NULL), 0x63C5);
	assert_sw(pin_op(c, JPKI_PIN_AUTH, NULL), 0x63C3);
	assert_sw(pin_op(c, JPKI_PIN_JUKI, NULL), 0x63C3);
	assert_sw(pin_op(c, JPKI_PIN_TEXT, NULL), 0x63C3);
	/* A query is not a try. */
	assert_sw(verify(c, NULL), 0x63C3);
	assert_int_equal(g_rn, 0);
	jpki_card_close(c);
}

static void test_verify_countdown(void **state)
{
	struct jpki_card *c = new_card();
	struct jpki_card_info info;
	(void)state;

	for (int k = 0; k < 4; k++) {
		const struct pin_place *p = &PINS[k];
		sel(c, p->app, p->ef);
		for (int left = p->max - 1; left >= 0; left--)
			assert_sw(verify(c, p->wrong), 0x63C0 | left);
		assert_sw(verify(c, NULL), 0x63C0);
		assert_sw(verify(c, p->right), 0x6983); /* blocked: not compared */
		assert_sw(verify(c, p->wrong), 0x6983);
		assert_sw(verify(c, NULL), 0x63C0);
		jpki_card_info(c, &info);
		assert_true(info.pin[k].blocked);
		assert_int_equal(info.pin[k].tries_left, 0);
		/* The later PINs are untouched. */
		for (int j = k + 1; j < 4; j++) {
			assert_false(info.pin[j].blocked);
			assert_int_equal(info.pin[j].tries_left, PINS[j].max);
		}
	}
	jpki_card_close(c);
}

static void test_verify_success_resets(void **state)
{
	struct jpki_card *c = new_card();
	struct jpki_card_info info;
	(void)state;

	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(verify(c, PIN_AUTH), 0x9000);
	assert_sw(verify(c, NULL), 0x63C3); /* right after a success */
	assert_sw(verify(c, "0000"), 0x63C2);
	assert_sw(verify(c, "9999"), 0x63C1);
	assert_sw(verify(c, PIN_AUTH), 0x9000);
	assert_int_equal(g_rn, 0);
	assert_sw(verify(c, NULL), 0x63C3);
	assert_sw(verify(c, "0000"), 0x63C2); /* really back at 3 */
	assert_sw(verify(c, PIN_AUTH), 0x9000);

	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_PIN);
	for (int left = 4; left >= 1; left--)
		assert_sw(verify(c, "ZZZ999"), 0x63C0 | left);
	assert_sw(verify(c, PIN_SIGN), 0x9000);
	assert_sw(verify(c, NULL), 0x63C5);
	jpki_card_info(c, &info);
	assert_int_equal(info.pin[JPKI_PIN_SIGN].tries_left, 5);
	assert_int_equal(info.pin[JPKI_PIN_AUTH].tries_left, 3);
	jpki_card_close(c);
}

static void test_verify_pin_as_given(void **state)
{
	struct jpki_card *c = new_card();
	(void)state;

	/* The card compares bytes: upper-casing is the client's job. */
	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_PIN);
	assert_sw(verify(c, "abc123"), 0x63C4);
	assert_sw(verify(c, "ABC123 "), 0x63C3);
	assert_sw(verify(c, "ABC12"), 0x63C2);
	assert_sw(verify(c, "ABC1234"), 0x63C1);
	assert_sw(verify(c, PIN_SIGN), 0x9000);
	/* 16 bytes is allowed (and wrong here). */
	assert_sw(verify(c, "ABCDEFGH12345678"), 0x63C4);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(verify(c, "12345"), 0x63C2);
	assert_sw(verify(c, "123"), 0x63C1);
	assert_sw(verify(c, PIN_AUTH), 0x9000);
	jpki_card_close(c);
}

static void test_verify_unset_pin(void **state)
{
	struct jpki_card_init in;
	struct jpki_card *c;
	(void)state;

	init_default(&in);
	in.pin[JPKI_PIN_SIGN] = NULL;
	c = card_from(&in);
	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_PIN);
	assert_sw(verify(c, NULL), 0x63C0);
	assert_sw(verify(c, PIN_SIGN), 0x6984);
	assert_sw(verify(c, "ZZZ999"), 0x6984);
	assert_sw(verify(c, NULL), 0x63C0);
	/* The others are there. */
	assert_sw(pin_op(c, JPKI_PIN_AUTH, NULL), 0x63C3);
	assert_sw(verify(c, PIN_AUTH), 0x9000);
	jpki_card_close(c);
}

static void test_verify_errors(void **state)
{
	struct jpki_card *c = new_card();
	(void)state;

	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(cmdx(c, "00 20 01 80", PIN_AUTH, 4, NO_LE), 0x6A86);
	assert_sw(cmdx(c, "00 20 00 81", PIN_AUTH, 4, NO_LE), 0x6A86);
	assert_sw(cmdx(c, "00 20 00 00", PIN_AUTH, 4, NO_LE), 0x6A86);
	assert_sw(apdu(c, "00 20 00 01"), 0x6A86);
	/* 17 bytes: too long, and not a try. */
	assert_sw(verify(c, "12345678901234567"), 0x6700);
	assert_sw(verify(c, NULL), 0x63C3);

	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(verify(c, PIN_AUTH), 0x6986);
	assert_sw(verify(c, NULL), 0x6986);
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x9000);
	assert_sw(verify(c, PIN_AUTH), 0x6981);
	assert_sw(verify(c, NULL), 0x6981);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	assert_sw(verify(c, PIN_AUTH), 0x6981);
	/* None of those was a try. */
	assert_sw(pin_op(c, JPKI_PIN_AUTH, NULL), 0x63C3);
	jpki_card_close(c);
}

static void test_verify_wrong_clears_flag(void **state)
{
	struct jpki_card *c = new_holder_card();
	(void)state;

	assert_sw(pin_op(c, JPKI_PIN_TEXT, PIN_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x9000);
	assert_sw(verify(c, NULL), 0x63C3); /* a query keeps it */
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x9000);
	assert_sw(verify(c, "0000"), 0x63C2); /* a wrong one drops it */
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x6982);
	jpki_card_close(c);
}

/* ==== session state ==== */

static void test_reselect_clears_verified(void **state)
{
	struct jpki_card *c = new_holder_card();
	uint8_t cert[700];
	(void)state;

	fill(cert, sizeof cert, 5);
	issuer_auth(c);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT, cert, sizeof cert);
	jpki_card_reset(c);

	/* The same AP again. */
	assert_sw(pin_op(c, JPKI_PIN_SIGN, PIN_SIGN), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_SIGN_CERT), 0x9000);
	assert_sw(read_all(c), 0x6282);
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_SIGN_CERT), 0x9000);
	assert_sw(read_all(c), 0x6982);
	/* Another AP and back. */
	assert_sw(pin_op(c, JPKI_PIN_SIGN, PIN_SIGN), 0x9000);
	assert_sw(select_app(c, JPKI_APP_JUKI), 0x9000);
	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT);
	assert_sw(read_all(c), 0x6982);
	/* A reset. */
	assert_sw(pin_op(c, JPKI_PIN_SIGN, PIN_SIGN), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_SIGN_CERT), 0x9000);
	assert_sw(read_all(c), 0x6282);
	jpki_card_reset(c);
	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT);
	assert_sw(read_all(c), 0x6982);

	/* The text AP, and every PIN at once. */
	assert_sw(pin_op(c, JPKI_PIN_TEXT, PIN_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_sw(select_app(c, JPKI_APP_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x6982);
	jpki_card_close(c);
}

static void test_reset_clears_session(void **state)
{
	struct jpki_card *c = new_card();
	uint8_t chal[16], sig[64];
	(void)state;

	sel(c, JPKI_APP_JPKI, JPKI_EF_TOKEN_INFO);
	issuer_auth(c);
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	memcpy(chal, g_r, 16);
	jpki_card_reset(c);

	assert_sw(apdu(c, "00 B0 00 00 01"), 0x6986);	     /* no current EF */
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x6A82); /* no app */
	issuer_sig(g_issuer, chal, 16, sig);
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x6985); /* no challenge */
	/* No issuer authentication. */
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);
	assert_sw(select_ef(c, JPKI_EF_AUTH_CERT), 0x6A82);
	jpki_card_close(c);
}

/* ==== CHANGE REFERENCE DATA ==== */

static void test_change_pin(void **state)
{
	struct jpki_card *c = new_card();
	(void)state;

	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(apdu(c, "00 24 01 80 04 35 35 35 35"), 0x6982); /* not verified */
	assert_sw(verify(c, PIN_AUTH), 0x9000);
	assert_sw(apdu(c, "00 24 01 80 04 35 35 35 35"), 0x9000);
	assert_sw(verify(c, PIN_AUTH), 0x63C2);
	assert_sw(verify(c, "5555"), 0x9000);
	assert_sw(verify(c, NULL), 0x63C3);

	/* The signing PIN, and the verified flag of another PIN does not
	 * count. */
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(verify(c, "5555"), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_SIGN_PIN), 0x9000);
	assert_sw(cmdx(c, "00 24 01 80", "XYZ789", 6, NO_LE), 0x6982);
	assert_sw(verify(c, PIN_SIGN), 0x9000);
	assert_sw(cmdx(c, "00 24 01 80", "XYZ789", 6, NO_LE), 0x9000);
	assert_sw(verify(c, PIN_SIGN), 0x63C4);
	assert_sw(verify(c, "XYZ789"), 0x9000);

	/* Text and juki too. */
	assert_sw(pin_op(c, JPKI_PIN_TEXT, PIN_TEXT), 0x9000);
	assert_sw(cmdx(c, "00 24 01 80", "0987", 4, NO_LE), 0x9000);
	assert_sw(verify(c, "0987"), 0x9000);
	assert_sw(pin_op(c, JPKI_PIN_JUKI, PIN_JUKI), 0x9000);
	assert_sw(cmdx(c, "00 24 01 80", "1111", 4, NO_LE), 0x9000);
	assert_sw(verify(c, PIN_JUKI), 0x63C2);
	assert_sw(verify(c, "1111"), 0x9000);
	jpki_card_close(c);
}

static void test_change_pin_errors(void **state)
{
	static const char *bad_auth[] = {"12a4", "123", "12345", "12 4"};
	static const char *bad_sign[] = {
	    "abc123", "ABCDEF", "123456", "ABC12", "ABCDEFGH123456789", "ABC-123"};
	struct jpki_card *c = new_card();
	(void)state;

	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(verify(c, PIN_AUTH), 0x9000);
	for (size_t i = 0; i < ARRAY_LEN(bad_auth); i++)
		assert_sw(
		    cmdx(c, "00 24 01 80", bad_auth[i], strlen(bad_auth[i]), NO_LE),
		    0x6A80);
	assert_sw(cmdx(c, "00 24 00 80", "5555", 4, NO_LE), 0x6A86);
	assert_sw(cmdx(c, "00 24 02 80", "5555", 4, NO_LE), 0x6A86);
	assert_sw(cmdx(c, "00 24 01 81", "5555", 4, NO_LE), 0x6A86);
	/* Nothing changed. */
	assert_sw(verify(c, PIN_AUTH), 0x9000);

	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_PIN);
	assert_sw(verify(c, PIN_SIGN), 0x9000);
	for (size_t i = 0; i < ARRAY_LEN(bad_sign); i++)
		assert_sw(
		    cmdx(c, "00 24 01 80", bad_sign[i], strlen(bad_sign[i]), NO_LE),
		    0x6A80);
	assert_sw(verify(c, PIN_SIGN), 0x9000);
	assert_sw(verify(c, "ABC123"), 0x9000);

	/* The current EF. */
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(cmdx(c, "00 24 01 80", "5555", 4, NO_LE), 0x6986);
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x9000);
	assert_sw(cmdx(c, "00 24 01 80", "5555", 4, NO_LE), 0x6981);

	/* Blocked: 6983 before anything else. */
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	for (int i = 0; i < 3; i++)
		(void)verify(c, "0000");
	assert_sw(verify(c, NULL), 0x63C0);
	assert_sw(cmdx(c, "00 24 01 80", "5555", 4, NO_LE), 0x6983);
	jpki_card_close(c);
}

/* ==== COMPUTE DIGITAL SIGNATURE ==== */

static void sign_with(struct jpki_card *c, enum jpki_card_key k, const char *msg,
		      uint8_t sig[256])
{
	uint8_t di[DI_LEN];
	enum jpki_pin_kind pk = k == JPKI_KEY_SIGN ? JPKI_PIN_SIGN : JPKI_PIN_AUTH;
	digest_info(msg, di);
	assert_sw(pin_op(c, pk, PINS[pk].right), 0x9000);
	assert_sw(
	    select_ef(c, k == JPKI_KEY_SIGN ? JPKI_EF_SIGN_KEY : JPKI_EF_AUTH_KEY),
	    0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x9000);
	assert_int_equal(g_rn, 256);
	memcpy(sig, g_r, 256);
	assert_true(rsa_raw_ok(g_kpub[k], sig, 256, di, DI_LEN));
	assert_true(rsa_sha256_ok(g_kpub[k], sig, 256, msg, strlen(msg)));
}

static void test_sign_both_keys(void **state)
{
	static const char msg[] = "openjpki: 電子署名のテスト";
	struct jpki_card *c = keyed();
	uint8_t s1[256], s2[256], a1[256], di[DI_LEN];
	(void)state;

	sign_with(c, JPKI_KEY_SIGN, msg, s1);
	sign_with(c, JPKI_KEY_AUTH, msg, a1);
	/* Two different keys. */
	assert_memory_not_equal(s1, a1, 256);
	assert_false(rsa_sha256_ok(g_kpub[JPKI_KEY_AUTH], s1, 256, msg, strlen(msg)));
	assert_false(rsa_sha256_ok(g_kpub[JPKI_KEY_SIGN], a1, 256, msg, strlen(msg)));
	/* Not for another message; a flipped bit does not verify. */
	assert_false(rsa_sha256_ok(g_kpub[JPKI_KEY_SIGN], s1, 256, "other", 5));
	memcpy(s2, s1, 256);
	s2[128] ^= 0x01;
	assert_false(rsa_sha256_ok(g_kpub[JPKI_KEY_SIGN], s2, 256, msg, strlen(msg)));

	/* PKCS#1 v1.5 is deterministic; CLA 00 works as well; several
	 * signatures in a row with one verification. */
	digest_info(msg, di);
	assert_sw(cmdx(c, "00 2A 00 80", di, DI_LEN, 256), 0x9000);
	assert_resp(a1, 256);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x9000);
	assert_resp(a1, 256);

	/* Another message through the same key. */
	sign_with(c, JPKI_KEY_SIGN, "second", s2);
	assert_memory_not_equal(s1, s2, 256);
}

static void test_sign_needs_its_pin(void **state)
{
	struct jpki_card *c = keyed();
	uint8_t di[DI_LEN];
	(void)state;

	digest_info("x", di);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_KEY);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x6982);
	assert_int_equal(g_rn, 0);
	assert_sw(select_ef(c, JPKI_EF_SIGN_KEY), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x6982);

	/* The auth PIN opens the auth key only. */
	assert_sw(pin_op(c, JPKI_PIN_AUTH, PIN_AUTH), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_SIGN_KEY), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x6982);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x9000);

	/* The signing PIN opens the signing key only. */
	assert_sw(pin_op(c, JPKI_PIN_SIGN, PIN_SIGN), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x6982);
	assert_sw(select_ef(c, JPKI_EF_SIGN_KEY), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x9000);

	/* Selecting the AP again, or a reset, closes them. */
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_SIGN_KEY), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x6982);
	assert_sw(pin_op(c, JPKI_PIN_AUTH, PIN_AUTH), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x9000);
	jpki_card_reset(c);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_KEY);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x6982);
}

static void test_sign_lengths(void **state)
{
	struct jpki_card *c = keyed();
	uint8_t data[246];
	(void)state;

	fill(data, sizeof data, 6);
	assert_sw(pin_op(c, JPKI_PIN_AUTH, PIN_AUTH), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	/* 245 bytes: the most PKCS#1 type 1 can hold in 256. */
	assert_sw(cmdx(c, "80 2A 00 80", data, 245, 256), 0x9000);
	assert_int_equal(g_rn, 256);
	assert_true(rsa_raw_ok(g_kpub[JPKI_KEY_AUTH], g_r, 256, data, 245));
	assert_sw(cmdx(c, "80 2A 00 80", data, 246, 256), 0x6700);
	assert_sw(cmdx(c, "80 2A 00 80", data, 1, 256), 0x9000);
	assert_true(rsa_raw_ok(g_kpub[JPKI_KEY_AUTH], g_r, 256, data, 1));
	/* No data. */
	assert_sw(apdu(c, "80 2A 00 80 00"), 0x6700);
	assert_sw(apdu(c, "80 2A 00 80"), 0x6700);
}

static void test_sign_chained(void **state)
{
	struct jpki_card *c = keyed();
	uint8_t di[DI_LEN], full[256];
	(void)state;

	digest_info("chained", di);
	assert_sw(pin_op(c, JPKI_PIN_AUTH, PIN_AUTH), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x9000);
	memcpy(full, g_r, 256);
	/* Case 3: Ne 0, all 256 pending (61 00). */
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, NO_LE), 0x6100);
	assert_int_equal(g_rn, 0);
	assert_sw(apdu(c, "00 C0 00 00 00"), 0x9000);
	assert_resp(full, 256);
	assert_sw(apdu(c, "00 C0 00 00 00"), 0x6985);
	/* Le 128: half now, half later. */
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 128), 0x6180);
	assert_resp(full, 128);
	assert_sw(apdu(c, "00 C0 00 00 80"), 0x9000);
	assert_resp(full + 128, 128);
	/* Extended case 4. */
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 65536), 0x9000);
	assert_resp(full, 256);
}

static void test_sign_errors(void **state)
{
	struct jpki_card *c = keyed();
	uint8_t di[DI_LEN];
	(void)state;

	digest_info("x", di);
	assert_sw(pin_op(c, JPKI_PIN_AUTH, PIN_AUTH), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	assert_sw(cmdx(c, "80 2A 9E 9A", di, DI_LEN, 256), 0x6A86);
	assert_sw(cmdx(c, "80 2A 01 80", di, DI_LEN, 256), 0x6A86);
	assert_sw(cmdx(c, "80 2A 00 81", di, DI_LEN, 256), 0x6A86);
	assert_sw(select_ef(c, JPKI_EF_AUTH_PIN), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x6981);
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x6981);
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(cmdx(c, "80 2A 00 80", di, DI_LEN, 256), 0x6986);

	/* No key yet: 6A88, PIN or not. */
	struct jpki_card *f = new_card();
	sel(f, JPKI_APP_JPKI, JPKI_EF_AUTH_KEY);
	assert_sw(cmdx(f, "80 2A 00 80", di, DI_LEN, 256), 0x6A88);
	assert_sw(pin_op(f, JPKI_PIN_SIGN, PIN_SIGN), 0x9000);
	assert_sw(select_ef(f, JPKI_EF_SIGN_KEY), 0x9000);
	assert_sw(cmdx(f, "80 2A 00 80", di, DI_LEN, 256), 0x6A88);
	jpki_card_close(f);
}

/* ==== GET CHALLENGE, EXTERNAL AUTHENTICATE ==== */

static void test_get_challenge(void **state)
{
	struct jpki_card *c = new_card();
	uint8_t a[32];
	(void)state;

	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	assert_int_equal(g_rn, 16);
	memcpy(a, g_r, 16);
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	assert_int_equal(g_rn, 16);
	assert_memory_not_equal(a, g_r, 16);
	assert_sw(apdu(c, "00 84 00 00 20"), 0x9000);
	assert_int_equal(g_rn, 32);
	assert_sw(apdu(c, "00 84 00 00 01"), 0x9000);
	assert_int_equal(g_rn, 1);
	assert_sw(apdu(c, "00 84 00 00 08"), 0x9000);
	assert_int_equal(g_rn, 8);
	assert_sw(apdu(c, "00 84 00 00 21"), 0x6700);
	assert_sw(apdu(c, "00 84 00 00 00"), 0x6700); /* Ne 256 */
	assert_sw(apdu(c, "00 84 00 00"), 0x6700);    /* Ne 0 */
	assert_sw(apdu(c, "00 84 00 01 10"), 0x6A86);
	assert_sw(apdu(c, "00 84 01 00 10"), 0x6A86);
	jpki_card_close(c);
}

static void test_external_auth_good(void **state)
{
	struct jpki_card *c = new_card();
	uint8_t chal[32], sig[64], blob[10];
	(void)state;

	fill(blob, sizeof blob, 7);
	/* Before: no issuer operation. */
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);

	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	memcpy(chal, g_r, 16);
	issuer_sig(g_issuer, chal, 16, sig);
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x9000);
	assert_int_equal(g_rn, 0);
	/* The challenge is used up. */
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x6985);
	/* Still authenticated; and across a SELECT of an AP. */
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CA, blob, sizeof blob);
	assert_sw(select_ef(c, JPKI_EF_AUTH_PIN), 0x9000);
	assert_sw(apdu(c, "00 2C 03 80"), 0x9000);
	/* Until a reset. */
	jpki_card_reset(c);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);

	/* A 32-byte challenge works as well. */
	assert_sw(apdu(c, "00 84 00 00 20"), 0x9000);
	memcpy(chal, g_r, 32);
	issuer_sig(g_issuer, chal, 32, sig);
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x9000);
	assert_sw(apdu(c, "00 2C 03 80"), 0x9000);
	jpki_card_close(c);
}

static void test_external_auth_bad(void **state)
{
	struct jpki_card *c = new_card();
	uint8_t chal[16], sig[64], other[64], msg[16], sig65[65];
	(void)state;

	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	/* No challenge at all. */
	ed_sign(g_issuer, (const uint8_t *)"x", 1, sig);
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x6985);

	/* Someone else's key: 6300, nothing gained, challenge gone. */
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	memcpy(chal, g_r, 16);
	issuer_sig(g_other, chal, 16, other);
	issuer_sig(g_issuer, chal, 16, sig);
	assert_sw(cmdx(c, "00 82 00 00", other, 64, NO_LE), 0x6300);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x6985);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);

	/* The issuer's key over the challenge alone (no context string). */
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	memcpy(msg, g_r, 16);
	ed_sign(g_issuer, msg, 16, sig);
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x6300);
	/* A signature over an older challenge. */
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	issuer_sig(g_issuer, chal, 16, sig);
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x6300);
	/* A flipped bit. */
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	memcpy(chal, g_r, 16);
	issuer_sig(g_issuer, chal, 16, sig);
	sig[5] ^= 0x20;
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x6300);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);

	/* A challenge shorter than 16 bytes is not enough. */
	assert_sw(apdu(c, "00 84 00 00 08"), 0x9000);
	memcpy(chal, g_r, 8);
	issuer_sig(g_issuer, chal, 8, sig);
	assert_sw(cmdx(c, "00 82 00 00", sig, 64, NO_LE), 0x6985);

	/* Length and parameters, with a challenge outstanding. */
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	memcpy(chal, g_r, 16);
	issuer_sig(g_issuer, chal, 16, sig);
	assert_sw(cmdx(c, "00 82 00 00", sig, 63, NO_LE), 0x6700);
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	memcpy(chal, g_r, 16);
	issuer_sig(g_issuer, chal, 16, sig65);
	sig65[64] = 0x00; /* a good signature and one more byte */
	assert_sw(cmdx(c, "00 82 00 00", sig65, 65, NO_LE), 0x6700);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);
	assert_sw(apdu(c, "00 84 00 00 10"), 0x9000);
	memcpy(chal, g_r, 16);
	issuer_sig(g_issuer, chal, 16, sig);
	assert_sw(cmdx(c, "00 82 00 01", sig, 64, NO_LE), 0x6A86);
	assert_sw(cmdx(c, "00 82 01 00", sig, 64, NO_LE), 0x6A86);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);
	jpki_card_close(c);
}

static void test_issuer_ops_need_auth(void **state)
{
	struct jpki_card *c = new_holder_card();
	uint8_t attrs_before[1024];
	size_t n = 0;
	const uint8_t *p = jpki_card_ef(c, JPKI_APP_TEXT, JPKI_EF_TEXT_ATTRS, &n);
	struct jpki_card_info info;
	(void)state;

	assert_true(p != NULL && n > 0 && n <= sizeof attrs_before);
	memcpy(attrs_before, p, n);
	sel(c, JPKI_APP_TEXT, JPKI_EF_TEXT_ATTRS); /* has data: selectable */
	assert_sw(apdu(c, "00 D6 00 00 03 01 02 03"), 0x6982);
	assert_sw(apdu(c, "00 0E 00 00"), 0x6982);
	assert_ef(c, JPKI_APP_TEXT, JPKI_EF_TEXT_ATTRS, attrs_before, n);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_KEY);
	assert_sw(apdu(c, "00 47 80 00 00"), 0x6982);
	assert_sw(select_ef(c, JPKI_EF_SIGN_KEY), 0x9000);
	assert_sw(apdu(c, "00 47 80 00 00 00 00"), 0x6982);
	jpki_card_info(c, &info);
	assert_false(info.has_key[JPKI_KEY_SIGN]);
	assert_false(info.has_key[JPKI_KEY_AUTH]);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);
	assert_sw(apdu(c, "00 2C 02 80 04 39 39 39 39"), 0x6982);
	assert_sw(verify(c, "9999"), 0x63C2);
	/* A failed EXTERNAL AUTHENTICATE changes nothing. */
	assert_sw(issuer_auth_with(c, g_other), 0x6300);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);
	assert_sw(verify(c, NULL), 0x63C2);
	jpki_card_close(c);
}

/* ==== GENERATE ASYMMETRIC KEY PAIR ==== */

static void test_generate(void **state)
{
	struct jpki_card *c = new_card();
	struct jpki_card_info info;
	uint8_t tmpl[270], mod1[256], mod2[256], spki_mod[256], cert[1000], scert[800];
	uint8_t *der = NULL;
	size_t der_len = 0;
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	(void)state;

	fill(cert, sizeof cert, 8);
	fill(scert, sizeof scert, 9);
	/* No key: reading the public key is 6A88. */
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_KEY);
	assert_sw(apdu(c, "00 47 81 00 00 00 00"), 0x6A88);

	issuer_auth(c);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, cert, sizeof cert);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT, scert, sizeof scert);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	/* Short Le 00: 256 bytes and 61 0E, then GET RESPONSE. */
	assert_sw(apdu(c, "00 47 80 00 00"), 0x610E);
	assert_int_equal(g_rn, 256);
	memcpy(tmpl, g_r, 256);
	assert_sw(apdu(c, "00 C0 00 00 0E"), 0x9000);
	assert_int_equal(g_rn, 14);
	memcpy(tmpl + 256, g_r, 14);
	parse_template(tmpl, 270, mod1);

	/* The auth certificate went with the old key; the signing one stays. */
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, NULL, 0);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CERT, scert, sizeof scert);
	jpki_card_info(c, &info);
	assert_true(info.has_key[JPKI_KEY_AUTH]);
	assert_false(info.has_key[JPKI_KEY_SIGN]);

	/* The public key again, in one piece, and without authentication. */
	assert_sw(apdu(c, "00 47 81 00 00 00 00"), 0x9000);
	assert_resp(tmpl, 270);
	jpki_card_reset(c);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_KEY);
	assert_sw(apdu(c, "00 47 81 00 00 00 00"), 0x9000);
	assert_resp(tmpl, 270);
	assert_sw(select_ef(c, JPKI_EF_SIGN_KEY), 0x9000);
	assert_sw(apdu(c, "00 47 81 00 00 00 00"), 0x6A88);
	assert_sw(select_ef(c, JPKI_EF_AUTH_CERT), 0x6A82); /* empty now */

	/* jpki_term_pubkey gives the same key as a DER SPKI. */
	jpki_term_local(&t, c);
	assert_int_equal(jpki_term_pubkey(&t, JPKI_KEY_AUTH, &der, &der_len, &eb),
			 JPKI_OK);
	EVP_PKEY *pk = spki_rsa2048(der, der_len);
	rsa_modulus(pk, spki_mod);
	assert_memory_equal(spki_mod, mod1, 256);
	EVP_PKEY_free(pk);
	free(der);

	/* A second generation is a new key, and empties the certificate
	 * again. */
	jpki_card_reset(c);
	issuer_auth(c);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, cert, 100);
	assert_sw(select_ef(c, JPKI_EF_AUTH_KEY), 0x9000);
	assert_sw(apdu(c, "00 47 80 00 00 01 0E"), 0x9000); /* extended Le 270 */
	parse_template(g_r, g_rn, mod2);
	assert_memory_not_equal(mod1, mod2, 256);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, NULL, 0);
	assert_sw(apdu(c, "00 47 81 00 00 00 00"), 0x9000);
	parse_template(g_r, g_rn, mod1);
	assert_memory_equal(mod1, mod2, 256);
	jpki_card_close(c);
}

static void test_generate_errors(void **state)
{
	struct jpki_card *c = new_card();
	struct jpki_card_info info;
	(void)state;

	issuer_auth(c);
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(apdu(c, "00 47 80 00 00"), 0x6986);
	assert_sw(apdu(c, "00 47 81 00 00"), 0x6986);
	assert_sw(select_ef(c, JPKI_EF_AUTH_PIN), 0x9000);
	assert_sw(apdu(c, "00 47 80 00 00"), 0x6981);
	assert_sw(apdu(c, "00 47 81 00 00"), 0x6981);
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x9000);
	assert_sw(apdu(c, "00 47 80 00 00"), 0x6981);
	assert_sw(select_ef(c, JPKI_EF_SIGN_KEY), 0x9000);
	assert_sw(apdu(c, "00 47 80 01 00"), 0x6A86);
	assert_sw(apdu(c, "00 47 81 01 00"), 0x6A86);
	jpki_card_info(c, &info);
	assert_false(info.has_key[JPKI_KEY_SIGN]);
	assert_false(info.has_key[JPKI_KEY_AUTH]);
	jpki_card_close(c);
}

/* ==== UPDATE BINARY, ERASE BINARY ==== */

static void test_update_binary(void **state)
{
	struct jpki_card *c = new_card();
	uint8_t big[4097], ten[10];
	(void)state;

	fill(big, sizeof big, 10);
	for (int i = 0; i < 10; i++)
		ten[i] = (uint8_t)(i + 1);
	issuer_auth(c);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT);
	assert_sw(apdu(c, "00 D6 00 00 05 01 02 03 04 05"), 0x9000);
	assert_int_equal(g_rn, 0);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, ten, 5);
	/* At offset = size: appends. */
	assert_sw(apdu(c, "00 D6 00 05 05 06 07 08 09 0A"), 0x9000);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, ten, 10);
	/* Beyond the size. */
	assert_sw(apdu(c, "00 D6 00 0B 01 FF"), 0x6B00);
	assert_sw(apdu(c, "00 D6 01 00 01 FF"), 0x6B00);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, ten, 10);
	/* No data; P1 bit 8. */
	assert_sw(apdu(c, "00 D6 00 00"), 0x6700);
	assert_sw(apdu(c, "00 D6 80 00 01 FF"), 0x6A86);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, ten, 10);
	/* READ BINARY sees it. */
	assert_sw(apdu(c, "00 B0 00 00 00"), 0x6282);
	assert_resp(ten, 10);

	/* The capacity: 4096 bytes. */
	assert_sw(apdu(c, "00 0E 00 00"), 0x9000);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, NULL, 0);
	assert_sw(cmdx(c, "00 D6 00 00", big, 4097, NO_LE), 0x6A84);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, NULL, 0);
	assert_sw(cmdx(c, "00 D6 00 00", big, 4000, NO_LE), 0x9000);
	assert_sw(cmdx(c, "00 D6 0F A0", big + 4000, 97, NO_LE), 0x6A84);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, big, 4000);
	assert_sw(cmdx(c, "00 D6 0F A0", big + 4000, 96, NO_LE), 0x9000);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, big, 4096);
	assert_sw(cmdx(c, "00 D6 10 00", big, 1, NO_LE), 0x6A84);
	assert_sw(read_all(c), 0x6282);
	assert_resp(big, 4096);

	/* Not writable. */
	static const uint16_t ro[] = {JPKI_EF_TOKEN_INFO, JPKI_EF_AUTH_KEY,
				      JPKI_EF_AUTH_PIN, JPKI_EF_SIGN_KEY,
				      JPKI_EF_SIGN_PIN};
	for (size_t i = 0; i < ARRAY_LEN(ro); i++) {
		assert_sw(select_ef(c, ro[i]), 0x9000);
		assert_sw(apdu(c, "00 D6 00 00 01 FF"), 0x6981);
	}
	sel(c, JPKI_APP_TEXT, JPKI_EF_TEXT_PIN);
	assert_sw(apdu(c, "00 D6 00 00 01 FF"), 0x6981);
	sel(c, JPKI_APP_JUKI, JPKI_EF_JUKI_PIN);
	assert_sw(apdu(c, "00 D6 00 00 01 FF"), 0x6981);
	sel(c, JPKI_APP_JPKI, JPKI_EF_TOKEN_INFO);
	assert_sw(apdu(c, "00 B0 00 00 20"), 0x9000);
	assert_resp(TOKEN_INFO, 32);
	/* No current EF. */
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(apdu(c, "00 D6 00 00 01 FF"), 0x6986);

	/* The other writable EFs. */
	static const struct {
		enum jpki_card_app app;
		uint16_t fid;
	} rw[] = {{JPKI_APP_JPKI, JPKI_EF_SIGN_CERT},
		  {JPKI_APP_JPKI, JPKI_EF_SIGN_CA},
		  {JPKI_APP_JPKI, JPKI_EF_AUTH_CA},
		  {JPKI_APP_TEXT, JPKI_EF_TEXT_NUMBER},
		  {JPKI_APP_TEXT, JPKI_EF_TEXT_ATTRS}};
	for (size_t i = 0; i < ARRAY_LEN(rw); i++) {
		sel(c, rw[i].app, rw[i].fid);
		assert_sw(cmdx(c, "00 D6 00 00", big + i, 300, NO_LE), 0x9000);
		assert_ef(c, rw[i].app, rw[i].fid, big + i, 300);
	}
	jpki_card_close(c);
}

static void test_erase_binary(void **state)
{
	struct jpki_card *c = new_card();
	uint8_t blob[500];
	(void)state;

	fill(blob, sizeof blob, 11);
	issuer_auth(c);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, blob, sizeof blob);
	put_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CA, blob, 100);
	jpki_card_reset(c);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT);
	assert_sw(apdu(c, "00 0E 00 00"), 0x6982);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, blob, sizeof blob);
	issuer_auth(c);
	assert_sw(apdu(c, "00 0E 00 00"), 0x9000);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, NULL, 0);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CA, blob, 100);
	jpki_card_reset(c);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CA);
	assert_sw(select_ef(c, JPKI_EF_AUTH_CERT), 0x6A82);
	jpki_card_close(c);
}

/* ==== RESET RETRY COUNTER ==== */

static void test_reset_retry_counter(void **state)
{
	struct jpki_card *c = new_card();
	struct jpki_card_info info;
	(void)state;

	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	for (int i = 0; i < 3; i++)
		(void)verify(c, "0000");
	assert_sw(verify(c, PIN_AUTH), 0x6983);
	issuer_auth(c);
	/* P1 03: the counter only. */
	assert_sw(apdu(c, "00 2C 03 80"), 0x9000);
	assert_sw(verify(c, NULL), 0x63C3);
	jpki_card_info(c, &info);
	assert_false(info.pin[JPKI_PIN_AUTH].blocked);
	assert_int_equal(info.pin[JPKI_PIN_AUTH].tries_left, 3);
	assert_sw(verify(c, PIN_AUTH), 0x9000);
	/* P1 02: a new PIN (and the counter). */
	assert_sw(verify(c, "0000"), 0x63C2);
	assert_sw(apdu(c, "00 2C 02 80 04 39 39 39 39"), 0x9000);
	assert_sw(verify(c, NULL), 0x63C3);
	assert_sw(verify(c, PIN_AUTH), 0x63C2);
	assert_sw(verify(c, "9999"), 0x9000);

	/* The signing PIN, blocked, with a new one. */
	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_PIN);
	for (int i = 0; i < 5; i++)
		(void)verify(c, "ZZZ999");
	assert_sw(verify(c, NULL), 0x63C0);
	assert_sw(cmdx(c, "00 2C 02 80", "NEW999", 6, NO_LE), 0x9000);
	assert_sw(verify(c, NULL), 0x63C5);
	assert_sw(verify(c, "NEW999"), 0x9000);
	jpki_card_close(c);
}

static void test_reset_retry_counter_errors(void **state)
{
	struct jpki_card *c = new_card();
	(void)state;

	issuer_auth(c);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(verify(c, "0000"), 0x63C2);
	assert_sw(apdu(c, "00 2C 02 80 04 39 39 61 39"), 0x6A80);
	assert_sw(apdu(c, "00 2C 02 80 03 39 39 39"), 0x6A80);
	assert_sw(apdu(c, "00 2C 02 80 05 39 39 39 39 39"), 0x6A80);
	assert_sw(apdu(c, "00 2C 03 81"), 0x6A86);
	assert_sw(apdu(c, "00 2C 03 00"), 0x6A86);
	assert_sw(apdu(c, "00 2C 01 80"), 0x6A86);
	/* Nothing changed. */
	assert_sw(verify(c, NULL), 0x63C2);
	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_PIN);
	assert_sw(cmdx(c, "00 2C 02 80", "new999", 6, NO_LE), 0x6A80);
	assert_sw(cmdx(c, "00 2C 02 80", "NEWPIN", 6, NO_LE), 0x6A80);
	assert_sw(verify(c, PIN_SIGN), 0x9000);
	/* Not a PIN EF; no EF. */
	assert_sw(select_ef(c, JPKI_EF_TOKEN_INFO), 0x9000);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6981);
	assert_sw(select_ef(c, JPKI_EF_SIGN_KEY), 0x9000);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6981);
	assert_sw(select_app(c, JPKI_APP_JPKI), 0x9000);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6986);
	jpki_card_close(c);
}

static void test_reset_retry_counter_unset_pin(void **state)
{
	struct jpki_card_init in;
	struct jpki_card_info info;
	struct jpki_card *c;
	(void)state;

	init_default(&in);
	in.pin[JPKI_PIN_SIGN] = NULL;
	c = card_from(&in);
	issuer_auth(c);
	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_PIN);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6984);
	assert_sw(verify(c, NULL), 0x63C0);
	assert_sw(cmdx(c, "00 2C 02 80", "FIRST1", 6, NO_LE), 0x9000);
	assert_sw(verify(c, NULL), 0x63C5);
	jpki_card_info(c, &info);
	assert_true(info.pin[JPKI_PIN_SIGN].set);
	assert_int_equal(info.pin[JPKI_PIN_SIGN].tries_left, 5);
	assert_sw(verify(c, "ZZZ999"), 0x63C4);
	assert_sw(verify(c, "FIRST1"), 0x9000);
	jpki_card_close(c);
}

static void test_reset_retry_counter_clears_verified(void **state)
{
	struct jpki_card *c = new_holder_card();
	(void)state;

	issuer_auth(c);
	assert_sw(pin_op(c, JPKI_PIN_TEXT, PIN_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x9000);
	assert_sw(apdu(c, "00 2C 03 80"), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x6982);
	jpki_card_close(c);
}

/* ==== the terminal ==== */

static void test_term_verify(void **state)
{
	struct jpki_card *c = new_holder_card();
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	enum jpki_verify_result res;
	int tries = -1;
	(void)state;

	jpki_term_local(&t, c);
	assert_int_equal(jpki_term_pin_status(&t, JPKI_PIN_AUTH, &tries, &eb), JPKI_OK);
	assert_int_equal(tries, 3);
	assert_int_equal(jpki_term_pin_status(&t, JPKI_PIN_SIGN, &tries, &eb), JPKI_OK);
	assert_int_equal(tries, 5);

	res = JPKI_VERIFY_OK;
	tries = -1;
	(void)jpki_term_verify(&t, JPKI_PIN_AUTH, "0000", 4, &res, &tries, &eb);
	assert_int_equal(res, JPKI_VERIFY_WRONG);
	assert_int_equal(tries, 2);
	assert_int_equal(t.last_sw, 0x63C2);
	assert_int_equal(jpki_term_pin_status(&t, JPKI_PIN_AUTH, &tries, &eb), JPKI_OK);
	assert_int_equal(tries, 2);
	res = JPKI_VERIFY_WRONG;
	assert_int_equal(
	    jpki_term_verify(&t, JPKI_PIN_AUTH, PIN_AUTH, 4, &res, &tries, &eb),
	    JPKI_OK);
	assert_int_equal(res, JPKI_VERIFY_OK);
	assert_int_equal(t.last_sw, 0x9000);
	assert_int_equal(jpki_term_pin_status(&t, JPKI_PIN_AUTH, &tries, &eb), JPKI_OK);
	assert_int_equal(tries, 3);

	/* The text PIN: verified, the EF opens (same session, same AP). */
	assert_int_equal(
	    jpki_term_verify(&t, JPKI_PIN_TEXT, PIN_TEXT, 4, &res, &tries, &eb),
	    JPKI_OK);
	assert_int_equal(res, JPKI_VERIFY_OK);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_resp(HOLDER_NUMBER, 12);

	/* Blocking the juki PIN. */
	(void)jpki_term_verify(&t, JPKI_PIN_JUKI, "0000", 4, &res, &tries, &eb);
	(void)jpki_term_verify(&t, JPKI_PIN_JUKI, "0000", 4, &res, &tries, &eb);
	assert_int_equal(res, JPKI_VERIFY_WRONG);
	assert_int_equal(tries, 1);
	(void)jpki_term_verify(&t, JPKI_PIN_JUKI, "0000", 4, &res, &tries, &eb);
	assert_int_equal(res, JPKI_VERIFY_BLOCKED);
	assert_int_equal(tries, 0);
	res = JPKI_VERIFY_OK;
	(void)jpki_term_verify(&t, JPKI_PIN_JUKI, PIN_JUKI, 4, &res, &tries, &eb);
	assert_int_equal(res, JPKI_VERIFY_BLOCKED);
	assert_int_equal(t.last_sw, 0x6983);
	assert_int_equal(jpki_term_pin_status(&t, JPKI_PIN_JUKI, &tries, &eb), JPKI_OK);
	assert_int_equal(tries, 0);
	jpki_card_close(c);

	/* A never-set signing PIN. */
	struct jpki_card_init in;
	init_default(&in);
	in.pin[JPKI_PIN_SIGN] = NULL;
	c = card_from(&in);
	jpki_term_local(&t, c);
	res = JPKI_VERIFY_OK;
	(void)jpki_term_verify(&t, JPKI_PIN_SIGN, PIN_SIGN, 6, &res, &tries, &eb);
	assert_int_equal(res, JPKI_VERIFY_UNSET);
	assert_int_equal(t.last_sw, 0x6984);
	tries = -1;
	assert_int_equal(jpki_term_pin_status(&t, JPKI_PIN_SIGN, &tries, &eb), JPKI_OK);
	assert_int_equal(tries, 0);
	jpki_card_close(c);
}

static void test_term_read_write_ef(void **state)
{
	struct jpki_card *c = new_card();
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	uint8_t blob[1200], got[1200], *out = NULL;
	size_t len = 0, o = 0;
	(void)state;

	fill(blob, sizeof blob, 12);
	jpki_term_local(&t, c);
	/* Without issuer authentication: refused. */
	assert_int_not_equal(jpki_term_write_ef(&t, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT,
						blob, sizeof blob, &eb),
			     JPKI_OK);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, NULL, 0);

	assert_int_equal(jpki_term_issuer_auth(&t, g_issuer, &eb), JPKI_OK);
	assert_int_equal(jpki_term_write_ef(&t, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, blob,
					    sizeof blob, &eb),
			 JPKI_OK);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, blob, sizeof blob);

	/* By hand, 256 bytes at a time. */
	jpki_card_reset(c);
	t.app = 0;
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT);
	uint16_t sw;
	do {
		char hex[32];
		snprintf(hex, sizeof hex, "00 B0 %02X %02X 00", (unsigned)(o >> 8),
			 (unsigned)(o & 0xff));
		sw = apdu(c, hex);
		assert_true(sw == 0x9000 || sw == 0x6282);
		assert_true(o + g_rn <= sizeof got);
		memcpy(got + o, g_r, g_rn);
		o += g_rn;
	} while (sw == 0x9000);
	assert_int_equal(o, sizeof blob);
	assert_memory_equal(got, blob, sizeof blob);

	/* Through the terminal. */
	assert_int_equal(
	    jpki_term_read_ef(&t, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, &out, &len, &eb),
	    JPKI_OK);
	assert_int_equal(len, sizeof blob);
	assert_memory_equal(out, blob, sizeof blob);
	free(out);
	out = NULL;
	assert_int_equal(
	    jpki_term_read_ef(&t, JPKI_APP_JPKI, JPKI_EF_TOKEN_INFO, &out, &len, &eb),
	    JPKI_OK);
	assert_int_equal(len, 32);
	assert_memory_equal(out, TOKEN_INFO, 32);
	free(out);
	/* An empty EF: NULL and 0. */
	out = (uint8_t *)1;
	len = 7;
	assert_int_equal(
	    jpki_term_read_ef(&t, JPKI_APP_JPKI, JPKI_EF_AUTH_CA, &out, &len, &eb),
	    JPKI_OK);
	assert_null(out);
	assert_int_equal(len, 0);

	/* Replacing with something shorter replaces it. */
	assert_int_equal(jpki_term_issuer_auth(&t, g_issuer, &eb), JPKI_OK);
	assert_int_equal(
	    jpki_term_write_ef(&t, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, blob + 7, 10, &eb),
	    JPKI_OK);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_AUTH_CERT, blob + 7, 10);
	/* And the text AP. */
	assert_int_equal(jpki_term_write_ef(&t, JPKI_APP_TEXT, JPKI_EF_TEXT_NUMBER,
					    (const uint8_t *)"987654321098", 12, &eb),
			 JPKI_OK);
	assert_ef(c, JPKI_APP_TEXT, JPKI_EF_TEXT_NUMBER, "987654321098", 12);
	jpki_card_close(c);
}

/* Sizes at the edges of the terminal's 256-byte READ chunks, the EF's
 * capacity, and an empty write. */
static void test_term_ef_sizes(void **state)
{
	static const size_t sizes[] = {1, 255, 256, 257, 512, 3840, 4095, 4096};
	struct jpki_card *c = new_card();
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	uint8_t blob[JPKI_CARD_EF_MAX + 16],
	    *out = NULL; /* sizes[i] bytes from blob + i */
	size_t len = 0;
	(void)state;

	fill(blob, sizeof blob, 13);
	jpki_term_local(&t, c);
	assert_int_equal(jpki_term_issuer_auth(&t, g_issuer, &eb), JPKI_OK);
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		size_t n = sizes[i];
		if (jpki_term_write_ef(&t, JPKI_APP_JPKI, JPKI_EF_SIGN_CA, blob + i, n,
				       &eb) != JPKI_OK)
			fail_msg("write %zu bytes: %s", n, eb.msg);
		assert_ef(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CA, blob + i, n);
		out = NULL;
		if (jpki_term_read_ef(&t, JPKI_APP_JPKI, JPKI_EF_SIGN_CA, &out, &len,
				      &eb) != JPKI_OK)
			fail_msg("read %zu bytes: %s", n, eb.msg);
		assert_int_equal(len, n);
		assert_memory_equal(out, blob + i, n);
		free(out);
	}
	/* Too big for the EF: refused, the EF keeps what it had. */
	assert_int_not_equal(jpki_term_write_ef(&t, JPKI_APP_JPKI, JPKI_EF_SIGN_CA,
						blob, JPKI_CARD_EF_MAX + 1, &eb),
			     JPKI_OK);
	size_t cur = 0;
	(void)jpki_card_ef(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CA, &cur);
	assert_true(cur > 0);
	/* Nothing: empty. */
	assert_int_equal(
	    jpki_term_write_ef(&t, JPKI_APP_JPKI, JPKI_EF_SIGN_CA, blob, 0, &eb),
	    JPKI_OK);
	assert_ef(c, JPKI_APP_JPKI, JPKI_EF_SIGN_CA, NULL, 0);
	jpki_card_close(c);
}

static void test_term_issuer_auth(void **state)
{
	struct jpki_card *c = new_card();
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	(void)state;

	jpki_term_local(&t, c);
	assert_int_not_equal(jpki_term_issuer_auth(&t, g_other, &eb), JPKI_OK);
	assert_int_equal(t.last_sw, 0x6300);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(apdu(c, "00 2C 03 80"), 0x6982);
	assert_int_equal(jpki_term_issuer_auth(&t, g_issuer, &eb), JPKI_OK);
	assert_int_equal(t.last_sw, 0x9000);
	sel(c, JPKI_APP_JPKI, JPKI_EF_AUTH_PIN);
	assert_sw(apdu(c, "00 2C 03 80"), 0x9000);
	jpki_card_close(c);
}

static void test_term_keygen_pubkey(void **state)
{
	struct jpki_card *c = new_card();
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	uint8_t *der = NULL, *der2 = NULL, mod[256], mod2[256];
	size_t len = 0, len2 = 0;
	struct jpki_card_info info;
	(void)state;

	jpki_term_local(&t, c);
	/* Without issuer authentication; no key to read. */
	assert_int_not_equal(jpki_term_keygen(&t, JPKI_KEY_SIGN, &der, &len, &eb),
			     JPKI_OK);
	assert_int_not_equal(jpki_term_pubkey(&t, JPKI_KEY_SIGN, &der, &len, &eb),
			     JPKI_OK);
	jpki_card_info(c, &info);
	assert_false(info.has_key[JPKI_KEY_SIGN]);

	assert_int_equal(jpki_term_issuer_auth(&t, g_issuer, &eb), JPKI_OK);
	assert_int_equal(jpki_term_keygen(&t, JPKI_KEY_SIGN, &der, &len, &eb), JPKI_OK);
	EVP_PKEY *pk = spki_rsa2048(der, len);
	rsa_modulus(pk, mod);
	EVP_PKEY_free(pk);
	jpki_card_info(c, &info);
	assert_true(info.has_key[JPKI_KEY_SIGN]);
	assert_false(info.has_key[JPKI_KEY_AUTH]);

	/* jpki_term_pubkey: the same DER, and the same modulus by hand. The
	 * terminal is told of the reset (card.h: t.app). */
	jpki_card_reset(c);
	t.app = 0;
	assert_int_equal(jpki_term_pubkey(&t, JPKI_KEY_SIGN, &der2, &len2, &eb),
			 JPKI_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(der2, der, len);
	sel(c, JPKI_APP_JPKI, JPKI_EF_SIGN_KEY);
	assert_sw(apdu(c, "00 47 81 00 00 00 00"), 0x9000);
	parse_template(g_r, g_rn, mod2);
	assert_memory_equal(mod, mod2, 256);
	assert_int_not_equal(jpki_term_pubkey(&t, JPKI_KEY_AUTH, &der2, &len2, &eb),
			     JPKI_OK);
	free(der);
	free(der2);
	jpki_card_close(c);

	/* The shared card: jpki_term_pubkey agrees with GENERATE's template. */
	c = keyed();
	jpki_term_local(&t, c);
	for (int k = 0; k < 2; k++) {
		der = NULL;
		assert_int_equal(
		    jpki_term_pubkey(&t, (enum jpki_card_key)k, &der, &len, &eb),
		    JPKI_OK);
		pk = spki_rsa2048(der, len);
		assert_int_equal(EVP_PKEY_eq(pk, g_kpub[k]), 1);
		EVP_PKEY_free(pk);
		free(der);
	}
}

static void test_term_sign(void **state)
{
	static const char msg[] = "signed through the terminal";
	struct jpki_card *c = keyed();
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	enum jpki_verify_result res;
	int tries = 0;
	uint8_t di[DI_LEN], sig[256];
	size_t sl = 0;
	(void)state;

	digest_info(msg, di);
	jpki_term_local(&t, c);
	assert_int_not_equal(
	    jpki_term_sign(&t, JPKI_KEY_SIGN, di, DI_LEN, sig, &sl, &eb), JPKI_OK);
	assert_int_equal(t.last_sw, 0x6982);
	assert_int_equal(
	    jpki_term_verify(&t, JPKI_PIN_SIGN, PIN_SIGN, 6, &res, &tries, &eb),
	    JPKI_OK);
	assert_int_equal(res, JPKI_VERIFY_OK);
	assert_int_equal(jpki_term_sign(&t, JPKI_KEY_SIGN, di, DI_LEN, sig, &sl, &eb),
			 JPKI_OK);
	assert_int_equal(sl, 256);
	assert_true(rsa_sha256_ok(g_kpub[JPKI_KEY_SIGN], sig, sl, msg, strlen(msg)));
	/* The auth key is still closed. */
	assert_int_not_equal(
	    jpki_term_sign(&t, JPKI_KEY_AUTH, di, DI_LEN, sig, &sl, &eb), JPKI_OK);
	assert_int_equal(t.last_sw, 0x6982);
	assert_int_equal(
	    jpki_term_verify(&t, JPKI_PIN_AUTH, PIN_AUTH, 4, &res, &tries, &eb),
	    JPKI_OK);
	assert_int_equal(jpki_term_sign(&t, JPKI_KEY_AUTH, di, DI_LEN, sig, &sl, &eb),
			 JPKI_OK);
	assert_true(rsa_sha256_ok(g_kpub[JPKI_KEY_AUTH], sig, sl, msg, strlen(msg)));
}

static void test_term_reset_pin(void **state)
{
	struct jpki_card *c = new_card();
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	enum jpki_verify_result res;
	int tries = 0;
	(void)state;

	jpki_term_local(&t, c);
	for (int i = 0; i < 3; i++)
		(void)jpki_term_verify(&t, JPKI_PIN_JUKI, "0000", 4, &res, &tries, &eb);
	assert_int_equal(res, JPKI_VERIFY_BLOCKED);
	assert_int_not_equal(jpki_term_reset_pin(&t, JPKI_PIN_JUKI, NULL, 0, &eb),
			     JPKI_OK);
	assert_int_equal(jpki_term_issuer_auth(&t, g_issuer, &eb), JPKI_OK);
	assert_int_equal(jpki_term_reset_pin(&t, JPKI_PIN_JUKI, NULL, 0, &eb), JPKI_OK);
	assert_int_equal(jpki_term_pin_status(&t, JPKI_PIN_JUKI, &tries, &eb), JPKI_OK);
	assert_int_equal(tries, 3);
	assert_int_equal(
	    jpki_term_verify(&t, JPKI_PIN_JUKI, PIN_JUKI, 4, &res, &tries, &eb),
	    JPKI_OK);
	assert_int_equal(res, JPKI_VERIFY_OK);

	assert_int_equal(jpki_term_reset_pin(&t, JPKI_PIN_JUKI, "8888", 4, &eb),
			 JPKI_OK);
	(void)jpki_term_verify(&t, JPKI_PIN_JUKI, PIN_JUKI, 4, &res, &tries, &eb);
	assert_int_equal(res, JPKI_VERIFY_WRONG);
	assert_int_equal(
	    jpki_term_verify(&t, JPKI_PIN_JUKI, "8888", 4, &res, &tries, &eb), JPKI_OK);
	assert_int_equal(res, JPKI_VERIFY_OK);

	assert_int_not_equal(jpki_term_reset_pin(&t, JPKI_PIN_AUTH, "12", 2, &eb),
			     JPKI_OK);
	assert_int_equal(t.last_sw, 0x6A80);
	jpki_card_close(c);
}

/* ==== 券面事項 ==== */

static size_t ber_len(uint8_t *p, size_t n)
{
	if (n < 128) {
		p[0] = (uint8_t)n;
		return 1;
	}
	if (n < 256) {
		p[0] = 0x81;
		p[1] = (uint8_t)n;
		return 2;
	}
	p[0] = 0x82;
	p[1] = (uint8_t)(n >> 8);
	p[2] = (uint8_t)n;
	return 3;
}

static size_t tlv(uint8_t *p, uint16_t tag, const void *v, size_t n)
{
	size_t o = 0;
	p[o++] = (uint8_t)(tag >> 8);
	p[o++] = (uint8_t)tag;
	o += ber_len(p + o, n);
	memcpy(p + o, v, n);
	return o + n;
}

/* The attribute TLV built here, independently of the card. */
static size_t expect_attrs(uint8_t *out, const char *name, const char *addr,
			   const char *birth8, const char *sex)
{
	uint8_t inner[2048];
	size_t n = 0;
	n += tlv(inner + n, 0xDF22, name, strlen(name));
	n += tlv(inner + n, 0xDF23, addr, strlen(addr));
	n += tlv(inner + n, 0xDF24, birth8, 8);
	n += tlv(inner + n, 0xDF25, sex, 1);
	return tlv(out, 0xFF20, inner, n);
}

static void test_attrs_encode_short(void **state)
{
	static const char name[] = "山田太郎", addr[] = "東京都千代田区";
	uint8_t want[128], *out = NULL;
	size_t n = 0, len = 0;
	(void)state;

	assert_int_equal(strlen(name), 12);
	assert_int_equal(strlen(addr), 21);
	/* FF 20 36 | DF 22 0C name | DF 23 15 addr | DF 24 08 "19850401" |
	 * DF 25 01 "1": written out byte by byte. */
	want[n++] = 0xFF, want[n++] = 0x20, want[n++] = 0x36;
	want[n++] = 0xDF, want[n++] = 0x22, want[n++] = 0x0C;
	memcpy(want + n, name, 12), n += 12;
	want[n++] = 0xDF, want[n++] = 0x23, want[n++] = 0x15;
	memcpy(want + n, addr, 21), n += 21;
	want[n++] = 0xDF, want[n++] = 0x24, want[n++] = 0x08;
	memcpy(want + n, "19850401", 8), n += 8;
	want[n++] = 0xDF, want[n++] = 0x25, want[n++] = 0x01, want[n++] = '1';
	assert_int_equal(n, 3 + 0x36);

	assert_int_equal(
	    jpki_card_attrs_encode(name, addr, day_of(1985, 4, 1), 1, &out, &len),
	    JPKI_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
	free(out);

	/* The other sexes and a leap day. */
	assert_int_equal(
	    jpki_card_attrs_encode(name, addr, day_of(2000, 2, 29), 3, &out, &len),
	    JPKI_OK);
	n = expect_attrs(want, name, addr, "20000229", "3");
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
	free(out);
	assert_int_equal(
	    jpki_card_attrs_encode(name, addr, day_of(1868, 1, 1), 2, &out, &len),
	    JPKI_OK);
	n = expect_attrs(want, name, addr, "18680101", "2");
	assert_int_equal(len, n);
	assert_memory_equal(out, want, n);
	free(out);
}

static void test_attrs_encode_long(void **state)
{
	static const char name[] = "山田太郎", part[] = "東京都千代田区霞が関";
	char addr150[160], addr300[310];
	uint8_t want[1024], *out = NULL;
	size_t n, len = 0;
	(void)state;

	assert_int_equal(strlen(part), 30);
	snprintf(addr150, sizeof addr150, "%s%s%s%s%s", part, part, part, part, part);
	snprintf(addr300, sizeof addr300, "%s%s%s%s%s%s%s%s%s%s", part, part, part,
		 part, part, part, part, part, part, part);
	assert_int_equal(strlen(addr150), 150);
	assert_int_equal(strlen(addr300), 300);

	/* 15 + (4 + 150) + 11 + 4 = 184 = 0xB8: FF 20 81 B8. */
	assert_int_equal(
	    jpki_card_attrs_encode(name, addr150, day_of(1990, 12, 31), 2, &out, &len),
	    JPKI_OK);
	n = expect_attrs(want, name, addr150, "19901231", "2");
	assert_int_equal(len, n);
	assert_int_equal(len, 4 + 184);
	assert_memory_equal(out, "\xFF\x20\x81\xB8", 4);
	assert_memory_equal(out + 4 + 15, "\xDF\x23\x81\x96", 4);
	assert_memory_equal(out, want, n);
	free(out);

	/* 15 + (5 + 300) + 11 + 4 = 335 = 0x014F: FF 20 82 01 4F. */
	assert_int_equal(
	    jpki_card_attrs_encode(name, addr300, day_of(1990, 12, 31), 1, &out, &len),
	    JPKI_OK);
	n = expect_attrs(want, name, addr300, "19901231", "1");
	assert_int_equal(len, n);
	assert_int_equal(len, 5 + 335);
	assert_memory_equal(out, "\xFF\x20\x82\x01\x4F", 5);
	assert_memory_equal(out + 5 + 15, "\xDF\x23\x82\x01\x2C", 5);
	assert_memory_equal(out, want, n);
	free(out);
}

static void test_text_ap(void **state)
{
	struct jpki_card *c = new_holder_card();
	uint8_t want[512], *enc = NULL;
	size_t n, elen = 0;
	(void)state;

	n = expect_attrs(want, HOLDER_NAME, HOLDER_ADDRESS, "19850401", "2");
	assert_int_equal(jpki_card_attrs_encode(HOLDER_NAME, HOLDER_ADDRESS,
						day_of(1985, 4, 1), 2, &enc, &elen),
			 JPKI_OK);
	assert_int_equal(elen, n);
	assert_memory_equal(enc, want, n);
	free(enc);
	assert_ef(c, JPKI_APP_TEXT, JPKI_EF_TEXT_ATTRS, want, n);
	assert_ef(c, JPKI_APP_TEXT, JPKI_EF_TEXT_NUMBER, HOLDER_NUMBER, 12);

	sel(c, JPKI_APP_TEXT, JPKI_EF_TEXT_ATTRS);
	assert_sw(read_all(c), 0x6982);
	assert_int_equal(g_rn, 0);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x6982);
	/* Other PINs do not open them. */
	assert_sw(pin_op(c, JPKI_PIN_JUKI, PIN_JUKI), 0x9000);
	assert_sw(select_app(c, JPKI_APP_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_ATTRS), 0x9000);
	assert_sw(read_all(c), 0x6982);

	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x9000);
	assert_sw(verify(c, PIN_TEXT), 0x9000);
	assert_sw(select_ef(c, JPKI_EF_TEXT_ATTRS), 0x9000);
	assert_sw(read_all(c), 0x6282);
	assert_resp(want, n);
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x9000);
	assert_resp(HOLDER_NUMBER, 12);
	assert_sw(apdu(c, "00 B0 00 00 00"), 0x6282);
	assert_resp(HOLDER_NUMBER, 12);
	jpki_card_close(c);

	/* A card without holder fields: both EFs empty. */
	c = new_card();
	assert_ef(c, JPKI_APP_TEXT, JPKI_EF_TEXT_ATTRS, NULL, 0);
	assert_ef(c, JPKI_APP_TEXT, JPKI_EF_TEXT_NUMBER, NULL, 0);
	jpki_card_close(c);
}

/* ==== the card file ==== */

static void test_file_create(void **state)
{
	struct jpki_card_init in;
	struct jpki_card *c = NULL;
	struct jpki_card_info i1, i2;
	struct jpki_errbuf eb = {{0}};
	char path[PATH_SZ];
	uint8_t *before, *after;
	size_t bl, al;
	(void)state;

	init_default(&in);
	fresh_path(path);
	create_file(path, &in, NULL);
	assert_mode_0600(path);
	before = slurp(path, &bl);
	assert_true(bl > 0);

	/* An existing path is refused and left alone. */
	assert_int_equal(jpki_card_create(path, &in, &c, &eb), JPKI_ERR_CONFLICT);
	after = slurp(path, &al);
	assert_int_equal(al, bl);
	assert_memory_equal(after, before, bl);
	free(after);
	char other[PATH_SZ];
	fresh_path(other);
	spit(other, "not a card\n", 11);
	assert_int_equal(jpki_card_create(other, &in, NULL, &eb), JPKI_ERR_CONFLICT);
	after = slurp(other, &al);
	assert_int_equal(al, 11);
	free(after);

	/* The PINs are not in it (salted hashes only). */
	for (int k = 0; k < 4; k++) {
		size_t pl = strlen(PINS[k].right);
		for (size_t i = 0; i + pl <= bl; i++)
			if (memcmp(before + i, PINS[k].right, pl) == 0)
				fail_msg("PIN \"%s\" in the card file at %zu",
					 PINS[k].right, i);
	}

	/* It opens, and says what it is. */
	c = open_file(path, true);
	jpki_card_info(c, &i1);
	assert_serial(i1.serial);
	assert_string_equal(i1.municipality, MUNI);
	assert_int_equal(i1.created, T0);
	assert_memory_equal(jpki_card_issuer_pub(c), g_issuer_pub, 32);
	sel(c, JPKI_APP_JPKI, JPKI_EF_TOKEN_INFO);
	assert_sw(apdu(c, "00 B0 00 00 20"), 0x9000);
	assert_resp(TOKEN_INFO, 32);
	assert_sw(pin_op(c, JPKI_PIN_AUTH, PIN_AUTH), 0x9000);
	jpki_card_close(c);
	c = open_file(path, true);
	jpki_card_info(c, &i2);
	assert_string_equal(i1.serial, i2.serial);
	jpki_card_close(c);
	free(before);
}

static void test_file_counters_persist(void **state)
{
	struct jpki_card_init in;
	struct jpki_card *c = NULL;
	struct jpki_card_info info;
	char dir[PATH_SZ], path[PATH_SZ];
	(void)state;

	init_default(&in);
	fresh_subdir(dir);
	assert_true(snprintf(path, sizeof path, "%s/my.card", dir) < (int)sizeof path);
	create_file(path, &in, &c);
	assert_mode_0600(path);

	assert_sw(pin_op(c, JPKI_PIN_AUTH, "0000"), 0x63C2);
	assert_sw(verify(c, "1111"), 0x63C1);
	assert_sw(pin_op(c, JPKI_PIN_SIGN, "ZZZ999"), 0x63C4);
	jpki_card_close(c);

	c = open_file(path, true);
	assert_sw(pin_op(c, JPKI_PIN_AUTH, NULL), 0x63C1);
	assert_sw(pin_op(c, JPKI_PIN_SIGN, NULL), 0x63C4);
	jpki_card_info(c, &info);
	assert_int_equal(info.pin[JPKI_PIN_AUTH].tries_left, 1);
	assert_int_equal(info.pin[JPKI_PIN_SIGN].tries_left, 4);
	assert_int_equal(info.pin[JPKI_PIN_TEXT].tries_left, 3);
	/* Block auth; reset sign with the right PIN. */
	assert_sw(pin_op(c, JPKI_PIN_AUTH, "2222"), 0x63C0);
	assert_sw(pin_op(c, JPKI_PIN_SIGN, PIN_SIGN), 0x9000);
	/* Change the text PIN. */
	assert_sw(pin_op(c, JPKI_PIN_TEXT, PIN_TEXT), 0x9000);
	assert_sw(cmdx(c, "00 24 01 80", "7777", 4, NO_LE), 0x9000);
	jpki_card_close(c);

	c = open_file(path, true);
	assert_sw(pin_op(c, JPKI_PIN_AUTH, NULL), 0x63C0);
	assert_sw(verify(c, PIN_AUTH), 0x6983);
	assert_sw(pin_op(c, JPKI_PIN_SIGN, NULL), 0x63C5);
	assert_sw(pin_op(c, JPKI_PIN_TEXT, PIN_TEXT), 0x63C2);
	assert_sw(verify(c, "7777"), 0x9000);
	jpki_card_info(c, &info);
	assert_true(info.pin[JPKI_PIN_AUTH].blocked);
	jpki_card_close(c);

	/* Written by rename: still 0600, no temporary file left behind. */
	assert_mode_0600(path);
	assert_int_equal(count_entries(dir), 1);
}

static void test_file_read_only(void **state)
{
	struct jpki_card_init in;
	struct jpki_card *c = NULL;
	char path[PATH_SZ];
	uint8_t *before, *after;
	size_t bl, al;
	(void)state;

	init_holder(&in);
	fresh_path(path);
	create_file(path, &in, NULL);
	before = slurp(path, &bl);

	c = open_file(path, false);
	sel(c, JPKI_APP_JPKI, JPKI_EF_TOKEN_INFO);
	assert_sw(apdu(c, "00 B0 00 00 20"), 0x9000);
	assert_sw(pin_op(c, JPKI_PIN_TEXT, NULL), 0x63C3);
	assert_sw(verify(c, "0000"), 0x6581);
	assert_sw(verify(c, NULL), 0x63C3);
	assert_sw(verify(c, PIN_TEXT), 0x6581); /* nothing compared */
	assert_sw(select_ef(c, JPKI_EF_TEXT_NUMBER), 0x9000);
	assert_sw(apdu(c, "00 B0 00 00 0C"), 0x6982);
	/* A read-only opener does not take the lock. */
	struct jpki_card *w = open_file(path, true);
	jpki_card_close(w);
	jpki_card_close(c);

	after = slurp(path, &al);
	assert_int_equal(al, bl);
	assert_memory_equal(after, before, bl);
	free(after);
	free(before);
	c = open_file(path, true);
	assert_sw(pin_op(c, JPKI_PIN_TEXT, NULL), 0x63C3);
	jpki_card_close(c);
}

static void test_file_lock(void **state)
{
	struct jpki_card_init in;
	struct jpki_card *a = NULL, *b = NULL;
	struct jpki_errbuf eb = {{0}};
	char path[PATH_SZ];
	(void)state;

	init_default(&in);
	fresh_path(path);
	create_file(path, &in, &a); /* created and held */
	assert_int_equal(jpki_card_open(path, true, &b, &eb), JPKI_ERR_CONFLICT);
	/* Still held after the file was replaced by a state change. */
	assert_sw(pin_op(a, JPKI_PIN_AUTH, "0000"), 0x63C2);
	assert_int_equal(jpki_card_open(path, true, &b, &eb), JPKI_ERR_CONFLICT);
	jpki_card_close(a);
	b = open_file(path, true);
	a = NULL;
	assert_int_equal(jpki_card_open(path, true, &a, &eb), JPKI_ERR_CONFLICT);
	assert_sw(pin_op(b, JPKI_PIN_AUTH, PIN_AUTH), 0x9000);
	assert_sw(pin_op(b, JPKI_PIN_TEXT, "0000"), 0x63C2);
	assert_int_equal(jpki_card_open(path, true, &a, &eb), JPKI_ERR_CONFLICT);
	jpki_card_close(b);
	a = open_file(path, true);
	assert_sw(pin_op(a, JPKI_PIN_AUTH, NULL), 0x63C3);
	assert_sw(pin_op(a, JPKI_PIN_TEXT, NULL), 0x63C2);
	jpki_card_close(a);
}

static void test_file_damaged(void **state)
{
	struct jpki_card_init in;
	char path[PATH_SZ], bad[PATH_SZ];
	uint8_t *data;
	size_t len;
	(void)state;

	init_default(&in);
	fresh_path(path);
	create_file(path, &in, NULL);
	data = slurp(path, &len);
	assert_true(len > 64);
	data = realloc(data, len + 1); /* room for a byte more */
	assert_non_null(data);

	fresh_path(bad);
	data[len / 2] ^= 0x01;
	spit(bad, data, len);
	assert_int_equal(open_err(bad, true), JPKI_ERR_INVALID);
	assert_int_equal(open_err(bad, false), JPKI_ERR_INVALID);
	data[len / 2] ^= 0x01;
	/* One flipped bit anywhere. */
	for (size_t k = 1; k <= 16; k++) {
		size_t at = k == 16 ? len - 1 : len * k / 16;
		data[at] ^= 0x80;
		fresh_path(bad);
		spit(bad, data, len);
		if (open_err(bad, true) != JPKI_ERR_INVALID)
			fail_msg(
			    "bit 7 of byte %zu of %zu flipped: not JPKI_ERR_INVALID",
			    at, len);
		data[at] ^= 0x80;
	}
	/* One byte more. */
	data[len] = 0;
	fresh_path(bad);
	spit(bad, data, len + 1);
	assert_int_equal(open_err(bad, true), JPKI_ERR_INVALID);
	fresh_path(bad);
	spit(bad, data, len / 2);
	assert_int_equal(open_err(bad, true), JPKI_ERR_INVALID);
	fresh_path(bad);
	spit(bad, "hello, world\n", 13);
	assert_int_equal(open_err(bad, true), JPKI_ERR_INVALID);
	fresh_path(bad);
	spit(bad, "", 0);
	assert_int_equal(open_err(bad, true), JPKI_ERR_INVALID);
	fresh_path(bad);
	assert_int_not_equal(open_err(bad, true), JPKI_OK); /* no such file */
	/* The untouched original is fine. */
	fresh_path(bad);
	spit(bad, data, len);
	assert_int_equal(open_err(bad, true), JPKI_OK);
	free(data);
}

/* A card file that cannot be written: 6581, nothing compared, memory
 * rolled back. RLIMIT_FSIZE 0 makes every write fail (even for root). */
static void test_file_write_failure(void **state)
{
	struct jpki_card_init in;
	struct jpki_card *c = NULL;
	struct jpki_card_info info;
	struct rlimit old, lim;
	char path[PATH_SZ];
	uint8_t *before, *after;
	size_t bl, al;
	uint16_t sw_wrong, sw_right, sw_read, sw_query;
	(void)state;

	init_holder(&in);
	fresh_path(path);
	create_file(path, &in, &c);
	before = slurp(path, &bl);
	sel(c, JPKI_APP_TEXT, JPKI_EF_TEXT_PIN);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 0;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	sw_wrong = verify(c, "0000");
	sw_right = verify(c, PIN_TEXT);
	jpki_card_info(c, &info);
	sw_query = verify(c, NULL);
	(void)select_ef(c, JPKI_EF_TEXT_NUMBER);
	sw_read = apdu(c, "00 B0 00 00 0C");
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);

	assert_sw(sw_wrong, 0x6581);
	assert_sw(sw_right, 0x6581);
	assert_sw(sw_query, 0x63C3);
	assert_int_equal(info.pin[JPKI_PIN_TEXT].tries_left, 3);
	assert_sw(sw_read, 0x6982); /* not verified */
	after = slurp(path, &al);
	assert_int_equal(al, bl);
	assert_memory_equal(after, before, bl);
	free(after);
	free(before);

	/* Writable again: it works. */
	assert_sw(select_ef(c, JPKI_EF_TEXT_PIN), 0x9000);
	assert_sw(verify(c, "0000"), 0x63C2);
	jpki_card_close(c);
	c = open_file(path, true);
	assert_sw(pin_op(c, JPKI_PIN_TEXT, NULL), 0x63C2);
	jpki_card_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_constants),
	    cmocka_unit_test(test_info),
	    cmocka_unit_test(test_framing_lengths),
	    cmocka_unit_test(test_framing_cla_ins),
	    cmocka_unit_test(test_framing_extended),
	    cmocka_unit_test(test_get_response),
	    cmocka_unit_test(test_select_aids),
	    cmocka_unit_test(test_select_errors),
	    cmocka_unit_test(test_select_failed_changes_nothing),
	    cmocka_unit_test(test_select_empty_efs),
	    cmocka_unit_test(test_select_aid_clears_ef),
	    cmocka_unit_test(test_read_token_info),
	    cmocka_unit_test(test_read_errors),
	    cmocka_unit_test(test_read_sign_cert_needs_sign_pin),
	    cmocka_unit_test(test_verify_fresh_counters),
	    cmocka_unit_test(test_verify_countdown),
	    cmocka_unit_test(test_verify_success_resets),
	    cmocka_unit_test(test_verify_pin_as_given),
	    cmocka_unit_test(test_verify_unset_pin),
	    cmocka_unit_test(test_verify_errors),
	    cmocka_unit_test(test_verify_wrong_clears_flag),
	    cmocka_unit_test(test_reselect_clears_verified),
	    cmocka_unit_test(test_reset_clears_session),
	    cmocka_unit_test(test_change_pin),
	    cmocka_unit_test(test_change_pin_errors),
	    cmocka_unit_test(test_sign_both_keys),
	    cmocka_unit_test(test_sign_needs_its_pin),
	    cmocka_unit_test(test_sign_lengths),
	    cmocka_unit_test(test_sign_chained),
	    cmocka_unit_test(test_sign_errors),
	    cmocka_unit_test(test_get_challenge),
	    cmocka_unit_test(test_external_auth_good),
	    cmocka_unit_test(test_external_auth_bad),
	    cmocka_unit_test(test_issuer_ops_need_auth),
	    cmocka_unit_test(test_generate),
	    cmocka_unit_test(test_generate_errors),
	    cmocka_unit_test(test_update_binary),
	    cmocka_unit_test(test_erase_binary),
	    cmocka_unit_test(test_reset_retry_counter),
	    cmocka_unit_test(test_reset_retry_counter_errors),
	    cmocka_unit_test(test_reset_retry_counter_unset_pin),
	    cmocka_unit_test(test_reset_retry_counter_clears_verified),
	    cmocka_unit_test(test_term_verify),
	    cmocka_unit_test(test_term_read_write_ef),
	    cmocka_unit_test(test_term_ef_sizes),
	    cmocka_unit_test(test_term_issuer_auth),
	    cmocka_unit_test(test_term_keygen_pubkey),
	    cmocka_unit_test(test_term_sign),
	    cmocka_unit_test(test_term_reset_pin),
	    cmocka_unit_test(test_attrs_encode_short),
	    cmocka_unit_test(test_attrs_encode_long),
	    cmocka_unit_test(test_text_ap),
	    cmocka_unit_test(test_file_create),
	    cmocka_unit_test(test_file_counters_persist),
	    cmocka_unit_test(test_file_read_only),
	    cmocka_unit_test(test_file_lock),
	    cmocka_unit_test(test_file_damaged),
	    cmocka_unit_test(test_file_write_failure),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
