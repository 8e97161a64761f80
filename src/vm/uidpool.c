/* Dynamic user ids for the boxes' QEMU processes (uidpool.h). */
#include "uidpool.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/paths.h"

/* Is the id somebody's in the user or group database? */
static bool named(uid_t id)
{
	char buf[4096];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	getpwuid_r(id, &pw, buf, sizeof(buf), &pwp);
	if (pwp)
		return true;
	getgrgid_r((gid_t)id, &gr, buf, sizeof(buf), &grp);
	return grp != NULL;
}

int bx_uid_lease_take(const char *lock_dir, uid_t base, unsigned count, struct bx_uid_lease *l, struct bx_err *err)
{
	l->lock_fd = -1;
	if (mkdir(lock_dir, 0700) < 0 && errno != EEXIST)
		return bx_fail(err, errno, "cannot create %s", lock_dir);
	_cleanup_close_ int dir = open(lock_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0)
		return bx_fail(err, errno, "cannot open %s", lock_dir);
	/* the lowest free id first: the lock files stay as few as the most
	 * boxes ever run at once */
	for (unsigned i = 0; i < count; i++) {
		uid_t id = base + i;
		char name[16];
		snprintf(name, sizeof(name), "%u", (unsigned)id);
		_cleanup_close_ int fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return bx_fail(err, errno, "cannot open %s/%s", lock_dir, name);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno == EWOULDBLOCK)
				continue;
			return bx_fail(err, errno, "cannot lock %s/%s", lock_dir, name);
		}
		if (named(id)) /* an account took it since: never run QEMU as someone */
			continue;
		l->uid = id;
		l->lock_fd = BX_TAKE_FD(fd);
		return 0;
	}
	return bx_fail(err, EAGAIN, "all %u user ids for QEMU processes are in use", count);
}

void bx_uid_lease_release(struct bx_uid_lease *l)
{
	if (l->lock_fd >= 0)
		close(l->lock_fd);
	l->lock_fd = -1;
}

int bx_kvm_group(mode_t mode, gid_t owner_gid, gid_t *group)
{
	if ((mode & (S_IROTH | S_IWOTH)) == (S_IROTH | S_IWOTH))
		return 0;
	if ((mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP) && owner_gid != 0) {
		*group = owner_gid;
		return 1;
	}
	return -1;
}
