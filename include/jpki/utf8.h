/* openjpki — UTF-8 text checks. */
#ifndef JPKI_UTF8_H
#define JPKI_UTF8_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The number of characters (code points) in the n bytes at s, or -1 when
 * they are not valid UTF-8: overlong forms, surrogates, code points above
 * U+10FFFF and NUL bytes are all invalid. */
ssize_t jpki_utf8_chars(const char *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif
