/* /healthz, /metrics (Prometheus text format), /api/v1/openapi.json and
 * the static pages. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jpkid.h"
#include "banned.h"

/* ---- metrics ---- */

static const char *const labels[] = {
    "ocsp",
    "crl",
    "ca",
    "api_public",
    "api_login",
    "api_staff",
    "api_renew",
    "api_admin",
    "healthz",
    "metrics",
    "static",
    "not_found",
    "method_not_allowed",
    "unknown",
};
#define N_LABELS (sizeof labels / sizeof labels[0])
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
				 0.1,	 0.25,	0.5,	1,     2.5,  5,	    10};
#define N_BUCKETS (sizeof buckets / sizeof buckets[0])

struct label_stats {
	atomic_ullong by_status[600];
	atomic_ullong bucket[N_BUCKETS];
	atomic_ullong count, sum_ns;
};
static struct label_stats stats[N_LABELS];

atomic_ullong m_ocsp_cache, m_ocsp_store, m_ocsp_live, m_store_errors, m_crl_builds;

static size_t label_index(const char *label)
{
	for (size_t i = 0; i < N_LABELS; i++)
		if (strcmp(labels[i], label) == 0)
			return i;
	return N_LABELS - 1;
}

void metrics_observe(const char *label, unsigned status, uint64_t ns)
{
	struct label_stats *s = &stats[label_index(label)];
	if (status < 600)
		atomic_fetch_add_explicit(&s->by_status[status], 1,
					  memory_order_relaxed);
	double sec = (double)ns / 1e9;
	for (size_t i = 0; i < N_BUCKETS; i++)
		if (sec <= buckets[i]) {
			atomic_fetch_add_explicit(&s->bucket[i], 1,
						  memory_order_relaxed);
			break;
		}
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->sum_ns, ns, memory_order_relaxed);
}

struct buf {
	char *p;
	size_t n, cap;
};

__attribute__((format(printf, 2, 3))) static void bprintf(struct buf *b,
							  const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0,
				  fmt, ap);
		va_end(ap);
		if (k < 0)
			return;
		if (b->p && b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 8192;
		while (cap < b->n + (size_t)k + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (p == NULL)
			return;
		b->p = p;
		b->cap = cap;
	}
}

enum MHD_Result h_metrics(struct req *r, char **p)
{
	(void)p;
	struct buf b = {0};
	bprintf(&b, "# HELP jpkid_requests_total HTTP requests by route and status.\n"
		    "# TYPE jpkid_requests_total counter\n");
	for (size_t i = 0; i < N_LABELS; i++)
		for (unsigned c = 100; c < 600; c++) {
			unsigned long long v = atomic_load(&stats[i].by_status[c]);
			if (v)
				bprintf(
				    &b,
				    "jpkid_requests_total{route=\"%s\",code=\"%u\"} "
				    "%llu\n",
				    labels[i], c, v);
		}
	bprintf(&b, "# HELP jpkid_request_duration_seconds Time to answer, by route.\n"
		    "# TYPE jpkid_request_duration_seconds histogram\n");
	for (size_t i = 0; i < N_LABELS; i++) {
		unsigned long long count = atomic_load(&stats[i].count), cum = 0;
		if (count == 0)
			continue;
		for (size_t k = 0; k < N_BUCKETS; k++) {
			cum += atomic_load(&stats[i].bucket[k]);
			bprintf(&b,
				"jpkid_request_duration_seconds_bucket{route=\"%s\","
				"le=\"%g\"} %llu\n",
				labels[i], buckets[k], cum);
		}
		bprintf(
		    &b,
		    "jpkid_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
		    "%llu\n"
		    "jpkid_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		    "jpkid_request_duration_seconds_count{route=\"%s\"} %llu\n",
		    labels[i], count, labels[i],
		    (double)atomic_load(&stats[i].sum_ns) / 1e9, labels[i], count);
	}
	bprintf(
	    &b,
	    "# HELP jpkid_ocsp_responses_total OCSP answers by where they came from.\n"
	    "# TYPE jpkid_ocsp_responses_total counter\n"
	    "jpkid_ocsp_responses_total{source=\"cache\"} %llu\n"
	    "jpkid_ocsp_responses_total{source=\"store\"} %llu\n"
	    "jpkid_ocsp_responses_total{source=\"live\"} %llu\n"
	    "# HELP jpkid_store_errors_total Store and internal errors.\n"
	    "# TYPE jpkid_store_errors_total counter\n"
	    "jpkid_store_errors_total %llu\n"
	    "# HELP jpkid_crl_builds_total CRLs built and signed.\n"
	    "# TYPE jpkid_crl_builds_total counter\n"
	    "jpkid_crl_builds_total %llu\n"
	    "# HELP jpkid_sessions Staff sessions alive.\n"
	    "# TYPE jpkid_sessions gauge\n"
	    "jpkid_sessions %zu\n"
	    "# HELP jpkid_uptime_seconds Seconds since start.\n"
	    "# TYPE jpkid_uptime_seconds gauge\n"
	    "jpkid_uptime_seconds %lld\n",
	    atomic_load(&m_ocsp_cache), atomic_load(&m_ocsp_store),
	    atomic_load(&m_ocsp_live), atomic_load(&m_store_errors),
	    atomic_load(&m_crl_builds), sessions_count(), (long long)uptime_s());
	if (b.p == NULL)
		return reply_internal(r, "out of memory");
	enum MHD_Result res =
	    reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.n, NULL);
	free(b.p);
	return res;
}

/* ---- health ---- */

enum MHD_Result h_healthz(struct req *r, char **p)
{
	(void)p;
	struct worker *w = worker_get();
	int64_t v;
	if (w == NULL || jpki_store_data_version(w->store, &v) != JPKI_OK) {
		atomic_fetch_add(&m_store_errors, 1);
		return reply_json(
		    r, 503,
		    json_pack("{s:s,s:s}", "status", "unavailable", "store", "error"));
	}
	return reply_json(r, 200,
			  json_pack("{s:s,s:s,s:i,s:I}", "status", "ok", "store", "ok",
				    "schema", jpki_store_schema_version(w->store),
				    "uptime_s", (json_int_t)uptime_s()));
}

/* ---- static files ---- */

static const char *content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".json", "application/json; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".txt", "text/plain; charset=utf-8"},
	    {".woff2", "font/woff2"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static enum MHD_Result not_found(struct req *r)
{
	return reply_error(r, 404, "not_found", "ページが見つかりません。",
			   "no such page");
}

/* Serves root/rel; rel has been checked. */
static enum MHD_Result serve_file(struct req *r, const char *rel, bool nocache)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", cfg.web_root, rel) >=
	    sizeof path)
		return not_found(r);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return not_found(r);
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return not_found(r);
	}
	char etag[64];
	snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_mtime,
		 (unsigned long long)st.st_size);
	const char *inm = header(r, MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *resp;
	unsigned status = 200;
	if (inm && strcmp(inm, etag) == 0) {
		close(fd);
		resp = response_new("", 0);
		status = 304;
	} else {
		resp = response_from_fd(fd, (uint64_t)st.st_size);
	}
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, "Cache-Control",
				nocache ? "no-cache" : "max-age=300");
	MHD_add_response_header(
	    resp, "Content-Security-Policy",
	    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
	    "base-uri 'none'; form-action 'self'");
	return reply(r, status, status == 200 ? content_type(rel) : NULL, NULL,
		     status == 200 ? (size_t)st.st_size : 0, &resp);
}

enum MHD_Result h_static(struct req *r, char **p)
{
	const char *rel = p && p[0] ? p[0] : "";
	if (strcmp(r->url, "/") == 0 || rel[0] == 0)
		rel = "index.html";
	/* No dot segments, hidden files, backslashes or empty segments. */
	if (strstr(rel, "..") || strstr(rel, "//") || strchr(rel, '\\') ||
	    rel[0] == '.' || strstr(rel, "/."))
		return not_found(r);
	size_t n = strlen(rel);
	char buf[1024];
	if (n > 0 && rel[n - 1] == '/') {
		if (snprintf(buf, sizeof buf, "%sindex.html", rel) >= (int)sizeof buf)
			return not_found(r);
		rel = buf;
	}
	bool html = strstr(rel, ".html") != NULL;
	return serve_file(r, rel, html || strcmp(rel, "openapi.json") == 0);
}

enum MHD_Result h_openapi(struct req *r, char **p)
{
	(void)p;
	return serve_file(r, "openapi.json", true);
}
