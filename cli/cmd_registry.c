/* jpki init, resident, card issue|return|lost, cert, reconcile: the
 * registry commands (lib/registry). Each operation is one call into
 * jpki/registry.h; this file parses, opens the store and prints. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "jpki/card.h"
#include "jpki/pki.h"
#include "jpki/registry.h"
#include "jpki/store.h"
#include "banned.h"

/* Tokyo, Toshima (seed 002's municipality): the default of jpki init. */
#define DEFAULT_MUNICIPALITY "131164:東京都豊島区"

/* ---- the store and the context of an operation ---- */

struct reg {
	struct jpki_store *store;
	char keys[4096];
	char *pass;
	struct jpki_reg_ctx ctx;
};

static void reg_close(struct reg *r)
{
	if (r->store) {
		jpki_store_rollback(r->store);
		jpki_store_close(r->store);
	}
	cli_free_secret(r->pass);
	memset(r, 0, sizeof *r);
}

/* Opens the store; with_pass also reads the key passphrase (operations
 * that sign or authenticate to a card). */
static int reg_open(const struct cmd_ctx *c, struct reg *r, bool with_pass,
		    const char *pass_file)
{
	int rc;
	memset(r, 0, sizeof *r);
	r->ctx.feb29 = JPKI_FEB29_FEB28;
	r->ctx.actor = "jpki";
	if ((rc = cli_now(c, &r->ctx.now)) >= 0)
		return rc;
	if (with_pass && (rc = cli_read_passphrase(c, pass_file, &r->pass)) >= 0)
		return rc;
	if ((rc = cli_open_store(c, false, &r->store, r->keys, sizeof r->keys)) >= 0)
		return rc;
	r->ctx.store = r->store;
	r->ctx.keys_dir = r->keys;
	r->ctx.passphrase = r->pass;
	return -1;
}

/* The exit code and the one line for a failed operation. An unknown
 * resident or serial is bad input (2); a rule that says no is 1. */
static int reg_fail(const struct cmd_ctx *c, jpki_err e, const struct jpki_reg_msg *m)
{
	int code = exit_for(e);
	if (strcmp(m->code, "no_resident") == 0 || strcmp(m->code, "no_cert") == 0 ||
	    strcmp(m->code, "card_file_exists") == 0 ||
	    strcmp(m->code, "no_intent") == 0)
		code = EXIT_USAGE;
	return fail_msg_line(c, code, e, m);
}

static int parse_id(const struct cmd_ctx *c, const char *s, int64_t *id)
{
	char *end = NULL;
	errno = 0;
	long long v = s ? strtoll(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || errno != 0 || v <= 0)
		return fail(c, EXIT_USAGE, "'%.30s' is not a resident id", s ? s : "");
	*id = (int64_t)v;
	return -1;
}

static json_t *revoked_json(const struct jpki_reg_result *r)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < r->n_revoked; i++)
		json_array_append_new(
		    a,
		    json_pack("{s:s,s:s,s:s}", "serial", r->revoked[i].serial, "kind",
			      r->revoked[i].kind == JPKI_CERT_SIGN ? "sign" : "auth",
			      "reason",
			      jpki_revocation_reason_name(r->revoked[i].reason)));
	return a;
}

static void print_revoked(const struct jpki_reg_result *r)
{
	for (size_t i = 0; i < r->n_revoked; i++)
		printf("revoked %s certificate %s (%s)\n",
		       r->revoked[i].kind == JPKI_CERT_SIGN ? "sign" : "auth",
		       r->revoked[i].serial,
		       jpki_revocation_reason_name(r->revoked[i].reason));
	if (r->n_revoked == 0)
		puts("no certificate revoked");
}

static json_t *cert_json(const struct jpki_reg_cert *x)
{
	return json_pack("{s:s,s:s,s:o,s:o,s:s,s:o}", "serial", x->serial, "kind",
			 x->kind == JPKI_CERT_SIGN ? "sign" : "auth", "issued",
			 json_date(x->issued), "expires", json_date(x->expires),
			 "status", jpki_cert_status_name(x->status), "reason",
			 x->reason >= 0
			     ? json_string(jpki_revocation_reason_name(x->reason))
			     : json_null());
}

/* ---- init ---- */

static const char init_usage[] =
    "usage: jpki [--store URL] init [--municipality CODE:NAME]...\n"
    "                               [--insecure-no-passphrase | --passphrase-file F]\n"
    "                               [--base-url URL] [--key-bits N] [--crl-hours N]\n"
    "                               [--ocsp-days N] [--history-from D] [--json]\n"
    "\n"
    "Creates the store and its certification authorities (as jpki ca init),\n"
    "with " DEFAULT_MUNICIPALITY " when no municipality is given.\n"
    "The key passphrase comes from JPKI_CA_PASSPHRASE or --passphrase-file.\n"
    "--history-from D dates the CA certificates from D, so that a\n"
    "population with a history can be seeded (jpki demo seed).\n";

int cmd_init(int argc, char **argv)
{
	bool json = false;
	struct cmd_ctx c = {.name = "init", .usage = init_usage, .json = &json};
	return cli_ca_init(&c, argc, argv, DEFAULT_MUNICIPALITY);
}

/* ---- resident ---- */

static const char resident_usage[] =
    "usage: jpki resident add --name N --kana K --birth D --sex 1|2|3 --address A\n"
    "                         --municipality CODE [--postal-code NNN-NNNN]\n"
    "                         [--stay-expires D] [--nationality CC] [--adult-ward] "
    "[--json]\n"
    "       jpki resident show ID [--json]\n"
    "       jpki resident list [--expiring YYYY-MM] [--json]\n"
    "       jpki resident move ID --address A [--municipality CODE] [--postal-code P] "
    "[--json]\n"
    "       jpki resident rename ID --name N --kana K [--json]\n"
    "       jpki resident correct ID [--birth D] [--sex 1|2|3] [--json]\n"
    "       jpki resident decease ID --on D [--json]\n"
    "       jpki resident remove ID --on D [--json]\n"
    "\n"
    "add prints the new resident's id alone. move, rename and correct revoke\n"
    "the signing certificate (affiliationChanged); decease and remove revoke\n"
    "both certificates (cessationOfOperation) and abolish the card.\n"
    "Names and kana are UTF-8; kana is full-width katakana.\n";

static int resident_add(const struct cmd_ctx *c, int argc, char **argv)
{
	struct jpki_resident in = {.birth = JPKI_DAY_NONE,
				   .stay_expires = JPKI_DAY_NONE};
	const char *sex = NULL, *muni = NULL;
	struct opt opts[] = {
	    {"name", OPT_STRING, &in.name, true, false},
	    {"kana", OPT_STRING, &in.kana, true, false},
	    {"birth", OPT_DATE, &in.birth, true, false},
	    {"sex", OPT_STRING, &sex, true, false},
	    {"address", OPT_STRING, &in.address, true, false},
	    {"municipality", OPT_STRING, &muni, true, false},
	    {"postal-code", OPT_STRING, &in.postal_code, false, false},
	    {"stay-expires", OPT_DATE, &in.stay_expires, false, false},
	    {"nationality", OPT_STRING, &in.nationality, false, false},
	    {"adult-ward", OPT_FLAG, &in.adult_ward, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0)
		return rc;
	if (strlen(sex) != 1 || sex[0] < '1' || sex[0] > '3')
		return fail(c, EXIT_USAGE,
			    "--sex must be 1 (male), 2 (female) or 3 (unknown)");
	in.sex = sex[0] - '0';
	snprintf(in.municipality, sizeof in.municipality, "%.6s", muni);
	if (strlen(muni) != 6)
		return fail(c, EXIT_USAGE, "--municipality: a 6-digit code");
	struct reg r;
	struct jpki_reg_msg m = {0};
	int64_t id = 0;
	if ((rc = reg_open(c, &r, false, NULL)) >= 0) {
		reg_close(&r);
		return rc;
	}
	jpki_err e = jpki_reg_resident_add(&r.ctx, &in, &id, &m);
	reg_close(&r);
	if (e != JPKI_OK)
		return reg_fail(c, e, &m);
	if (*c->json)
		return print_json(c, json_pack("{s:I}", "id", (json_int_t)id));
	printf("%" PRId64 "\n", id);
	return EXIT_OK;
}

static json_t *resident_json(const struct jpki_resident *p)
{
	return json_pack("{s:I,s:s,s:s,s:i,s:o,s:s,s:s?,s:s,s:s?,s:o,s:b,s:s,s:o}",
			 "id", (json_int_t)p->id, "name", p->name, "kana", p->kana,
			 "sex", p->sex, "birth", json_date(p->birth), "address",
			 p->address, "postal_code", p->postal_code, "municipality",
			 p->municipality, "nationality", p->nationality, "stay_expires",
			 json_date(p->stay_expires), "adult_ward", p->adult_ward,
			 "status", jpki_resident_status_name(p->status), "status_on",
			 json_date(p->status_on));
}

static int resident_show(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	int64_t id = 0;
	struct opt opts[] = {{"json", OPT_FLAG, (bool *)c->json, false, false}};
	int rc = args_parse(c, argc, argv, opts, 1, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos != 1)
		return fail(c, EXIT_USAGE, "which resident? give an id");
	if ((rc = parse_id(c, pos[0], &id)) >= 0)
		return rc;
	struct reg r;
	struct jpki_reg_msg m = {0};
	struct jpki_resident p = {0};
	struct jpki_reg_card *cards = NULL;
	struct jpki_reg_cert *certs = NULL;
	size_t ncards = 0, ncerts = 0;
	jpki_err e = JPKI_OK;
	if ((rc = reg_open(c, &r, false, NULL)) >= 0)
		goto out;
	if ((e = jpki_reg_resident_get(&r.ctx, id, &p, &m)) ||
	    (e = jpki_reg_cards(&r.ctx, id, &cards, &ncards, &m)) ||
	    (e = jpki_reg_certs(&r.ctx, id, &certs, &ncerts, &m))) {
		rc = reg_fail(c, e, &m);
		goto out;
	}
	char d1[JPKI_DATE_BUFSZ], d2[JPKI_DATE_BUFSZ];
	if (*c->json) {
		json_t *doc = resident_json(&p), *jc = json_array(), *jx = json_array();
		for (size_t i = 0; i < ncards; i++)
			json_array_append_new(
			    jc,
			    json_pack("{s:s,s:o,s:o,s:s,s:o,s:s?}", "serial",
				      cards[i].serial, "issued",
				      json_date(cards[i].issued), "expires",
				      json_date(cards[i].expires), "state",
				      jpki_card_state_name(cards[i].state), "state_on",
				      json_date(cards[i].state_on), "file",
				      cards[i].image[0] ? cards[i].image : NULL));
		for (size_t i = 0; i < ncerts; i++)
			json_array_append_new(jx, cert_json(&certs[i]));
		json_object_set_new(doc, "cards", jc);
		json_object_set_new(doc, "certificates", jx);
		rc = print_json(c, doc);
		goto out;
	}
	printf("resident %" PRId64 ": %s (%s), sex %d, born %s\n", p.id, p.name, p.kana,
	       p.sex, jpki_date_format(p.birth, d1));
	printf("  address: %s%s%s%s\n", p.postal_code ? "〒" : "",
	       p.postal_code ? p.postal_code : "", p.postal_code ? " " : "", p.address);
	printf("  municipality %s%s%s%s%s\n", p.municipality,
	       p.nationality ? ", nationality " : "",
	       p.nationality ? p.nationality : "",
	       p.stay_expires != JPKI_DAY_NONE ? ", stay until " : "",
	       p.stay_expires != JPKI_DAY_NONE ? jpki_date_format(p.stay_expires, d2)
					       : "");
	printf("  status: %s%s%s%s\n", jpki_resident_status_name(p.status),
	       p.status_on != JPKI_DAY_NONE ? " on " : "",
	       p.status_on != JPKI_DAY_NONE ? jpki_date_format(p.status_on, d1) : "",
	       p.adult_ward ? ", adult ward" : "");
	for (size_t i = 0; i < ncards; i++)
		printf("  card %s: issued %s, expires %s, %s\n", cards[i].serial,
		       jpki_date_format(cards[i].issued, d1),
		       jpki_date_format(cards[i].expires, d2),
		       jpki_card_state_name(cards[i].state));
	for (size_t i = 0; i < ncerts; i++)
		printf("  %s certificate %s: issued %s, expires %s, %s%s%s\n",
		       certs[i].kind == JPKI_CERT_SIGN ? "sign" : "auth",
		       certs[i].serial, jpki_date_format(certs[i].issued, d1),
		       jpki_date_format(certs[i].expires, d2),
		       jpki_cert_status_name(certs[i].status),
		       certs[i].reason >= 0 ? " " : "",
		       certs[i].reason >= 0
			   ? jpki_revocation_reason_name(certs[i].reason)
			   : "");
	rc = EXIT_OK;
out:
	free(cards);
	free(certs);
	jpki_resident_release(&p);
	reg_close(&r);
	return rc;
}

static int resident_list(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *month = NULL;
	struct opt opts[] = {
	    {"expiring", OPT_STRING, &month, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	int rc = args_parse(c, argc, argv, opts, 2, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	int y = 0, mo = 0;
	char tail;
	if (month &&
	    (strlen(month) != 7 || month[4] != '-' ||
	     sscanf(month, "%4d-%2d%c", &y, &mo, &tail) != 2 || mo < 1 || mo > 12))
		return fail(c, EXIT_USAGE, "--expiring: '%.20s' is not YYYY-MM", month);
	struct reg r;
	struct jpki_reg_msg m = {0};
	int64_t *ids = NULL;
	size_t n = 0;
	json_t *arr = NULL;
	if ((rc = reg_open(c, &r, false, NULL)) >= 0)
		goto out;
	jpki_err e = month ? jpki_reg_expiring(&r.ctx, y, mo, &ids, &n, &m)
			   : jpki_reg_residents(&r.ctx, &ids, &n, &m);
	if (e != JPKI_OK) {
		rc = reg_fail(c, e, &m);
		goto out;
	}
	arr = *c->json ? json_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		struct jpki_resident p;
		char d[JPKI_DATE_BUFSZ];
		if ((e = jpki_reg_resident_get(&r.ctx, ids[i], &p, &m))) {
			rc = reg_fail(c, e, &m);
			goto out;
		}
		if (arr)
			json_array_append_new(arr, resident_json(&p));
		else
			printf("%" PRId64 "\t%s\t%s\t%s\t%s\n", p.id, p.name, p.kana,
			       jpki_date_format(p.birth, d),
			       jpki_resident_status_name(p.status));
		jpki_resident_release(&p);
	}
	rc = arr ? print_json(c, arr) : EXIT_OK;
	arr = NULL;
out:
	json_decref(arr);
	free(ids);
	reg_close(&r);
	return rc;
}

/* Prints the result of an event or a card's end. */
static int print_result(const struct cmd_ctx *c, int64_t id,
			const struct jpki_reg_result *res, const char *what)
{
	if (*c->json)
		return print_json(c, json_pack("{s:I,s:s,s:s?,s:o}", "resident",
					       (json_int_t)id, "event", what, "card",
					       res->card[0] ? res->card : NULL,
					       "revoked", revoked_json(res)));
	printf("resident %" PRId64 ": %s\n", id, what);
	print_revoked(res);
	return EXIT_OK;
}

enum ev { EV_MOVE, EV_RENAME, EV_CORRECT, EV_DECEASE, EV_REMOVE };

static int resident_event(const struct cmd_ctx *c, int argc, char **argv, enum ev kind)
{
	const char *pos[1], *address = NULL, *muni = NULL, *postal = NULL, *name = NULL,
			    *kana = NULL, *sex = NULL;
	jpki_day on = JPKI_DAY_NONE, birth = JPKI_DAY_NONE;
	struct opt all[] = {
	    {"address", OPT_STRING, &address, kind == EV_MOVE, false},
	    {"municipality", OPT_STRING, &muni, false, false},
	    {"postal-code", OPT_STRING, &postal, false, false},
	    {"name", OPT_STRING, &name, kind == EV_RENAME, false},
	    {"kana", OPT_STRING, &kana, kind == EV_RENAME, false},
	    {"birth", OPT_DATE, &birth, false, false},
	    {"sex", OPT_STRING, &sex, false, false},
	    {"on", OPT_DATE, &on, kind == EV_DECEASE || kind == EV_REMOVE, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	/* Each event takes only its own options. */
	struct opt opts[5];
	size_t n = 0;
	static const char *const own[][4] = {
	    [EV_MOVE] = {"address", "municipality", "postal-code", NULL},
	    [EV_RENAME] = {"name", "kana", NULL, NULL},
	    [EV_CORRECT] = {"birth", "sex", NULL, NULL},
	    [EV_DECEASE] = {"on", NULL, NULL, NULL},
	    [EV_REMOVE] = {"on", NULL, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		bool mine = strcmp(all[i].name, "json") == 0;
		for (int j = 0; j < 4 && own[kind][j]; j++)
			if (strcmp(all[i].name, own[kind][j]) == 0)
				mine = true;
		if (mine)
			opts[n++] = all[i];
	}
	size_t npos;
	int64_t id = 0;
	int rc = args_parse(c, argc, argv, opts, n, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos != 1)
		return fail(c, EXIT_USAGE, "which resident? give an id");
	if ((rc = parse_id(c, pos[0], &id)) >= 0)
		return rc;
	int sx = 0;
	if (sex && (strlen(sex) != 1 || sex[0] < '1' || sex[0] > '3'))
		return fail(c, EXIT_USAGE, "--sex must be 1, 2 or 3");
	if (sex)
		sx = sex[0] - '0';
	if (muni && strlen(muni) != 6)
		return fail(c, EXIT_USAGE, "--municipality: a 6-digit code");
	struct reg r;
	struct jpki_reg_msg m = {0};
	struct jpki_reg_result res;
	static const char *const what[] = {"moved", "renamed", "corrected", "deceased",
					   "removed"};
	if ((rc = reg_open(c, &r, false, NULL)) >= 0) {
		reg_close(&r);
		return rc;
	}
	jpki_err e = JPKI_ERR_INTERNAL;
	switch (kind) {
	case EV_MOVE:
		e = jpki_reg_move(&r.ctx, id, address, muni, postal, &res, &m);
		break;
	case EV_RENAME:
		e = jpki_reg_rename(&r.ctx, id, name, kana, &res, &m);
		break;
	case EV_CORRECT:
		e = jpki_reg_correct(&r.ctx, id, birth, sx, &res, &m);
		break;
	case EV_DECEASE:
		e = jpki_reg_decease(&r.ctx, id, on, &res, &m);
		break;
	case EV_REMOVE:
		e = jpki_reg_remove(&r.ctx, id, on, &res, &m);
		break;
	}
	reg_close(&r);
	if (e != JPKI_OK)
		return reg_fail(c, e, &m);
	return print_result(c, id, &res, what[kind]);
}

static int resident_move(const struct cmd_ctx *c, int argc, char **argv)
{
	return resident_event(c, argc, argv, EV_MOVE);
}
static int resident_rename(const struct cmd_ctx *c, int argc, char **argv)
{
	return resident_event(c, argc, argv, EV_RENAME);
}
static int resident_correct(const struct cmd_ctx *c, int argc, char **argv)
{
	return resident_event(c, argc, argv, EV_CORRECT);
}
static int resident_decease(const struct cmd_ctx *c, int argc, char **argv)
{
	return resident_event(c, argc, argv, EV_DECEASE);
}
static int resident_remove(const struct cmd_ctx *c, int argc, char **argv)
{
	return resident_event(c, argc, argv, EV_REMOVE);
}

int cmd_resident(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"add", resident_add},	   {"show", resident_show},
	    {"list", resident_list},	   {"move", resident_move},
	    {"rename", resident_rename},   {"correct", resident_correct},
	    {"decease", resident_decease}, {"remove", resident_remove},
	};
	return cli_dispatch("resident", resident_usage, false, subs,
			    sizeof subs / sizeof subs[0], argc, argv);
}

/* ---- card issue, return, lost (called from cmd_card) ---- */

static int read_pins(const struct cmd_ctx *c, const char *file,
		     struct jpki_reg_pins *out)
{
	struct cli_pins p;
	int rc = cli_read_pins(c, file, &p);
	if (rc >= 0)
		return rc;
	for (int k = 0; k < 4; k++) {
		memcpy(out->pin[k], p.pin[k], sizeof out->pin[k]);
		out->has[k] = p.has[k];
	}
	cli_pins_wipe(&p);
	return -1;
}

static void wipe_pins(struct jpki_reg_pins *p)
{
	OPENSSL_cleanse(p, sizeof *p);
}

static json_t *issued_json(const struct jpki_reg_result *res)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < res->n_issued; i++)
		json_array_append_new(a, cert_json(&res->issued[i]));
	return a;
}

static void print_issued(const struct jpki_reg_result *res)
{
	char d[JPKI_DATE_BUFSZ];
	for (size_t i = 0; i < res->n_issued; i++)
		printf("issued %s certificate %s, expires %s\n",
		       res->issued[i].kind == JPKI_CERT_SIGN ? "sign" : "auth",
		       res->issued[i].serial,
		       jpki_date_format(res->issued[i].expires, d));
}

int cli_card_issue(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *res_s = NULL, *card_f = NULL, *pins_f = NULL, *pass_file = NULL;
	bool ward = false;
	struct opt opts[] = {
	    {"resident", OPT_STRING, &res_s, true, false},
	    {"card", OPT_STRING, &card_f, true, false},
	    {"pins", OPT_STRING, &pins_f, true, false},
	    {"ward-present", OPT_FLAG, &ward, false, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	int64_t id = 0;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_id(c, res_s, &id)) >= 0)
		return rc;
	struct jpki_reg_pins pins = {0};
	struct reg r = {0};
	struct jpki_reg_msg m = {0};
	struct jpki_reg_result res;
	if ((rc = read_pins(c, pins_f, &pins)) >= 0 ||
	    (rc = reg_open(c, &r, true, pass_file)) >= 0)
		goto out;
	struct jpki_reg_issue_opts o = {
	    .card_path = card_f, .pins = &pins, .ward_present = ward};
	jpki_err e = jpki_reg_card_issue(&r.ctx, id, &o, &res, &m);
	if (e != JPKI_OK) {
		rc = reg_fail(c, e, &m);
		goto out;
	}
	char d[JPKI_DATE_BUFSZ];
	if (*c->json) {
		rc = print_json(c, json_pack("{s:I,s:s,s:s,s:o,s:o}", "resident",
					     (json_int_t)id, "card", res.card, "file",
					     card_f, "card_expires",
					     json_date(res.card_expires),
					     "certificates", issued_json(&res)));
	} else {
		printf("issued card %s to resident %" PRId64 ", expires %s\n", res.card,
		       id, jpki_date_format(res.card_expires, d));
		print_issued(&res);
		if (res.n_issued < 2)
			puts("no signing certificate (under 15, or an adult ward "
			     "without "
			     "--ward-present)");
		rc = EXIT_OK;
	}
out:
	wipe_pins(&pins);
	reg_close(&r);
	return rc;
}

static int card_end(const struct cmd_ctx *c, int argc, char **argv,
		    enum jpki_card_state st)
{
	const char *res_s = NULL;
	struct opt opts[] = {
	    {"resident", OPT_STRING, &res_s, true, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	int64_t id = 0;
	int rc = args_parse(c, argc, argv, opts, 2, NULL, 0, &npos);
	if (rc >= 0 || (rc = parse_id(c, res_s, &id)) >= 0)
		return rc;
	struct reg r;
	struct jpki_reg_msg m = {0};
	struct jpki_reg_result res;
	if ((rc = reg_open(c, &r, false, NULL)) >= 0) {
		reg_close(&r);
		return rc;
	}
	jpki_err e = jpki_reg_card_end(&r.ctx, id, st, &res, &m);
	reg_close(&r);
	if (e != JPKI_OK)
		return reg_fail(c, e, &m);
	return print_result(c, id, &res,
			    st == JPKI_CARD_LOST ? "card lost" : "card returned");
}

int cli_card_return(const struct cmd_ctx *c, int argc, char **argv)
{
	return card_end(c, argc, argv, JPKI_CARD_RETURNED);
}

int cli_card_lost(const struct cmd_ctx *c, int argc, char **argv)
{
	return card_end(c, argc, argv, JPKI_CARD_LOST);
}

/* jpki card reset-pin on a card the registry knows: the registry's PIN
 * reset, with its intent record and event. -1 when the card is not a
 * registered active card (the caller resets it as a bare card). */
int cli_registry_reset_pin(const struct cmd_ctx *c, const char *card_f,
			   enum jpki_pin_kind k, const char *pin, const char *pass_file)
{
	struct jpki_card *card = NULL;
	struct jpki_card_info info;
	struct jpki_errbuf eb = {{0}};
	if (jpki_card_open(card_f, false, &card, &eb) != JPKI_OK)
		return -1; /* the caller reports it */
	jpki_card_info(card, &info);
	jpki_card_close(card);
	struct reg r;
	struct jpki_reg_msg m = {0};
	struct jpki_reg_card rc_card;
	struct jpki_reg_result res;
	int64_t resident = 0;
	int rc = reg_open(c, &r, true, pass_file);
	if (rc >= 0) {
		reg_close(&r);
		return rc;
	}
	jpki_err e = jpki_reg_card_get(&r.ctx, info.serial, &rc_card, &resident, &m);
	if (e == JPKI_ERR_NOTFOUND ||
	    (e == JPKI_OK && rc_card.state != JPKI_CARD_ACTIVE)) {
		reg_close(&r);
		return -1;
	}
	if (e == JPKI_OK)
		e = jpki_reg_reset_pin(&r.ctx, resident, card_f, k, pin, &res, &m);
	reg_close(&r);
	return e == JPKI_OK ? EXIT_OK : reg_fail(c, e, &m);
}

/* ---- cert ---- */

static const char cert_usage[] =
    "usage: jpki cert renew --resident ID --card FILE --pins PINS.json [--early]\n"
    "                       [--ward-present] [--passphrase-file F] [--json]\n"
    "       jpki cert revoke --serial HEX --reason REASON [--json]\n"
    "       jpki cert list --resident ID [--json]\n"
    "\n"
    "renew: inside the renewal window the new certificates get the 6th\n"
    "birthday; before it only with --early (a shorter validity); after expiry\n"
    "while the card is valid, a fresh issuance. The card's current PINs must\n"
    "verify (a wrong PIN costs a try). The old certificates are revoked\n"
    "superseded. REASON: unspecified, keyCompromise, affiliationChanged,\n"
    "superseded, cessationOfOperation.\n";

static int cert_renew(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *res_s = NULL, *card_f = NULL, *pins_f = NULL, *pass_file = NULL;
	bool early = false, ward = false;
	struct opt opts[] = {
	    {"resident", OPT_STRING, &res_s, true, false},
	    {"card", OPT_STRING, &card_f, true, false},
	    {"pins", OPT_STRING, &pins_f, true, false},
	    {"early", OPT_FLAG, &early, false, false},
	    {"ward-present", OPT_FLAG, &ward, false, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	int64_t id = 0;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_id(c, res_s, &id)) >= 0)
		return rc;
	struct jpki_reg_pins pins = {0};
	struct reg r = {0};
	struct jpki_reg_msg m = {0};
	struct jpki_reg_result res;
	if ((rc = read_pins(c, pins_f, &pins)) >= 0 ||
	    (rc = reg_open(c, &r, true, pass_file)) >= 0)
		goto out;
	struct jpki_reg_renew_opts o = {
	    .card_path = card_f, .pins = &pins, .early = early, .ward_present = ward};
	jpki_err e = jpki_reg_renew(&r.ctx, id, &o, &res, &m);
	if (e != JPKI_OK) {
		rc = reg_fail(c, e, &m);
		goto out;
	}
	if (*c->json) {
		rc = print_json(c, json_pack("{s:I,s:s,s:b,s:b,s:o,s:o}", "resident",
					     (json_int_t)id, "card", res.card, "fresh",
					     res.fresh, "early", res.early,
					     "certificates", issued_json(&res),
					     "revoked", revoked_json(&res)));
	} else {
		printf("renewed the certificates of resident %" PRId64
		       " on card %s%s\n",
		       id, res.card,
		       res.fresh   ? " (a fresh issuance)"
		       : res.early ? " (early: a shorter validity)"
				   : "");
		print_issued(&res);
		print_revoked(&res);
		rc = EXIT_OK;
	}
out:
	wipe_pins(&pins);
	reg_close(&r);
	return rc;
}

static int cert_revoke(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *serial = NULL, *reason_s = NULL;
	struct opt opts[] = {
	    {"serial", OPT_STRING, &serial, true, false},
	    {"reason", OPT_STRING, &reason_s, true, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	enum jpki_revocation_reason reason;
	int rc = args_parse(c, argc, argv, opts, 3, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	if (jpki_revocation_reason_parse(reason_s, &reason) != JPKI_OK)
		return fail(c, EXIT_USAGE,
			    "--reason: unspecified, keyCompromise, affiliationChanged, "
			    "superseded or cessationOfOperation");
	struct reg r;
	struct jpki_reg_msg m = {0};
	struct jpki_reg_result res;
	if ((rc = reg_open(c, &r, false, NULL)) >= 0) {
		reg_close(&r);
		return rc;
	}
	jpki_err e = jpki_reg_revoke(&r.ctx, serial, (int)reason, &res, &m);
	reg_close(&r);
	if (e != JPKI_OK)
		return reg_fail(c, e, &m);
	if (*c->json)
		return print_json(
		    c, json_pack("{s:s,s:s}", "serial", res.revoked[0].serial, "reason",
				 jpki_revocation_reason_name((int)reason)));
	print_revoked(&res);
	return EXIT_OK;
}

static int cert_list(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *res_s = NULL;
	struct opt opts[] = {
	    {"resident", OPT_STRING, &res_s, true, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	int64_t id = 0;
	int rc = args_parse(c, argc, argv, opts, 2, NULL, 0, &npos);
	if (rc >= 0 || (rc = parse_id(c, res_s, &id)) >= 0)
		return rc;
	struct reg r;
	struct jpki_reg_msg m = {0};
	struct jpki_resident p = {0};
	struct jpki_reg_cert *certs = NULL;
	size_t n = 0;
	jpki_err e;
	if ((rc = reg_open(c, &r, false, NULL)) >= 0)
		goto out;
	if ((e = jpki_reg_resident_get(&r.ctx, id, &p, &m)) ||
	    (e = jpki_reg_certs(&r.ctx, id, &certs, &n, &m))) {
		rc = reg_fail(c, e, &m);
		goto out;
	}
	if (*c->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, cert_json(&certs[i]));
		rc = print_json(c, a);
		goto out;
	}
	char d1[JPKI_DATE_BUFSZ], d2[JPKI_DATE_BUFSZ];
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\t%s\t%s\t%s%s%s\n", certs[i].serial,
		       certs[i].kind == JPKI_CERT_SIGN ? "sign" : "auth",
		       jpki_date_format(certs[i].issued, d1),
		       jpki_date_format(certs[i].expires, d2),
		       jpki_cert_status_name(certs[i].status),
		       certs[i].reason >= 0 ? "\t" : "",
		       certs[i].reason >= 0
			   ? jpki_revocation_reason_name(certs[i].reason)
			   : "");
	rc = EXIT_OK;
out:
	free(certs);
	jpki_resident_release(&p);
	reg_close(&r);
	return rc;
}

int cmd_cert(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"renew", cert_renew},
	    {"revoke", cert_revoke},
	    {"list", cert_list},
	};
	return cli_dispatch("cert", cert_usage, true, subs,
			    sizeof subs / sizeof subs[0], argc, argv);
}

/* ---- reconcile ---- */

static const char reconcile_usage[] =
    "usage: jpki reconcile [--passphrase-file F] [--json]\n"
    "       jpki reconcile --abandon INTENT [--json]\n"
    "\n"
    "Settles operations that a crash left half-done (open intent records):\n"
    "completes those the store had committed, rolls back the others. An\n"
    "operation still running (its card file locked) is left alone. Also marks\n"
    "active cards past their expiry as expired and revokes what they hold.\n"
    "Exit 0 when everything is settled, 1 when some operations are still\n"
    "running, 3 when some could not be settled.\n"
    "--abandon INTENT gives up an operation whose card file is gone (a card\n"
    "destroyed mid-operation): what it issued is revoked, the intent closed.\n";

int cmd_reconcile(int argc, char **argv)
{
	bool json = false;
	const char *pass_file = NULL;
	struct cmd_ctx c = {
	    .name = "reconcile", .usage = reconcile_usage, .json = &json};
	const char *abandon = NULL;
	struct opt opts[] = {
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	    {"abandon", OPT_STRING, &abandon, false, false},
	    {"json", OPT_FLAG, &json, false, false},
	};
	size_t npos;
	int64_t intent = 0;
	int rc = args_parse(&c, argc, argv, opts, 3, NULL, 0, &npos);
	if (rc >= 0 || (abandon && (rc = parse_id(&c, abandon, &intent)) >= 0))
		return rc;
	struct reg r;
	struct jpki_reg_msg m = {0};
	struct jpki_reconcile_report rep;
	if ((rc = reg_open(&c, &r, true, pass_file)) >= 0) {
		reg_close(&r);
		return rc;
	}
	if (abandon) {
		struct jpki_reg_result res;
		jpki_err e = jpki_reg_abandon(&r.ctx, intent, &res, &m);
		reg_close(&r);
		if (e != JPKI_OK)
			return reg_fail(&c, e, &m);
		if (json)
			return print_json(&c, json_pack("{s:I,s:o}", "abandoned",
							(json_int_t)intent, "revoked",
							revoked_json(&res)));
		printf("abandoned intent %" PRId64 "\n", intent);
		print_revoked(&res);
		return EXIT_OK;
	}
	jpki_err e = jpki_reg_reconcile(&r.ctx, &rep, &m);
	reg_close(&r);
	if (e != JPKI_OK && rep.failed == 0)
		return reg_fail(&c, e, &m);
	if (json) {
		rc = print_json(&c, json_pack("{s:I,s:I,s:I,s:I,s:I}", "completed",
					      (json_int_t)rep.completed, "rolled_back",
					      (json_int_t)rep.rolled_back, "busy",
					      (json_int_t)rep.busy, "failed",
					      (json_int_t)rep.failed, "expired_cards",
					      (json_int_t)rep.expired_cards));
	} else {
		printf("completed %zu, rolled back %zu, still running %zu, failed %zu; "
		       "%zu expired card%s\n",
		       rep.completed, rep.rolled_back, rep.busy, rep.failed,
		       rep.expired_cards, rep.expired_cards == 1 ? "" : "s");
		rc = EXIT_OK;
	}
	if (rep.failed)
		return fail(&c, EXIT_INTERNAL, "%s / %s", m.en, m.ja);
	if (rep.busy)
		return say(&c, EXIT_REFUSED, "%zu operation%s still running", rep.busy,
			   rep.busy == 1 ? "" : "s");
	return rc;
}
