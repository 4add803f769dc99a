/* jpkid: options and config file, start-up, and the graceful stop on
 * SIGTERM or SIGINT (no new connections; requests in flight finish; the
 * store closes cleanly). */
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jpkid.h"
#include "banned.h"

#ifndef JPKID_WEB_ROOT
#define JPKID_WEB_ROOT "web"
#endif
#ifndef JPKID_OFFICE
#define JPKID_OFFICE "data/offices/toshima.ini"
#endif

struct config cfg;
struct jpki_office *office;

static struct timespec start_real, start_mono;

int64_t now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec + cfg.clock_offset;
}

uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int64_t uptime_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)(t.tv_sec - start_mono.tv_sec);
}

static const char usage[] =
    "usage: jpkid [--config FILE] [--listen HOST:PORT] [--store URL] [--keys DIR]\n"
    "             [--web-root DIR] [--office FILE] [--notice-dir DIR]\n"
    "             [--passphrase-file FILE]\n"
    "             [--threads N] [--max-body BYTES] [--timeout SECONDS]\n"
    "             [--session-idle SECONDS] [--session-max SECONDS]\n"
    "             [--login-limit N] [--login-window SECONDS]\n"
    "             [--access-log PATH|-|off] [--cookie-secure] [--trust-proxy ADDR]\n"
    "             [--feb29 feb28|mar1]\n"
    "       jpkid --routes | --help\n"
    "\n"
    "The openjpki HTTP service: OCSP and CRLs for relying parties, the public\n"
    "and staff JSON API, and the resident, counter and admin pages\n"
    "(docs/HTTP-API.md, jpkid(8)).\n"
    "\n"
    "  --config FILE          read options from an INI file first (below)\n"
    "  --listen HOST:PORT     an IP address (or localhost) and port; default\n"
    "                         127.0.0.1:8080 ([::1]:8080 for IPv6)\n"
    "  --store URL            SQLite file or postgresql:// URL (default $JPKI_STORE,\n"
    "                         else ./var/jpki.db)\n"
    "  --keys DIR             CA keys (default $JPKI_KEYS, else <store>.keys)\n"
    "  --web-root DIR         the pages (default: the source tree's web/)\n"
    "  --office FILE          the office calendar the public API and the\n"
    "                         notice letters describe\n"
    "  --notice-dir DIR       where notice runs started from the admin page\n"
    "                         write (default var/notices)\n"
    "  --passphrase-file F    the CA passphrase's file (else $JPKI_CA_PASSPHRASE)\n"
    "  --threads N            server threads, each with its own store connection\n"
    "                         (default 4)\n"
    "  --max-body BYTES       request body limit (default 65536)\n"
    "  --timeout SECONDS      idle connection timeout (default 30)\n"
    "  --session-idle S       staff session idle timeout (default 900)\n"
    "  --session-max S        staff session absolute lifetime (default 28800)\n"
    "  --login-limit N        failed logins per account and per address in\n"
    "  --login-window S       the window before 429 (default 5 in 300)\n"
    "  --access-log P         one line per request: a file, - (stderr, default)\n"
    "                         or off\n"
    "  --cookie-secure        mark the session cookie Secure (behind TLS)\n"
    "  --trust-proxy ADDR     requests from ADDR (a reverse proxy) are from the\n"
    "                         last address in their X-Forwarded-For (logs, the\n"
    "                         login rate limit)\n"
    "  --feb29 feb28|mar1     where a Feb 29 birthday falls in common years\n"
    "                         (default feb28)\n"
    "  --routes               print the route table and exit\n"
    "\n"
    "A config file holds the same names as key = value lines (section [jpkid]);\n"
    "options on the command line win. JPKI_NOW (ISO 8601) starts the clock at\n"
    "that instant (tests and demos); it runs on from there.\n";

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("jpkid: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 2;
}

static int uint_opt(const char *name, const char *v, unsigned long lo, unsigned long hi,
		    unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || x < lo || x > hi) {
		char range[64];
		snprintf(range, sizeof range, "%lu..%lu", lo, hi);
		fprintf(stderr, "jpkid: --%s: '%.20s' is not a number in %s\n", name, v,
			range);
		return 2;
	}
	*out = x;
	return 0;
}

/* Applies one option (from argv or the config file). */
static int set_opt(const char *name, const char *v, const char **pass_file)
{
	unsigned long x;
	int rc;
#define NUM(n, lo, hi, dst)                                                            \
	if (strcmp(name, n) == 0) {                                                    \
		if ((rc = uint_opt(n, v, lo, hi, &x)) != 0)                            \
			return rc;                                                     \
		dst = x;                                                               \
		return 0;                                                              \
	}
	NUM("threads", 1, 256, cfg.threads)
	NUM("max-body", 1024, 16ul << 20, cfg.max_body)
	NUM("timeout", 1, 3600, cfg.conn_timeout)
	NUM("session-idle", 1, 86400, cfg.session_idle)
	NUM("session-max", 1, 7 * 86400, cfg.session_max)
	NUM("login-limit", 1, 1000, cfg.login_limit)
	NUM("login-window", 1, 86400, cfg.login_window)
#undef NUM
	if (strcmp(name, "listen") == 0) {
		const char *colon = strrchr(v, ':');
		if (colon == NULL || colon == v)
			return bad("--listen: '%.60s' is not HOST:PORT", v);
		size_t hl = (size_t)(colon - v);
		const char *h = v;
		if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']')
			h++, hl -= 2;
		if (hl >= sizeof cfg.host)
			return bad("--listen: '%.60s': the host is too long", v);
		memcpy(cfg.host, h, hl);
		cfg.host[hl] = 0;
		if (strcmp(cfg.host, "localhost") == 0)
			snprintf(cfg.host, sizeof cfg.host, "127.0.0.1");
		unsigned char tmp[16];
		if (inet_pton(AF_INET, cfg.host, tmp) != 1 &&
		    inet_pton(AF_INET6, cfg.host, tmp) != 1)
			return bad(
			    "--listen: '%.60s' is not an IP address (or localhost)",
			    cfg.host);
		if ((rc = uint_opt("listen", colon + 1, 0, 65535, &x)) != 0)
			return rc;
		cfg.port = (uint16_t)x;
		return 0;
	}
	if (strcmp(name, "store") == 0)
		cfg.store_url = strdup(v);
	else if (strcmp(name, "keys") == 0) {
		if (strlen(v) >= sizeof cfg.keys_dir)
			return bad("--keys: too long");
		snprintf(cfg.keys_dir, sizeof cfg.keys_dir, "%s", v);
	} else if (strcmp(name, "web-root") == 0)
		cfg.web_root = strdup(v);
	else if (strcmp(name, "office") == 0)
		cfg.office_file = strdup(v);
	else if (strcmp(name, "notice-dir") == 0)
		cfg.notice_dir = strdup(v);
	else if (strcmp(name, "access-log") == 0)
		cfg.access_log = strdup(v);
	else if (strcmp(name, "passphrase-file") == 0)
		*pass_file = strdup(v);
	else if (strcmp(name, "trust-proxy") == 0) {
		unsigned char tmp[16];
		if (inet_pton(AF_INET, v, tmp) != 1 && inet_pton(AF_INET6, v, tmp) != 1)
			return bad("--trust-proxy: '%.60s' is not an IP address", v);
		snprintf(cfg.trust_proxy, sizeof cfg.trust_proxy, "%s", v);
	} else if (strcmp(name, "cookie-secure") == 0)
		cfg.cookie_secure = strcmp(v, "false") != 0 && strcmp(v, "0") != 0;
	else if (strcmp(name, "feb29") == 0) {
		if (strcmp(v, "feb28") == 0)
			cfg.feb29 = JPKI_FEB29_FEB28;
		else if (strcmp(v, "mar1") == 0)
			cfg.feb29 = JPKI_FEB29_MAR1;
		else
			return bad("--feb29: '%.20s' is not feb28 or mar1", v);
	} else
		return bad("unknown option '%.40s'", name);
	return 0;
}

struct ini_state {
	const char *file;
	const char **pass_file;
	int rc;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *st = user;
	if (strcmp(section, "jpkid") != 0) {
		fprintf(stderr, "jpkid: %s: unknown section [%s]\n", st->file, section);
		st->rc = 2;
		return 0;
	}
	if (strcmp(name, "config") == 0 || strcmp(name, "routes") == 0) {
		fprintf(stderr, "jpkid: %s: '%s' cannot be set in a config file\n",
			st->file, name);
		st->rc = 2;
		return 0;
	}
	int rc = set_opt(name, value, st->pass_file);
	if (rc) {
		fprintf(stderr, "jpkid: (in %s)\n", st->file);
		st->rc = rc;
		return 0;
	}
	return 1;
}

static int load_office(void)
{
	FILE *f = fopen(cfg.office_file, "re");
	if (f == NULL) {
		fprintf(stderr, "jpkid: --office %s: %s\n", cfg.office_file,
			strerror(errno));
		return 2;
	}
	char *text = malloc(1 << 20);
	size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (text == NULL)
		return 3;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_office_parse(text, n, &office, &eb);
	free(text);
	if (e != JPKI_OK) {
		fprintf(stderr, "jpkid: %s: %s\n", cfg.office_file, eb.msg);
		return 2;
	}
	return 0;
}

/* A wrong or missing CA passphrase must stop the start, not fail every
 * signing request later: decrypt one key (a card issuer's; all share the
 * passphrase) and wipe it at once. */
static int check_keys(struct worker *w)
{
	struct jpki_municipality *m = NULL;
	size_t n = 0;
	struct jpki_errbuf eb = {{0}};
	uint8_t pub[32];
	void *key = NULL;
	char code[7];
	jpki_err e = jpki_municipalities(w->store, &m, &n, &eb);
	if (e == JPKI_OK && n > 0 &&
	    (e = jpki_card_issuer_public(w->store, m[0].code, pub, &eb)) == JPKI_OK)
		e = jpki_card_issuer_key(w->store, cfg.keys_dir, cfg.passphrase, pub,
					 &key, code, &eb);
	free(m);
	jpki_card_issuer_key_free(key);
	if (e == JPKI_OK)
		return 0;
	fprintf(stderr, "jpkid: the CA keys in %s cannot be used: %s\n", cfg.keys_dir,
		eb.msg);
	return 2;
}

static void print_routes(void)
{
	for (size_t i = 0; i < n_routes; i++)
		printf("%s %s %s %s\n", routes[i].method, routes[i].pattern,
		       routes[i].auth ? jpki_staff_role_name(routes[i].auth) : "-",
		       routes[i].in_openapi ? "api" : "-");
}

/* The SQLite file of the store, as jpki reads it, or NULL for a server. */
static const char *store_file(void)
{
	if (strstr(cfg.store_url, "://"))
		return NULL;
	return strncmp(cfg.store_url, "sqlite:", 7) == 0 ? cfg.store_url + 7
							 : cfg.store_url;
}

static int configure(int argc, char **argv, bool *routes_only)
{
	static const struct option longs[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 0},
	    {"store", required_argument, NULL, 0},
	    {"keys", required_argument, NULL, 0},
	    {"web-root", required_argument, NULL, 0},
	    {"office", required_argument, NULL, 0},
	    {"notice-dir", required_argument, NULL, 0},
	    {"passphrase-file", required_argument, NULL, 0},
	    {"threads", required_argument, NULL, 0},
	    {"max-body", required_argument, NULL, 0},
	    {"timeout", required_argument, NULL, 0},
	    {"session-idle", required_argument, NULL, 0},
	    {"session-max", required_argument, NULL, 0},
	    {"login-limit", required_argument, NULL, 0},
	    {"login-window", required_argument, NULL, 0},
	    {"access-log", required_argument, NULL, 0},
	    {"cookie-secure", no_argument, NULL, 0},
	    {"trust-proxy", required_argument, NULL, 0},
	    {"feb29", required_argument, NULL, 0},
	    {"routes", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	snprintf(cfg.host, sizeof cfg.host, "127.0.0.1");
	cfg.port = 8080;
	cfg.threads = 4;
	cfg.max_body = 64 * 1024;
	cfg.conn_timeout = 30;
	cfg.session_idle = 900;
	cfg.session_max = 8 * 3600;
	cfg.login_limit = 5;
	cfg.login_window = 300;
	cfg.access_log = "-";
	cfg.web_root = JPKID_WEB_ROOT;
	cfg.office_file = JPKID_OFFICE;
	cfg.notice_dir = "var/notices";
	const char *pass_file = NULL, *config_file = NULL;

	/* First pass: --config and --help; the file, then argv over it. */
	opterr = 0;
	int idx, ch;
	while ((ch = getopt_long(argc, argv, "", longs, &idx)) != -1) {
		if (ch == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (ch == 'c')
			config_file = optarg;
		if (ch == 'r')
			*routes_only = true;
		if (ch == '?') {
			fprintf(stderr, "jpkid: unknown option or missing value: %s\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc)
		return bad("stray argument '%.60s'", argv[optind]);
	if (*routes_only)
		return 0;
	if (config_file) {
		struct ini_state st = {config_file, &pass_file, 0};
		int e = ini_parse(config_file, on_ini, &st);
		if (st.rc)
			return st.rc;
		if (e < 0)
			return bad("--config %s: %s", config_file, strerror(errno));
		if (e > 0) {
			fprintf(stderr, "jpkid: %s: line %d is not key = value\n",
				config_file, e);
			return 2;
		}
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longs, &idx)) != -1) {
		if (ch != 0)
			continue;
		const char *v = longs[idx].has_arg ? optarg : "true";
		int rc = set_opt(longs[idx].name, v, &pass_file);
		if (rc)
			return rc;
	}
	if (cfg.store_url == NULL) {
		const char *e = getenv("JPKI_STORE");
		cfg.store_url = e && e[0] ? e : "var/jpki.db";
	}
	if (cfg.keys_dir[0] == 0) {
		const char *e = getenv("JPKI_KEYS");
		if (e && e[0])
			snprintf(cfg.keys_dir, sizeof cfg.keys_dir, "%s", e);
		else if (store_file() == NULL)
			return bad("--keys is required with a server store");
		else
			snprintf(cfg.keys_dir, sizeof cfg.keys_dir, "%s.keys",
				 store_file());
	}
	struct jpki_errbuf peb = {{0}};
	jpki_err pe = jpki_passphrase_read(pass_file, &cfg.passphrase, &peb);
	if (pe != JPKI_OK)
		return bad("%s%s", pass_file ? "--passphrase-file " : "", peb.msg);
	const char *pinned = getenv("JPKI_NOW");
	if (pinned && pinned[0]) {
		int64_t t;
		struct jpki_errbuf eb = {{0}};
		if (jpki_instant_parse(pinned, &t, &eb) != JPKI_OK)
			return bad("JPKI_NOW: %s", eb.msg);
		cfg.clock_offset = t - (int64_t)start_real.tv_sec;
	}
	return 0;
}

static struct MHD_Daemon *start_http(void)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, cfg.host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(cfg.port);
	} else if (inet_pton(AF_INET6, cfg.host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg.port);
		flags |= MHD_USE_IPv6;
	} else {
		fprintf(stderr, "jpkid: --listen: '%s' is not an IP address\n",
			cfg.host);
		return NULL;
	}
	return MHD_start_daemon(
	    flags, cfg.port, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, cfg.threads,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg.conn_timeout,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024, MHD_OPTION_LISTEN_BACKLOG_SIZE,
	    (unsigned)1024, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
}

int main(int argc, char **argv)
{
	clock_gettime(CLOCK_REALTIME, &start_real);
	clock_gettime(CLOCK_MONOTONIC, &start_mono);
	jpki_json_wipe_on_free();
	bool routes_only = false;
	int rc = configure(argc, argv, &routes_only);
	if (rc)
		return rc;
	if (routes_only) {
		print_routes();
		return 0;
	}
	if ((rc = load_office()) != 0)
		return rc;

	/* The store must exist and hold a CA before we listen; jpkid never
	 * creates one (jpki init does). */
	if (store_file() && access(store_file(), F_OK) != 0) {
		fprintf(stderr, "jpkid: no store at %s (create it with jpki init)\n",
			store_file());
		return 2;
	}
	struct worker *w = worker_get();
	if (w == NULL) /* worker_get said why */
		return 2;
	if ((rc = check_keys(w)) != 0)
		return rc;
	if (access_log_open() != 0)
		return 2;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pki_watch_start() != 0)
		return 3;
	struct MHD_Daemon *d = start_http();
	if (d == NULL) {
		fprintf(stderr, "jpkid: cannot listen on %s:%u\n", cfg.host, cfg.port);
		pki_watch_stop();
		workers_close();
		return 3;
	}
	const union MHD_DaemonInfo *di =
	    MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = di ? di->port : cfg.port;
	fprintf(stderr,
		"jpkid: listening on http://%s%s%s:%u/ (store %s, %u threads)\n",
		strchr(cfg.host, ':') ? "[" : "", cfg.host,
		strchr(cfg.host, ':') ? "]" : "", port, cfg.store_url, cfg.threads);

	int sig = 0;
	sigwait(&set, &sig);
	fprintf(stderr, "jpkid: %s: stopping (no new connections)\n",
		sig == SIGTERM ? "SIGTERM" : "SIGINT");
	MHD_socket lfd = MHD_quiesce_daemon(d);
	if (lfd != MHD_INVALID_SOCKET)
		close(lfd);
	/* Requests in flight finish; give them 30 s. */
	for (int i = 0; i < 3000 && requests_in_flight() > 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	notice_stop();
	MHD_stop_daemon(d);
	pki_watch_stop();
	pki_free();
	sessions_free();
	workers_close();
	access_log_flush();
	access_log_close();
	jpki_office_free(office);
	jpki_passphrase_free(cfg.passphrase);
	fprintf(stderr, "jpkid: stopped\n");
	return 0;
}
