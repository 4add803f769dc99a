/* Secrets for the jpki command: PINs, PIN files and the CA passphrase.
 * They are read with read(2) or into buffers that are wiped after use, and
 * never appear on the command line or in a message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "jpki/card.h"
#include "jpki/pki.h"
#include "jpki/registry.h"
#include "banned.h"

/* Reads the first line of fd 0 into buf with read(2), so no copy stays in a
 * stdio buffer. Returns the length, or -1 on a read error. */
ssize_t cli_read_line(char *buf, size_t cap, int *too_long)
{
	size_t n = 0;
	*too_long = 0;
	for (;;) {
		char ch;
		ssize_t r = read(STDIN_FILENO, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0 || ch == '\n')
			break;
		if (n < cap)
			buf[n++] = ch;
		else
			*too_long = 1;
		ch = 0;
	}
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return (ssize_t)n;
}

/* Reads the passphrase: --passphrase-file (first line) or the environment.
 * *out is malloc'd (wipe with cli_free_secret) or NULL when none is given. */
int cli_read_passphrase(const struct cmd_ctx *c, const char *file, char **out)
{
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_passphrase_read(file, out, &eb);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s%s", file ? "--passphrase-file " : "",
			    eb.msg);
	return -1;
}

void cli_free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

int cli_read_pins(const struct cmd_ctx *c, const char *file, struct cli_pins *out)
{
	char *buf = NULL;
	size_t len;
	json_error_t jerr;
	int rc;
	*out = (struct cli_pins){0};
	if ((rc = read_file(c, file, 4096, &buf, &len)) >= 0)
		return rc;
	jpki_json_wipe_on_free();
	json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (doc == NULL || !json_is_object(doc)) {
		json_decref(doc);
		/* jerr.text may quote the file: say only where. */
		return fail(c, EXIT_USAGE, "%s: not a JSON object of PINs (line %d)",
			    file, doc ? 1 : jerr.line);
	}
	const char *key;
	json_t *v;
	rc = -1;
	json_object_foreach(doc, key, v)
	{
		int k = jpki_pin_kind_parse(key);
		if (k < 0) {
			rc = fail(c, EXIT_USAGE,
				  "%s: unknown field '%.16s' (sign, auth, juki, text)",
				  file, key);
			break;
		}
		if (!json_is_string(v)) {
			rc = fail(c, EXIT_USAGE, "%s: %s: the PIN must be a string",
				  file, key);
			break;
		}
		enum jpki_pin_problem p = jpki_pin_check(
		    k, json_string_value(v), json_string_length(v), out->pin[k]);
		if (p != JPKI_PIN_OK) {
			rc = fail(c, EXIT_USAGE, "%s: %s: %s", file, key,
				  jpki_pin_problem_en(k, p));
			break;
		}
		out->has[k] = true;
	}
	json_decref(doc);
	if (rc >= 0)
		cli_pins_wipe(out);
	return rc;
}

void cli_pins_wipe(struct cli_pins *p)
{
	OPENSSL_cleanse(p, sizeof *p);
}
