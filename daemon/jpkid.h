/* jpkid: the HTTP service (docs/HTTP-API.md, docs/man/jpkid.8).
 *
 * libmicrohttpd runs a pool of threads, each with its own epoll loop. A
 * request is handled on the thread that read it; each thread opens its own
 * store connection and CA on first use (struct worker), so handlers never
 * share a connection. OCSP answers and CRLs are cached in memory; a
 * watcher thread notices revocations made by other processes and drops
 * what they made stale. */
#ifndef JPKID_H
#define JPKID_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpki/date.h"
#include "jpki/office.h"
#include "jpki/pki.h"
#include "jpki/registry.h"
#include "jpki/staff.h"
#include "jpki/store.h"

/* ---- configuration (main.c) ---- */

struct config {
	char host[64];
	uint16_t port;
	const char *store_url;
	char keys_dir[4096];
	const char *web_root;
	const char *office_file;
	const char *notice_dir; /* where notice runs write (default var/notices) */
	const char *access_log; /* path, "-" for stderr, "off" */
	char *passphrase;	/* the CA's; NULL for an unencrypted store */
	unsigned threads;
	size_t max_body;
	unsigned conn_timeout;	       /* seconds */
	int session_idle, session_max; /* seconds */
	int login_limit, login_window; /* failures per window (seconds) */
	bool cookie_secure;
	char trust_proxy[64]; /* the reverse proxy's address, or "" */
	enum jpki_feb29 feb29;
	int64_t clock_offset; /* JPKI_NOW - the real clock at start, or 0 */
};
extern struct config cfg;
extern struct jpki_office *office; /* the office the public API describes */

/* Now, in Unix seconds: the real clock, shifted when JPKI_NOW was set at
 * start (the clock then runs on from JPKI_NOW). */
int64_t now_s(void);
int64_t uptime_s(void);
/* A monotonic clock in nanoseconds (latencies). */
uint64_t mono_ns(void);

/* ---- per-thread store connections (worker.c) ---- */

struct req;

struct worker {
	struct jpki_store *store;
	struct jpki_ca *ca;
	struct worker *next;
};
/* This thread's store and CA, opened on first use; NULL (logged) when the
 * store cannot be opened. */
struct worker *worker_get(void);
void workers_close(void);
/* worker_get(), or NULL after replying 503 unavailable (server.c). */
struct worker *worker_or_503(struct req *r, enum MHD_Result *res);

/* ---- requests (server.c) ---- */

/* The logged-in staff member of a request. */
struct session_view {
	char user[33];
	enum jpki_staff_role role;
};

struct req {
	struct MHD_Connection *conn;
	const char *method, *url;
	char *body;
	size_t len, cap;
	bool too_large;
	const char *route; /* the metrics label, "unknown" until routed */
	int status;
	size_t out_bytes;
	uint64_t t0;
	struct session_view staff; /* staff.user[0] == 0: none */
	char client[64];
};

/* The MHD callbacks and the count of requests being handled. */
enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
			   const char *method, const char *version, const char *upload,
			   size_t *upload_size, void **con_cls);
void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		  enum MHD_RequestTerminationCode toe);
int requests_in_flight(void);

/* Replies. Each returns the MHD result of queueing the response. */
enum MHD_Result reply(struct req *r, unsigned status, const char *ctype,
		      const void *data, size_t n, struct MHD_Response **keep);
enum MHD_Result reply_json(struct req *r, unsigned status, json_t *doc);
/* The same with one more header (Set-Cookie). */
enum MHD_Result reply_json_hdr(struct req *r, unsigned status, json_t *doc,
			       const char *hname, const char *hvalue);
enum MHD_Result reply_error(struct req *r, unsigned status, const char *code,
			    const char *ja, const char *en);
/* The same with one more header (Allow, Retry-After). */
enum MHD_Result reply_error_hdr(struct req *r, unsigned status, const char *code,
				const char *ja, const char *en, const char *hname,
				const char *hvalue);
/* 400 bad_input naming the field. */
enum MHD_Result reply_bad(struct req *r, const char *field, const char *en,
			  const char *ja);
/* A registry failure: status from the code (422 refusals, 404, 409, ...). */
enum MHD_Result reply_reg(struct req *r, jpki_err e, const struct jpki_reg_msg *m);
enum MHD_Result reply_internal(struct req *r, const char *what);

/* Adds headers to a response before reply() queues it (keep != NULL). */
struct MHD_Response *response_new(const void *data, size_t n);
/* The same for size bytes of fd, which it takes (closed on failure too). */
struct MHD_Response *response_from_fd(int fd, uint64_t size);

const char *query(struct req *r, const char *name);
const char *header(struct req *r, const char *name);

/* ---- JSON helpers (json.c) ---- */

json_t *jdate(jpki_day d);
json_t *jwareki(jpki_day d);
json_t *jinstant(int64_t t); /* ISO 8601 +09:00, or null for 0 */
/* Parses a query or JSON date; false when absent or bad. */
bool parse_day(const char *s, jpki_day *out);
/* The body as a JSON object, or replies 400 and returns NULL. */
json_t *body_json(struct req *r, enum MHD_Result *res);
/* A JSON object's string member: required or not, max length in bytes.
 * On a wrong type, replies 400 and returns false. */
bool jstr(struct req *r, json_t *o, const char *key, bool required, size_t max,
	  const char **out, enum MHD_Result *res);
/* Refuses (400 naming the member) a JSON object's members not in keys
 * (NULL-terminated): a typo is not silently ignored. */
bool only_keys(struct req *r, json_t *o, const char *const *keys, enum MHD_Result *res);
/* An integer query parameter in lo..hi: *out is left alone when absent.
 * Returns false after replying 400. */
bool qint(struct req *r, const char *name, long lo, long hi, long *out,
	  enum MHD_Result *res);
/* Wipes every string in a JSON value in place (PINs, passwords). */
void jwipe(json_t *v);
const char *weekday_ja(jpki_day d);

/* ---- routes ---- */

/* Route handlers: params are the {...} segments of the pattern. */
typedef enum MHD_Result (*route_fn)(struct req *r, char **params);

struct route {
	const char *method;
	const char *pattern; /* "/api/v1/residents/{id}"; "*" as the last
			      * segment takes the rest of the path */
	route_fn fn;
	int auth;	   /* minimum role (enum jpki_staff_role), 0 none */
	const char *label; /* metrics */
	bool in_openapi;   /* documented in openapi.json */
};
extern const struct route routes[];
extern const size_t n_routes;

/* pki.c */
enum MHD_Result h_ocsp_post(struct req *r, char **p);
enum MHD_Result h_ocsp_get(struct req *r, char **p);
enum MHD_Result h_crl_full(struct req *r, char **p);
enum MHD_Result h_crl_shard(struct req *r, char **p);
enum MHD_Result h_ca_cert(struct req *r, char **p);
enum MHD_Result h_crl_publish(struct req *r, char **p);
enum MHD_Result h_ocsp_refresh(struct req *r, char **p);
/* The revocation generation: bumped on every revocation seen. */
void pki_invalidate(void);
int pki_watch_start(void);
void pki_watch_stop(void);
void pki_free(void);

/* public.c */
enum MHD_Result h_guide(struct req *r, char **p);
enum MHD_Result h_window(struct req *r, char **p);
enum MHD_Result h_cert_expiry(struct req *r, char **p);
enum MHD_Result h_card_expiry(struct req *r, char **p);
enum MHD_Result h_bring(struct req *r, char **p);
enum MHD_Result h_office(struct req *r, char **p);
enum MHD_Result h_open_days(struct req *r, char **p);
enum MHD_Result h_holidays(struct req *r, char **p);
enum MHD_Result h_wareki(struct req *r, char **p);
enum MHD_Result h_reservable(struct req *r, char **p);

/* session.c (struct session_view is above) */
/* Checks the session cookie (and for POST the CSRF token) against the
 * route's role. Returns true with *sv filled, or replies and returns
 * false. */
bool session_check(struct req *r, int min_role, struct session_view *sv,
		   enum MHD_Result *res);
void sessions_end_user(const char *user);
size_t sessions_count(void);
void sessions_free(void);
enum MHD_Result h_login(struct req *r, char **p);
enum MHD_Result h_logout(struct req *r, char **p);
enum MHD_Result h_session(struct req *r, char **p);

/* staff.c */
enum MHD_Result h_search(struct req *r, char **p);
enum MHD_Result h_resident(struct req *r, char **p);
enum MHD_Result h_renew(struct req *r, char **p);
enum MHD_Result h_pin_reset(struct req *r, char **p);
enum MHD_Result h_events(struct req *r, char **p);
enum MHD_Result h_revoke(struct req *r, char **p);
enum MHD_Result h_stats_expiring(struct req *r, char **p);
enum MHD_Result h_staff_list(struct req *r, char **p);
enum MHD_Result h_staff_add(struct req *r, char **p);
enum MHD_Result h_staff_disable(struct req *r, char **p);

/* notice.c: the expiry notices (admin page) */
enum MHD_Result h_notice_status(struct req *r, char **p);
enum MHD_Result h_notice_run(struct req *r, char **p);
enum MHD_Result h_notice_run_get(struct req *r, char **p);
enum MHD_Result h_notice_file(struct req *r, char **p);
enum MHD_Result h_notice_suspend(struct req *r, char **p);
enum MHD_Result h_notice_resume(struct req *r, char **p);
/* Stops a notice run in progress (between letters) and joins its thread. */
void notice_stop(void);

/* ops.c: health, metrics, openapi, static files */
enum MHD_Result h_healthz(struct req *r, char **p);
enum MHD_Result h_metrics(struct req *r, char **p);
enum MHD_Result h_openapi(struct req *r, char **p);
enum MHD_Result h_static(struct req *r, char **p);

/* This thread's store and a registry context for the request, the actor
 * "staff:USER" written into actor; false after replying 503 when the store
 * is not available (staff.c). */
bool op_ctx(struct req *r, struct jpki_reg_ctx *ctx, char actor[48],
	    enum MHD_Result *res);

/* One audit row for a staff action, in its own transaction (staff.c). */
jpki_err audit_staff(struct req *r, struct worker *w, const char *action,
		     const char *object, const char *details_json);

/* metrics */
void metrics_observe(const char *label, unsigned status, uint64_t ns);
extern atomic_ullong m_ocsp_cache, m_ocsp_store, m_ocsp_live, m_store_errors,
    m_crl_builds;

/* access log (server.c) */
int access_log_open(void);
void access_log_flush(void);
void access_log_close(void);

#endif
