/* Fuzz target: the strict date and instant parsers, and 和暦 of whatever
 * they accept. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jpki/date.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[64];
	if (size >= sizeof buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	jpki_day d;
	int64_t t;
	char w[JPKI_WAREKI_BUFSZ], iso[JPKI_DATE_BUFSZ];
	if (jpki_date_parse(buf, &d, NULL) == JPKI_OK) {
		/* Round trip: what parses formats back to the same text. */
		if (strcmp(jpki_date_format(d, iso), buf) != 0)
			__builtin_trap();
		if (jpki_wareki(d, w, sizeof w, NULL, NULL) != JPKI_OK)
			__builtin_trap();
	}
	if (jpki_instant_parse(buf, &t, NULL) == JPKI_OK)
		(void)jpki_jst_day(t);
	return 0;
}
