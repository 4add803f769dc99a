/* The request cycle: body collection with its limit, routing, replies,
 * the access log and the metrics of each request. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jpkid.h"
#include "banned.h"

/* ---- replies ---- */

static void security_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
}

struct MHD_Response *response_new(const void *data, size_t n)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    n, (void *)(uintptr_t)data, MHD_RESPMEM_MUST_COPY);
	if (resp)
		security_headers(resp);
	return resp;
}

struct MHD_Response *response_from_fd(int fd, uint64_t size)
{
	struct MHD_Response *resp = MHD_create_response_from_fd(size, fd);
	if (resp)
		security_headers(resp);
	else
		close(fd);
	return resp;
}

enum MHD_Result reply(struct req *r, unsigned status, const char *ctype,
		      const void *data, size_t n, struct MHD_Response **keep)
{
	struct MHD_Response *resp = keep && *keep ? *keep : response_new(data, n);
	if (resp == NULL)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	r->status = (int)status;
	r->out_bytes = n;
	/* Counted when the answer is queued, so that a client that has its
	 * answer finds it counted in /metrics. */
	metrics_observe(r->route, status, mono_ns() - r->t0);
	enum MHD_Result res = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	if (keep)
		*keep = NULL;
	return res;
}

/* Encodes doc (consumed); NULL when it is NULL or cannot be encoded. */
static char *encode(json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	return s;
}

/* Sends encoded JSON (freed here) with no-store and one optional header. */
static enum MHD_Result send_json(struct req *r, unsigned status, char *text,
				 const char *hname, const char *hvalue)
{
	size_t n = strlen(text);
	struct MHD_Response *resp = response_new(text, n);
	free(text);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (hname)
		MHD_add_response_header(resp, hname, hvalue);
	return reply(r, status, "application/json; charset=utf-8", NULL, n, &resp);
}

enum MHD_Result reply_json_hdr(struct req *r, unsigned status, json_t *doc,
			       const char *hname, const char *hvalue)
{
	char *text = encode(doc);
	if (text == NULL)
		return reply_internal(r, "could not build the JSON answer");
	return send_json(r, status, text, hname, hvalue);
}

enum MHD_Result reply_json(struct req *r, unsigned status, json_t *doc)
{
	return reply_json_hdr(r, status, doc, NULL, NULL);
}

enum MHD_Result reply_error_hdr(struct req *r, unsigned status, const char *code,
				const char *ja, const char *en, const char *hname,
				const char *hvalue)
{
	/* Not reply_json_hdr: an error that cannot be encoded must not
	 * recurse through reply_internal. */
	char *text = encode(
	    json_pack("{s:s,s:s,s:s}", "error", code, "message", ja, "message_en", en));
	if (text == NULL)
		return MHD_NO;
	return send_json(r, status, text, hname, hvalue);
}

enum MHD_Result reply_error(struct req *r, unsigned status, const char *code,
			    const char *ja, const char *en)
{
	return reply_error_hdr(r, status, code, ja, en, NULL, NULL);
}

struct worker *worker_or_503(struct req *r, enum MHD_Result *res)
{
	struct worker *w = worker_get();
	if (w == NULL)
		*res = reply_error(r, 503, "unavailable", "ただいま利用できません。",
				   "the store is not available");
	return w;
}

enum MHD_Result reply_bad(struct req *r, const char *field, const char *en,
			  const char *ja)
{
	char e[300], j[400];
	snprintf(e, sizeof e, "%s: %s", field, en);
	snprintf(j, sizeof j, "%s: %s", field, ja);
	return reply_error(r, 400, "bad_input", j, e);
}

enum MHD_Result reply_internal(struct req *r, const char *what)
{
	/* The reason goes to the log, never to the client. */
	fprintf(stderr, "jpkid: %s %s: %s\n", r->method, r->url, what);
	atomic_fetch_add(&m_store_errors, 1);
	return reply_error(r, 500, "internal",
			   "内部エラーが発生しました。時間をおいて再度お試しください。",
			   "internal error");
}

enum MHD_Result reply_reg(struct req *r, jpki_err e, const struct jpki_reg_msg *m)
{
	unsigned status;
	const char *code = m->code[0] ? m->code : "refused";
	/* A store failure's text may quote SQL: it goes to the log only. */
	if (strcmp(code, "store") == 0 || strcmp(code, "internal") == 0) {
		fprintf(stderr, "jpkid: %s %s: %s\n", r->method, r->url, m->en);
		atomic_fetch_add(&m_store_errors, 1);
		if (e == JPKI_ERR_CONFLICT)
			return reply_error(
			    r, 409, "conflict",
			    "ほかの操作と重なりました。もう一度お試しください。",
			    "a concurrent change got there first; try again");
		return reply_error(
		    r, 500, "internal",
		    "内部エラーが発生しました。時間をおいて再度お試しください。",
		    "internal error");
	}
	switch (e) {
	case JPKI_ERR_NOTFOUND:
		status = 404;
		break;
	case JPKI_ERR_INVALID:
	case JPKI_ERR_RANGE:
		status = 400;
		if (m->code[0] == 0)
			code = "bad_input";
		break;
	case JPKI_ERR_CONFLICT:
		status = 409;
		break;
	case JPKI_ERR_REFUSED:
		status = 422;
		if (strcmp(code, "in_progress") == 0 || strcmp(code, "running") == 0 ||
		    strcmp(code, "card_busy") == 0 || strcmp(code, "changed") == 0)
			status = 409;
		break;
	default:
		fprintf(stderr, "jpkid: %s %s: %s\n", r->method, r->url, m->en);
		atomic_fetch_add(&m_store_errors, 1);
		return reply_error(
		    r, 500, "internal",
		    "内部エラーが発生しました。時間をおいて再度お試しください。",
		    "internal error");
	}
	return reply_error(r, status, code, m->ja[0] ? m->ja : m->en, m->en);
}

const char *query(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *header(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

/* ---- the access log: one line per request, buffered ---- */

static FILE *log_fp;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

int access_log_open(void)
{
	if (strcmp(cfg.access_log, "off") == 0)
		return 0;
	if (strcmp(cfg.access_log, "-") == 0) {
		log_fp = stderr;
		return 0;
	}
	log_fp = fopen(cfg.access_log, "ae");
	if (log_fp == NULL) {
		fprintf(stderr, "jpkid: --access-log %s: %s\n", cfg.access_log,
			strerror(errno));
		return -1;
	}
	setvbuf(log_fp, NULL, _IOFBF, 1 << 16);
	return 0;
}

void access_log_flush(void)
{
	if (log_fp == NULL)
		return;
	pthread_mutex_lock(&log_mu);
	fflush(log_fp);
	pthread_mutex_unlock(&log_mu);
}

void access_log_close(void)
{
	if (log_fp && log_fp != stderr)
		fclose(log_fp);
	else if (log_fp)
		fflush(log_fp);
	log_fp = NULL;
}

/* The path for the log: OCSP GET requests are long; cut at 120 bytes. */
static void log_request(const struct req *r, uint64_t ns)
{
	if (log_fp == NULL)
		return;
	char t[JPKI_INSTANT_BUFSZ];
	if (jpki_instant_format(now_s(), t) != JPKI_OK)
		t[0] = 0;
	pthread_mutex_lock(&log_mu);
	fprintf(log_fp, "%s %s \"%s %.120s%s\" %d %zu %.3fms %s\n", t, r->client,
		r->method, r->url, strlen(r->url) > 120 ? "..." : "", r->status,
		r->out_bytes, (double)ns / 1e6, r->staff.user[0] ? r->staff.user : "-");
	pthread_mutex_unlock(&log_mu);
}

/* ---- routing ---- */

/* Matches path against a pattern; params receive the {..} segments (in
 * buf, NUL-separated). Returns true on a match. */
static bool match(const char *pattern, const char *path, char *buf, size_t bufsz,
		  char **params, size_t *np)
{
	const char *p = pattern, *u = path;
	size_t used = 0;
	*np = 0;
	while (*p && *u) {
		if (*p == '{' || *p == '*') {
			bool rest = *p == '*';
			const char *pe = rest ? p + 1 : strchr(p, '}') + 1;
			const char *ue = rest ? u + strlen(u) : strchr(u, '/');
			if (ue == NULL)
				ue = u + strlen(u);
			size_t n = (size_t)(ue - u);
			if (n == 0 || used + n + 1 > bufsz || *np >= 4)
				return false;
			memcpy(buf + used, u, n);
			buf[used + n] = 0;
			params[(*np)++] = buf + used;
			used += n + 1;
			p = pe;
			u = ue;
			continue;
		}
		if (*p != *u)
			return false;
		p++;
		u++;
	}
	return *p == 0 && *u == 0;
}

static enum MHD_Result route(struct req *r)
{
	char buf[8192];
	char *params[4];
	size_t np;
	const struct route *found = NULL;
	char allow[64] = "";
	if (strlen(r->url) >= sizeof buf)
		return reply_error(r, 414, "uri_too_long", "URLが長すぎます。",
				   "the URL is too long");
	/* The pages take every other GET, but never the API's or the PKI's
	 * prefixes: an unknown URL there is a 404 (or 405) in JSON. */
	bool reserved =
	    strncmp(r->url, "/api/", 5) == 0 || strncmp(r->url, "/ocsp/", 6) == 0 ||
	    strncmp(r->url, "/crl/", 5) == 0 || strncmp(r->url, "/ca/", 4) == 0;
	for (size_t i = 0; i < n_routes; i++) {
		if (reserved && routes[i].fn == h_static)
			continue;
		if (!match(routes[i].pattern, r->url, buf, sizeof buf, params, &np))
			continue;
		if (strcmp(routes[i].method, r->method) == 0 ||
		    (strcmp(routes[i].method, "GET") == 0 &&
		     strcmp(r->method, "HEAD") == 0)) {
			found = &routes[i];
			break;
		}
		if (strstr(allow, routes[i].method) == NULL) {
			size_t k = strlen(allow);
			snprintf(allow + k, sizeof allow - k, "%s%s", k ? ", " : "",
				 routes[i].method);
		}
	}
	if (found == NULL && allow[0]) {
		r->route = "method_not_allowed";
		return reply_error_hdr(r, 405, "method_not_allowed",
				       "このメソッドは使えません。",
				       "method not allowed", "Allow", allow);
	}
	if (found == NULL) {
		r->route = "not_found";
		return reply_error(r, 404, "not_found", "ページが見つかりません。",
				   "no such route");
	}
	r->route = found->label;
	if (found->auth) {
		enum MHD_Result res;
		if (!session_check(r, found->auth, &r->staff, &res))
			return res;
	}
	return found->fn(r, params);
}

/* ---- the MHD callbacks ---- */

static atomic_int in_flight;

int requests_in_flight(void)
{
	return atomic_load(&in_flight);
}

static void client_of(struct req *r)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(r->client, sizeof r->client, "-");
	if (ci == NULL || ci->client_addr == NULL)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  r->client, sizeof r->client);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  r->client, sizeof r->client);
	/* Behind a reverse proxy (--trust-proxy ADDR), the client is the
	 * last address the proxy appended to X-Forwarded-For. */
	if (cfg.trust_proxy[0] && strcmp(r->client, cfg.trust_proxy) == 0) {
		const char *xff = header(r, "X-Forwarded-For");
		if (xff) {
			const char *last = strrchr(xff, ',');
			last = last ? last + 1 : xff;
			while (*last == ' ')
				last++;
			unsigned char tmp[16];
			if (inet_pton(AF_INET, last, tmp) == 1 ||
			    inet_pton(AF_INET6, last, tmp) == 1)
				snprintf(r->client, sizeof r->client, "%s", last);
		}
	}
}

enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
			   const char *method, const char *version, const char *upload,
			   size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct req *r = *con_cls;
	if (r == NULL) {
		r = calloc(1, sizeof *r);
		if (r == NULL)
			return MHD_NO;
		r->conn = conn;
		r->method = method;
		r->url = url;
		r->route = "unknown";
		r->t0 = mono_ns();
		client_of(r);
		*con_cls = r;
		atomic_fetch_add(&in_flight, 1);
		/* A declared length over the limit is refused before the body
		 * is read. */
		const char *cl = header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > cfg.max_body) {
			r->too_large = true;
			return reply_error(r, 413, "body_too_large",
					   "送信されたデータが大きすぎます。",
					   "the request body is too large");
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->too_large)
			return MHD_YES;
		if (r->len + n > cfg.max_body) {
			r->too_large = true;
			return MHD_YES;
		}
		if (r->len + n + 1 > r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 1024;
			while (cap < r->len + n + 1)
				cap *= 2;
			char *b = realloc(r->body, cap);
			if (b == NULL)
				return MHD_NO;
			r->body = b;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload, n);
		r->len += n;
		r->body[r->len] = 0;
		return MHD_YES;
	}
	if (r->status != 0) /* already answered (413 on Content-Length) */
		return MHD_YES;
	if (r->too_large)
		return reply_error(r, 413, "body_too_large",
				   "送信されたデータが大きすぎます。",
				   "the request body is too large");
	return route(r);
}

void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		  enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct req *r = *con_cls;
	if (r == NULL)
		return;
	uint64_t ns = mono_ns() - r->t0;
	if (r->status == 0) {
		r->status = 499; /* the client went away before an answer */
		metrics_observe(r->route, 499, ns);
	}
	log_request(r, ns);
	if (r->body) {
		/* Bodies carry PINs and passwords. */
		explicit_bzero(r->body, r->cap);
		free(r->body);
	}
	free(r);
	*con_cls = NULL;
	atomic_fetch_sub(&in_flight, 1);
}
