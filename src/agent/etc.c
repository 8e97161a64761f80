/* The box's /etc/hostname, /etc/hosts and /etc/resolv.conf, written into its
 * own rootfs copy before main starts (and before a --read-only remount).
 * An image's symlink there (e.g. to a systemd-resolved stub) is replaced by
 * a file, as Docker's bind-mounted files replace it. Failures are logged, not
 * fatal: an image without /etc still runs. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void agent_etc_write(const char *path, const char *text)
{
	if (agent_mkdir_p("/etc", 0755) < 0) {
		agent_err("mkdir /etc: %s", strerror(errno));
		return;
	}
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		agent_err("write %s: %s", path, strerror(errno));
		return;
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			agent_err("write %s: %s", path, strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	close(fd);
}

void agent_write_etc(const struct bx_spec *spec)
{
	if (spec->hostname && *spec->hostname) {
		char line[300];
		snprintf(line, sizeof(line), "%s\n", spec->hostname);
		agent_etc_write("/etc/hostname", line);
	}
	if (spec->etc_hosts)
		agent_etc_write("/etc/hosts", spec->etc_hosts);
	if (spec->etc_resolv)
		agent_etc_write("/etc/resolv.conf", spec->etc_resolv);
}
