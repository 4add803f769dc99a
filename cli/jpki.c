/* jpki — the openjpki command. One table entry per subcommand (after git's
 * builtin table); each lives in a cli/cmd_*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

struct cli_globals cli_globals;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd commands[] = {
    {"holidays", cmd_holidays, "national holidays of a year"},
    {"cert-expiry", cmd_cert_expiry, "expiry of a signing or auth certificate"},
    {"card-expiry", cmd_card_expiry, "expiry of a My Number card"},
    {"renewal-window", cmd_renewal_window, "first and last day to renew"},
    {"age", cmd_age, "legal age on a day"},
    {"wareki", cmd_wareki, "a date in the Japanese era calendar"},
    {"pin-check", cmd_pin_check, "check a PIN's format (PIN on stdin)"},
    {"office", cmd_office, "is an office open on a day, and when"},
    {"reservable", cmd_reservable, "first and last day a visit can be booked"},
    {"bring", cmd_bring, "what to bring to the counter"},
    {"ca", cmd_ca, "the certification authorities: init, issue, revoke, CRL, OCSP"},
    {"audit", cmd_audit, "check the hash chain of the audit log"},
    {"card", cmd_card, "cards: issue, return, lost; the virtual card: new, keygen, write-cert, status, verify-pin, sign, reset-pin, serve"},
    {"init", cmd_init, "create the store and its certification authorities"},
    {"resident", cmd_resident, "residents: add, show, list, move, rename, correct, decease, remove"},
    {"cert", cmd_cert, "residents' certificates: renew, revoke, list"},
    {"reconcile", cmd_reconcile, "settle operations a crash left half-done"},
    {"demo", cmd_demo, "a synthetic population for demos and benchmarks"},
    {"staff", cmd_staff, "staff accounts for jpkid: add, list, disable"},
    {"notice", cmd_notice, "expiry notices: the monthly batch of letters, suspend, resume, status"},
};

static void usage(FILE *f)
{
	fputs("usage: jpki [--store URL] [--keys DIR] <command> [options]\n"
	      "       (jpki <command> --help for more)\n\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fputs(
	    "\nDates are YYYY-MM-DD (JST). Every command takes --help; those that\n"
	    "print data take --json.\n"
	    "With --json a refusal (exit 1) also prints a JSON document: the\n"
	    "command's own result, or {\"error\":\"refused\",...}.\n"
	    "jpki --version prints the version. JPKI_NOW pins the clock.\n"
	    "--store (or JPKI_STORE, default ./var/jpki.db) and --keys (JPKI_KEYS,\n"
	    "default <store>.keys) name the store and the CA keys directory.\n"
	    "Exit status: 0 ok, 1 refused by a rule, 2 bad input, 3 internal error.\n",
	    f);
}

/* Takes the global options off the front of argv: "--store URL",
 * "--store=URL", "--keys DIR", "--keys=DIR". Returns how many argv entries
 * they used, or -1 after printing an error. */
static int globals(int argc, char **argv)
{
	int i = 1;
	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		const char **dest = NULL;
		const char *a = argv[i], *v = NULL;
		if (strncmp(a, "--store", 7) == 0 && (a[7] == '\0' || a[7] == '='))
			dest = &cli_globals.store, v = a[7] ? a + 8 : NULL;
		else if (strncmp(a, "--keys", 6) == 0 && (a[6] == '\0' || a[6] == '='))
			dest = &cli_globals.keys, v = a[6] ? a + 7 : NULL;
		else
			break;
		if (v == NULL) {
			if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
				fprintf(stderr, "jpki: %s needs a value\n", a);
				return -1;
			}
			v = argv[++i];
		}
		if (*dest != NULL || v[0] == '\0') {
			fprintf(stderr, "jpki: %s given twice or empty\n",
				dest == &cli_globals.store ? "--store" : "--keys");
			return -1;
		}
		*dest = v;
		i++;
	}
	return i - 1;
}

int main(int argc, char **argv)
{
	int used = globals(argc, argv);
	if (used < 0)
		return EXIT_USAGE;
	argc -= used;
	argv += used;
	if (argc < 2) {
		fputs("jpki: a command is required (see jpki --help)\n", stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		puts("jpki (openjpki) 0.1.0");
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "jpki: unknown command '%.60s' (see jpki --help)\n", argv[1]);
	return EXIT_USAGE;
}
