/* UTF-8 validation and counting (RFC 3629). */
#include "jpki/utf8.h"
#include "banned.h"

ssize_t jpki_utf8_chars(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	ssize_t chars = 0;
	while (p < end) {
		unsigned c = *p;
		int more;
		unsigned min;
		if (c == 0)
			return -1;
		if (c < 0x80) {
			p++;
			chars++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			more = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3, min = 0x10000, c &= 0x07;
		} else {
			return -1;
		}
		if (end - p <= more)
			return -1;
		for (int i = 1; i <= more; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return -1;
		p += more + 1;
		chars++;
	}
	return chars;
}
