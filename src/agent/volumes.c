/* Bind mounts, volumes and tmpfs inside the guest (see agent.h). */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHARES_DIR "/boxvm/shares"

int agent_shares_attach(const struct bx_spec *spec, bool pool, int *fds, struct bx_err *err)
{
	for (size_t i = 0; i < spec->nmounts; i++) {
		const struct bx_spec_mount *m = &spec->mounts[i];
		fds[i] = -1;
		if (m->kind == BX_SM_TMPFS)
			continue;
		char dir[256], path[4096];
		if (snprintf(dir, sizeof(dir), SHARES_DIR "/%s", m->source) >= (int)sizeof(dir) || strchr(m->source, '/'))
			return bx_fail(err, 0, "bad share tag '%s'", m->source);
		if (agent_mkdir_p(dir, 0755) < 0)
			return bx_fail(err, errno, "mkdir %s", dir);
		if (mount(m->source, dir, "virtiofs", m->ro ? MS_RDONLY : 0, NULL) < 0)
			return bx_fail(err, errno, "mount virtiofs tag %s for %s", m->source, m->target);
		/* a pool VM's spare share: the host mounted the directory on its "s" at the claim */
		if (snprintf(path, sizeof(path), "%s%s%s%s", dir, pool ? "/s" : "", m->kind == BX_SM_FILE ? "/" : "",
			     m->kind == BX_SM_FILE ? m->options : "") >= (int)sizeof(path))
			return bx_fail(err, ENAMETOOLONG, "%s", m->target);
		if ((fds[i] = open(path, O_PATH | O_CLOEXEC)) < 0)
			return bx_fail(err, errno, "open the source of %s", m->target);
		agent_info("share %s ready for %s", m->source, m->target);
	}
	return 0;
}

/* Docker's tmpfs defaults are nosuid,nodev,noexec; flags in the options
 * override them, the rest (size=, mode=, ...) goes to tmpfs. */
static int mount_tmpfs(const struct bx_spec_mount *m, struct bx_err *err)
{
	unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
	char data[256] = "", opts[256];
	snprintf(opts, sizeof(opts), "%s", m->options);
	size_t used = 0;
	for (char *save = NULL, *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "ro")) flags |= MS_RDONLY;
		else if (!strcmp(o, "rw")) flags &= ~(unsigned long)MS_RDONLY;
		else if (!strcmp(o, "exec")) flags &= ~(unsigned long)MS_NOEXEC;
		else if (!strcmp(o, "noexec")) flags |= MS_NOEXEC;
		else if (!strcmp(o, "suid")) flags &= ~(unsigned long)MS_NOSUID;
		else if (!strcmp(o, "nosuid")) flags |= MS_NOSUID;
		else if (!strcmp(o, "dev")) flags &= ~(unsigned long)MS_NODEV;
		else if (!strcmp(o, "nodev")) flags |= MS_NODEV;
		else used += (size_t)snprintf(data + used, sizeof(data) - used, "%s%s", used ? "," : "", o);
		if (used >= sizeof(data))
			return bx_fail(err, 0, "tmpfs options too long for %s", m->target);
	}
	if (mount("tmpfs", m->target, "tmpfs", flags, data) < 0)
		return bx_fail(err, errno, "mount tmpfs on %s (options '%s')", m->target, m->options);
	return 0;
}

/* The mount point: a directory, or for a file an (empty) file. */
static int make_target(const char *target, bool file, struct bx_err *err)
{
	if (!file) {
		if (agent_mkdir_p(target, 0755) < 0)
			return bx_fail(err, errno, "create mount point %s", target);
		return 0;
	}
	char parent[4096];
	snprintf(parent, sizeof(parent), "%s", target);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (agent_mkdir_p(parent, 0755) < 0)
			return bx_fail(err, errno, "create mount point %s", parent);
	}
	int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0 && errno != EISDIR)
		return bx_fail(err, errno, "create mount point %s", target);
	if (fd >= 0)
		close(fd);
	return 0;
}

int agent_mounts_apply(const struct bx_spec *spec, int *fds, struct bx_err *err)
{
	for (size_t i = 0; i < spec->nmounts; i++) {
		const struct bx_spec_mount *m = &spec->mounts[i];
		if (make_target(m->target, m->kind == BX_SM_FILE, err) < 0)
			return -1;
		if (m->kind == BX_SM_TMPFS) {
			if (mount_tmpfs(m, err) < 0)
				return -1;
		} else {
			/* the fd's magic link reaches the share hidden in the initramfs */
			char src[64];
			snprintf(src, sizeof(src), "/proc/self/fd/%d", fds[i]);
			if (mount(src, m->target, NULL, MS_BIND, NULL) < 0)
				return bx_fail(err, errno, "bind %s on %s", m->source, m->target);
			/* a bind mount gets its own flags: make :ro hold here too */
			if (m->ro && mount(NULL, m->target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
				return bx_fail(err, errno, "make %s read-only", m->target);
			close(fds[i]);
			fds[i] = -1;
		}
		agent_info("mounted %s on %s%s", m->kind == BX_SM_TMPFS ? "tmpfs" : m->source, m->target,
			   m->ro ? " (ro)" : "");
	}
	return 0;
}

int agent_root_readonly(struct bx_err *err)
{
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return bx_fail(err, errno, "remount / read-only");
	return 0;
}
