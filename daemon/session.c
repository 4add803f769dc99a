/* Staff sessions, CSRF tokens and the login rate limit, in memory.
 *
 * A session id is 256 random bits sent in an HttpOnly, SameSite=Strict
 * cookie; only its SHA-256 is kept, so a memory dump does not hand out
 * live sessions. Every POST also needs the session's CSRF token in
 * X-CSRF-Token. Sessions end after --session-idle without use, after
 * --session-max in all, at logout, or when the account is disabled. A
 * restart ends them all (staff log in again). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jpkid.h"
#include "banned.h"

#define COOKIE "jpki_session"
/* Expired sessions are remembered this long to answer session_expired. */
#define TOMBSTONE_S 3600

struct session {
	struct session *next;
	unsigned char id_hash[32];
	struct session_view who;
	char csrf[44];
	int64_t created, last_seen;
	int64_t checked; /* when the account was last read from the store */
};

/* How stale an account may be: `jpki staff disable` in another process
 * ends the user's sessions within this many seconds. */
#define RECHECK_S 5

static struct session *sessions;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void sha256(const char *s, size_t n, unsigned char out[32])
{
	EVP_Digest(s, n, out, NULL, EVP_sha256(), NULL);
}

static void random_token(char *out, size_t outsz)
{
	unsigned char raw[32];
	RAND_bytes(raw, sizeof raw);
	static const char al[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t k = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < sizeof raw && k + 1 < outsz; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 6 && k + 1 < outsz) {
			bits -= 6;
			out[k++] = al[(acc >> bits) & 63];
		}
	}
	if (bits > 0 && k + 1 < outsz)
		out[k++] = al[(acc << (6 - bits)) & 63];
	out[k] = 0;
	OPENSSL_cleanse(raw, sizeof raw);
}

static void free_session(struct session *s)
{
	OPENSSL_cleanse(s, sizeof *s);
	free(s);
}

/* Unlinks s from the list and frees it. Called with mu. */
static void drop_locked(struct session *s)
{
	for (struct session **pp = &sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free_session(s);
}

static bool expired(const struct session *s, int64_t now)
{
	return now - s->last_seen >= cfg.session_idle ||
	       now - s->created >= cfg.session_max;
}

static int64_t expiry_of(const struct session *s, bool idle)
{
	int64_t a = s->last_seen + cfg.session_idle, b = s->created + cfg.session_max;
	return idle ? (a < b ? a : b) : b;
}

/* Drops sessions expired longer than TOMBSTONE_S ago. Called with mu. */
static void prune_locked(int64_t now)
{
	for (struct session **pp = &sessions; *pp;) {
		struct session *s = *pp;
		if (expired(s, now) && now - expiry_of(s, true) > TOMBSTONE_S) {
			*pp = s->next;
			free_session(s);
		} else {
			pp = &s->next;
		}
	}
}

size_t sessions_count(void)
{
	size_t n = 0;
	int64_t now = now_s();
	pthread_mutex_lock(&mu);
	for (struct session *s = sessions; s; s = s->next)
		n += !expired(s, now);
	pthread_mutex_unlock(&mu);
	return n;
}

void sessions_end_user(const char *user)
{
	pthread_mutex_lock(&mu);
	for (struct session **pp = &sessions; *pp;) {
		struct session *s = *pp;
		if (strcmp(s->who.user, user) == 0) {
			*pp = s->next;
			free_session(s);
		} else {
			pp = &s->next;
		}
	}
	pthread_mutex_unlock(&mu);
}

void sessions_free(void)
{
	pthread_mutex_lock(&mu);
	while (sessions) {
		struct session *s = sessions;
		sessions = s->next;
		free_session(s);
	}
	pthread_mutex_unlock(&mu);
}

/* The session of the request's cookie (under mu), or NULL. */
static struct session *find_locked(struct req *r)
{
	const char *c = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, COOKIE);
	if (c == NULL || strlen(c) > 64)
		return NULL;
	unsigned char h[32];
	sha256(c, strlen(c), h);
	for (struct session *s = sessions; s; s = s->next)
		if (CRYPTO_memcmp(s->id_hash, h, 32) == 0)
			return s;
	return NULL;
}

bool session_check(struct req *r, int min_role, struct session_view *sv,
		   enum MHD_Result *res)
{
	int64_t now = now_s();
	pthread_mutex_lock(&mu);
	struct session *s = find_locked(r);
	if (s == NULL) {
		pthread_mutex_unlock(&mu);
		*res = reply_error(r, 401, "login_required", "ログインしてください。",
				   "log in first");
		return false;
	}
	if (expired(s, now)) {
		pthread_mutex_unlock(&mu);
		*res = reply_error(r, 401, "session_expired",
				   "一定時間操作がなかったため、ログインが切れました。"
				   "もう一度ログインしてください。",
				   "the session has expired; log in again");
		return false;
	}
	if (now - s->checked >= RECHECK_S) {
		struct worker *w = worker_get();
		struct jpki_staff st;
		struct jpki_errbuf eb = {{0}};
		jpki_err e =
		    w ? jpki_staff_get(w->store, s->who.user, &st, &eb) : JPKI_ERR_IO;
		if (e == JPKI_OK && !st.disabled) {
			s->who.role = st.role; /* a role change takes effect */
			s->checked = now;
		} else if (e == JPKI_OK || e == JPKI_ERR_NOTFOUND) {
			drop_locked(s);
			pthread_mutex_unlock(&mu);
			*res = reply_error(r, 401, "login_required",
					   "アカウントが停止されました。",
					   "the account has been disabled");
			return false;
		}
		/* a store failure: keep the session, check again next time */
	}
	*sv = s->who;
	if (strcmp(r->method, "POST") == 0) {
		const char *t = header(r, "X-CSRF-Token");
		size_t n = strlen(s->csrf);
		if (t == NULL || strlen(t) != n || CRYPTO_memcmp(t, s->csrf, n) != 0) {
			pthread_mutex_unlock(&mu);
			*res = reply_error(
			    r, 403, "csrf",
			    "画面を再読み込みしてから、もう一度操作してください。",
			    "missing or wrong X-CSRF-Token");
			return false;
		}
	}
	s->last_seen = now;
	pthread_mutex_unlock(&mu);
	if ((int)sv->role < min_role) {
		*res =
		    reply_error(r, 403, "forbidden", "この操作を行う権限がありません。",
				"your role does not allow this");
		return false;
	}
	return true;
}

/* ---- the login rate limit ---- */

struct attempts {
	struct attempts *next;
	char key[80]; /* "u:alice" or "a:127.0.0.1" */
	int failures;
	int64_t since;
};
static struct attempts *attempts;

/* Seconds until key may try again (0: now). Called with mu. */
static int64_t blocked_locked(const char *key, int64_t now)
{
	for (struct attempts **pp = &attempts; *pp;) {
		struct attempts *a = *pp;
		if (now - a->since >= cfg.login_window) { /* the window passed */
			*pp = a->next;
			free(a);
			continue;
		}
		if (strcmp(a->key, key) == 0 && a->failures >= cfg.login_limit)
			return a->since + cfg.login_window - now;
		pp = &a->next;
	}
	return 0;
}

static void fail_locked(const char *key, int64_t now)
{
	for (struct attempts *a = attempts; a; a = a->next)
		if (strcmp(a->key, key) == 0) {
			a->failures++;
			return;
		}
	struct attempts *a = calloc(1, sizeof *a);
	if (a == NULL)
		return;
	snprintf(a->key, sizeof a->key, "%s", key);
	a->failures = 1;
	a->since = now;
	a->next = attempts;
	attempts = a;
}

/* Takes back one counted attempt (a login that succeeded). */
static void unfail_locked(const char *key)
{
	for (struct attempts *a = attempts; a; a = a->next)
		if (strcmp(a->key, key) == 0) {
			if (a->failures > 0)
				a->failures--;
			return;
		}
}

static void clear_locked(const char *key)
{
	for (struct attempts **pp = &attempts; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) == 0) {
			struct attempts *a = *pp;
			*pp = a->next;
			free(a);
			return;
		}
}

/* ---- handlers ---- */

static json_t *session_json(const struct session *s)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:o}", "user", s->who.user, "role",
			 jpki_staff_role_name(s->who.role), "csrf", s->csrf,
			 "idle_expires_at", jinstant(expiry_of(s, true)), "expires_at",
			 jinstant(expiry_of(s, false)));
}

enum MHD_Result h_login(struct req *r, char **p)
{
	(void)p;
	enum MHD_Result res;
	json_t *body = body_json(r, &res);
	if (body == NULL)
		return res;
	const char *user, *pw;
	if (!jstr(r, body, "user", true, 64, &user, &res) ||
	    !jstr(r, body, "password", true, 256, &pw, &res)) {
		json_decref(body);
		return res;
	}
	char ukey[80], akey[80];
	snprintf(ukey, sizeof ukey, "u:%.40s", user);
	snprintf(akey, sizeof akey, "a:%s", r->client);
	int64_t now = now_s();
	/* The attempt is counted as a failure before the password is checked
	 * (and taken back on success): parallel guesses cannot slip past the
	 * limit while an earlier one is still being verified. */
	pthread_mutex_lock(&mu);
	int64_t wait = blocked_locked(ukey, now);
	int64_t wait2 = blocked_locked(akey, now);
	if (wait2 > wait)
		wait = wait2;
	if (wait <= 0) {
		fail_locked(ukey, now);
		fail_locked(akey, now);
	}
	pthread_mutex_unlock(&mu);
	if (wait > 0) {
		json_decref(body);
		char ra[24];
		snprintf(ra, sizeof ra, "%lld", (long long)wait);
		return reply_error_hdr(
		    r, 429, "rate_limited",
		    "ログインの失敗が続いたため、しばらく待ってからお試しください。",
		    "too many failed logins; try again later", "Retry-After", ra);
	}
	struct worker *w = worker_or_503(r, &res);
	if (w == NULL) {
		json_decref(body);
		return res;
	}
	struct jpki_staff st;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_staff_verify(w->store, user, pw, strlen(pw), now, &st, &eb);
	json_decref(body); /* the password is wiped as jansson frees it */
	if (e != JPKI_OK) {
		if (e != JPKI_ERR_REFUSED)
			return reply_internal(r, eb.msg);
		char details[160];
		snprintf(details, sizeof details, "{\"client\":\"%s\"}", r->client);
		/* A failed login is audited under the name tried (its
		 * characters are checked: only [a-z0-9._-] reach here
		 * unchanged; others are shown as "?"). */
		char who[33];
		size_t i = 0;
		for (; ukey[2 + i] && i < 32; i++) {
			char c = ukey[2 + i];
			who[i] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
					 c == '.' || c == '_' || c == '-'
				     ? c
				     : '?';
		}
		who[i] = 0;
		struct session_view anon = {{0}, 0};
		r->staff = anon;
		audit_staff(r, w, "staff.login_failed", who, details);
		return reply_error(r, 401, "bad_credentials",
				   "ユーザー名またはパスワードが違います。",
				   "wrong user or password");
	}
	struct session *s = calloc(1, sizeof *s);
	if (s == NULL)
		return MHD_NO;
	char id[48];
	random_token(id, sizeof id);
	sha256(id, strlen(id), s->id_hash);
	random_token(s->csrf, sizeof s->csrf);
	snprintf(s->who.user, sizeof s->who.user, "%s", st.user);
	s->who.role = st.role;
	s->created = s->last_seen = s->checked = now;
	r->staff = s->who;
	json_t *doc = json_pack("{s:s,s:s,s:s}", "user", s->who.user, "role",
				jpki_staff_role_name(s->who.role), "csrf", s->csrf);
	pthread_mutex_lock(&mu);
	clear_locked(ukey);
	unfail_locked(akey);
	prune_locked(now);
	s->next = sessions;
	sessions = s;
	pthread_mutex_unlock(&mu);
	char details[160];
	snprintf(details, sizeof details, "{\"client\":\"%s\"}", r->client);
	audit_staff(r, w, "staff.login", st.user, details);

	char cookie[160];
	snprintf(cookie, sizeof cookie,
		 COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", id,
		 cfg.session_max, cfg.cookie_secure ? "; Secure" : "");
	OPENSSL_cleanse(id, sizeof id);
	enum MHD_Result out =
	    reply_json_hdr(r, 200, doc, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	OPENSSL_cleanse(cookie, sizeof cookie);
	return out;
}

enum MHD_Result h_logout(struct req *r, char **p)
{
	(void)p;
	pthread_mutex_lock(&mu);
	struct session *s = find_locked(r);
	if (s)
		drop_locked(s);
	pthread_mutex_unlock(&mu);
	struct worker *w = worker_get();
	if (w)
		audit_staff(r, w, "staff.logout", r->staff.user, "{}");
	return reply_json_hdr(r, 200, json_pack("{s:b}", "ok", 1),
			      MHD_HTTP_HEADER_SET_COOKIE,
			      COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

enum MHD_Result h_session(struct req *r, char **p)
{
	(void)p;
	pthread_mutex_lock(&mu);
	struct session *s = find_locked(r);
	json_t *doc = s ? session_json(s) : NULL;
	pthread_mutex_unlock(&mu);
	if (doc == NULL)
		return reply_error(r, 401, "login_required", "ログインしてください。",
				   "log in first");
	return reply_json(r, 200, doc);
}
