/* Linux capability names (spec.h): what --cap-add, --cap-drop and an OCI
 * config's process.capabilities spell, in kernel bit order. */
#include <stddef.h>
#include <strings.h>

#include "spec.h"

static const char *const names[BX_CAP_LAST + 1] = {
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
	"LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	"CHECKPOINT_RESTORE",
};

int bx_cap_parse(const char *name)
{
	if (!strncasecmp(name, "CAP_", 4))
		name += 4;
	for (int i = 0; i <= BX_CAP_LAST; i++)
		if (!strcasecmp(name, names[i]))
			return i;
	return -1;
}

const char *bx_cap_name(int n)
{
	return n >= 0 && n <= BX_CAP_LAST ? names[n] : NULL;
}
