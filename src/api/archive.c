/* /containers/ID/archive of the Engine API (docker cp): GET a tar of a path
 * in the box with its stat in X-Docker-Container-Path-Stat, HEAD that
 * header alone, PUT a tar (spooled to a temp file by upload.c) unpacked
 * into a directory of the box. Through the box's guest, as `boxvm cp` does
 * with a running box (box/cp_guest.h); the guest's tar goes to the client
 * as it comes, for the client to unpack (as Docker's does). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "base64.h"
#include "pipestream.h"
#include "../box/cp_guest.h"
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

/* the box, running, and the path; a reply when not */
static bool prepare(struct api_req *r, const char *ref, struct bx_box_record *box, const char **path,
		    enum MHD_Result *ret)
{
	struct bx_err err = {0};
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
	if (!bx_box_is_running(box)) {
		*ret = api_error(r, 409, "container %s is not running: boxvm's API copies to and from running boxes "
					 "(use boxvm cp for a stopped one)", ref);
		return false;
	}
	/* a paused box's guest cannot answer */
	if (bx_cli_running_box(box->id, "cp", box, &err) < 0) {
		*ret = api_error(r, 409, "%s", err.msg);
		return false;
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
};

static int pack_run(void *ctx, int fd)
{
	struct pack *pk = ctx;
	struct bx_err err = {0};
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
	free(ctx);
}

static enum MHD_Result get(struct api_req *r, const char *ref, const struct bx_box_record *box, const char *path,
			   bool head)
{
	enum MHD_Result ret;
	struct bx_cp_stat st;
	if (!path_stat(r, ref, box, path, &st, &ret))
		return ret;
	struct MHD_Response *resp;
	if (head) {
		resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	} else {
		struct pack *pk = calloc(1, sizeof(*pk));
		if (!pk)
			return api_error(r, 500, "out of memory");
		pk->box = *box;
		split(path, pk->dir, pk->name);
		resp = api_pipe_response(r, pack_run, pack_done, pk);
	}
	if (!resp)
		return api_error(r, 500, "cannot start the copy");
	add_stat_header(resp, path, &st);
	MHD_add_response_header(resp, "Content-Type", "application/x-tar");
	return api_reply(r, 200, resp);
}

static enum MHD_Result put(struct api_req *r, const char *ref, const struct bx_box_record *box, const char *path)
{
	struct bx_err err = {0};
	enum MHD_Result ret;
	if (api_upload_check(r, &ret))
		return ret;
	struct bx_cp_stat st;
	if (!path_stat(r, ref, box, path, &st, &ret))
		return ret;
	if (!S_ISDIR(st.mode))
		return api_error(r, 400, "extraction point is not a directory");
	int in = open(r->up_path, O_RDONLY | O_CLOEXEC);
	int errfd = memfd_create("cp-put-err", MFD_CLOEXEC), out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int code = -1;
	if (in < 0 || errfd < 0 || out < 0)
		bx_fail(&err, errno, "cannot open the request body");
	else {
		struct bx_relay_opts o = {.in_fd = in, .out_fd = out, .err_fd = errfd, .what = "box"};
		code = bx_cp_guest_unpack(box, path, "", &o, &err);
	}
	char msg[512] = "";
	if (code > 0 && errfd >= 0) {
		ssize_t m = pread(errfd, msg, sizeof(msg) - 1, 0);
		msg[m > 0 ? m : 0] = 0;
		msg[strcspn(msg, "\n")] = 0;
	}
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
	if (!prepare(r, ref, &box, &path, &ret))
		return ret;
	return put_m ? put(r, ref, &box, path) : get(r, ref, &box, path, head);
}
