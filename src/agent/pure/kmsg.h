/* The guest kernel's log records (/dev/kmsg), as far as the agent reads
 * them: the OOM killer's "Killed process PID (NAME) ..." (pure). */
#ifndef BOXVM_AGENT_KMSG_H
#define BOXVM_AGENT_KMSG_H

#include <stddef.h>

/* One record "PRI,SEQ,TIMESTAMP,FLAGS[,...];MESSAGE\n[continuation lines]":
 * the pid the OOM killer killed, or -1 when the record is no such report.
 * Only the kernel's own records count (facility 0): what a process writes to
 * /dev/kmsg is LOG_USER, so it cannot pass for one. */
int bx_kmsg_oom_pid(const char *rec, size_t len);

#endif
