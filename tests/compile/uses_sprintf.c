/* Must NOT compile: banned.h turns sprintf into an error (tests/CMakeLists.txt). */
#include <stdio.h>

#include "banned.h"

int f(char *buf);
int f(char *buf)
{
	return sprintf(buf, "%d", 1);
}
