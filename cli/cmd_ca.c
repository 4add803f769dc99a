/* jpki ca init|cert|issue|revoke|crl|ocsp|refresh-ocsp: the certification
 * authorities (lib/pki). Passphrases come from JPKI_CA_PASSPHRASE or
 * --passphrase-file, never the command line; they are wiped after use. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "jpki/pki.h"
#include "jpki/store.h"
#include "banned.h"

#define MAX_MUNIS 64

static const char ca_usage[] =
    "usage: jpki [--store URL] [--keys DIR] ca <command> [options]\n"
    "\n"
    "  init --municipality CODE:NAME [--municipality CODE:NAME]... [--base-url URL]\n"
    "       [--key-bits 2048|3072|4096]\n"
    "       [--crl-hours N] [--ocsp-days N] [--passphrase-file F | --insecure-no-passphrase]\n"
    "       [--history-from D]\n"
    "                         create the root, signing and auth CAs and their OCSP\n"
    "                         responders; refuses (exit 1) on a store that has a CA\n"
    "  cert root|sign|auth|ocsp-sign|ocsp-auth     a CA certificate, PEM (--json:\n"
    "                         {\"name\":...,\"pem\":...})\n"
    "  issue --kind sign|auth --pubkey FILE.pem --subject FILE.json --expires D\n"
    "                         a certificate, PEM (valid to 23:59:59 JST of D)\n"
    "  revoke --serial HEX --reason REASON [--at DATETIME]\n"
    "                         REASON: unspecified, keyCompromise, affiliationChanged,\n"
    "                         superseded, cessationOfOperation (certificateHold is\n"
    "                         not offered); revoking again changes nothing\n"
    "  crl --kind sign|auth [--shard CODE] [--out FILE]     a CRL, DER\n"
    "  ocsp [--in REQ.der] [--out RESP.der]    answer an OCSP request (stdin/stdout)\n"
    "  refresh-ocsp           re-sign the pre-signed OCSP responses that are due\n"
    "\n"
    "Signing commands read the key passphrase from JPKI_CA_PASSPHRASE or\n"
    "--passphrase-file F (its first line). --base-url (default\n"
    "http://127.0.0.1:8080) makes the URLs: in certificates the CRLDP\n"
    "{base}/crl/{sign|auth}/{municipality}.crl and OCSP {base}/ocsp/{kind}; the\n"
    "full CRL is published at {base}/crl/{kind}.crl. --json on init, cert,\n"
    "issue, revoke and refresh-ocsp (crl and ocsp write DER).\n";

static int parse_int(const struct cmd_ctx *c, const char *name, const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL)
		return -1;
	if (errno || end == s || *end || v < 0 || v > 100000)
		return fail(c, EXIT_USAGE, "--%s: '%.20s' is not a number", name, s);
	*out = (int)v;
	return -1;
}

static int parse_kind(const struct cmd_ctx *c, const char *s, enum jpki_pki_kind *k)
{
	if (strcmp(s, "sign") == 0)
		*k = JPKI_PKI_SIGN;
	else if (strcmp(s, "auth") == 0)
		*k = JPKI_PKI_AUTH;
	else
		return fail(c, EXIT_USAGE, "--kind: '%.20s' is not sign or auth", s);
	return -1;
}

/* Opens the store and the CA, with the passphrase when `signing`. */
static int open_ca(const struct cmd_ctx *c, const char *pass_file,
		   struct jpki_store **s, struct jpki_ca **ca)
{
	char keys[4096], *pass = NULL;
	struct jpki_errbuf eb = {{0}};
	int rc = cli_open_store(c, false, s, keys, sizeof keys);
	if (rc >= 0)
		return rc;
	if ((rc = cli_read_passphrase(c, pass_file, &pass)) >= 0) {
		jpki_store_close(*s);
		return rc;
	}
	jpki_err e = jpki_ca_open(*s, keys, pass, ca, &eb);
	cli_free_secret(pass);
	if (e != JPKI_OK) {
		jpki_store_close(*s);
		return fail(c, exit_for(e), "%s", eb.msg);
	}
	return -1;
}

static void close_ca(struct jpki_store *s, struct jpki_ca *ca)
{
	jpki_ca_close(ca);
	jpki_store_close(s);
}

/* ---- init ---- */

/* jpki ca init, and jpki init (default_muni: the municipality when none
 * is given). */
int cli_ca_init(const struct cmd_ctx *c, int argc, char **argv, const char *default_muni)
{
	struct jpki_ca_init_opts o = {.base_url = "http://127.0.0.1:8080",
				      .key_bits = 2048,
				      .crl_hours = 24,
				      .ocsp_days = 4};
	struct jpki_municipality munis[MAX_MUNIS];
	const char *bits = NULL, *hours = NULL, *days = NULL, *pass_file = NULL;
	jpki_day history = JPKI_DAY_NONE;
	bool insecure = false, json = *c->json;
	struct jpki_errbuf eb = {{0}};
	(void)json;
	/* --municipality repeats: take them out before the generic parser. */
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	int nrest = 0, rc;
	if (rest == NULL)
		return fail(c, EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (strcmp(a, "--municipality") == 0) {
			if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
				free(rest);
				return fail(c, EXIT_USAGE, "--municipality needs a value");
			}
			v = argv[++i];
		} else if (strncmp(a, "--municipality=", 15) == 0) {
			v = a + 15;
		} else {
			rest[nrest++] = argv[i];
			continue;
		}
		if (o.n_munis == MAX_MUNIS) {
			free(rest);
			return fail(c, EXIT_USAGE, "at most %d municipalities", MAX_MUNIS);
		}
		if (jpki_municipality_parse(v, &munis[o.n_munis], &eb) != JPKI_OK) {
			free(rest);
			return fail(c, EXIT_USAGE, "--municipality: %s", eb.msg);
		}
		o.n_munis++;
	}
	o.munis = munis;
	struct opt opts[] = {
	    {"base-url", OPT_STRING, &o.base_url, false, false},
	    {"key-bits", OPT_STRING, &bits, false, false},
	    {"crl-hours", OPT_STRING, &hours, false, false},
	    {"ocsp-days", OPT_STRING, &days, false, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	    {"insecure-no-passphrase", OPT_FLAG, &insecure, false, false},
	    {"history-from", OPT_DATE, &history, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	rc = args_parse(c, nrest, rest, opts, sizeof opts / sizeof opts[0], NULL, 0, &npos);
	free(rest);
	if (rc >= 0)
		return rc;
	if (o.n_munis == 0 && default_muni != NULL &&
	    jpki_municipality_parse(default_muni, &munis[o.n_munis++], &eb) != JPKI_OK)
		return fail(c, EXIT_INTERNAL, "default municipality: %s", eb.msg);
	if ((rc = parse_int(c, "key-bits", bits, &o.key_bits)) >= 0 ||
	    (rc = parse_int(c, "crl-hours", hours, &o.crl_hours)) >= 0 ||
	    (rc = parse_int(c, "ocsp-days", days, &o.ocsp_days)) >= 0)
		return rc;
	if (insecure && pass_file)
		return fail(c, EXIT_USAGE, "--passphrase-file and --insecure-no-passphrase "
			    "exclude each other");
	o.insecure_no_passphrase = insecure;
	char *pass = NULL;
	if (!insecure && (rc = cli_read_passphrase(c, pass_file, &pass)) >= 0)
		return rc;
	o.passphrase = pass;
	/* Bad options must not leave an empty store behind. */
	if (jpki_ca_init_check(&o, &eb) != JPKI_OK) {
		cli_free_secret(pass);
		return fail(c, EXIT_USAGE, "%s", eb.msg);
	}
	if ((rc = cli_now(c, &o.now)) >= 0) {
		cli_free_secret(pass);
		return rc;
	}
	/* Midnight JST of the day: certificates with a history start then. */
	if (history != JPKI_DAY_NONE) {
		o.not_before = (int64_t)history * 86400 - JPKI_JST_OFFSET_SECONDS;
		if (jpki_ca_init_check(&o, &eb) != JPKI_OK) {
			cli_free_secret(pass);
			return fail(c, EXIT_USAGE, "%s", eb.msg);
		}
	}
	struct jpki_store *s = NULL;
	char keys[4096];
	const char *file = cli_store_file();
	bool existed = file == NULL || access(file, F_OK) == 0;
	if ((rc = cli_open_store(c, true, &s, keys, sizeof keys)) >= 0) {
		cli_free_secret(pass);
		return rc;
	}
	jpki_err e = jpki_ca_init(s, keys, &o, &eb);
	cli_free_secret(pass);
	if (e != JPKI_OK) {
		jpki_store_close(s);
		if (!existed) { /* a refused init leaves no empty store */
			char side[4200];
			unlink(file);
			snprintf(side, sizeof side, "%s-wal", file);
			unlink(side);
			snprintf(side, sizeof side, "%s-shm", file);
			unlink(side);
		}
		return fail(c, exit_for(e), "%s", eb.msg);
	}
	struct jpki_ca *ca = NULL;
	if ((e = jpki_ca_open(s, keys, NULL, &ca, &eb)) != JPKI_OK) {
		jpki_store_close(s);
		return fail(c, exit_for(e), "%s", eb.msg);
	}
	if (*c->json) {
		json_t *doc = json_pack("{s:s,s:b,s:s,s:i,s:i}", "keys", keys,
					"keys_encrypted", !insecure, "base_url", o.base_url,
					"municipalities", (int)o.n_munis, "key_bits",
					o.key_bits);
		close_ca(s, ca);
		return print_json(c, doc);
	}
	printf("initialized the CA: keys in %s (%s), %zu municipalit%s, RSA-%d\n", keys,
	       insecure ? "NOT encrypted" : "encrypted", o.n_munis,
	       o.n_munis == 1 ? "y" : "ies", o.key_bits);
	close_ca(s, ca);
	return EXIT_OK;
}

static int ca_init(const struct cmd_ctx *c, int argc, char **argv)
{
	return cli_ca_init(c, argc, argv, NULL);
}

/* ---- cert ---- */

static int ca_cert(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *pos[1];
	size_t npos;
	struct opt opts[] = {{"json", OPT_FLAG, (bool *)c->json, false, false}};
	int rc = args_parse(c, argc, argv, opts, 1, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos != 1)
		return fail(c, EXIT_USAGE, "which certificate? root, sign, auth, "
			    "ocsp-sign or ocsp-auth");
	struct jpki_store *s;
	struct jpki_ca *ca;
	struct jpki_errbuf eb = {{0}};
	if ((rc = open_ca(c, NULL, &s, &ca)) >= 0)
		return rc;
	char *pem = NULL;
	jpki_err e = jpki_ca_cert_pem(ca, pos[0], &pem, &eb);
	close_ca(s, ca);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	if (*c->json) {
		rc = print_json(c, json_pack("{s:s,s:s}", "name", pos[0], "pem", pem));
	} else {
		fputs(pem, stdout);
		rc = EXIT_OK;
	}
	free(pem);
	return rc;
}

/* ---- issue ---- */

static int ca_issue(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *kind_s = NULL, *pub_f = NULL, *subj_f = NULL, *pass_file = NULL;
	jpki_day expires = JPKI_DAY_NONE;
	struct opt opts[] = {
	    {"kind", OPT_STRING, &kind_s, true, false},
	    {"pubkey", OPT_STRING, &pub_f, true, false},
	    {"subject", OPT_STRING, &subj_f, true, false},
	    {"expires", OPT_DATE, &expires, true, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	enum jpki_pki_kind kind = JPKI_PKI_SIGN;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_kind(c, kind_s, &kind)) >= 0)
		return rc;
	char *pub = NULL, *subj_text = NULL;
	size_t pub_len, subj_len;
	struct jpki_subject subj = {0};
	struct jpki_issued out = {0};
	struct jpki_errbuf eb = {{0}};
	struct jpki_store *s = NULL;
	struct jpki_ca *ca = NULL;
	int64_t now;
	if ((rc = read_file(c, pub_f, 64 * 1024, &pub, &pub_len)) >= 0 ||
	    (rc = read_file(c, subj_f, 64 * 1024, &subj_text, &subj_len)) >= 0)
		goto out;
	jpki_err e = jpki_subject_parse(subj_text, subj_len, kind, &subj, &eb);
	if (e != JPKI_OK) {
		rc = fail(c, exit_for(e), "%s: %s", subj_f, eb.msg);
		goto out;
	}
	if ((rc = cli_now(c, &now)) >= 0 || (rc = open_ca(c, pass_file, &s, &ca)) >= 0)
		goto out;
	e = jpki_ca_issue(ca, kind, pub, pub_len, &subj, expires, now, &out, &eb);
	if (e != JPKI_OK) {
		rc = fail(c, exit_for(e), "%s", eb.msg);
		goto out;
	}
	if (*c->json) {
		rc = print_json(c, json_pack("{s:s,s:s,s:s}", "serial", out.serial,
					     "issue_number", out.issue_number, "pem",
					     out.pem));
	} else {
		fputs(out.pem, stdout);
		rc = EXIT_OK;
	}
out:
	jpki_issued_release(&out);
	jpki_subject_release(&subj);
	close_ca(s, ca);
	free(pub);
	free(subj_text);
	return rc;
}

/* ---- revoke ---- */

static int ca_revoke(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *serial = NULL, *reason_s = NULL, *at_s = NULL, *pass_file = NULL;
	struct opt opts[] = {
	    {"serial", OPT_STRING, &serial, true, false},
	    {"reason", OPT_STRING, &reason_s, true, false},
	    {"at", OPT_STRING, &at_s, false, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	struct jpki_errbuf eb = {{0}};
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0)
		return rc;
	enum jpki_revocation_reason reason;
	if (strcmp(reason_s, "certificateHold") == 0)
		return fail(c, EXIT_USAGE, "--reason certificateHold is not offered: a "
			    "revocation is final");
	if (jpki_revocation_reason_parse(reason_s, &reason) != JPKI_OK)
		return fail(c, EXIT_USAGE, "--reason: '%.30s' is not unspecified, "
			    "keyCompromise, affiliationChanged, superseded or "
			    "cessationOfOperation", reason_s);
	int64_t now, at;
	if ((rc = cli_now(c, &now)) >= 0)
		return rc;
	at = now;
	if (at_s && jpki_instant_parse(at_s, &at, &eb) != JPKI_OK)
		return fail(c, EXIT_USAGE, "--at: %s", eb.msg);
	struct jpki_store *s;
	struct jpki_ca *ca;
	if ((rc = open_ca(c, pass_file, &s, &ca)) >= 0)
		return rc;
	struct jpki_revoke_result r;
	jpki_err e = jpki_ca_revoke(ca, serial, reason, at, now, &r, &eb);
	close_ca(s, ca);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	char when[JPKI_INSTANT_BUFSZ];
	jpki_instant_format(r.revoked_at, when);
	if (*c->json)
		return print_json(c, json_pack("{s:s,s:s,s:s,s:b}", "serial", r.serial,
					       "revoked_at", when, "reason",
					       jpki_revocation_reason_name(r.reason),
					       "already", r.already));
	if (r.already)
		printf("already revoked at %s (%s): nothing changed\n", when,
		       jpki_revocation_reason_name(r.reason));
	else
		printf("revoked at %s (%s)\n", when, jpki_revocation_reason_name(r.reason));
	return EXIT_OK;
}

/* ---- crl ---- */

static int ca_crl(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *kind_s = NULL, *shard = NULL, *out_f = NULL, *pass_file = NULL;
	struct opt opts[] = {
	    {"kind", OPT_STRING, &kind_s, true, false},
	    {"shard", OPT_STRING, &shard, false, false},
	    {"out", OPT_STRING, &out_f, false, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	};
	size_t npos;
	enum jpki_pki_kind kind = JPKI_PKI_SIGN;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_kind(c, kind_s, &kind)) >= 0)
		return rc;
	int64_t now;
	struct jpki_store *s;
	struct jpki_ca *ca;
	struct jpki_errbuf eb = {{0}};
	/* Before a CRL number is spent on a CRL that could not be delivered. */
	if ((rc = cli_check_out(c, out_f)) >= 0)
		return rc;
	if ((rc = cli_now(c, &now)) >= 0 || (rc = open_ca(c, pass_file, &s, &ca)) >= 0)
		return rc;
	unsigned char *der = NULL;
	size_t len = 0;
	jpki_err e = jpki_ca_crl(ca, kind, shard, now, &der, &len, &eb);
	close_ca(s, ca);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	rc = cli_write_out(c, out_f, der, len, true);
	OPENSSL_free(der);
	return rc >= 0 ? rc : EXIT_OK;
}

/* ---- ocsp ---- */

static int ca_ocsp(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *in_f = NULL, *out_f = NULL, *pass_file = NULL;
	struct opt opts[] = {
	    {"in", OPT_STRING, &in_f, false, false},
	    {"out", OPT_STRING, &out_f, false, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	};
	size_t npos;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0)
		return rc;
	unsigned char *req = NULL, *resp = NULL;
	size_t req_len = 0, resp_len = 0;
	if ((rc = cli_check_out(c, out_f)) >= 0)
		return rc;
	if (in_f) {
		char *buf;
		if ((rc = read_file(c, in_f, 1 << 20, &buf, &req_len)) >= 0)
			return rc;
		req = (unsigned char *)buf;
	} else {
		/* stdin, at most 1 MiB: more is malformed anyway */
		size_t cap = 1 << 20;
		if ((req = malloc(cap + 1)) == NULL)
			return fail(c, EXIT_INTERNAL, "out of memory");
		req_len = fread(req, 1, cap + 1, stdin);
	}
	int64_t now;
	struct jpki_store *s;
	struct jpki_ca *ca;
	struct jpki_errbuf eb = {{0}};
	struct jpki_ocsp_stats st;
	if ((rc = cli_now(c, &now)) >= 0 || (rc = open_ca(c, pass_file, &s, &ca)) >= 0) {
		free(req);
		return rc;
	}
	jpki_err e = jpki_ca_ocsp(ca, req, req_len, now, &resp, &resp_len, &st, &eb);
	close_ca(s, ca);
	free(req);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	rc = cli_write_out(c, out_f, resp, resp_len, true);
	OPENSSL_free(resp);
	return rc >= 0 ? rc : EXIT_OK;
}

/* ---- refresh-ocsp ---- */

static int ca_refresh(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *pass_file = NULL;
	struct opt opts[] = {
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos, n = 0;
	int rc = args_parse(c, argc, argv, opts, 2, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	int64_t now;
	struct jpki_store *s;
	struct jpki_ca *ca;
	struct jpki_errbuf eb = {{0}};
	if ((rc = cli_now(c, &now)) >= 0 || (rc = open_ca(c, pass_file, &s, &ca)) >= 0)
		return rc;
	jpki_err e = jpki_ca_refresh_ocsp(ca, now, &n, &eb);
	close_ca(s, ca);
	if (e != JPKI_OK)
		return fail(c, exit_for(e), "%s", eb.msg);
	if (*c->json)
		return print_json(c, json_pack("{s:i}", "signed", (int)n));
	printf("signed %zu OCSP responses\n", n);
	return EXIT_OK;
}

int cmd_ca(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const struct cmd_ctx *, int, char **);
	} subs[] = {
	    {"init", ca_init},	   {"cert", ca_cert}, {"issue", ca_issue},
	    {"revoke", ca_revoke}, {"crl", ca_crl},   {"ocsp", ca_ocsp},
	    {"refresh-ocsp", ca_refresh},
	};
	bool json = false;
	struct cmd_ctx c = {.name = "ca", .usage = ca_usage, .json = &json};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		if (argc < 2)
			return fail(&c, EXIT_USAGE, "a command is required (see jpki ca "
				    "--help)");
		fputs(ca_usage, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		char name[32];
		snprintf(name, sizeof name, "ca %s", subs[i].name);
		c.name = name;
		return subs[i].fn(&c, argc - 1, argv + 1);
	}
	return fail(&c, EXIT_USAGE, "unknown command '%.30s' (see jpki ca --help)",
		    argv[1]);
}
