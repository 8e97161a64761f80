/* A process's privileges, set in the spawn child before exec (spawn.c):
 * main's sysctls (BX_T_SYSCTL), its capability sets (BX_T_CAPS), no_new_privs
 * and its seccomp filter (BX_T_SECCOMP, BPF the host compiled). The order is runc's:
 * the bounding set is dropped while still root, the user changes, then the
 * other sets are set (for an OCI process they were kept across the change
 * with PR_SET_KEEPCAPS; otherwise the kernel has already cleared a non-root
 * user's permitted and effective sets, which is Docker's result). */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* the kernel's capset ABI (linux/capability.h, which musl does not ship) */
#define CAP_VERSION_3 0x20080522
struct cap_header {
	uint32_t version;
	int pid;
};
struct cap_data {
	uint32_t effective, permitted, inheritable;
};

/* --sysctl: each "key=value" into /proc/sys (dots are its directories),
 * as runc writes them before the process starts. The host checked the keys
 * against Docker's list; a key that would leave /proc/sys is refused anyway. */
static int write_sysctls(const struct bx_spec *spec, struct bx_err *err)
{
	for (size_t i = 0; i < spec->nsysctls; i++) {
		const char *kv = spec->sysctls[i], *eq = strchr(kv, '=');
		char path[512];
		if (!eq || eq == kv || memchr(kv, '/', (size_t)(eq - kv)) || strstr(kv, "..") ||
		    snprintf(path, sizeof(path), "/proc/sys/%.*s", (int)(eq - kv), kv) >= (int)sizeof(path))
			return bx_fail(err, EINVAL, "invalid sysctl %s", kv);
		for (char *c = path + strlen("/proc/sys/"); *c; c++)
			if (*c == '.')
				*c = '/';
		int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		ssize_t len = (ssize_t)strlen(eq + 1);
		if (fd < 0 || write(fd, eq + 1, (size_t)len) != len) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			/* runc's words; Docker reads "no such file" as 127, "permission" as 126 */
			return bx_fail_code(err, e == ENOENT ? 127 : e == EACCES || e == EPERM ? 126 : BX_EXIT_ERROR, e,
					    "open %s: %s", path, strerror(e));
		}
		close(fd);
	}
	return 0;
}

/* the kernel's seccomp ABI (linux/seccomp.h, linux/filter.h: not in musl) */
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_MODE_FILTER 2
struct sock_filter {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
struct sock_fprog {
	unsigned short len;
	struct sock_filter *filter;
};

int agent_seccomp_install(const struct bx_spec *spec, struct bx_err *err)
{
	if (!spec->nseccomp)
		return 0;
	/* the decoder bounded it to BX_SECCOMP_MAX_INSNS; the kernel checks the program itself */
	struct sock_filter *f = calloc(spec->nseccomp, sizeof(*f));
	if (!f)
		return bx_fail(err, ENOMEM, "seccomp filter");
	for (size_t i = 0; i < spec->nseccomp; i++)
		f[i] = (struct sock_filter){spec->seccomp[i].code, spec->seccomp[i].jt, spec->seccomp[i].jf,
					    spec->seccomp[i].k};
	struct sock_fprog prog = {.len = (unsigned short)spec->nseccomp, .filter = f};
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	if (rc < 0 && errno == ENOSYS)
		rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	int e = errno;
	free(f);
	if (rc < 0)
		return bx_fail(err, e, "error loading seccomp filter into kernel");
	return 0;
}

/* Docker's masked paths (runc's maskPath): /dev/null bound over a file, an
 * empty read-only tmpfs over a directory; one the kernel lacks is skipped.
 * The box shares the agent's mount namespace, so this is done once, by
 * main's child (after its sysctls), and holds for every exec; the agent
 * itself writes nothing there later. */
static int mask_paths(const struct bx_spec *spec, struct bx_err *err)
{
	for (size_t i = 0; i < spec->nmasked_paths; i++) {
		const char *p = spec->masked_paths[i];
		if (mount("/dev/null", p, NULL, MS_BIND, NULL) == 0 || errno == ENOENT)
			continue;
		if (errno != ENOTDIR || mount("tmpfs", p, "tmpfs", MS_RDONLY, NULL) < 0)
			return bx_fail(err, errno, "mask %s", p);
	}
	for (size_t i = 0; i < spec->nreadonly_paths; i++) {
		const char *p = spec->readonly_paths[i];
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return bx_fail(err, errno, "bind %s read-only", p);
		}
		/* runc's remount keeps the flags the bind already has */
		struct statvfs st;
		unsigned long keep = 0;
		if (statvfs(p, &st) == 0)
			keep = (st.f_flag & ST_NOSUID ? MS_NOSUID : 0) | (st.f_flag & ST_NODEV ? MS_NODEV : 0) |
			       (st.f_flag & ST_NOEXEC ? MS_NOEXEC : 0);
		if (mount(p, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep, NULL) < 0)
			return bx_fail(err, errno, "bind %s read-only", p);
	}
	return 0;
}

/* --oom-score-adj: as runc writes it for the process (while still root:
 * lowering it takes CAP_SYS_RESOURCE) */
static int oom_score_adj(const struct bx_spec *spec, struct bx_err *err)
{
	if (!spec->oom_score_adj_set)
		return 0;
	char v[16];
	int len = snprintf(v, sizeof(v), "%d", (int)spec->oom_score_adj);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, v, (size_t)len) != len) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return bx_fail(err, e, "set oom_score_adj %s", v);
	}
	close(fd);
	return 0;
}

int agent_privs_before_user(const struct bx_spec *spec, struct bx_err *err)
{
	if (write_sysctls(spec, err) < 0 || mask_paths(spec, err) < 0 || oom_score_adj(spec, err) < 0)
		return -1;
	/* without no_new_privs, loading a filter takes CAP_SYS_ADMIN: runc loads
	 * it then before any capability goes (with it, as late as possible: spawn.c) */
	if (!spec->no_new_privs && agent_seccomp_install(spec, err) < 0)
		return -1;
	const struct bx_spec_caps *c = &spec->caps;
	if (!c->set)
		return 0;
	for (int cap = 0; cap < 64; cap++) {
		if (c->bounding & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break; /* past this kernel's last capability */
			return bx_fail(err, errno, "drop capability %d from the bounding set", cap);
		}
	}
	if (c->keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return bx_fail(err, errno, "keep capabilities across the change of user");
	return 0;
}

int agent_privs_after_user(const struct bx_spec *spec, uid_t uid, struct bx_err *err)
{
	const struct bx_spec_caps *c = &spec->caps;
	if (c->set && (c->keep || uid == 0)) {
		struct cap_header h = {.version = CAP_VERSION_3, .pid = 0};
		struct cap_data d[2] = {
			{(uint32_t)c->effective, (uint32_t)c->permitted, (uint32_t)c->inheritable},
			{(uint32_t)(c->effective >> 32), (uint32_t)(c->permitted >> 32), (uint32_t)(c->inheritable >> 32)},
		};
		if (syscall(SYS_capset, &h, d) < 0)
			return bx_fail(err, errno, "unable to apply caps");
		/* one not in inheritable (runc's own default config lists ambient
		 * caps and no inheritable ones) cannot be raised: skipped, as runc does */
		for (int cap = 0; cap < 64; cap++)
			if (c->ambient & (1ULL << cap))
				prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
	}
	if (spec->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return bx_fail(err, errno, "set no_new_privs");
	return 0;
}
