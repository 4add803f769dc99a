/* Control for uses_sprintf.c: the same file with snprintf compiles. */
#include <stdio.h>

#include "banned.h"

int f(char *buf);
int f(char *buf)
{
	return snprintf(buf, 2, "%d", 1);
}
