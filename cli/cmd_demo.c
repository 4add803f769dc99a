/* jpki demo seed: a synthetic population (lib/registry/seed.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jpki/registry.h"
#include "jpki/store.h"
#include "banned.h"

static const char demo_usage[] =
    "usage: jpki demo seed --residents N [--seed S] [--cards DIR] [--passphrase-file "
    "F]\n"
    "                      [--json]\n"
    "\n"
    "Adds N synthetic residents to the store: Japan's age pyramid, about 8 in\n"
    "10 with a card and certificates (real ones, from the store's CA), some\n"
    "expired, revoked, under 15, adult wards or foreign residents. Card files\n"
    "go to DIR (default <store>.cards; required for a server store), all with\n"
    "the PINs sign ABC123, auth/juki/text 1234. The same --seed (default 1)\n"
    "gives the same population. A fast path for demos and benchmarks only:\n"
    "keys from a pool, few PBKDF2 iterations, no fsync of card files. The\n"
    "store's CA should date from before the history (jpki init --history-from).\n";

static void progress(size_t done, size_t total, void *arg)
{
	(void)arg;
	if (isatty(2))
		fprintf(stderr, "\rseeded %zu/%zu", done, total);
	if (isatty(2) && done == total)
		fputc('\n', stderr);
}

static int parse_size(const struct cmd_ctx *c, const char *name, const char *s,
		      uint64_t *out)
{
	char *end = NULL;
	unsigned long long v = s ? strtoull(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *s == '-' || *end != '\0')
		return fail(c, EXIT_USAGE, "--%s: '%.20s' is not a number", name,
			    s ? s : "");
	*out = v;
	return -1;
}

static int demo_seed(const struct cmd_ctx *c, int argc, char **argv)
{
	const char *n_s = NULL, *seed_s = "1", *cards = NULL, *pass_file = NULL;
	struct opt opts[] = {
	    {"residents", OPT_STRING, &n_s, true, false},
	    {"seed", OPT_STRING, &seed_s, false, false},
	    {"cards", OPT_STRING, &cards, false, false},
	    {"passphrase-file", OPT_STRING, &pass_file, false, false},
	    {"json", OPT_FLAG, (bool *)c->json, false, false},
	};
	size_t npos;
	uint64_t n = 0, seed = 0;
	int rc = args_parse(c, argc, argv, opts, sizeof opts / sizeof opts[0], NULL, 0,
			    &npos);
	if (rc >= 0 || (rc = parse_size(c, "residents", n_s, &n)) >= 0 ||
	    (rc = parse_size(c, "seed", seed_s, &seed)) >= 0)
		return rc;
	if (n == 0 || n > 10000000)
		return fail(c, EXIT_USAGE, "--residents must be 1 to 10000000");
	char dir[4200];
	const char *file = cli_store_file();
	if (cards == NULL && file == NULL)
		return fail(c, EXIT_USAGE,
			    "--cards DIR is required with a server store");
	snprintf(dir, sizeof dir, "%s", cards ? cards : "");
	if (cards == NULL &&
	    snprintf(dir, sizeof dir, "%s.cards", file) >= (int)sizeof dir)
		return fail(c, EXIT_USAGE, "the store path is too long");
	struct jpki_reg_ctx ctx = {.actor = "jpki-demo", .feb29 = JPKI_FEB29_FEB28};
	struct jpki_store *s = NULL;
	char keys[4096], *pass = NULL;
	struct jpki_reg_msg m = {0};
	struct jpki_seed_report rep;
	if ((rc = cli_now(c, &ctx.now)) >= 0 ||
	    (rc = cli_read_passphrase(c, pass_file, &pass)) >= 0 ||
	    (rc = cli_open_store(c, false, &s, keys, sizeof keys)) >= 0)
		goto out;
	ctx.store = s;
	ctx.keys_dir = keys;
	ctx.passphrase = pass;
	struct jpki_seed_opts o = {.residents = (size_t)n,
				   .seed = seed,
				   .cards_dir = dir,
				   .progress = progress};
	jpki_err e = jpki_reg_demo_seed(&ctx, &o, &rep, &m);
	if (e != JPKI_OK) {
		rc = fail(c, exit_for(e), "%s", m.en);
		goto out;
	}
	if (*c->json) {
		rc = print_json(
		    c, json_pack(
			   "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "residents",
			   (json_int_t)rep.residents, "cards", (json_int_t)rep.cards,
			   "certificates", (json_int_t)rep.certificates, "revoked",
			   (json_int_t)rep.revoked, "expired", (json_int_t)rep.expired,
			   "without_sign", (json_int_t)rep.without_sign, "adult_wards",
			   (json_int_t)rep.adult_wards, "foreign",
			   (json_int_t)rep.foreign, "cards_dir", dir));
	} else {
		printf(
		    "seeded %zu residents: %zu cards in %s, %zu certificates (%zu "
		    "revoked, "
		    "%zu expired); %zu without a signing certificate, %zu adult wards, "
		    "%zu foreign residents\n",
		    rep.residents, rep.cards, dir, rep.certificates, rep.revoked,
		    rep.expired, rep.without_sign, rep.adult_wards, rep.foreign);
		rc = EXIT_OK;
	}
out:
	if (s)
		jpki_store_close(s);
	cli_free_secret(pass);
	return rc;
}

int cmd_demo(int argc, char **argv)
{
	static const struct cli_sub subs[] = {{"seed", demo_seed}};
	return cli_dispatch("demo", demo_usage, false, subs, 1, argc, argv);
}
