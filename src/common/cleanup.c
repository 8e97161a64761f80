/* Release helpers behind the cleanup attributes (cleanup.h). */
#include "cleanup.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* A cleanup runs as a function returns: it must not change the errno its
 * caller may still read. */
#define KEEP_ERRNO(stmt)                \
	do {                            \
		int saved_errno = errno; \
		stmt;                   \
		errno = saved_errno;    \
	} while (0)

void bx_freep(void *p)
{
	KEEP_ERRNO(free(*(void **)p));
}

void bx_closep(int *fd)
{
	if (*fd >= 0)
		KEEP_ERRNO(close(*fd));
}

void bx_closedirp(DIR **d)
{
	if (*d)
		KEEP_ERRNO(closedir(*d));
}

void bx_fclosep(FILE **f)
{
	if (*f)
		KEEP_ERRNO(fclose(*f));
}

void bx_json_decrefp(struct json_t **j)
{
	KEEP_ERRNO(json_decref(*j));
}

void bx_child_reapp(pid_t *pid)
{
	if (*pid <= 0)
		return;
	int saved_errno = errno;
	kill(*pid, SIGKILL);
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = saved_errno;
}
