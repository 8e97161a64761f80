/* /containers/ID/archive of the Engine API (docker cp): GET a tar of a path
 * in the box with its stat in X-Docker-Container-Path-Stat, HEAD that
 * header alone, PUT a tar (spooled to a temp file by upload.c) unpacked
 * into a directory of the box. Through the box's guest, as `boxvm cp` does
 * with a running box (box/cp_guest.h); the guest's tar goes to the client
 * as it comes, for the client to unpack (as Docker's does). A box that is
 * not running is read and written on the host (box/cp_root.h,
 * box/cp_host.h) with its start held off, as `boxvm cp` does. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "base64.h"
#include "pipestream.h"
#include "../box/cp_guest.h"
#include "../box/cp_host.h"
#include "../box/cp_root.h"
#include "../image/rootfs.h"
#include "../store/state.h"
#include "../client/exec_client.h"

/* Go's os.FileMode, which Docker's path stat carries, from st_mode */
static unsigned long long go_mode(unsigned m)
{
	unsigned long long g = m & 0777;
	if (S_ISDIR(m))
		g |= 1ULL << 31;
	else if (S_ISLNK(m))
		g |= 1ULL << 27;
	else if (S_ISFIFO(m))
		g |= 1ULL << 25;
	else if (S_ISSOCK(m))
		g |= 1ULL << 24;
	else if (S_ISBLK(m))
		g |= 1ULL << 26;
	else if (S_ISCHR(m))
		g |= (1ULL << 26) | (1ULL << 21);
	if (m & S_ISUID)
		g |= 1ULL << 23;
	if (m & S_ISGID)
		g |= 1ULL << 22;
	if (m & S_ISVTX)
		g |= 1ULL << 20;
	return g;
}

/* "/a/b/" -> dir "/a", name "b"; "/" -> dir "/", name "." (dir and name: PATH_MAX bytes) */
static void split(const char *path, char *dir, char *name)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	char *slash = strrchr(p, '/');
	if (!slash) {
		strcpy(dir, ".");
		strcpy(name, p);
	} else if (slash == p && !p[1]) {
		strcpy(dir, "/");
		strcpy(name, ".");
	} else {
		strcpy(name, slash + 1);
		if (slash == p)
			strcpy(dir, "/");
		else {
			*slash = 0;
			strcpy(dir, p);
		}
	}
}

/* The box and the path; a reply when not. A box that is not running is
 * read on the host with its start held off (*lock, as `boxvm cp` holds
 * it) for as long as the copy runs; one that runs (or starts before the
 * lock is held) through its guest (*lock -1). */
static bool prepare(struct api_req *r, const char *ref, bool into_box, struct bx_box_record *box, const char **path,
		    int *lock, enum MHD_Result *ret)
{
	struct bx_err err = {0};
	*lock = -1;
	*path = api_arg(r, "path");
	if (bx_state_lookup(&r->p, ref, box, &err) < 0) {
		*ret = err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", ref) : api_fail(r, &err);
		return false;
	}
	if (!*path || !**path) {
		*ret = api_error(r, 400, "bad parameter: path cannot be empty");
		return false;
	}
	if (strlen(*path) >= PATH_MAX) {
		*ret = api_error(r, 400, "bad parameter: path is longer than %d bytes", PATH_MAX - 1);
		return false;
	}
	if (box->status == BX_BOX_REMOVING) {
		*ret = api_error(r, 409, "container %s is being removed", ref);
		return false;
	}
	if (!bx_box_is_running(box) && ((*lock = bx_state_start_lock(box->box_dir, &err)) < 0 ||
					bx_state_lookup(&r->p, box->id, box, &err) < 0)) {
		*ret = api_fail(r, &err);
		goto fail;
	}
	bool running = bx_box_is_running(box);
	if (running && *lock >= 0) { /* it started before we held the lock: through its guest */
		close(*lock);
		*lock = -1;
	}
	if (bx_cp_check_box_path(box, *path, into_box, running, &err) < 0) {
		*ret = api_error(r, 400, "%s", err.msg);
		goto fail;
	}
	/* a paused box's guest cannot answer */
	if (running && bx_cli_running_box(box->id, "cp", box, &err) < 0) {
		*ret = api_error(r, 409, "%s", err.msg);
		goto fail;
	}
	return true;
fail:
	if (*lock >= 0)
		close(*lock);
	*lock = -1;
	return false;
}

/* A stopped box's root: path's parent (or "/") opened in it, *name what to
 * pack there, and its lstat; a reply when not there */
static bool root_open(struct api_req *r, const char *ref, const struct bx_box_record *box, const char *path,
		      char *name, int *sdir, struct bx_cp_stat *st, enum MHD_Result *ret)
{
	struct bx_err err = {0};
	char rootfs[PATH_MAX], dir[PATH_MAX];
	*sdir = -1;
	if (bx_rootfs_ensure(box->box_dir, &err) < 0 ||
	    bx_path_join(rootfs, sizeof(rootfs), &err, "%s/rootfs", box->box_dir) < 0) {
		*ret = api_fail(r, &err);
		return false;
	}
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		*ret = api_error(r, 500, "cannot open the root of container %s", ref);
		return false;
	}
	split(path, dir, name);
	*sdir = bx_cp_root_open_src(root, dir, name, false, path, &err);
	close(root);
	struct stat sb;
	if (*sdir < 0 || fstatat(*sdir, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
		bool missing = *sdir < 0 ? err.errnum == ENOENT || err.errnum == ENOTDIR : errno == ENOENT;
		*ret = missing ? api_error(r, 404, "Could not find the file %s in container %s", path, ref)
			       : api_error(r, 500, "cannot stat %s in container %s", path, ref);
		if (*sdir >= 0)
			close(*sdir);
		*sdir = -1;
		return false;
	}
	memset(st, 0, sizeof(*st));
	st->size = sb.st_size;
	st->mode = sb.st_mode;
	st->mtime_s = sb.st_mtim.tv_sec;
	if (S_ISLNK(sb.st_mode)) {
		ssize_t n = readlinkat(*sdir, name, st->link, sizeof(st->link) - 1);
		st->link[n > 0 ? n : 0] = 0;
	}
	return true;
}

/* the guest's stat of path, or a reply (404 when it is not there) */
static bool path_stat(struct api_req *r, const char *ref, const struct bx_box_record *box, const char *path,
		      struct bx_cp_stat *st, enum MHD_Result *ret)
{
	struct bx_err err = {0};
	int found = bx_cp_guest_stat(box, path, st, &err);
	if (found > 0)
		return true;
	*ret = found < 0 ? api_fail(r, &err) : api_error(r, 404, "Could not find the file %s in container %s", path, ref);
	return false;
}

/* X-Docker-Container-Path-Stat: Docker's PathStat JSON, base64 */
static void add_stat_header(struct MHD_Response *resp, const char *path, const struct bx_cp_stat *st)
{
	char dir[PATH_MAX], name[PATH_MAX], mtime[64];
	split(path, dir, name);
	time_t t = (time_t)st->mtime_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(mtime, sizeof(mtime), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *o = json_pack("{s:s,s:I,s:I,s:s,s:s}", "name", !strcmp(name, ".") && !strcmp(dir, "/") ? "/" : name,
			      "size", (json_int_t)st->size, "mode", (json_int_t)go_mode(st->mode), "mtime", mtime,
			      "linkTarget", st->link);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	size_t tl = text ? strlen(text) : 0, bl = (tl + 2) / 3 * 4 + 1;
	char *b64 = text ? malloc(bl) : NULL;
	if (b64 && api_base64_encode(text, tl, b64, bl) >= 0)
		MHD_add_response_header(resp, "X-Docker-Container-Path-Stat", b64);
	free(text);
	free(b64);
}

struct pack {
	struct bx_box_record box;
	char dir[PATH_MAX], name[PATH_MAX];
	int sdir, lock; /* a stopped box: the directory packed from, and its start lock */
};

static int pack_run(void *ctx, int fd)
{
	struct pack *pk = ctx;
	struct bx_err err = {0};
	if (pk->sdir >= 0)
		return bx_cp_root_tar(pk->sdir, pk->name, fd, &err);
	/* the guest's complaints are not the client's stream; the exit code says enough */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct bx_relay_opts o = {.in_fd = -1, .out_fd = fd, .err_fd = null, .what = "box"};
	int code = null < 0 ? -1 : bx_cp_guest_pack(&pk->box, pk->dir, pk->name, false, false, &o, &err);
	if (null >= 0)
		close(null);
	return code == 0 ? 0 : -1;
}

static void pack_done(void *ctx, int rc)
{
	struct pack *pk = ctx;
	if (pk->sdir >= 0)
		close(pk->sdir);
	if (pk->lock >= 0)
		close(pk->lock); /* the box may start again */
	free(pk);
}

static enum MHD_Result get(struct api_req *r, const char *ref, const struct bx_box_record *box, const char *path,
			   bool head, int lock)
{
	enum MHD_Result ret;
	struct bx_cp_stat st;
	struct pack *pk = calloc(1, sizeof(*pk));
	if (!pk) {
		if (lock >= 0)
			close(lock);
		return api_error(r, 500, "out of memory");
	}
	pk->box = *box;
	pk->lock = lock;
	pk->sdir = -1;
	bool found = lock >= 0 ? root_open(r, ref, box, path, pk->name, &pk->sdir, &st, &ret)
			       : path_stat(r, ref, box, path, &st, &ret);
	if (!found) {
		pack_done(pk, -1);
		return ret;
	}
	struct MHD_Response *resp;
	if (head) {
		pack_done(pk, 0);
		resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	} else {
		if (lock < 0)
			split(path, pk->dir, pk->name);
		resp = api_pipe_response(r, pack_run, pack_done, pk); /* (pack_done when it cannot start) */
	}
	if (!resp)
		return api_error(r, 500, "cannot start the copy");
	add_stat_header(resp, path, &st);
	MHD_add_response_header(resp, "Content-Type", "application/x-tar");
	return api_reply(r, 200, resp);
}

/* PUT into a box that is not running: unpacked into its root on the host by
 * a child process (the unpacking changes the working directory, which the
 * service's threads share), its verdict back through a shared page */
static enum MHD_Result put_root(struct api_req *r, const char *ref, const struct bx_box_record *box, const char *path)
{
	struct bx_err err = {0};
	char rootfs[PATH_MAX];
	if (bx_rootfs_ensure(box->box_dir, &err) < 0 ||
	    bx_path_join(rootfs, sizeof(rootfs), &err, "%s/rootfs", box->box_dir) < 0)
		return api_fail(r, &err);
	struct bx_err *verdict = mmap(NULL, sizeof(*verdict), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (verdict == MAP_FAILED)
		return api_error(r, 500, "cannot map memory");
	memset(verdict, 0, sizeof(*verdict));
	int in = open(r->up_path, O_RDONLY | O_CLOEXEC), st = 0;
	pid_t pid = in < 0 ? -1 : fork();
	if (pid == 0)
		_exit(bx_cp_tar_into_root(rootfs, in, path, verdict) < 0 ? 1 : 0);
	if (in >= 0)
		close(in);
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	err = *verdict;
	munmap(verdict, sizeof(*verdict));
	if (pid < 0)
		return api_error(r, 500, "cannot start the copy into container %s", ref);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return api_empty(r, 200);
	if (err.errnum == ENOENT)
		return api_error(r, 404, "Could not find the file %s in container %s", path, ref);
	if (err.errnum == ENOTDIR)
		return api_error(r, 400, "extraction point is not a directory");
	return api_error(r, err.msg[0] && !err.errnum ? 400 : 500, "%s", err.msg[0] ? err.msg : "the copy failed");
}

static enum MHD_Result put(struct api_req *r, const char *ref, const struct bx_box_record *box, const char *path,
			   int lock)
{
	struct bx_err err = {0};
	enum MHD_Result ret;
	if (api_upload_check(r, &ret)) {
		if (lock >= 0)
			close(lock);
		return ret;
	}
	if (lock >= 0) {
		ret = put_root(r, ref, box, path);
		close(lock); /* the box may start again */
		return ret;
	}
	struct bx_cp_stat st;
	if (!path_stat(r, ref, box, path, &st, &ret))
		return ret;
	if (!S_ISDIR(st.mode))
		return api_error(r, 400, "extraction point is not a directory");
	int in = open(r->up_path, O_RDONLY | O_CLOEXEC);
	int errfd = bx_cp_guest_capture("cp-put-err"), out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int code = -1;
	if (in < 0 || errfd < 0 || out < 0)
		bx_fail(&err, errno, "cannot open the request body");
	else {
		struct bx_relay_opts o = {.in_fd = in, .out_fd = out, .err_fd = errfd, .what = "box"};
		code = bx_cp_guest_unpack(box, path, "", &o, &err);
	}
	char msg[512] = "";
	if (code > 0 && errfd >= 0)
		bx_cp_guest_said(errfd, msg, sizeof(msg));
	if (in >= 0)
		close(in);
	if (errfd >= 0)
		close(errfd);
	if (out >= 0)
		close(out);
	if (code < 0)
		return api_fail(r, &err);
	if (code)
		return api_error(r, 400, "Error processing tar file(exit status %d): %s", code, msg[0] ? msg : "the box's tar failed");
	return api_empty(r, 200);
}

enum MHD_Result api_archive(struct api_req *r, const char *ref)
{
	const char *m = r->method, *path;
	bool get_m = !strcmp(m, "GET"), head = !strcmp(m, "HEAD"), put_m = !strcmp(m, "PUT");
	if (!get_m && !head && !put_m)
		return api_error(r, 404, "page not found");
	struct bx_box_record box;
	enum MHD_Result ret;
	int lock;
	if (!prepare(r, ref, put_m, &box, &path, &lock, &ret))
		return ret;
	return put_m ? put(r, ref, &box, path, lock) : get(r, ref, &box, path, head, lock);
}
