/* jpki — the openjpki command. One table entry per subcommand (after git's
 * builtin table); each lives in a cli/cmd_*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "banned.h"

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
};

static void usage(FILE *f)
{
	fputs("usage: jpki <command> [options]   (jpki <command> --help for more)\n\n"
	      "commands:\n",
	      f);
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fputs(
	    "\nDates are YYYY-MM-DD (JST). Every command takes --help and --json.\n"
	    "With --json a refusal (exit 1) also prints {\"error\":\"refused\",...}.\n"
	    "jpki --version prints the version. JPKI_NOW pins the clock.\n"
	    "Exit status: 0 ok, 1 refused by a rule, 2 bad input, 3 internal error.\n",
	    f);
}

int main(int argc, char **argv)
{
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
