/* bench/pki: the CA's throughput beside its physical limit.
 *
 * Prints, with `openssl speed rsa2048` run in the same process tree as the
 * peer (one core's RSA-2048 signatures per second):
 *   - certificates issued per second, including the store commit
 *     (synchronous=FULL: every issuance is durable);
 *   - OCSP responses per second, from pre-signed storage and signed live;
 *   - the time to build and sign a CRL of 1,000,000 revoked entries, next to
 *     the same CRL built and signed by OpenSSL's API alone.
 * Targets (issue 3): issuance >= 50% of the RSA sign rate; CRL within 1.5x
 * of the raw build; pre-signed OCSP >= 100x live.
 *
 * usage: bench_pki [CRL_ENTRIES]   (default 1000000)
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "jpki/pki.h"
#include "jpki/store.h"
#include "common.h"
#include "banned.h"

static void die(const char *what, const struct jpki_errbuf *eb)
{
	fprintf(stderr, "bench_pki: %s: %s\n", what, eb ? eb->msg : "");
	exit(3);
}

/* `openssl speed -mr rsa2048`: "+F2:k:2048:SIGN/S:VERIFY/S". */
static const char subject_json[] =
    "{\"name\":\"山田 太郎\",\"name_alt\":\"00000\",\"sex\":1,\"birth\":\"1990-04-01\","
    "\"address\":\"東京都千代田区千代田1-1\",\"address_alt\":\"0000000000000\","
    "\"municipality\":\"131016\"}";

struct ctx {
	char dir[256], db[300], keys[300];
	struct jpki_store *s;
	struct jpki_ca *ca;
	char *pub;
	size_t pub_len;
	struct jpki_subject subj, subj_auth;
	int64_t t0;
};

static void setup(struct ctx *c)
{
	struct jpki_errbuf eb = {{0}};
	snprintf(c->dir, sizeof c->dir, "%s/jpki-bench-XXXXXX",
		 getenv("JPKI_BENCH_DIR") ? getenv("JPKI_BENCH_DIR") : "/tmp");
	if (!mkdtemp(c->dir))
		die("mkdtemp", NULL);
	snprintf(c->db, sizeof c->db, "%s/s.db", c->dir);
	snprintf(c->keys, sizeof c->keys, "%s/keys", c->dir);
	c->t0 = (int64_t)time(NULL);
	struct jpki_municipality m;
	jpki_municipality_parse("131016:千代田区", &m, &eb);
	struct jpki_ca_init_opts o = {.base_url = "http://127.0.0.1:8080",
				      .key_bits = 2048,
				      .crl_hours = 24,
				      .ocsp_days = 4,
				      .munis = &m,
				      .n_munis = 1,
				      .insecure_no_passphrase = true,
				      .now = c->t0};
	if (jpki_store_open(c->db, &c->s, &eb) ||
	    jpki_ca_init(c->s, c->keys, &o, &eb) ||
	    jpki_ca_open(c->s, c->keys, NULL, &c->ca, &eb))
		die("init", &eb);
	EVP_PKEY *k = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	PEM_write_bio_PUBKEY(b, k);
	long n = BIO_get_mem_data(b, &data);
	c->pub = malloc((size_t)n);
	memcpy(c->pub, data, (size_t)n);
	c->pub_len = (size_t)n;
	BIO_free(b);
	EVP_PKEY_free(k);
	if (jpki_subject_parse(subject_json, sizeof subject_json - 1, JPKI_PKI_SIGN,
			       &c->subj, &eb) ||
	    jpki_subject_parse(subject_json, sizeof subject_json - 1, JPKI_PKI_AUTH,
			       &c->subj_auth, &eb))
		die("subject", &eb);
}

/* Certificates per second, `per_commit` of them in each durable store
 * transaction (1: each on its own; 2: a renewal's signing and auth
 * certificates together; more: bulk issuance). */
static double bench_issue(struct ctx *c, int per_commit, char serial[33])
{
	struct jpki_errbuf eb = {{0}};
	jpki_day expires = jpki_jst_day(c->t0) + 5 * 365;
	double t0 = bench_now(), t;
	long n = 0;
	do {
		if (per_commit > 1 && jpki_store_begin(c->s))
			die("begin", NULL);
		for (int i = 0; i < per_commit; i++) {
			struct jpki_issued out;
			bool sign = i % 2 == 0;
			if (jpki_ca_issue(c->ca, sign ? JPKI_PKI_SIGN : JPKI_PKI_AUTH,
					  c->pub, c->pub_len,
					  sign ? &c->subj : &c->subj_auth, expires,
					  c->t0, &out, &eb))
				die("issue", &eb);
			if (sign)
				memcpy(serial, out.serial, 33);
			jpki_issued_release(&out);
			n++;
		}
		if (per_commit > 1 && jpki_store_commit(c->s))
			die("commit", NULL);
		t = bench_now();
	} while (t - t0 < 2.0);
	return (double)n / (t - t0);
}

/* A DER OCSP request for serial (SHA-1 CertID), optionally with a nonce. */
static unsigned char *ocsp_request(struct ctx *c, const char *serial_hex, bool nonce,
				   int *len)
{
	char *pem;
	struct jpki_errbuf eb = {{0}};
	if (jpki_ca_cert_pem(c->ca, "sign", &pem, &eb))
		die("cert", &eb);
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *iss = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	free(pem);
	BIGNUM *bn = NULL;
	BN_hex2bn(&bn, serial_hex);
	ASN1_INTEGER *ser = BN_to_ASN1_INTEGER(bn, NULL);
	OCSP_CERTID *id = OCSP_cert_id_new(EVP_sha1(), X509_get_subject_name(iss),
					   X509_get0_pubkey_bitstr(iss), ser);
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_request_add0_id(req, id);
	if (nonce)
		OCSP_request_add1_nonce(req, NULL, -1);
	unsigned char *der = NULL;
	*len = i2d_OCSP_REQUEST(req, &der);
	OCSP_REQUEST_free(req);
	ASN1_INTEGER_free(ser);
	BN_free(bn);
	X509_free(iss);
	return der;
}

static double bench_ocsp(struct ctx *c, const char *serial, bool nonce, double secs)
{
	int len;
	unsigned char *req = ocsp_request(c, serial, nonce, &len);
	struct jpki_errbuf eb = {{0}};
	double t0 = bench_now(), t;
	long n = 0;
	do {
		unsigned char *resp;
		size_t rlen;
		struct jpki_ocsp_stats st;
		if (jpki_ca_ocsp(c->ca, req, (size_t)len, c->t0, &resp, &rlen, &st,
				 &eb))
			die("ocsp", &eb);
		if (st.cached == nonce && n > 0)
			die(nonce ? "a nonce request was cached" : "no cache hit",
			    NULL);
		OPENSSL_free(resp);
		n++;
		t = bench_now();
	} while (t - t0 < secs);
	OPENSSL_free(req);
	return (double)n / (t - t0);
}

/* ---- CRL of N entries: ours vs OpenSSL alone ---- */

static void fill_revocations(struct ctx *c, long n, unsigned char (*serials)[16])
{
	struct jpki_stmt *ci = NULL, *ri = NULL;
	bool row;
	char hex[33];
	static const char digits[] = "0123456789abcdef";
	if (jpki_store_begin(c->s) ||
	    jpki_stmt_prepare(
		c->s,
		"INSERT INTO certificate (serial, ca, kind, municipality, "
		"issue_number, not_before, not_after, der) VALUES ($1, "
		"'sign', 'sign', '131016', $2, $3, $4, x'00')",
		&ci) ||
	    jpki_stmt_prepare(c->s,
			      "INSERT INTO revocation (serial, kind, municipality, "
			      "not_after, revoked_at, reason, recorded_at) VALUES ($1, "
			      "'sign', '131016', $4, $2, $3, $2)",
			      &ri))
		die("bulk prepare", NULL);
	for (long i = 0; i < n; i++) {
		RAND_bytes(serials[i], 16);
		serials[i][0] = (unsigned char)((serials[i][0] & 0x7f) | 0x01);
		for (int j = 0; j < 16; j++) {
			hex[2 * j] = digits[serials[i][j] >> 4];
			hex[2 * j + 1] = digits[serials[i][j] & 15];
		}
		hex[32] = '\0';
		char num[24];
		snprintf(num, sizeof num, "B%015ld", i);
		jpki_stmt_bind_text(ci, 1, hex);
		jpki_stmt_bind_text(ci, 2, num);
		jpki_stmt_bind_int64(ci, 3, c->t0 - 86400);
		jpki_stmt_bind_int64(ci, 4, c->t0 + 5 * 365 * 86400);
		jpki_stmt_bind_text(ri, 1, hex);
		jpki_stmt_bind_int64(ri, 2, c->t0 - 3600);
		jpki_stmt_bind_int64(ri, 3, 1 + (i % 5 == 0 ? 0 : 3));
		jpki_stmt_bind_int64(ri, 4, c->t0 + 5 * 365 * 86400);
		if (jpki_stmt_step(ci, &row) || jpki_stmt_step(ri, &row) ||
		    jpki_stmt_reset(ci) || jpki_stmt_reset(ri))
			die("bulk insert", NULL);
	}
	jpki_stmt_finalize(ci);
	jpki_stmt_finalize(ri);
	if (jpki_store_commit(c->s))
		die("bulk commit", NULL);
}

/* The same CRL with OpenSSL's API only: entries from memory, sorted, the
 * same extensions, signed, encoded. */
static double raw_crl(struct ctx *c, long n, unsigned char (*serials)[16], size_t *len)
{
	char path[400], *pem = NULL;
	struct jpki_errbuf eb = {{0}};
	snprintf(path, sizeof path, "%s/sign.key.pem", c->keys);
	FILE *f = fopen(path, "r");
	EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!key || jpki_ca_cert_pem(c->ca, "sign", &pem, &eb))
		die("raw key", &eb);
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *iss = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	free(pem);

	double t0 = bench_now();
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_adj(NULL, (time_t)c->t0, 0, 0);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, (time_t)c->t0 + 86400, 0, 0);
	ASN1_TIME *rt = ASN1_TIME_adj(NULL, (time_t)c->t0 - 3600, 0, 0);
	X509_CRL_set_version(crl, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(iss));
	X509_CRL_set1_lastUpdate(crl, last);
	X509_CRL_set1_nextUpdate(crl, next);
	for (long i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		BIGNUM *bn = BN_bin2bn(serials[i], 16, NULL);
		ASN1_INTEGER *s = BN_to_ASN1_INTEGER(bn, NULL);
		X509_REVOKED_set_serialNumber(r, s);
		X509_REVOKED_set_revocationDate(r, rt);
		int reason = 1 + (i % 5 == 0 ? 0 : 3);
		ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(e, reason);
		X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
		ASN1_ENUMERATED_free(e);
		X509_CRL_add0_revoked(crl, r);
		ASN1_INTEGER_free(s);
		BN_free(bn);
	}
	X509_CRL_sort(crl);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, iss, NULL, NULL, crl, 0);
	X509_EXTENSION *aki = X509V3_EXT_conf_nid(
	    NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	X509_CRL_add_ext(crl, aki, -1);
	X509_EXTENSION_free(aki);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	ASN1_INTEGER_set(num, 1);
	X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
	ASN1_INTEGER_free(num);
	X509_CRL_sign(crl, key, EVP_sha256());
	unsigned char *der = NULL;
	*len = (size_t)i2d_X509_CRL(crl, &der);
	double t = bench_now() - t0;
	OPENSSL_free(der);
	X509_CRL_free(crl);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	ASN1_TIME_free(rt);
	X509_free(iss);
	EVP_PKEY_free(key);
	return t;
}

int main(int argc, char **argv)
{
	long n_crl = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	if (n_crl < 1 || n_crl > 20000000) {
		fputs("usage: bench_pki [CRL_ENTRIES]\n", stderr);
		return 2;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	(void)sched_setaffinity(0, sizeof set, &set); /* one core, like the peer */

	printf("bench/pki — one thread pinned to one core; store on %s\n",
	       "/tmp (SQLite, WAL, synchronous=FULL)");
	double rsa = bench_openssl_rsa2048();
	printf(
	    "peer: openssl speed rsa2048 (same machine, one core)     %9.0f sign/s\n",
	    rsa);

	struct ctx c = {0};
	setup(&c);
	char serial[33];
	double fs = bench_fsync_rate(c.dir, 4096, 0);
	printf("peer: fsync of a 4 KiB write in the store's directory      %9.0f /s   "
	       "bound for one commit per certificate: %.0f /s (%.1f%%)\n",
	       fs, 1.0 / (1.0 / rsa + 1.0 / fs), 100.0 / (1.0 + rsa / fs));
	if (getenv("JPKI_BENCH_ISSUE_ONLY")) { /* for profiling */
		printf("%.0f /s\n", bench_issue(&c, 16, serial));
		return 0;
	}
	static const int per[] = {1, 2, 16};
	static const char *const what[] = {"one per durable commit",
					   "renewal: sign+auth per commit",
					   "bulk: 16 per commit"};
	for (int i = 0; i < 3; i++) {
		double issue = bench_issue(&c, per[i], serial);
		printf("certificates issued, %-30s %9.0f /s   %5.1f%% of RSA sign "
		       "(target >= 50%%)\n",
		       what[i], issue, rsa > 0 ? 100.0 * issue / rsa : 0.0);
	}

	bench_ocsp(&c, serial, false, 0.05); /* first request stores a response */
	double cached = bench_ocsp(&c, serial, false, 2.0);
	double live = bench_ocsp(&c, serial, true, 2.0);
	printf("OCSP responses from pre-signed storage                    %9.0f /s\n",
	       cached);
	printf("OCSP responses signed live (nonce)                        %9.0f /s   "
	       "pre-signed = %.0fx live (target >= 100x)\n",
	       live, cached / live);

	unsigned char(*serials)[16] = malloc((size_t)n_crl * 16);
	if (!serials)
		die("malloc", NULL);
	double tf = bench_now();
	fill_revocations(&c, n_crl, serials);
	printf("(filled the store with %ld revoked certificates in %.1f s)\n", n_crl,
	       bench_now() - tf);
	struct jpki_errbuf eb = {{0}};
	unsigned char *der;
	size_t ours_len, raw_len;
	double t0 = bench_now();
	if (jpki_ca_crl(c.ca, JPKI_PKI_SIGN, NULL, c.t0, &der, &ours_len, &eb))
		die("crl", &eb);
	double ours = bench_now() - t0;
	OPENSSL_free(der);
	double raw = raw_crl(&c, n_crl, serials, &raw_len);
	printf("CRL of %ld entries: jpki ca crl (store query + build + sign) %6.2f s, "
	       "%zu bytes\n",
	       n_crl, ours, ours_len);
	printf("CRL of %ld entries: OpenSSL API alone (build + sign)         %6.2f s, "
	       "%zu bytes   ratio %.2fx (target <= 1.5x)\n",
	       n_crl, raw, raw_len, ours / raw);

	jpki_subject_release(&c.subj);
	jpki_subject_release(&c.subj_auth);
	free(c.pub);
	free(serials);
	jpki_ca_close(c.ca);
	jpki_store_close(c.s);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", c.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_pki: could not remove %s\n", c.dir);
	return 0;
}
