/* The box's /etc/passwd and /etc/group, which every spawn child reads to
 * resolve its user (HOME, groups). Over virtiofs each read is an open and a
 * flush round trip to the host, 2-7 ms of an exec under TCG, for files that
 * rarely change: PID 1 keeps what it read while stat says the file is the
 * same one, unchanged.
 *
 * Unchanged means the same device, inode, size, mtime and ctime. A file
 * whose mtime or ctime is within USERDB_SETTLE_S of now is not kept (git's
 * "racily clean" rule): a same-size rewrite within the clock's granularity
 * would keep its times. On the box's rootfs (cache=always) the guest is the
 * only writer, so its own stat is exact; on a share or an OCI bundle's root
 * (cache=auto) a host-side edit shows once the attributes are revalidated,
 * within a second, which is that cache mode's contract for every read. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define USERDB_MAX (1u << 20) /* a larger file is read by each child, never kept */
#define USERDB_SETTLE_S 2     /* the guest's clock may be this far from the writer's */

char *agent_slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);
	if (!buf) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (fd >= 0) {
		for (;;) {
			if (len == cap) {
				char *nb = realloc(buf, cap * 2 + 1);
				if (!nb)
					break;
				buf = nb;
				cap *= 2;
			}
			ssize_t n = read(fd, buf + len, cap - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		close(fd);
	}
	buf[len] = '\0';
	return buf;
}

struct kept {
	const char *path;
	char *text; /* NULL: nothing kept */
	struct stat st;
};

static struct kept kept[] = {{"/etc/passwd", NULL, {0}}, {"/etc/group", NULL, {0}}};

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static bool settled(const struct stat *st)
{
	struct timespec now;
	if (clock_gettime(CLOCK_REALTIME, &now) < 0)
		return false;
	/* a time ahead of ours (the host's clock, or ours stepped back) is not settled either */
	return st->st_mtim.tv_sec + USERDB_SETTLE_S < now.tv_sec && st->st_ctim.tv_sec + USERDB_SETTLE_S < now.tv_sec;
}

const char *agent_userdb_text(const char *path)
{
	struct kept *k = NULL;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]) && !k; i++)
		if (!strcmp(kept[i].path, path))
			k = &kept[i];
	struct stat st;
	if (!k || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > USERDB_MAX || !settled(&st)) {
		if (k) {
			free(k->text);
			k->text = NULL;
		}
		return NULL; /* the child reads it (or finds it missing) itself */
	}
	if (k->text && same_file(&k->st, &st))
		return k->text;
	free(k->text);
	k->text = agent_slurp(path);
	struct stat after;
	/* changed while it was read: not kept */
	if (k->text && (stat(path, &after) < 0 || !same_file(&st, &after))) {
		free(k->text);
		k->text = NULL;
	}
	k->st = st;
	return k->text;
}
