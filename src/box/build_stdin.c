/* A build context from stdin: a tar unpacked, or a lone Dockerfile (build_stdin.h). */
#include "build_stdin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/archive_sniff.h"
#include "../common/cleanup.h"
#include "../common/tar_extract.h"
#include "../image/dockerfile.h"

/* directories of earlier stdin builds whose process is gone (killed before
 * it could remove its own) */
static void sweep_stale(const char *tmp)
{
	DIR *d = opendir(tmp);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int pid, end = 0;
		if (sscanf(e->d_name, "stdin-%d-%n", &pid, &end) == 1 && end && pid > 0 && kill(pid, 0) < 0 &&
		    errno == ESRCH)
			bx_rm_at(dirfd(d), e->d_name);
	}
	closedir(d);
}

static ssize_t read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (!r)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int write_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The archive is the head already read, then the rest of fd: a child
 * process feeds both through a pipe to the extraction, so stdin needs no
 * seeking and no copy on disk. */
static int unpack(int fd, const unsigned char *head, size_t nhead, const char *dest, struct bx_err *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return bx_fail(err, errno, "cannot make a pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return bx_fail(err, errno, "cannot fork");
	}
	if (pid == 0) {
		close(pfd[0]);
		/* the extraction stops reading at the archive's end (a tar's
		 * padding may follow): EPIPE then is no failure of ours */
		signal(SIGPIPE, SIG_IGN);
		static unsigned char buf[1 << 16];
		if (write_full(pfd[1], head, nhead) < 0)
			_exit(0);
		for (;;) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				_exit(r < 0);
			if (write_full(pfd[1], buf, (size_t)r) < 0)
				_exit(0);
		}
	}
	close(pfd[1]);
	int rc = bx_archive_extract_fd_max(pfd[0], dest, "the build context from stdin", BX_BUILD_STDIN_MAX, err);
	close(pfd[0]); /* a feeder still writing gets EPIPE */
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		rc = bx_fail(err, 0, "cannot read the build context from stdin");
	return rc;
}

/* stdin is no archive: it is the Dockerfile, alone in the context (Docker
 * writes it to a temporary context the same way) */
static int lone_dockerfile(int fd, const unsigned char *head, size_t nhead, const char *context, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/Dockerfile", context) < 0)
		return -1;
	_cleanup_close_ int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0)
		return bx_fail(err, errno, "cannot create %s", path);
	size_t total = nhead;
	if (write_full(out, head, nhead) < 0)
		return bx_fail(err, errno, "cannot write %s", path);
	unsigned char buf[1 << 14]; /* not static: the API service reads bodies side by side */
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bx_fail(err, errno, "cannot read the Dockerfile from stdin");
		if (!r)
			return 0;
		if ((total += (size_t)r) > BX_DOCKERFILE_MAX)
			return bx_fail(err, E2BIG, "the Dockerfile is larger than %u bytes", BX_DOCKERFILE_MAX);
		if (write_full(out, buf, (size_t)r) < 0)
			return bx_fail(err, errno, "cannot write %s", path);
	}
}

int bx_build_stdin_open(const struct bx_paths *p, int fd, struct bx_build_stdin *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	char tmp[PATH_MAX];
	if (bx_path_join(tmp, sizeof(tmp), err, "%s/buildtmp", p->data) < 0 || bx_mkdir_p(tmp, 0700, err) < 0)
		return -1;
	sweep_stale(tmp);
	if (bx_path_join(out->dir, sizeof(out->dir), err, "%s/stdin-%d-XXXXXX", tmp, (int)getpid()) < 0)
		return -1;
	if (!mkdtemp(out->dir)) { /* 0700: the context below it is private */
		int e = errno;
		out->dir[0] = '\0';
		return bx_fail(err, e, "cannot make a directory in %s", tmp);
	}
	unsigned char head[BX_SNIFF_HEAD];
	ssize_t n;
	int rc = -1;
	if (bx_path_join(out->context, sizeof(out->context), err, "%s/ctx", out->dir) < 0)
		;
	else if (mkdir(out->context, 0755) < 0)
		bx_fail(err, errno, "cannot make %s", out->context);
	else if ((n = read_full(fd, head, sizeof(head))) < 0)
		bx_fail(err, errno, "cannot read the build context from stdin");
	else if ((out->archive = bx_archive_sniff(head, (size_t)n)))
		rc = unpack(fd, head, (size_t)n, out->context, err);
	else
		rc = lone_dockerfile(fd, head, (size_t)n, out->context, err);
	if (rc < 0)
		bx_build_stdin_remove(out);
	return rc;
}

void bx_build_stdin_remove(struct bx_build_stdin *s)
{
	struct bx_err e2;
	if (s->dir[0] && bx_rm_rf(s->dir, &e2) < 0)
		fprintf(stderr, "boxvm: cannot remove %s: %s\n", s->dir, e2.msg);
	s->dir[0] = '\0';
}
