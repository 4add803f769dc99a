/* Output helpers, the clock, and file reading for the jpki command. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jpki/store.h"
#include "banned.h"

int print_json(const struct cmd_ctx *c, json_t *doc)
{
	if (doc == NULL)
		return fail(c, EXIT_INTERNAL, "could not build the JSON output");
	char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (s == NULL)
		return fail(c, EXIT_INTERNAL, "could not encode the JSON output");
	puts(s);
	free(s);
	return EXIT_OK;
}

json_t *json_date(jpki_day d)
{
	char buf[JPKI_DATE_BUFSZ];
	if (d == JPKI_DAY_NONE)
		return json_null();
	return json_string(jpki_date_format(d, buf));
}

int cli_now(const struct cmd_ctx *c, int64_t *out)
{
	struct jpki_errbuf eb = {{0}};
	const char *pinned = getenv("JPKI_NOW");
	if (pinned != NULL && pinned[0] != '\0') {
		if (jpki_instant_parse(pinned, out, &eb) != JPKI_OK)
			return fail(c, EXIT_USAGE, "JPKI_NOW: %s", eb.msg);
		return -1;
	}
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return fail(c, EXIT_INTERNAL, "cannot read the clock: %s",
			    strerror(errno));
	*out = (int64_t)ts.tv_sec;
	return -1;
}

int read_file(const struct cmd_ctx *c, const char *path, size_t max, char **buf,
	      size_t *len)
{
	int rc = EXIT_INTERNAL;
	char *b = NULL;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(c, errno == ENOENT ? EXIT_USAGE : EXIT_INTERNAL, "%s: %s",
			    path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = fail(c, EXIT_USAGE, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = fail(c, EXIT_USAGE, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = fail(c, EXIT_INTERNAL, "out of memory");
		goto out;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = fail(c, EXIT_INTERNAL, "%s: read failed", path);
			goto out;
		}
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = -1;
out:
	free(b);
	close(fd);
	return rc;
}

/* The directory part of path into buf: "." for a bare name, "/" for a
 * file at the root. NULL if path does not fit. */
static const char *dir_of(const char *path, char *buf, size_t n)
{
	if (snprintf(buf, n, "%s", path) >= (int)n)
		return NULL;
	char *slash = strrchr(buf, '/');
	if (slash == NULL)
		return ".";
	if (slash == buf)
		return "/";
	*slash = '\0';
	return buf;
}

static const char *store_url(void)
{
	const char *url = cli_globals.store;
	if (url == NULL && (url = getenv("JPKI_STORE")) != NULL && url[0] == '\0')
		url = NULL;
	return url;
}

const char *cli_store_file(void)
{
	const char *url = store_url();
	if (url == NULL)
		return JPKI_STORE_DEFAULT;
	if (strstr(url, "://") != NULL)
		return NULL;
	return strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
}

int cli_open_store(const struct cmd_ctx *c, bool create, struct jpki_store **s,
		   char *keys_dir, size_t keys_len)
{
	struct jpki_errbuf eb = {{0}};
	const char *url = store_url();
	bool deflt = url == NULL;
	if (deflt)
		url = JPKI_STORE_DEFAULT;
	const char *path = cli_store_file();
	bool server = path == NULL;
	if (!server) {
		char buf[4096];
		const char *dir = dir_of(path, buf, sizeof buf);
		if (!create && access(path, F_OK) != 0)
			return fail(c, EXIT_USAGE,
				    "no store at %s (run jpki init, or "
				    "give --store)",
				    path);
		if (create && deflt && mkdir("./var", 0700) != 0 && errno != EEXIST)
			return fail(c, EXIT_INTERNAL, "./var: %s", strerror(errno));
		if (dir == NULL || access(dir, F_OK) != 0)
			return fail(c, EXIT_USAGE,
				    "%s: no such directory for the store",
				    dir ? dir : path);
	}
	const char *keys = cli_globals.keys;
	if (keys == NULL && (keys = getenv("JPKI_KEYS")) != NULL && keys[0] == '\0')
		keys = NULL;
	int w;
	if (keys != NULL)
		w = snprintf(keys_dir, keys_len, "%s", keys);
	else if (!server)
		w = snprintf(keys_dir, keys_len, "%s.keys", path);
	else if (strncmp(url, "postgresql://", 13) == 0 ||
		 strncmp(url, "postgres://", 11) == 0)
		/* A server has no file to put the keys beside. */
		return fail(c, EXIT_USAGE,
			    "a PostgreSQL store needs --keys DIR (or JPKI_KEYS)");
	else /* another scheme: the store says why it cannot open it */
		w = snprintf(keys_dir, keys_len, "%s", "");
	if (w < 0 || (size_t)w >= keys_len)
		return fail(c, EXIT_USAGE, "the keys directory path is too long");
	jpki_err e = jpki_store_open(url, s, &eb);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	return -1;
}

int cli_write_out(const struct cmd_ctx *c, const char *path, const void *data,
		  size_t n, bool binary)
{
	if (path == NULL) {
		if (binary && isatty(STDOUT_FILENO))
			return fail(c, EXIT_USAGE, "refusing to write DER to a terminal "
				    "(use --out FILE or a pipe)");
		if (fwrite(data, 1, n, stdout) != n || fflush(stdout) != 0)
			return fail(c, EXIT_INTERNAL, "cannot write to stdout");
		return -1;
	}
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof tmp)
		return fail(c, EXIT_USAGE, "%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(c, EXIT_INTERNAL, "%s: %s", path, strerror(errno));
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, (const char *)data + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	bool ok = off == n && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return fail(c, EXIT_INTERNAL, "%s: cannot write", path);
	}
	return -1;
}

int cli_check_out(const struct cmd_ctx *c, const char *path)
{
	if (path == NULL) {
		if (isatty(STDOUT_FILENO))
			return fail(c, EXIT_USAGE, "refusing to write DER to a terminal "
				    "(use --out FILE or a pipe)");
		return -1;
	}
	char buf[4096];
	const char *d = dir_of(path, buf, sizeof buf);
	if (d == NULL)
		return fail(c, EXIT_USAGE, "%s: path too long", path);
	if (access(d, W_OK) != 0)
		return fail(c, EXIT_USAGE, "--out %s: %s is not a writable directory", path,
			    d);
	return -1;
}
