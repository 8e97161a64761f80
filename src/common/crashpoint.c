/* Fault injection for the crash-consistency tests (issue 11) (crashpoint.h). */
#include "crashpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void bx_crash_point(const char *name)
{
	const char *at = getenv("BOXVM_TEST_CRASH_AT");
	if (at && !strcmp(at, name))
		kill(getpid(), SIGKILL);
}
