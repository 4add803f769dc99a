/* jpki card: make, personalise, inspect and serve a virtual My Number card.
 *
 * Every operation on a card goes through its APDU interface (lib/card
 * term.c), as the counter terminal or a resident's PC would; only `status`
 * reads the card file directly (it works while `card serve` holds it). Issuer
 * operations (keygen, write-cert, reset-pin) authenticate with the
 * municipality's card-issuer key from the store and are audited there.
 * PINs come from stdin or a PIN file, never the command line. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli.h"
#include "jpki/card.h"
#include "jpki/pki.h"
#include "jpki/store.h"
#include "banned.h"

static const char card_usage[] =
    "usage: jpki [--store URL] [--keys DIR] card <command> [options]\n"
    "\n"
    "The registry (a resident's card, lib/registry):\n"
    "  issue --resident ID --card FILE --pins PINS.json [--ward-present]\n"
    "        [--passphrase-file F] [--json]\n"
    "        creates FILE: a card with keys made on it, the auth certificate and,\n"
    "        from 15 (an adult ward only with --ward-present), the signing one\n"
    "  return --resident ID [--json]     the active card is returned: both\n"
    "        certificates revoked (cessationOfOperation)\n"
    "  lost --resident ID [--json]       the active card is lost: both revoked\n"
    "        (keyCompromise)\n"
    "\n"
    "The card itself:\n"
    "  new --out FILE --pins PINS.json [--holder SUBJECT.json] [--json]\n"
    "        a new card for the holder's municipality (or the store's only one),\n"
    "        with its PINs and 券面事項; prints the card serial\n"
    "  keygen --card FILE --kind sign|auth       key pair made on the card;\n"
    "        the public key PEM on stdout (issuer operation)\n"
    "  write-cert --card FILE --kind sign|auth --cert FILE.pem\n"
    "        writes the certificate and its issuing CA's (issuer operation)\n"
    "  status --card FILE [--json]               certificates, expiry, PIN tries\n"
    "  verify-pin --card FILE --kind sign|auth|juki|text [--json]\n"
    "        PIN on the first line of stdin; exit 0 right, 1 wrong or blocked\n"
    "  sign --card FILE --kind sign|auth --in FILE [--out SIG]\n"
    "        PIN on stdin; SHA-256 and PKCS#1 v1.5 on the card, raw signature\n"
    "  reset-pin --card FILE --kind sign|auth|juki|text --pins PINS.json\n"
    "        sets that kind's PIN from the file and unblocks it (issuer operation)\n"
    "  serve --card FILE [--vpcd HOST:PORT]       the card in vsmartcard's virtual\n"
    "        reader (default 127.0.0.1:35963) for PC/SC software, until stopped\n"
    "\n"
    "PINS.json: "
    "{\"sign\":\"ABC123\",\"auth\":\"1234\",\"juki\":\"1234\",\"text\":\"1234\"}\n"
    "(sign may be left out). Issuer operations read the CA passphrase from\n"
    "JPKI_CA_PASSPHRASE or --passphrase-file F. A card file is locked while a\n"
    "command or `card serve` uses it.\n";

/* SHA-256 DigestInfo prefix (RFC 8017 9.2 note 1). */
static const uint8_t sha256_prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
					  0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					  0x01, 0x05, 0x00, 0x04, 0x20};

static int parse_key(const struct cmd_ctx *c, const char *s, enum jpki_card_key *k)
{
	if (strcmp(s, "sign") == 0)
		*k = JPKI_KEY_SIGN;
	else if (strcmp(s, "auth") == 0)
		*k = JPKI_KEY_AUTH;
	else
		return fail(c, EXIT_USAGE, "--kind: '%.20s' is not sign or auth", s);
	return -1;
}

static int parse_pin_kind(const struct cmd_ctx *c, const char *s, enum jpki_pin_kind *k)
{
	int v = jpki_pin_kind_parse(s);
	if (v < 0)
		return fail(c, EXIT_USAGE,
			    "--kind: '%.20s' is not sign, auth, juki or text", s);
	*k = (enum jpki_pin_kind)v;
	return -1;
}

/* A certificate's serial as lowercase hex (what `ca issue` and the store
 * print); "" if it cannot be read. */
static void serial_hex(X509 *x, char out[80])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	size_t i = 0;
	for (; hex && hex[i] && i < 79; i++)
		out[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] + 32 : hex[i]);
	out[i] = '\0';
	OPENSSL_free(hex);
	BN_free(bn);
}

/* The first certificate of a PEM buffer, or NULL. */
static X509 *pem_x509(const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	return x;
}

static int open_card(const struct cmd_ctx *c, const char *path, bool lock,
		     struct jpki_card **card)
{
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_card_open(path, lock, card, &eb);
	if (e == JPKI_ERR_NOTFOUND || e == JPKI_ERR_INVALID)
		return fail(c, EXIT_USAGE, "%s", eb.msg);
	return e == JPKI_OK ? -1 : fail(c, exit_for(e), "%s", eb.msg);
}

/* A PIN from the first line of stdin, normalized and format-checked: a PIN
 * that cannot be right is not sent to the card (it would cost a try). */
static int read_pin(const struct cmd_ctx *c, enum jpki_pin_kind k,
		    char pin[JPKI_PIN_MAX_LEN + 1], size_t *len)
{
	char line[64];
	int too_long;
	ssize_t n = cli_read_line(line, sizeof line, &too_long);
	if (n < 0) {
		OPENSSL_cleanse(line, sizeof line);
		return fail(c, EXIT_INTERNAL, "cannot read stdin: %s", strerror(errno));
	}
	enum jpki_pin_problem p =
	    too_long ? JPKI_PIN_TOO_LONG : jpki_pin_check(k, line, (size_t)n, pin);
	OPENSSL_cleanse(line, sizeof line);
	if (p != JPKI_PIN_OK)
		return fail(c, EXIT_USAGE, "the PIN on stdin: %s",
			    jpki_pin_problem_en(k, p));
	*len = strlen(pin);
	return -1;
}

/* ---- the store side of issuer operations ---- */

struct issuer {
	struct jpki_store *store;
	void *key;
	int64_t now; /* read before the card changes */
	char municipality[7];
	char keys_dir[4096];
};

static void issuer_close(struct issuer *is)
{
	jpki_card_issuer_key_free(is->key);
	if (is->store) {
		jpki_store_rollback(is->store);
		jpki_store_close(is->store);
	}
	*is = (struct issuer){0};
}

/* Opens the store, loads the card's issuer key and authenticates to the
 * card with it. A transaction stays open for the audit row. */
static int issuer_open(const struct cmd_ctx *c, const char *pass_file,
		       struct jpki_card *card, struct jpki_term *t, struct issuer *is)
{
	struct jpki_errbuf eb = {{0}};
	char *pass = NULL;
	jpki_err e;
	int rc = cli_now(c, &is->now);
	if (rc >= 0 || (rc = cli_open_store(c, false, &is->store, is->keys_dir,
					    sizeof is->keys_dir)) >= 0)
		return rc;
	if ((rc = cli_read_passphrase(c, pass_file, &pass)) >= 0)
		return rc;
	e = jpki_card_issuer_key(is->store, is->keys_dir, pass,
				 jpki_card_issuer_pub(card), &is->key, is->municipality,
				 &eb);
	cli_free_secret(pass);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	if ((e = jpki_term_issuer_auth(t, is->key, &eb)) != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	if ((e = jpki_store_begin(is->store)) != JPKI_OK)
		return fail(c, EXIT_INTERNAL, "store: %s",
			    jpki_store_errmsg(is->store));
	return -1;
}

/* Appends the audit row and commits. */
static int issuer_audit(const struct cmd_ctx *c, struct issuer *is,
			struct jpki_card *card, const char *action, json_t *details)
{
	struct jpki_card_info info;
	struct jpki_errbuf eb = {{0}};
	jpki_card_info(card, &info);
	char *d = details ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(details);
	if (d == NULL)
		return fail(c, EXIT_INTERNAL, "out of memory");
	char object[48];
	snprintf(object, sizeof object, "card:%s", info.serial);
	jpki_err e =
	    jpki_audit_append(is->store, is->now, "jpki-card", action, object, d, &eb);
	free(d);
	if (e == JPKI_OK)
		e = jpki_store_commit(is->store);
	if (e != JPKI_OK)
		return fail(c, EXIT_INTERNAL,
			    "store (the card was changed, the audit row "
			    "not written): %s",
			    eb.msg[0] ? eb.msg : jpki_store_errmsg(is->store));
	return -1;
}

/* ---- new ---- */

static int card_new(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *out_f = NULL, *pins_f = NULL, *holder_f = NULL;
	struct opt opts[] = {
	    {"out", OPT_STRING, &out_f, true, false},
	    {"pins", OPT_STRING, &pins_f, true, false},
	    {"holder", OPT_STRING, &holder_f, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0)
		return rc;
	struct cli_pins pins;
	struct jpki_subject subj = {0};
	struct jpki_store *s = NULL;
	struct jpki_municipality *munis = NULL;
	struct jpki_card *card = NULL;
	struct jpki_errbuf eb = {{0}};
	char *text = NULL, keys[4096];
	size_t text_len, n_munis = 0;
	uint8_t pub[32];
	int64_t now;
	jpki_err e;
	if (access(out_f, F_OK) == 0)
		return fail(c, EXIT_USAGE, "--out: %s already exists", out_f);
	if ((rc = cli_check_out(c, out_f)) >= 0 ||
	    (rc = cli_read_pins(c, pins_f, &pins)) >= 0)
		return rc;
	for (int k = JPKI_PIN_AUTH; k <= JPKI_PIN_TEXT; k++)
		if (!pins.has[k]) {
			rc = fail(c, EXIT_USAGE, "%s: the %s PIN is missing", pins_f,
				  jpki_pin_kind_name(k));
			goto out;
		}
	if (holder_f) {
		if ((rc = read_file(c, holder_f, 64 * 1024, &text, &text_len)) >= 0)
			goto out;
		if ((e = jpki_subject_parse(text, text_len, JPKI_PKI_SIGN, &subj,
					    &eb))) {
			rc = fail(c, exit_for(e), "%s: %s", holder_f, eb.msg);
			goto out;
		}
	}
	if ((rc = cli_now(c, &now)) >= 0 ||
	    (rc = cli_open_store(c, false, &s, keys, sizeof keys)) >= 0)
		goto out;
	if ((e = jpki_municipalities(s, &munis, &n_munis, &eb))) {
		rc = fail(c, exit_for(e), "%s", eb.msg);
		goto out;
	}
	const char *muni = holder_f ? subj.municipality : NULL;
	if (muni == NULL && n_munis != 1) {
		rc = fail(c, EXIT_USAGE,
			  n_munis
			      ? "the store has %zu municipalities: give --holder with "
				"the holder's municipality"
			      : "the store has %zu municipalities: run jpki ca init",
			  n_munis);
		goto out;
	}
	if (muni == NULL)
		muni = munis[0].code;
	if ((e = jpki_card_issuer_public(s, muni, pub, &eb))) {
		rc = fail(c, e == JPKI_ERR_NOTFOUND ? EXIT_REFUSED : exit_for(e), "%s",
			  eb.msg);
		goto out;
	}
	struct jpki_card_init init = {
	    .issuer_pub = pub,
	    .municipality = muni,
	    .holder_name = holder_f ? subj.name : NULL,
	    .holder_address = holder_f ? subj.address : NULL,
	    .holder_birth = holder_f ? subj.birth : JPKI_DAY_NONE,
	    .holder_sex = holder_f ? subj.sex : 0,
	    .now = now,
	};
	for (int k = 0; k < 4; k++)
		init.pin[k] = pins.has[k] ? pins.pin[k] : NULL;
	if ((e = jpki_store_begin(s)) != JPKI_OK) {
		rc = fail(c, EXIT_INTERNAL, "store: %s", jpki_store_errmsg(s));
		goto out;
	}
	if ((e = jpki_card_create(out_f, &init, &card, &eb)) != JPKI_OK) {
		rc = fail(c, e == JPKI_ERR_CONFLICT ? EXIT_USAGE : exit_for(e), "%s",
			  eb.msg);
		goto out;
	}
	struct jpki_card_info info;
	jpki_card_info(card, &info);
	/* The card exists only with its audit row: without the row, no card. */
	char object[48], details[96];
	snprintf(object, sizeof object, "card:%s", info.serial);
	snprintf(details, sizeof details,
		 "{\"holder\":%s,\"municipality\":\"%s\",\"sign_pin\":%s}",
		 holder_f ? "true" : "false", info.municipality,
		 pins.has[JPKI_PIN_SIGN] ? "true" : "false");
	if ((e = jpki_audit_append(s, now, "jpki-card", "card.new", object, details,
				   &eb)) ||
	    (e = jpki_store_commit(s))) {
		jpki_card_close(card);
		card = NULL;
		unlink(out_f);
		rc = fail(c, EXIT_INTERNAL, "store: %s (no card was made)",
			  eb.msg[0] ? eb.msg : jpki_store_errmsg(s));
		goto out;
	}
	if (*c->json)
		rc = print_json(c, json_pack("{s:s,s:s,s:s}", "serial", info.serial,
					     "municipality", info.municipality, "file",
					     out_f));
	else {
		puts(info.serial);
		rc = EXIT_OK;
	}
out:
	jpki_card_close(card);
	free(munis);
	if (s) {
		jpki_store_rollback(s);
		jpki_store_close(s);
	}
	jpki_subject_release(&subj);
	free(text);
	cli_pins_wipe(&pins);
	return rc;
}

/* ---- keygen ---- */

static int card_keygen(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *card_f = NULL, *kind_s = NULL, *pass_file = NULL;
	struct opt opts[] = {
	    {"card", OPT_STRING, &card_f, true, false},
	    {"kind", OPT_STRING, &kind_s, true, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	};
	size_t npos;
	enum jpki_card_key k = JPKI_KEY_AUTH;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_key(c, kind_s, &k)) >= 0)
		return rc;
	struct jpki_card *card = NULL;
	struct issuer is = {0};
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	if ((rc = open_card(c, card_f, true, &card)) >= 0)
		return rc;
	jpki_term_local(&t, card);
	if ((rc = issuer_open(c, pass_file, card, &t, &is)) >= 0)
		goto out;
	jpki_err e = jpki_term_keygen(&t, k, &spki, &spki_len, &eb);
	if (e != JPKI_OK) {
		rc = fail(c, exit_for(e), "%s", eb.msg);
		goto out;
	}
	if ((rc = issuer_audit(c, &is, card, "card.keygen",
			       json_pack("{s:s}", "kind", kind_s))) >= 0)
		goto out;
	const unsigned char *p = spki;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)spki_len);
	if (pk == NULL || !PEM_write_PUBKEY(stdout, pk)) {
		rc = fail(c, EXIT_INTERNAL, "cannot write the public key");
	} else {
		rc = EXIT_OK;
	}
	EVP_PKEY_free(pk);
out:
	free(spki);
	issuer_close(&is);
	jpki_card_close(card);
	return rc;
}

/* ---- write-cert ---- */

/* The store's issuing CA certificate of a kind, checked to have signed
 * cert. */
static int issuing_ca(const struct cmd_ctx *c, struct issuer *is, enum jpki_card_key k,
		      X509 *cert, X509 **ca_out)
{
	struct jpki_ca *ca = NULL;
	struct jpki_errbuf eb = {{0}};
	char *pem = NULL;
	const char *which = k == JPKI_KEY_SIGN ? "sign" : "auth";
	jpki_err e = jpki_ca_open(is->store, is->keys_dir, NULL, &ca, &eb);
	if (e == JPKI_OK)
		e = jpki_ca_cert_pem(ca, which, &pem, &eb);
	jpki_ca_close(ca);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	X509 *cac = pem_x509(pem, strlen(pem));
	free(pem);
	EVP_PKEY *capub = cac ? X509_get0_pubkey(cac) : NULL;
	if (capub == NULL || X509_verify(cert, capub) != 1 ||
	    X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(cac)) !=
		0) {
		X509_free(cac);
		return fail(c, EXIT_REFUSED,
			    "the certificate was not issued by this store's %s CA",
			    which);
	}
	*ca_out = cac;
	return -1;
}

static int write_der(const struct cmd_ctx *c, struct jpki_term *t, uint16_t fid,
		     X509 *x)
{
	struct jpki_errbuf eb = {{0}};
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	if (n <= 0)
		return fail(c, EXIT_INTERNAL, "cannot encode a certificate");
	jpki_err e = jpki_term_write_ef(t, JPKI_APP_JPKI, fid, der, (size_t)n, &eb);
	OPENSSL_free(der);
	return e == JPKI_OK ? -1 : fail(c, exit_for(e), "%s", eb.msg);
}

static int card_write_cert(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *card_f = NULL, *kind_s = NULL, *cert_f = NULL, *pass_file = NULL;
	struct opt opts[] = {
	    {"card", OPT_STRING, &card_f, true, false},
	    {"kind", OPT_STRING, &kind_s, true, false},
	    {"cert", OPT_STRING, &cert_f, true, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	};
	size_t npos;
	enum jpki_card_key k = JPKI_KEY_AUTH;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_key(c, kind_s, &k)) >= 0)
		return rc;
	struct jpki_card *card = NULL;
	struct issuer is = {0};
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	char *text = NULL;
	size_t text_len;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	X509 *cert = NULL, *cac = NULL;
	unsigned char *cert_spki = NULL;
	if ((rc = read_file(c, cert_f, 64 * 1024, &text, &text_len)) >= 0)
		return rc;
	if ((cert = pem_x509(text, text_len)) == NULL) {
		rc = fail(c, EXIT_USAGE, "%s: not a PEM certificate", cert_f);
		goto out;
	}
	if ((rc = open_card(c, card_f, true, &card)) >= 0)
		goto out;
	jpki_term_local(&t, card);
	jpki_err e = jpki_term_pubkey(&t, k, &spki, &spki_len, &eb);
	if (e == JPKI_ERR_NOTFOUND) {
		rc = fail(c, EXIT_REFUSED,
			  "the card has no %s key pair: run card keygen", kind_s);
		goto out;
	} else if (e != JPKI_OK) {
		rc = fail(c, exit_for(e), "%s", eb.msg);
		goto out;
	}
	int n = i2d_PUBKEY(X509_get0_pubkey(cert), &cert_spki);
	if (n <= 0 || (size_t)n != spki_len || memcmp(cert_spki, spki, spki_len) != 0) {
		rc = fail(c, EXIT_REFUSED,
			  "%s is not a certificate for the card's %s key", cert_f,
			  kind_s);
		goto out;
	}
	if ((rc = issuer_open(c, pass_file, card, &t, &is)) >= 0 ||
	    (rc = issuing_ca(c, &is, k, cert, &cac)) >= 0)
		goto out;
	if ((rc = write_der(c, &t,
			    k == JPKI_KEY_SIGN ? JPKI_EF_SIGN_CERT : JPKI_EF_AUTH_CERT,
			    cert)) >= 0 ||
	    (rc = write_der(c, &t,
			    k == JPKI_KEY_SIGN ? JPKI_EF_SIGN_CA : JPKI_EF_AUTH_CA,
			    cac)) >= 0)
		goto out;
	char serial[80];
	serial_hex(cert, serial);
	if ((rc = issuer_audit(
		 c, &is, card, "card.write-cert",
		 json_pack("{s:s,s:s}", "kind", kind_s, "serial", serial))) >= 0)
		goto out;
	rc = EXIT_OK;
out:
	OPENSSL_free(cert_spki);
	X509_free(cert);
	X509_free(cac);
	free(spki);
	free(text);
	issuer_close(&is);
	jpki_card_close(card);
	return rc;
}

/* ---- status ---- */

static void cert_summary(const uint8_t *der, size_t len, char serial[80],
			 jpki_day *expires)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	struct tm tm;
	serial[0] = '\0';
	*expires = JPKI_DAY_NONE;
	if (x == NULL)
		return;
	serial_hex(x, serial);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
		int64_t t = (int64_t)jpki_day_from_ymd_unchecked(
				tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) *
				86400 +
			    tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
		*expires = jpki_jst_day(t);
	}
	X509_free(x);
}

static int card_status(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *card_f = NULL;
	struct opt opts[] = {
	    {"card", OPT_STRING, &card_f, true, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0)
		return rc;
	struct jpki_card *card = NULL;
	/* Read-only and unlocked: works while `card serve` has the card. */
	if ((rc = open_card(c, card_f, false, &card)) >= 0)
		return rc;
	struct jpki_card_info info;
	jpki_card_info(card, &info);
	static const struct {
		const char *kind;
		uint16_t fid;
	} certs[2] = {{"sign", JPKI_EF_SIGN_CERT}, {"auth", JPKI_EF_AUTH_CERT}};
	json_t *doc = json_object(), *jc = json_array(), *jp = json_object();
	json_object_set_new(doc, "serial", json_string(info.serial));
	json_object_set_new(doc, "municipality", json_string(info.municipality));
	if (!*c->json)
		printf("card %s (municipality %s)\n", info.serial, info.municipality);
	for (int i = 0; i < 2; i++) {
		size_t len;
		const uint8_t *der =
		    jpki_card_ef(card, JPKI_APP_JPKI, certs[i].fid, &len);
		char serial[80], date[JPKI_DATE_BUFSZ];
		jpki_day exp;
		if (der == NULL) {
			if (!*c->json)
				printf(
				    "  %s certificate: none%s\n", certs[i].kind,
				    info.has_key[i == 0 ? JPKI_KEY_SIGN : JPKI_KEY_AUTH]
					? " (key pair generated)"
					: "");
			continue;
		}
		cert_summary(der, len, serial, &exp);
		json_array_append_new(jc, json_pack("{s:s,s:s,s:o}", "kind",
						    certs[i].kind, "serial", serial,
						    "expires", json_date(exp)));
		if (!*c->json)
			printf("  %s certificate: serial %s, expires %s\n",
			       certs[i].kind, serial,
			       exp == JPKI_DAY_NONE ? "?"
						    : jpki_date_format(exp, date));
	}
	json_object_set_new(doc, "certs", jc);
	json_object_set_new(doc, "keys",
			    json_pack("{s:b,s:b}", "sign", info.has_key[JPKI_KEY_SIGN],
				      "auth", info.has_key[JPKI_KEY_AUTH]));
	for (int k = 0; k < 4; k++) {
		const struct jpki_card_pin_state *p = &info.pin[k];
		json_object_set_new(jp, jpki_pin_kind_name(k),
				    json_pack("{s:b,s:i,s:i,s:b}", "set", p->set,
					      "tries_left", p->tries_left, "max_tries",
					      p->max_tries, "blocked", p->blocked));
		if (*c->json)
			continue;
		if (!p->set)
			printf("  %s PIN: not set\n", jpki_pin_kind_name(k));
		else if (p->blocked)
			printf("  %s PIN: BLOCKED (reset at the counter)\n",
			       jpki_pin_kind_name(k));
		else
			printf("  %s PIN: %d of %d tries left\n", jpki_pin_kind_name(k),
			       p->tries_left, p->max_tries);
	}
	json_object_set_new(doc, "pins", jp);
	if (*c->json) {
		rc = print_json(c, doc);
	} else {
		json_decref(doc);
		rc = EXIT_OK;
	}
	jpki_card_close(card);
	return rc;
}

/* ---- verify-pin, sign ---- */

/* Verifies the PIN from stdin; -1 when right, else the exit code. */
static int verify_stdin(const struct cmd_ctx *c, struct jpki_term *t,
			enum jpki_pin_kind k, json_t **result)
{
	char pin[JPKI_PIN_MAX_LEN + 1] = "";
	size_t len = 0;
	enum jpki_verify_result res;
	int tries = 0;
	struct jpki_errbuf eb = {{0}};
	int rc = read_pin(c, k, pin, &len);
	if (rc >= 0)
		return rc;
	jpki_err e = jpki_term_verify(t, k, pin, len, &res, &tries, &eb);
	OPENSSL_cleanse(pin, sizeof pin);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	if (result)
		*result = json_pack("{s:s,s:b,s:i,s:b}", "kind", jpki_pin_kind_name(k),
				    "right", res == JPKI_VERIFY_OK, "tries_left", tries,
				    "blocked", res == JPKI_VERIFY_BLOCKED);
	switch (res) {
	case JPKI_VERIFY_OK:
		return -1;
	case JPKI_VERIFY_WRONG:
		return say(c, EXIT_REFUSED,
			   "wrong %s PIN: %d %s left (暗証番号が違います。残り%d回)",
			   jpki_pin_kind_name(k), tries, tries == 1 ? "try" : "tries",
			   tries);
	case JPKI_VERIFY_BLOCKED:
		return say(
		    c, EXIT_REFUSED,
		    "the %s PIN is blocked: 0 tries left; it can be reset at the "
		    "municipal counter (暗証番号がロックされています)",
		    jpki_pin_kind_name(k));
	default:
		return say(c, EXIT_REFUSED, "the card has no %s PIN",
			   jpki_pin_kind_name(k));
	}
}

static int card_verify_pin(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *card_f = NULL, *kind_s = NULL;
	struct opt opts[] = {
	    {"card", OPT_STRING, &card_f, true, false},
	    {"kind", OPT_STRING, &kind_s, true, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	enum jpki_pin_kind k = JPKI_PIN_AUTH;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_pin_kind(c, kind_s, &k)) >= 0)
		return rc;
	struct jpki_card *card = NULL;
	struct jpki_term t;
	json_t *result = NULL;
	if ((rc = open_card(c, card_f, true, &card)) >= 0)
		return rc;
	jpki_term_local(&t, card);
	rc = verify_stdin(c, &t, k, &result);
	if (rc < 0 || rc == EXIT_REFUSED) {
		int jrc = *c->json ? print_json(c, result) : EXIT_OK;
		if (!*c->json)
			json_decref(result);
		rc = rc < 0 ? jrc : rc;
	} else {
		json_decref(result);
	}
	jpki_card_close(card);
	return rc;
}

static int card_sign(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *card_f = NULL, *kind_s = NULL, *in_f = NULL, *out_f = NULL;
	struct opt opts[] = {
	    {"card", OPT_STRING, &card_f, true, false},
	    {"kind", OPT_STRING, &kind_s, true, false},
	    {"in", OPT_STRING, &in_f, true, false},
	    {"out", OPT_STRING, &out_f, false, false},
	};
	size_t npos;
	enum jpki_card_key k = JPKI_KEY_AUTH;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_key(c, kind_s, &k)) >= 0 ||
	    (rc = cli_check_out(c, out_f)) >= 0)
		return rc;
	struct jpki_card *card = NULL;
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	uint8_t di[sizeof sha256_prefix + 32], sig[256];
	size_t sig_len = 0;
	FILE *f = fopen(in_f, "rb");
	if (f == NULL)
		return fail(c, EXIT_USAGE, "%s: %s", in_f, strerror(errno));
	/* Hash the whole file first: a file that cannot be read costs no try. */
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
	uint8_t buf[65536];
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
		ok = EVP_DigestUpdate(md, buf, n) == 1;
	ok = ok && !ferror(f);
	fclose(f);
	unsigned int dlen = 0;
	memcpy(di, sha256_prefix, sizeof sha256_prefix);
	ok = ok && EVP_DigestFinal_ex(md, di + sizeof sha256_prefix, &dlen) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return fail(c, EXIT_USAGE, "%s: cannot read it", in_f);
	if ((rc = open_card(c, card_f, true, &card)) >= 0)
		return rc;
	jpki_term_local(&t, card);
	if ((rc = verify_stdin(
		 c, &t, k == JPKI_KEY_SIGN ? JPKI_PIN_SIGN : JPKI_PIN_AUTH, NULL)) >= 0)
		goto out;
	jpki_err e = jpki_term_sign(&t, k, di, sizeof di, sig, &sig_len, &eb);
	if (e == JPKI_ERR_NOTFOUND) {
		rc = fail(c, EXIT_REFUSED, "the card has no %s key pair", kind_s);
		goto out;
	} else if (e != JPKI_OK) {
		rc = fail(c, exit_for(e), "%s", eb.msg);
		goto out;
	}
	rc = cli_write_out(c, out_f, sig, sig_len, true);
	if (rc < 0)
		rc = EXIT_OK;
out:
	jpki_card_close(card);
	return rc;
}

/* ---- reset-pin ---- */

static int card_reset_pin(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *card_f = NULL, *kind_s = NULL, *pins_f = NULL, *pass_file = NULL;
	struct opt opts[] = {
	    {"card", OPT_STRING, &card_f, true, false},
	    {"kind", OPT_STRING, &kind_s, true, false},
	    {"pins", OPT_STRING, &pins_f, true, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	};
	size_t npos;
	enum jpki_pin_kind k = JPKI_PIN_AUTH;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_pin_kind(c, kind_s, &k)) >= 0)
		return rc;
	struct cli_pins pins;
	struct jpki_card *card = NULL;
	struct issuer is = {0};
	struct jpki_term t;
	struct jpki_errbuf eb = {{0}};
	if ((rc = cli_read_pins(c, pins_f, &pins)) >= 0)
		return rc;
	if (!pins.has[k]) {
		rc = fail(c, EXIT_USAGE, "%s: no %s PIN in it", pins_f, kind_s);
		goto out;
	}
	/* A resident's card: the registry resets it (intent, event, audit). */
	if ((rc = cli_registry_reset_pin(c, card_f, k, pins.pin[k], pass_file)) >= 0)
		goto out;
	if ((rc = open_card(c, card_f, true, &card)) >= 0)
		goto out;
	jpki_term_local(&t, card);
	struct jpki_card_info before;
	jpki_card_info(card, &before);
	if ((rc = issuer_open(c, pass_file, card, &t, &is)) >= 0)
		goto out;
	jpki_err e = jpki_term_reset_pin(&t, k, pins.pin[k], strlen(pins.pin[k]), &eb);
	if (e != JPKI_OK) {
		rc = fail(c, exit_for(e), "%s", eb.msg);
		goto out;
	}
	if ((rc = issuer_audit(c, &is, card, "card.reset-pin",
			       json_pack("{s:s,s:b}", "kind", kind_s, "was_blocked",
					 before.pin[k].blocked))) >= 0)
		goto out;
	rc = EXIT_OK;
out:
	issuer_close(&is);
	jpki_card_close(card);
	cli_pins_wipe(&pins);
	return rc;
}

/* ---- serve ---- */

static volatile sig_atomic_t serve_stop;

static void on_signal(int sig)
{
	(void)sig;
	serve_stop = 1;
}

static void serve_log(const char *line)
{
	fprintf(stderr, "jpki card serve: %s\n", line);
}

static int card_serve(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *card_f = NULL, *vpcd = "127.0.0.1:35963";
	struct opt opts[] = {
	    {"card", OPT_STRING, &card_f, true, false},
	    {"vpcd", OPT_STRING, &vpcd, false, false},
	};
	size_t npos;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0)
		return rc;
	char host[256];
	const char *colon = strrchr(vpcd, ':');
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (colon == NULL || colon == vpcd || (size_t)(colon - vpcd) >= sizeof host ||
	    end == colon + 1 || *end || port < 1 || port > 65535)
		return fail(c, EXIT_USAGE, "--vpcd: '%.60s' is not HOST:PORT", vpcd);
	snprintf(host, sizeof host, "%.*s", (int)(colon - vpcd), vpcd);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [::1]:35963 */
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	struct jpki_card *card = NULL;
	if ((rc = open_card(c, card_f, true, &card)) >= 0)
		return rc;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct jpki_card_info info;
	jpki_card_info(card, &info);
	fprintf(stderr, "jpki card serve: card %s; Ctrl-C or SIGTERM stops\n",
		info.serial);
	struct jpki_errbuf eb = {{0}};
	jpki_err e =
	    jpki_vpcd_serve(card, host, (int)port, &serve_stop, serve_log, &eb);
	jpki_card_close(card);
	if (e != JPKI_OK)
		return fail(c, e == JPKI_ERR_INVALID ? EXIT_USAGE : exit_for(e), "%s",
			    eb.msg);
	fprintf(stderr, "jpki card serve: stopped\n");
	return EXIT_OK;
}

int cmd_card(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"issue", cli_card_issue}, {"return", cli_card_return},
	    {"lost", cli_card_lost},   {"new", card_new},
	    {"keygen", card_keygen},   {"write-cert", card_write_cert},
	    {"status", card_status},   {"verify-pin", card_verify_pin},
	    {"sign", card_sign},       {"reset-pin", card_reset_pin},
	    {"serve", card_serve},
	};
	/* secret_args: a stray argument may be a PIN typed where it must not be. */
	return cli_dispatch("card", card_usage, true, subs,
			    sizeof subs / sizeof subs[0], argc, argv);
}
