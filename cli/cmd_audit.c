/* jpki audit verify: check the audit log's hash chain. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jpki/store.h"
#include "banned.h"

static const char audit_usage[] =
    "usage: jpki [--store URL] audit verify [--json]\n"
    "\n"
    "Checks the whole audit log: sequence numbers without gaps, each row's\n"
    "prev_hash equal to the previous row's hash, and each hash recomputed from\n"
    "the row. Exit 0 when intact; exit 1 naming the first bad row.\n"
    "\n"
    "  --json   {\"ok\":true,\"rows\":12,\"bad_seq\":null}\n";

int cmd_audit(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {.name = "audit", .usage = audit_usage, .json = &json};
	struct opt opts[] = {{"json", OPT_FLAG, &json, false, false}};
	const char *pos[1];
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, 1, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos != 1 || strcmp(pos[0], "verify") != 0)
		return fail(&c, EXIT_USAGE, "the command is 'verify' (see --help)");
	struct jpki_store *s;
	char keys[4096];
	if ((rc = cli_open_store(&c, false, &s, keys, sizeof keys)) >= 0)
		return rc;
	struct jpki_audit_report r = {0};
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_audit_verify(s, &r, &eb);
	jpki_store_close(s);
	if (e != JPKI_OK && e != JPKI_ERR_REFUSED)
		return fail(&c, exit_for(e), "%s", eb.msg);
	if (json) {
		json_t *doc = json_pack("{s:b,s:I,s:o}", "ok", e == JPKI_OK, "rows",
					(json_int_t)r.rows, "bad_seq",
					e == JPKI_OK ? json_null()
						     : json_integer(r.bad_seq));
		rc = print_json(&c, doc);
		if (rc == EXIT_OK && e != JPKI_OK)
			return say(&c, EXIT_REFUSED, "%s", eb.msg);
		return rc;
	}
	if (e != JPKI_OK)
		return fail(&c, EXIT_REFUSED, "%s", eb.msg);
	printf("audit log intact: %lld row%s\n", (long long)r.rows, r.rows == 1 ? "" : "s");
	return EXIT_OK;
}
