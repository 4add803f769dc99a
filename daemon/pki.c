/* OCSP, CRLs and CA certificates over HTTP (RFC 6960 appendix A, RFC
 * 5019, RFC 5280 §4.2.1.13).
 *
 * OCSP: answers to requests without a nonce are kept in memory, keyed by
 * the request's bytes, until half their validity has passed or a
 * revocation is seen; a miss asks the CA (jpki_ca_ocsp), which answers
 * from the store's pre-signed responses or signs live.
 *
 * CRLs: built and signed on first request, kept until half their validity
 * has passed or a revocation is seen, and rebuilt on publish.
 *
 * Revocations by this process invalidate at once (pki_invalidate); those
 * by another process (jpki on the same store) are noticed by the watcher,
 * which polls the store once a second. */
#define _XOPEN_SOURCE 700 /* strptime */
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jpkid.h"
#include "banned.h"

static atomic_ullong gen = 1; /* the revocation generation */

/* ---- time helpers ---- */

static int64_t asn1_to_unix(const ASN1_TIME *t)
{
	struct tm tm;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

static void http_date(int64_t t, char buf[40])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static bool kind_of(const char *s, enum jpki_pki_kind *k)
{
	if (strcmp(s, "sign") == 0)
		*k = JPKI_PKI_SIGN;
	else if (strcmp(s, "auth") == 0)
		*k = JPKI_PKI_AUTH;
	else
		return false;
	return true;
}

/* ---- the OCSP cache ---- */

#define OCSP_BUCKETS	 (1u << 16)
#define OCSP_MAX_ENTRIES (1u << 18)

struct ocsp_entry {
	struct ocsp_entry *next;
	uint64_t hash;
	unsigned char *key;
	size_t key_len;
	unsigned char *resp;
	size_t resp_len;
	int64_t produced, next_update, stale_at;
	char etag[24];
};

static struct ocsp_entry *buckets[OCSP_BUCKETS];
static size_t n_entries;
static unsigned long long cache_gen = 1;
static pthread_rwlock_t cache_mu = PTHREAD_RWLOCK_INITIALIZER;

static uint64_t fnv1a(const unsigned char *p, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void flush_locked(void)
{
	for (size_t i = 0; i < OCSP_BUCKETS; i++) {
		struct ocsp_entry *e = buckets[i];
		while (e) {
			struct ocsp_entry *n = e->next;
			free(e->key);
			free(e->resp);
			free(e);
			e = n;
		}
		buckets[i] = NULL;
	}
	n_entries = 0;
}

/* What an OCSP answer says about caching. */
struct ocsp_meta {
	int64_t produced, next_update;
	bool cacheable;
};

static void response_meta(const unsigned char *der, size_t n, struct ocsp_meta *m)
{
	*m = (struct ocsp_meta){0};
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)n);
	if (resp == NULL)
		return;
	OCSP_BASICRESP *bs = NULL;
	if (OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL &&
	    (bs = OCSP_response_get1_basic(resp)) != NULL) {
		m->produced = asn1_to_unix(OCSP_resp_get0_produced_at(bs));
		m->cacheable = OCSP_resp_count(bs) > 0;
		for (int i = 0; i < OCSP_resp_count(bs); i++) {
			ASN1_GENERALIZEDTIME *thisupd, *nextupd = NULL;
			OCSP_single_get0_status(OCSP_resp_get0(bs, i), NULL, NULL,
						&thisupd, &nextupd);
			int64_t nu = asn1_to_unix(nextupd);
			if (nu == 0)
				m->cacheable = false;
			else if (m->next_update == 0 || nu < m->next_update)
				m->next_update = nu;
		}
	}
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
}

static bool has_nonce(const unsigned char *der, size_t n)
{
	const unsigned char *p = der;
	OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &p, (long)n);
	if (req == NULL)
		return false;
	bool nonce = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1) >= 0;
	OCSP_REQUEST_free(req);
	return nonce;
}

static void ocsp_headers(struct MHD_Response *resp, int64_t produced,
			 int64_t next_update, const char *etag, int64_t now)
{
	char v[80], d[40];
	int64_t age = next_update - now;
	if (age < 0)
		age = 0;
	snprintf(v, sizeof v, "max-age=%lld, public, no-transform, must-revalidate",
		 (long long)age);
	MHD_add_response_header(resp, "Cache-Control", v);
	http_date(produced, d);
	MHD_add_response_header(resp, "Last-Modified", d);
	http_date(next_update, d);
	MHD_add_response_header(resp, "Expires", d);
	MHD_add_response_header(resp, "ETag", etag);
}

static enum MHD_Result ocsp_answer(struct req *r, const char *kind,
				   const unsigned char *der, size_t n)
{
	enum jpki_pki_kind k;
	if (!kind_of(kind, &k))
		return reply_error(r, 404, "not_found",
				   "OCSP レスポンダは sign と auth だけです。",
				   "no such OCSP responder (sign, auth)");
	if (n == 0)
		return reply_error(r, 400, "bad_input", "OCSP リクエストが空です。",
				   "the OCSP request is empty");
	int64_t now = now_s();
	uint64_t h = fnv1a(der, n, 0xcbf29ce484222325ull ^ (uint64_t)k);
	unsigned long long g = atomic_load(&gen);

	pthread_rwlock_rdlock(&cache_mu);
	if (cache_gen == g) {
		for (struct ocsp_entry *e = buckets[h % OCSP_BUCKETS]; e; e = e->next) {
			if (e->hash != h || e->key_len != n ||
			    memcmp(e->key, der, n) != 0)
				continue;
			if (now >= e->stale_at)
				break;
			struct MHD_Response *resp = response_new(e->resp, e->resp_len);
			size_t len = e->resp_len;
			if (resp)
				ocsp_headers(resp, e->produced, e->next_update, e->etag,
					     now);
			pthread_rwlock_unlock(&cache_mu);
			if (resp == NULL)
				return MHD_NO;
			atomic_fetch_add_explicit(&m_ocsp_cache, 1,
						  memory_order_relaxed);
			return reply(r, 200, "application/ocsp-response", NULL, len,
				     &resp);
		}
	}
	pthread_rwlock_unlock(&cache_mu);

	enum MHD_Result res;
	struct worker *w = worker_or_503(r, &res);
	if (w == NULL)
		return res;
	unsigned char *out = NULL;
	size_t out_len = 0;
	struct jpki_ocsp_stats st = {0};
	struct jpki_errbuf eb = {{0}};
	if (jpki_ca_ocsp(w->ca, der, n, now, &out, &out_len, &st, &eb) != JPKI_OK)
		return reply_internal(r, eb.msg);
	atomic_fetch_add_explicit(st.cached ? &m_ocsp_store : &m_ocsp_live, 1,
				  memory_order_relaxed);
	struct ocsp_meta m;
	response_meta(out, out_len, &m);
	bool nonce = has_nonce(der, n);
	struct MHD_Response *resp = response_new(out, out_len);
	if (resp == NULL) {
		free(out);
		return MHD_NO;
	}
	char etag[24];
	snprintf(etag, sizeof etag, "\"%016llx\"",
		 (unsigned long long)fnv1a(out, out_len, 0xcbf29ce484222325ull));
	if (m.cacheable && !nonce && st.status == 0) {
		ocsp_headers(resp, m.produced, m.next_update, etag, now);
		struct ocsp_entry *e = calloc(1, sizeof *e);
		unsigned char *key = malloc(n);
		if (e && key) {
			memcpy(key, der, n);
			*e = (struct ocsp_entry){
			    .hash = h,
			    .key = key,
			    .key_len = n,
			    .resp = out,
			    .resp_len = out_len,
			    .produced = m.produced,
			    .next_update = m.next_update,
			    .stale_at = m.produced + (m.next_update - m.produced) / 2};
			memcpy(e->etag, etag, sizeof etag);
			out = NULL;
			pthread_rwlock_wrlock(&cache_mu);
			if (cache_gen != g || n_entries >= OCSP_MAX_ENTRIES) {
				flush_locked();
				cache_gen = g;
			}
			e->next = buckets[h % OCSP_BUCKETS];
			buckets[h % OCSP_BUCKETS] = e;
			n_entries++;
			pthread_rwlock_unlock(&cache_mu);
		} else {
			free(e);
			free(key);
		}
	} else {
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	}
	free(out);
	return reply(r, 200, "application/ocsp-response", NULL, out_len, &resp);
}

enum MHD_Result h_ocsp_post(struct req *r, char **p)
{
	const char *ct = header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct == NULL || strncmp(ct, "application/ocsp-request", 24) != 0)
		return reply_error(
		    r, 415, "unsupported_media_type",
		    "Content-Type は application/ocsp-request にしてください。",
		    "Content-Type must be application/ocsp-request");
	return ocsp_answer(r, p[0], (const unsigned char *)r->body, r->len);
}

/* Base64 in either alphabet, padding optional (RFC 5019 §5 asks for
 * base64 then URL encoding; MHD has undone the URL encoding). */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-' || c == ' ') /* ' ': a '+' decoded as a space */
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static bool b64_decode(const char *s, unsigned char *out, size_t cap, size_t *n)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t k = 0, len = strlen(s);
	while (len > 0 && s[len - 1] == '=')
		len--;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (k >= cap)
				return false;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	*n = k;
	return len % 4 != 1;
}

enum MHD_Result h_ocsp_get(struct req *r, char **p)
{
	unsigned char der[4096];
	size_t n;
	if (!b64_decode(p[1], der, sizeof der, &n))
		return reply_error(r, 400, "bad_input",
				   "OCSP リクエストが base64 として読めません。",
				   "the OCSP request is not base64");
	return ocsp_answer(r, p[0], der, n);
}

/* ---- CRLs ---- */

struct crl_entry {
	struct crl_entry *next;
	char scope[32];
	unsigned char *der;
	size_t len;
	int64_t this_update, next_update, stale_at;
	long number;
	int entries;
	unsigned long long gen;
	char etag[48];
};

static struct crl_entry *crls;
static pthread_mutex_t crl_mu = PTHREAD_MUTEX_INITIALIZER;

static void crl_meta(struct crl_entry *e)
{
	const unsigned char *p = e->der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)e->len);
	if (crl == NULL)
		return;
	e->this_update = asn1_to_unix(X509_CRL_get0_lastUpdate(crl));
	e->next_update = asn1_to_unix(X509_CRL_get0_nextUpdate(crl));
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	e->number = num ? ASN1_INTEGER_get(num) : 0;
	ASN1_INTEGER_free(num);
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
	e->entries = rev ? sk_X509_REVOKED_num(rev) : 0;
	X509_CRL_free(crl);
}

/* The current CRL of a scope, building one when there is none, it is
 * stale, or force. Called with crl_mu held. */
static jpki_err crl_get_locked(struct worker *w, enum jpki_pki_kind k,
			       const char *shard, bool force, struct crl_entry **out,
			       struct jpki_errbuf *eb)
{
	char scope[32];
	snprintf(scope, sizeof scope, "%s%s%s", k == JPKI_PKI_SIGN ? "sign" : "auth",
		 shard ? "/" : "", shard ? shard : "");
	int64_t now = now_s();
	unsigned long long g = atomic_load(&gen);
	struct crl_entry *e;
	for (e = crls; e; e = e->next)
		if (strcmp(e->scope, scope) == 0)
			break;
	if (e && !force && e->gen == g && now < e->stale_at) {
		*out = e;
		return JPKI_OK;
	}
	unsigned char *der = NULL;
	size_t len = 0;
	jpki_err rc = jpki_ca_crl(w->ca, k, shard, now, &der, &len, eb);
	if (rc != JPKI_OK)
		return rc;
	atomic_fetch_add(&m_crl_builds, 1);
	if (e == NULL) {
		e = calloc(1, sizeof *e);
		if (e == NULL) {
			free(der);
			return JPKI_ERR_NOMEM;
		}
		snprintf(e->scope, sizeof e->scope, "%s", scope);
		e->next = crls;
		crls = e;
	}
	free(e->der);
	e->der = der;
	e->len = len;
	e->gen = g;
	crl_meta(e);
	e->stale_at = e->this_update + (e->next_update - e->this_update) / 2;
	snprintf(e->etag, sizeof e->etag, "\"%s-%ld\"", scope, e->number);
	for (char *c = e->etag; *c; c++)
		if (*c == '/')
			*c = '-';
	*out = e;
	return JPKI_OK;
}

static enum MHD_Result crl_answer(struct req *r, const char *kind, const char *shard)
{
	enum jpki_pki_kind k;
	if (!kind_of(kind, &k))
		return reply_error(r, 404, "not_found",
				   "CRL は sign と auth だけです。",
				   "no such CRL (sign, auth)");
	enum MHD_Result res;
	struct worker *w = worker_or_503(r, &res);
	if (w == NULL)
		return res;
	struct jpki_errbuf eb = {{0}};
	struct crl_entry *e;
	pthread_mutex_lock(&crl_mu);
	jpki_err rc = crl_get_locked(w, k, shard, false, &e, &eb);
	if (rc != JPKI_OK) {
		pthread_mutex_unlock(&crl_mu);
		if (rc == JPKI_ERR_NOTFOUND || rc == JPKI_ERR_INVALID)
			return reply_error(r, 404, "not_found",
					   "その市区町村の CRL はありません。",
					   "no CRL for that municipality");
		return reply_internal(r, eb.msg);
	}
	int64_t now = now_s();
	const char *inm = header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *ims = header(r, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	char lm[40], ex[40], cc[64];
	http_date(e->this_update, lm);
	http_date(e->next_update, ex);
	int64_t age = e->next_update - now;
	snprintf(cc, sizeof cc, "max-age=%lld, public, no-transform",
		 (long long)(age > 0 ? age : 0));
	bool not_modified = false;
	if (inm) {
		not_modified = strcmp(inm, e->etag) == 0;
	} else if (ims) {
		struct tm tm = {0};
		const char *end = strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		not_modified =
		    end && *end == 0 && (int64_t)timegm(&tm) >= e->this_update;
	}
	struct MHD_Response *resp =
	    not_modified ? response_new("", 0) : response_new(e->der, e->len);
	size_t len = not_modified ? 0 : e->len;
	if (resp) {
		MHD_add_response_header(resp, "Last-Modified", lm);
		MHD_add_response_header(resp, "Expires", ex);
		MHD_add_response_header(resp, "ETag", e->etag);
		MHD_add_response_header(resp, "Cache-Control", cc);
	}
	pthread_mutex_unlock(&crl_mu);
	if (resp == NULL)
		return MHD_NO;
	return reply(r, not_modified ? 304 : 200,
		     not_modified ? NULL : "application/pkix-crl", NULL, len, &resp);
}

enum MHD_Result h_crl_full(struct req *r, char **p)
{
	size_t n = strlen(p[0]);
	if (n < 5 || strcmp(p[0] + n - 4, ".crl") != 0 || n > 12)
		return reply_error(r, 404, "not_found", "CRL が見つかりません。",
				   "no such CRL");
	char kind[8];
	snprintf(kind, sizeof kind, "%.*s", (int)(n - 4), p[0]);
	return crl_answer(r, kind, NULL);
}

enum MHD_Result h_crl_shard(struct req *r, char **p)
{
	size_t n = strlen(p[1]);
	char shard[8];
	if (n != 10 || strcmp(p[1] + 6, ".crl") != 0)
		return reply_error(r, 404, "not_found", "CRL が見つかりません。",
				   "no such CRL (/crl/KIND/MUNICIPALITY.crl)");
	snprintf(shard, sizeof shard, "%.6s", p[1]);
	for (int i = 0; i < 6; i++)
		if (shard[i] < '0' || shard[i] > '9')
			return reply_error(r, 404, "not_found",
					   "CRL が見つかりません。", "no such CRL");
	return crl_answer(r, p[0], shard);
}

static json_t *crl_json(const struct crl_entry *e)
{
	const char *slash = strchr(e->scope, '/');
	json_t *shard = slash ? json_string(slash + 1) : json_null();
	char kind[8];
	snprintf(kind, sizeof kind, "%.*s", (int)(slash ? slash - e->scope : 4),
		 e->scope);
	return json_pack("{s:s,s:o,s:I,s:o,s:o,s:i,s:I}", "kind", kind, "shard", shard,
			 "number", (json_int_t)e->number, "this_update",
			 jinstant(e->this_update), "next_update",
			 jinstant(e->next_update), "entries", e->entries, "bytes",
			 (json_int_t)e->len);
}

/* Publishes the full CRLs and every shard built so far, each with a new
 * number. */
enum MHD_Result h_crl_publish(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	struct worker *w = worker_or_503(r, &res);
	if (w == NULL)
		return res;
	json_t *arr = json_array();
	struct jpki_errbuf eb = {{0}};
	pthread_mutex_lock(&crl_mu);
	struct crl_entry *e;
	jpki_err rc = JPKI_OK;
	for (int k = 0; rc == JPKI_OK && k < 2; k++)
		if ((rc = crl_get_locked(w, (enum jpki_pki_kind)k, NULL, true, &e,
					 &eb)) == JPKI_OK)
			json_array_append_new(arr, crl_json(e));
	for (e = crls; rc == JPKI_OK && e; e = e->next) {
		const char *slash = strchr(e->scope, '/');
		if (slash == NULL)
			continue;
		struct crl_entry *x;
		enum jpki_pki_kind k =
		    e->scope[0] == 's' ? JPKI_PKI_SIGN : JPKI_PKI_AUTH;
		if ((rc = crl_get_locked(w, k, slash + 1, true, &x, &eb)) == JPKI_OK)
			json_array_append_new(arr, crl_json(x));
	}
	pthread_mutex_unlock(&crl_mu);
	if (rc != JPKI_OK) {
		json_decref(arr);
		return reply_internal(r, eb.msg);
	}
	char details[64];
	snprintf(details, sizeof details, "{\"crls\":%zu}", json_array_size(arr));
	/* The CA wrote its own rows; this one says who asked. */
	if (audit_staff(r, w, "crl.publish", "crl", details) != JPKI_OK) {
		json_decref(arr);
		return reply_internal(r, "cannot write the audit row");
	}
	return reply_json(r, 200, json_pack("{s:o}", "crls", arr));
}

enum MHD_Result h_ocsp_refresh(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	struct worker *w = worker_or_503(r, &res);
	if (w == NULL)
		return res;
	size_t count = 0;
	struct jpki_errbuf eb = {{0}};
	if (jpki_ca_refresh_ocsp(w->ca, now_s(), &count, &eb) != JPKI_OK)
		return reply_internal(r, eb.msg);
	pki_invalidate();
	char details[64];
	snprintf(details, sizeof details, "{\"signed\":%zu}", count);
	if (audit_staff(r, w, "ocsp.refresh", "ocsp", details) != JPKI_OK)
		return reply_internal(r, "cannot write the audit row");
	return reply_json(r, 200, json_pack("{s:I}", "signed", (json_int_t)count));
}

/* ---- CA certificates ---- */

enum MHD_Result h_ca_cert(struct req *r, char **p)
{
	static const char *const names[] = {"root", "sign", "auth"};
	const char *dot = strrchr(p[0], '.');
	const char *which = NULL;
	for (size_t i = 0; dot && i < 3; i++)
		if (strlen(names[i]) == (size_t)(dot - p[0]) &&
		    strncmp(p[0], names[i], strlen(names[i])) == 0)
			which = names[i];
	bool pem = dot && strcmp(dot, ".pem") == 0,
	     der = dot && strcmp(dot, ".der") == 0;
	if (which == NULL || (!pem && !der))
		return reply_error(
		    r, 404, "not_found", "CA 証明書が見つかりません。",
		    "no such CA certificate (root, sign, auth; .pem, .der)");
	enum MHD_Result res;
	struct worker *w = worker_or_503(r, &res);
	if (w == NULL)
		return res;
	char *text = NULL;
	struct jpki_errbuf eb = {{0}};
	if (jpki_ca_cert_pem(w->ca, which, &text, &eb) != JPKI_OK)
		return reply_internal(r, eb.msg);
	if (pem) {
		res = reply(r, 200, "application/x-pem-file", text, strlen(text), NULL);
	} else {
		BIO *bio = BIO_new_mem_buf(text, -1);
		X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		unsigned char *d = NULL;
		int n = x ? i2d_X509(x, &d) : -1;
		res = n > 0 ? reply(r, 200, "application/pkix-cert", d, (size_t)n, NULL)
			    : reply_internal(r, "cannot convert a CA certificate");
		OPENSSL_free(d);
		X509_free(x);
		BIO_free(bio);
	}
	free(text);
	return res;
}

/* ---- invalidation and the watcher ---- */

void pki_invalidate(void)
{
	atomic_fetch_add(&gen, 1);
}

static pthread_t watcher;
static bool watching;
static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cv = PTHREAD_COND_INITIALIZER;
static bool watch_stop;

/* A number that changes whenever a revocation is recorded. */
static jpki_err revocation_mark(struct jpki_store *s, int64_t *out)
{
	bool pg = strncmp(cfg.store_url, "postgres", 8) == 0;
	struct jpki_stmt *st = NULL;
	jpki_err rc = jpki_stmt_prepare(
	    s,
	    pg ? "SELECT count(*) FROM revocation"
	       /* rowids only grow: nothing is ever deleted from revocation */
	       : "SELECT coalesce(max(rowid), 0) FROM revocation",
	    &st);
	bool row = false;
	if (rc == JPKI_OK && (rc = jpki_stmt_step(st, &row)) == JPKI_OK && row)
		*out = jpki_stmt_int64(st, 0);
	jpki_stmt_finalize(st);
	return rc;
}

static struct jpki_store *watch_store;
static int64_t watch_version = -1, watch_mark = -1;

static void *watch(void *arg)
{
	(void)arg;
	struct jpki_store *s = watch_store;
	struct jpki_errbuf eb = {{0}};
	int64_t version = watch_version, mark = watch_mark;
	pthread_mutex_lock(&watch_mu);
	while (!watch_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&watch_cv, &watch_mu, &ts);
		if (watch_stop)
			break;
		pthread_mutex_unlock(&watch_mu);
		access_log_flush();
		if (s == NULL && jpki_store_open(cfg.store_url, &s, &eb) != JPKI_OK)
			s = NULL;
		int64_t v, m;
		if (s && jpki_store_data_version(s, &v) == JPKI_OK && v != version) {
			version = v;
			if (revocation_mark(s, &m) == JPKI_OK && m != mark) {
				pki_invalidate();
				mark = m;
			}
		}
		pthread_mutex_lock(&watch_mu);
	}
	pthread_mutex_unlock(&watch_mu);
	jpki_store_close(s);
	return NULL;
}

int pki_watch_start(void)
{
	/* The first readings are taken before any answer is cached. */
	struct jpki_errbuf eb = {{0}};
	if (jpki_store_open(cfg.store_url, &watch_store, &eb) != JPKI_OK ||
	    jpki_store_data_version(watch_store, &watch_version) != JPKI_OK ||
	    revocation_mark(watch_store, &watch_mark) != JPKI_OK) {
		fprintf(stderr, "jpkid: the store cannot be watched: %s\n",
			watch_store ? jpki_store_errmsg(watch_store) : eb.msg);
		jpki_store_close(watch_store);
		return -1;
	}
	if (pthread_create(&watcher, NULL, watch, NULL) != 0) {
		fprintf(stderr, "jpkid: cannot start the watcher thread\n");
		return -1;
	}
	watching = true;
	return 0;
}

void pki_watch_stop(void)
{
	if (!watching)
		return;
	pthread_mutex_lock(&watch_mu);
	watch_stop = true;
	pthread_cond_signal(&watch_cv);
	pthread_mutex_unlock(&watch_mu);
	pthread_join(watcher, NULL);
	watching = false;
}

void pki_free(void)
{
	pthread_rwlock_wrlock(&cache_mu);
	flush_locked();
	pthread_rwlock_unlock(&cache_mu);
	pthread_mutex_lock(&crl_mu);
	while (crls) {
		struct crl_entry *e = crls;
		crls = e->next;
		free(e->der);
		free(e);
	}
	pthread_mutex_unlock(&crl_mu);
}
