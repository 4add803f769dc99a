/* The error enum's text and the detail buffer. */
#include <stdarg.h>
#include <stdio.h>

#include "jpki/err.h"
#include "banned.h"

const char *jpki_strerror(jpki_err e)
{
	switch (e) {
	case JPKI_OK:
		return "success";
	case JPKI_ERR_INVALID:
		return "invalid input";
	case JPKI_ERR_RANGE:
		return "out of range";
	case JPKI_ERR_REFUSED:
		return "refused by a rule";
	case JPKI_ERR_NOMEM:
		return "out of memory";
	case JPKI_ERR_CONFIG:
		return "bad configuration";
	case JPKI_ERR_NOTFOUND:
		return "not found";
	case JPKI_ERR_IO:
		return "input/output error";
	case JPKI_ERR_INTERNAL:
		return "internal error";
	case JPKI_ERR_CONFLICT:
		return "already exists";
	case JPKI_ERR_CRYPTO:
		return "cryptographic failure";
	case JPKI_ERR_STORE:
		return "database failure";
	case JPKI_ERR_PASSPHRASE:
		return "wrong passphrase";
	default:
		return "unknown error";
	}
}

jpki_err jpki_errf(struct jpki_errbuf *eb, jpki_err e, const char *fmt, ...)
{
	if (eb == NULL)
		return e;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		eb->msg[0] = '\0';
	/* A truncated detail is still a useful one; vsnprintf terminated it. */
	return e;
}
