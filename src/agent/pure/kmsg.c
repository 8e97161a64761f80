/* Reading the OOM killer's reports out of /dev/kmsg records (kmsg.h). */
#include "kmsg.h"

#include <stdlib.h>
#include <string.h>

int bx_kmsg_oom_pid(const char *rec, size_t len)
{
	char buf[1024];
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, rec, len);
	buf[len] = '\0';
	char *end;
	long pri = strtol(buf, &end, 10);
	if (end == buf || *end != ',' || pri < 0 || (pri >> 3) != 0)
		return -1; /* not the kernel's */
	char *msg = strchr(buf, ';');
	if (!msg)
		return -1;
	msg[strcspn(msg, "\n")] = '\0'; /* the message, not its KEY=VALUE lines */
	/* mm/oom_kill.c: "Out of memory: Killed process %d (%s) ..." and
	 * "Memory cgroup out of memory: Killed process %d (%s) ..." */
	char *k = strstr(msg, "out of memory: Killed process ");
	if (!k && !(k = strstr(msg, "Out of memory: Killed process ")))
		return -1;
	k = strstr(k, "Killed process ") + strlen("Killed process ");
	long pid = strtol(k, &end, 10);
	if (end == k || *end != ' ' || pid <= 0 || pid > 4194304)
		return -1;
	return (int)pid;
}
