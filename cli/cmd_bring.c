/* jpki bring: what to bring to the counter, in Japanese. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jpki/bring.h"
#include "banned.h"

static const char bring_usage[] =
    "usage: jpki bring --procedure renew|issue|pin-reset|revoke\n"
    "                  --applicant "
    "self|proxy-with-form|proxy-without-form|guardian|legal-rep\n"
    "                  [--json]\n"
    "\n"
    "Prints what to bring, one item per line, in Japanese. An ID document\n"
    "names the classes accepted (seed 003: S マイナンバーカード・住基カード,\n"
    "A 運転免許証・パスポート等, B other official photo IDs, C without photo).\n"
    "When two visits are needed, items start with 1回目/2回目. Notes follow,\n"
    "each starting with ※.\n"
    "\n"
    "  --json   {\"procedure\":\"renew\",\"applicant\":\"self\",\"visits\":1,\n"
    "            \"main_office_only\":false,\"fee_yen\":0,\n"
    "            "
    "\"items\":[{\"text\":\"...\",\"id_classes\":[\"S\",...],\"visit\":1}],\n"
    "            \"notes\":[\"...\"]}\n"
    "\n"
    "Exit 1 when the applicant cannot do the procedure (a voluntary proxy\n"
    "cannot revoke).\n";

static json_t *classes_json(unsigned mask)
{
	static const char *const letters[] = {"S", "A", "B", "C", "D"};
	json_t *a = json_array();
	for (int i = 0; a && i < 5; i++)
		if (mask & (1u << i))
			json_array_append_new(a, json_string(letters[i]));
	return a;
}

int cmd_bring(int argc, char **argv)
{
	bool json = false;
	const struct cmd_ctx c = {.name = "bring", .usage = bring_usage, .json = &json};
	const char *proc_s = NULL, *app_s = NULL;
	struct opt opts[] = {
	    {"procedure", OPT_STRING, &proc_s, true, false},
	    {"applicant", OPT_STRING, &app_s, true, false},
	    {"json", OPT_FLAG, &json, false, false},
	};
	size_t npos;
	int rc = args_parse(&c, argc, argv, opts, 3, NULL, 0, &npos);
	if (rc >= 0)
		return rc;
	enum jpki_procedure p;
	enum jpki_applicant a;
	if (jpki_procedure_parse(proc_s, &p) != JPKI_OK)
		return fail(&c, EXIT_USAGE,
			    "--procedure: '%.30s' is not renew, issue, "
			    "pin-reset or revoke",
			    proc_s);
	if (jpki_applicant_parse(app_s, &a) != JPKI_OK)
		return fail(
		    &c, EXIT_USAGE,
		    "--applicant: '%.30s' is not self, "
		    "proxy-with-form, proxy-without-form, guardian or legal-rep",
		    app_s);
	const struct jpki_bring_list *l;
	struct jpki_errbuf eb = {{0}};
	jpki_err e = jpki_bring(p, a, &l, &eb);
	if (e != JPKI_OK)
		return fail(&c, exit_for(e), "%s", eb.msg);

	if (json) {
		json_t *items = json_array(), *notes = json_array();
		for (size_t i = 0; items && i < l->n_items; i++)
			json_array_append_new(
			    items, json_pack("{s:s,s:o,s:i}", "text", l->items[i].text,
					     "id_classes",
					     classes_json(l->items[i].id_classes),
					     "visit", l->items[i].visit));
		for (size_t i = 0; notes && i < l->n_notes; i++)
			json_array_append_new(notes, json_string(l->notes[i]));
		return print_json(
		    &c, json_pack("{s:s,s:s,s:i,s:b,s:i,s:o,s:o}", "procedure",
				  jpki_procedure_name(p), "applicant",
				  jpki_applicant_name(a), "visits", l->visits,
				  "main_office_only", l->main_office_only, "fee_yen",
				  l->fee_yen, "items", items, "notes", notes));
	}
	char cls[24];
	for (size_t i = 0; i < l->n_items; i++) {
		const struct jpki_bring_item *it = &l->items[i];
		if (l->visits > 1)
			printf("%d回目: ", it->visit);
		fputs(it->text, stdout);
		if (it->id_classes)
			printf("［区分%s］",
			       jpki_id_classes_format(it->id_classes, cls, sizeof cls));
		putchar('\n');
	}
	for (size_t i = 0; i < l->n_notes; i++)
		printf("※%s\n", l->notes[i]);
	return EXIT_OK;
}
