/* Shared pieces of the jpki command: option parsing, output, exit codes. */
#ifndef JPKI_CLI_H
#define JPKI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jpki/date.h"
#include "jpki/err.h"
#include "jpki/pin.h"

/* Exit codes (DESIGN.md "Errors"). */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1, /* a rule says no */
	EXIT_USAGE = 2,	  /* bad usage or bad input */
	EXIT_INTERNAL = 3 /* internal or I/O failure */
};

enum opt_kind {
	OPT_FLAG,   /* bool *dest */
	OPT_STRING, /* const char **dest */
	OPT_DATE,   /* jpki_day *dest; strict YYYY-MM-DD */
};

struct opt {
	const char *name; /* without the leading "--" */
	enum opt_kind kind;
	void *dest;
	bool required;
	bool seen;
};

struct cmd_ctx {
	const char *name;  /* "cert-expiry" */
	const char *usage; /* full --help text */
	const bool *json;  /* the command's --json flag, or NULL */
	bool secret_args;  /* never echo an argument in an error (pin-check) */
};

/* Parses argv[1..argc-1] as "--name value", "--name=value" and flags, plus
 * up to maxpos positional arguments. Every command gets --help. Returns
 * -1 to go on, or an exit code: EXIT_OK after printing help, EXIT_USAGE
 * after printing one line for an unknown flag, a missing or repeated
 * value, a bad date, a missing required option or a stray argument. */
int args_parse(const struct cmd_ctx *c, int argc, char **argv, struct opt *opts,
	       size_t nopts, const char **pos, size_t maxpos, size_t *npos);

/* A command with subcommands (jpki card, resident, cert, demo): runs the
 * one argv[1] names, as "GROUP SUB", with a --json flag and secret_args as
 * given. No subcommand prints the usage on stderr (exit 2); --help on
 * stdout. */
struct cli_sub {
	const char *name;
	int (*fn)(const struct cmd_ctx *, int, char **);
};
int cli_dispatch(const char *group, const char *usage, bool secret_args,
		 const struct cli_sub *subs, size_t n, int argc, char **argv);

/* "jpki NAME: message" on stderr; returns code. When the command runs with
 * --json and a rule refused (EXIT_REFUSED), stdout also gets one document
 * {"error":"refused","message":"..."} so a machine reader always gets JSON. */
int fail(const struct cmd_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The stderr line only: for refusals whose --json result the command has
 * already printed (pin-check, reservable). Returns code. */
int say(const struct cmd_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The one line for a failed library operation with a struct jpki_reg_msg
 * (registry, notices): "English / 日本語", or the English alone for a store
 * failure (its text is the database's). Returns code. */
struct jpki_reg_msg;
int fail_msg_line(const struct cmd_ctx *c, int code, jpki_err e,
		  const struct jpki_reg_msg *m);

/* Exit code for a core error: REFUSED/NOTFOUND -> 1, INVALID/RANGE -> 2,
 * others -> 3. */
int exit_for(jpki_err e);

/* Prints one JSON document and a newline to stdout, then releases it.
 * Returns EXIT_OK, or EXIT_INTERNAL when it could not be built. */
int print_json(const struct cmd_ctx *c, json_t *doc);

/* A JSON string for a date, or JSON null for JPKI_DAY_NONE. */
json_t *json_date(jpki_day d);

/* The current instant: JPKI_NOW (ISO 8601 with offset) if set, else the
 * system clock. The only place the jpki command reads the clock. */
int cli_now(const struct cmd_ctx *c, int64_t *out);

/* Reads a whole file (at most max bytes). Returns 0, or an exit code after
 * printing why. The caller frees *buf. */
int read_file(const struct cmd_ctx *c, const char *path, size_t max, char **buf,
	      size_t *len);

/* Options given before the command: jpki [--store URL] [--keys DIR] CMD. */
struct cli_globals {
	const char *store; /* --store, else $JPKI_STORE, else ./var/jpki.db */
	const char *keys;  /* --keys, else $JPKI_KEYS, else <store>.keys */
};
extern struct cli_globals cli_globals;

struct jpki_store;

/* Opens the store named by the globals. With create, a missing SQLite file
 * (and a missing ./var for the default) is created; without, a missing file
 * is an error ("no store at ..."). keys_dir receives the keys directory.
 * Returns -1 on success or an exit code after printing why. */
int cli_open_store(const struct cmd_ctx *c, bool create, struct jpki_store **s,
		   char *keys_dir, size_t keys_len);

/* The SQLite file the globals name, or NULL for a server store. Static. */
const char *cli_store_file(void);

/* Writes n bytes to path atomically (temp file, fsync, rename), or to
 * stdout when path is NULL (refusing a terminal for binary data). Returns
 * -1 on success or an exit code after printing why. */
int cli_write_out(const struct cmd_ctx *c, const char *path, const void *data,
		  size_t n, bool binary);

/* Checks, before any work, that cli_write_out(path, binary) can succeed:
 * stdout is not a terminal, or path's directory exists and is writable. */
int cli_check_out(const struct cmd_ctx *c, const char *path);

/* ---- secrets (cli/secret.c) ---- */

/* Reads the first line of fd 0 into buf (at most cap bytes, no NUL added)
 * with read(2), so no copy stays in a stdio buffer; a trailing CR is
 * dropped. Returns the length, or -1 on a read error; *too_long is set
 * when the line had more than cap bytes. */
ssize_t cli_read_line(char *buf, size_t cap, int *too_long);

/* The CA passphrase: --passphrase-file (first line) or JPKI_CA_PASSPHRASE.
 * *out is malloc'd (wipe with cli_free_secret) or NULL when none is given.
 * Returns -1 or an exit code after printing why. */
int cli_read_passphrase(const struct cmd_ctx *c, const char *file, char **out);
void cli_free_secret(char *s);

/* A PIN file: {"sign":"ABC123","auth":"1234","juki":"1234","text":"1234"}.
 * Every field given must pass jpki_pin_check (the signing PIN is
 * upper-cased); unknown fields are refused. pin[k] is the normalized PIN,
 * has[k] whether it was given. Returns -1 or EXIT_USAGE after printing the
 * reason (never the PIN). Wipe with cli_pins_wipe. */
struct cli_pins {
	char pin[4][JPKI_PIN_MAX_LEN + 1];
	bool has[4];
};
int cli_read_pins(const struct cmd_ctx *c, const char *file, struct cli_pins *out);
void cli_pins_wipe(struct cli_pins *p);

/* One entry per command (cli/cmd_*.c). */
int cmd_holidays(int argc, char **argv);
int cmd_age(int argc, char **argv);
int cmd_wareki(int argc, char **argv);
int cmd_cert_expiry(int argc, char **argv);
int cmd_card_expiry(int argc, char **argv);
int cmd_renewal_window(int argc, char **argv);
int cmd_pin_check(int argc, char **argv);
int cmd_office(int argc, char **argv);
int cmd_reservable(int argc, char **argv);
int cmd_bring(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_card(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_resident(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_reconcile(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_staff(int argc, char **argv);
int cmd_notice(int argc, char **argv);

/* jpki ca init and jpki init (cli/cmd_ca.c); default_muni "CODE:NAME" is
 * used when no --municipality is given (NULL: one is required). */
int cli_ca_init(const struct cmd_ctx *c, int argc, char **argv, const char *default_muni);

/* jpki card issue|return|lost (cli/cmd_registry.c) */
int cli_card_issue(const struct cmd_ctx *c, int argc, char **argv);
int cli_card_return(const struct cmd_ctx *c, int argc, char **argv);
int cli_card_lost(const struct cmd_ctx *c, int argc, char **argv);
int cli_registry_reset_pin(const struct cmd_ctx *c, const char *card_f,
			   enum jpki_pin_kind k, const char *pin, const char *pass_file);

#endif
