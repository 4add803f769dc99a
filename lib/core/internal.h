/* Internals shared by the files of lib/core (prefix jpkii_). Not installed. */
#ifndef JPKI_CORE_INTERNAL_H
#define JPKI_CORE_INTERNAL_H

#include "jpki/date.h"

/* Exactly n ASCII digits at s as a number; -1 if any is not a digit. */
int jpkii_digits(const char *s, int n);

#endif
