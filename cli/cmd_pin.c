/* jpki pin-check: the PIN is the first line of stdin, never an argument. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jpki/pin.h"
#include "banned.h"

static const char pin_usage[] =
    "usage: jpki pin-check --kind sign|auth|juki|text [--json] < pin\n"
    "\n"
    "Checks the format of the PIN on the first line of stdin (never pass a PIN\n"
    "on the command line). sign: 6-16 of A-Z and 0-9 with at least one of each,\n"
    "upper-cased first (abc123 is ABC123); auth, juki, text: exactly 4 digits.\n"
    "Exit 0 when valid; exit 1 with the reason on stderr otherwise. The PIN is\n"
    "never printed, nor is any stray argument (it may be a PIN).\n"
    "\n"
    "  --json   {\"valid\":false,\"reason\":\"too_short\",\"message\":\"...\",\n"
    "            \"message_ja\":\"...\"} on stdout (exit status and stderr as above)\n";

/* Longest line we look at; anything longer is reported as too long. */
#define PIN_LINE_MAX 64

int cmd_pin_check(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {.name = "pin-check",
				  .usage = pin_usage,
				  .json = &json,
				  .secret_args = true};
	const char *kind = NULL;
	struct opt opts[] = {
	    {"kind", OPT_STRING, &kind, true, false},
	    {"json", OPT_FLAG, &json, false, false},
	};
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, 2, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	static const char *const kinds[] = {"sign", "auth", "juki", "text"};
	int k = -1;
	for (int i = 0; i < 4; i++)
		if (strcmp(kind, kinds[i]) == 0)
			k = i;
	if (k < 0)
		return fail(&c, EXIT_USAGE, "--kind: not sign, auth, juki or text "
			    "(value not shown: it may be a secret)");

	char line[PIN_LINE_MAX + 1] = {0};
	char norm[JPKI_PIN_MAX_LEN + 1];
	int too_long;
	ssize_t len = cli_read_line(line, PIN_LINE_MAX, &too_long);
	if (len < 0) {
		explicit_bzero(line, sizeof line);
		return fail(&c, EXIT_INTERNAL, "cannot read stdin");
	}
	enum jpki_pin_problem p;
	if (too_long)
		p = JPKI_PIN_TOO_LONG;
	else
		p = jpki_pin_check((enum jpki_pin_kind)k, line, (size_t)len, norm);
	explicit_bzero(line, sizeof line);
	explicit_bzero(norm, sizeof norm);

	rc = p == JPKI_PIN_OK ? EXIT_OK : EXIT_REFUSED;
	if (json) {
		json_t *o =
		    json_pack("{s:b,s:o,s:s,s:s}", "valid", p == JPKI_PIN_OK, "reason",
			      p == JPKI_PIN_OK ? json_null()
					       : json_string(jpki_pin_problem_token(p)),
			      "message", jpki_pin_problem_en(k, p), "message_ja",
			      jpki_pin_problem_ja(k, p));
		int jr = print_json(&c, o);
		if (jr != EXIT_OK)
			return jr;
	}
	if (p != JPKI_PIN_OK)
		return say(&c, rc, "invalid PIN: %s (%s)", jpki_pin_problem_en(k, p),
			   jpki_pin_problem_ja(k, p));
	return rc;
}
