/* Option parsing for jpki commands: strict, one error line, exit 2. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jpki/registry.h"
#include "banned.h"

__attribute__((format(printf, 4, 0))) static int
vreport(const struct cmd_ctx *c, int code, bool json_doc, const char *fmt, va_list ap)
{
	char msg[512];
	if (vsnprintf(msg, sizeof msg, fmt, ap) < 0)
		msg[0] = '\0';
	fprintf(stderr, "jpki %s: %s\n", c->name, msg);
	if (json_doc && code == EXIT_REFUSED && c->json && *c->json) {
		json_t *doc =
		    json_pack("{s:s,s:s}", "error", "refused", "message", msg);
		char *out =
		    doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (out)
			puts(out);
		free(out);
		json_decref(doc);
	}
	return code;
}

int fail(const struct cmd_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c, code, true, fmt, ap);
	va_end(ap);
	return code;
}

int say(const struct cmd_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(c, code, false, fmt, ap);
	va_end(ap);
	return code;
}

int fail_msg_line(const struct cmd_ctx *c, int code, jpki_err e,
		  const struct jpki_reg_msg *m)
{
	if (m->ja[0] && strcmp(m->code, "store") != 0)
		return fail(c, code, "%s / %s", m->en, m->ja);
	return fail(c, code, "%s", m->en[0] ? m->en : jpki_strerror(e));
}

int exit_for(jpki_err e)
{
	switch (e) {
	case JPKI_OK:
		return EXIT_OK;
	case JPKI_ERR_REFUSED:
	case JPKI_ERR_NOTFOUND:
	case JPKI_ERR_CONFLICT:
		return EXIT_REFUSED;
	case JPKI_ERR_INVALID:
	case JPKI_ERR_RANGE:
	case JPKI_ERR_CONFIG:
	case JPKI_ERR_PASSPHRASE:
		return EXIT_USAGE;
	default:
		return EXIT_INTERNAL;
	}
}

static struct opt *find_opt(struct opt *opts, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static int set_value(const struct cmd_ctx *c, struct opt *o, const char *v)
{
	struct jpki_errbuf eb = {{0}};
	switch (o->kind) {
	case OPT_STRING:
		if (v[0] == '\0')
			return fail(c, EXIT_USAGE, "--%s: empty value", o->name);
		*(const char **)o->dest = v;
		return -1;
	case OPT_DATE:
		if (jpki_date_parse(v, (jpki_day *)o->dest, &eb) != JPKI_OK)
			return fail(c, EXIT_USAGE, "--%s: %s", o->name, eb.msg);
		return -1;
	case OPT_FLAG:
	default:
		return fail(c, EXIT_USAGE, "--%s takes no value", o->name);
	}
}

int args_parse(const struct cmd_ctx *c, int argc, char **argv, struct opt *opts,
	       size_t nopts, const char **pos, size_t maxpos, size_t *npos)
{
	bool only_pos = false;
	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
			if (*npos >= maxpos && c->secret_args)
				return fail(c, EXIT_USAGE,
					    "unexpected argument (not "
					    "shown: it may be a secret; see --help)");
			if (*npos >= maxpos)
				return fail(c, EXIT_USAGE,
					    "unexpected argument '%.60s' "
					    "(see --help)",
					    a);
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(c->usage, stdout);
			return EXIT_OK;
		}
		if (strncmp(a, "--", 2) != 0 && c->secret_args)
			return fail(c, EXIT_USAGE,
				    "unknown option (not shown: it may "
				    "be a secret; see --help)");
		if (strncmp(a, "--", 2) != 0)
			return fail(c, EXIT_USAGE,
				    "unknown option '%.60s' (see --help)", a);
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		struct opt *o = find_opt(opts, nopts, name, len);
		if (o == NULL && c->secret_args)
			return fail(c, EXIT_USAGE,
				    "unknown option (not shown: it may "
				    "be a secret; see --help)");
		if (o == NULL)
			return fail(c, EXIT_USAGE,
				    "unknown option '--%.*s' (see --help)",
				    (int)(len > 60 ? 60 : len), name);
		if (o->seen)
			return fail(c, EXIT_USAGE, "--%s given twice", o->name);
		o->seen = true;
		if (o->kind == OPT_FLAG) {
			if (eq)
				return fail(c, EXIT_USAGE, "--%s takes no value",
					    o->name);
			*(bool *)o->dest = true;
			continue;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (v == NULL) {
			/* "--config --date D": the next option is not a value. */
			if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)
				return fail(c, EXIT_USAGE, "--%s needs a value",
					    o->name);
			v = argv[++i];
		}
		int rc = set_value(c, o, v);
		if (rc >= 0)
			return rc;
	}
	for (size_t i = 0; i < nopts; i++)
		if (opts[i].required && !opts[i].seen)
			return fail(c, EXIT_USAGE, "--%s is required (see --help)",
				    opts[i].name);
	return -1;
}

int cli_dispatch(const char *group, const char *usage, bool secret_args,
		 const struct cli_sub *subs, size_t n, int argc, char **argv)
{
	bool json = false;
	struct cmd_ctx c = {
	    .name = group, .usage = usage, .json = &json, .secret_args = secret_args};
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(argv[1], subs[i].name) == 0) {
			char name[48];
			snprintf(name, sizeof name, "%s %s", group, subs[i].name);
			c.name = name;
			return subs[i].fn(&c, argc - 1, argv + 1);
		}
	}
	return fail(&c, EXIT_USAGE, "unknown command '%.20s' (see jpki %s --help)",
		    argv[1], group);
}
