/* Fuzz target: office calendar files (INI), and a year of queries on
 * whatever parses. */
#include <stddef.h>
#include <stdint.h>

#include "jpki/office.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jpki_office *o = NULL;
	if (size > 16384 ||
	    jpki_office_parse((const char *)data, size, &o, NULL) != JPKI_OK)
		return 0;
	struct jpki_office_day od;
	jpki_day from = jpki_day_from_ymd_unchecked(2026, 1, 1);
	for (jpki_day d = from; d < from + 400; d++)
		if (jpki_office_day(o, d, &od) == JPKI_OK && od.open && od.hours.n == 0)
			__builtin_trap(); /* open without hours */
	struct jpki_reservable r;
	(void)jpki_reservable(o, from + 90, (int64_t)from * 86400 + 36000, &r, NULL);
	jpki_office_free(o);
	return 0;
}
