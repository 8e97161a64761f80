/* BOXVM_DEBUG, read the same way by every host process (debug.h). */
#include "debug.h"

#include <stdlib.h>
#include <string.h>

bool bx_debug_enabled(void)
{
	const char *d = getenv("BOXVM_DEBUG");
	return d && *d && strcmp(d, "0");
}
