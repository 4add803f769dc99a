/* jpki staff add|list|disable: the accounts that log in to jpkid
 * (lib/staff). The password comes from stdin, never the command line. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "jpki/date.h"
#include "jpki/staff.h"
#include "jpki/store.h"
#include "banned.h"

/* The longest password jpki_staff_add accepts. */
#define PASSWORD_MAX 128

static const char staff_usage[] =
    "usage: jpki [--store URL] staff add --user U --role counter|supervisor|admin "
    "< password\n"
    "       jpki [--store URL] staff list [--json]\n"
    "       jpki [--store URL] staff disable --user U\n"
    "\n"
    "The staff accounts that log in to jpkid.\n"
    "  add      a new account; the password is the first line of stdin,\n"
    "           10 to 128 bytes of UTF-8 without control characters. A user\n"
    "           name is 1 to 32 of a-z, 0-9, '.', '_', '-', starting with a\n"
    "           letter. An existing name is refused (exit 1).\n"
    "  list     every account: user, role, active or disabled, last login\n"
    "           (ISO 8601, or - for never), separated by tabs.\n"
    "  disable  the account can no longer log in; it stays in the list.\n"
    "           Disabling a disabled account changes nothing.\n"
    "\n"
    "  --json   (list) {\"staff\":[{\"user\",\"role\",\"disabled\",\"created_at\",\n"
    "           \"last_login\"}]}, times ISO 8601 (+09:00), last_login null for\n"
    "           never\n";

/* An instant for people: ISO 8601 JST, or "-" for 0 (never). */
static const char *when(int64_t t, char buf[static JPKI_INSTANT_BUFSZ])
{
	if (t == 0 || jpki_instant_format(t, buf) != JPKI_OK)
		return "-";
	return buf;
}

static json_t *json_when(int64_t t)
{
	char buf[JPKI_INSTANT_BUFSZ];
	const char *s = when(t, buf);
	return strcmp(s, "-") == 0 ? json_null() : json_string(s);
}

static int staff_add(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *user = NULL, *role_s = NULL;
	struct opt opts[] = {
	    {"user", OPT_STRING, &user, true, false},
	    {"role", OPT_STRING, &role_s, true, false},
	};
	size_t npos;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0)
		return rc;
	enum jpki_staff_role role;
	if (jpki_staff_role_parse(role_s, &role) != JPKI_OK)
		return fail(c, EXIT_USAGE,
			    "--role must be counter, supervisor or admin");
	int64_t now;
	if ((rc = cli_now(c, &now)) >= 0)
		return rc;
	struct jpki_store *s = NULL;
	char keys[4096];
	if ((rc = cli_open_store(c, false, &s, keys, sizeof keys)) >= 0)
		return rc;

	char pw[PASSWORD_MAX + 1];
	int too_long;
	/* On a terminal the password is typed without echo. */
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		fputs("password (one line, not shown): ", stderr);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ssize_t len = cli_read_line(pw, sizeof pw, &too_long);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	struct jpki_errbuf eb = {{0}};
	if (len < 0) {
		rc = fail(c, EXIT_INTERNAL, "cannot read the password from stdin");
	} else if (too_long) {
		rc = fail(c, EXIT_USAGE, "the password is longer than %d bytes",
			  PASSWORD_MAX);
	} else {
		jpki_err e =
		    jpki_staff_add(s, user, role, pw, (size_t)len, "jpki", now, &eb);
		rc = e != JPKI_OK ? fail(c, exit_for(e), "%s", eb.msg) : EXIT_OK;
	}
	OPENSSL_cleanse(pw, sizeof pw);
	jpki_store_close(s);
	if (rc == EXIT_OK)
		printf("added user %s (%s)\n", user, jpki_staff_role_name(role));
	return rc;
}

static int staff_list(const struct cmd_ctx *c, int argc, char **argv)
{
	struct opt opts[] = {{"json", OPT_FLAG, (bool *)c->json, false, false}};
	size_t npos;
	int rc = args_parse(c, argc, argv, opts, 1, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	struct jpki_store *s = NULL;
	char keys[4096];
	if ((rc = cli_open_store(c, false, &s, keys, sizeof keys)) >= 0)
		return rc;
	struct jpki_staff *v = NULL;
	size_t n = 0;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_staff_list(s, &v, &n, &eb);
	jpki_store_close(s);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	if (*c->json) {
		json_t *arr = json_array();
		for (size_t i = 0; arr != NULL && i < n; i++) {
			json_t *o = json_pack(
			    "{s:s,s:s,s:b,s:o,s:o}", "user", v[i].user, "role",
			    jpki_staff_role_name(v[i].role), "disabled", v[i].disabled,
			    "created_at", json_when(v[i].created_at), "last_login",
			    json_when(v[i].last_login));
			if (o == NULL || json_array_append_new(arr, o) != 0) {
				json_decref(arr);
				arr = NULL;
			}
		}
		free(v);
		return print_json(c, arr ? json_pack("{s:o}", "staff", arr) : NULL);
	}
	for (size_t i = 0; i < n; i++) {
		char buf[JPKI_INSTANT_BUFSZ];
		printf("%s\t%s\t%s\t%s\n", v[i].user, jpki_staff_role_name(v[i].role),
		       v[i].disabled ? "disabled" : "active",
		       when(v[i].last_login, buf));
	}
	free(v);
	return EXIT_OK;
}

static int staff_disable(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *user = NULL;
	struct opt opts[] = {{"user", OPT_STRING, &user, true, false}};
	size_t npos;
	int rc = args_parse(c, argc, argv, opts, 1, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	int64_t now;
	if ((rc = cli_now(c, &now)) >= 0)
		return rc;
	struct jpki_store *s = NULL;
	char keys[4096];
	if ((rc = cli_open_store(c, false, &s, keys, sizeof keys)) >= 0)
		return rc;
	struct jpki_staff before;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_staff_get(s, user, &before, &eb);
	if (e == JPKI_OK)
		e = jpki_staff_disable(s, user, "jpki", now, &eb);
	jpki_store_close(s);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	if (before.disabled)
		printf("user %s was already disabled\n", user);
	else
		printf("disabled user %s\n", user);
	return EXIT_OK;
}

int cmd_staff(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"add", staff_add}, {"list", staff_list}, {"disable", staff_disable}};
	return cli_dispatch("staff", staff_usage, false, subs,
			    sizeof subs / sizeof subs[0], argc, argv);
}
