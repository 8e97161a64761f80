/* Request bodies too large for memory (upload.h in api.h): POST
 * /images/load (a docker save tar) and PUT /containers/ID/archive (a docker
 * cp tar) are written to a temp file in the data dir as they arrive,
 * bounded by API_UPLOAD_MAX, and removed when the request ends. The file is
 * named as `boxvm load`'s spool of stdin (load-stdin.*) and held under a
 * store operation, so the store's sweep removes it only when no request
 * holds it (a service that died mid-upload). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "route.h"
#include "../store/state.h"

bool api_upload_wanted(struct MHD_Connection *conn, const char *method, const char *url)
{
	const char *path;
	if (api_route_split(url, &path, NULL) < 0)
		return false;
	if (!strcmp(method, "POST") && (!strcmp(path, "/images/load") || !strcmp(path, "/build")))
		return true; /* a docker save tar; docker build's context */
	/* docker import: the tarball is the body */
	if (!strcmp(method, "POST") && !strcmp(path, "/images/create") &&
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "fromSrc"))
		return true;
	char id[256];
	const char *action;
	return !strcmp(method, "PUT") && api_route_match(path, "/containers/", id, sizeof(id), &action) &&
	       !strcmp(action, "archive");
}

static int open_file(struct api_req *r)
{
	struct bx_err err = {0};
	if (!r->p.data[0] || (r->up_op = bx_store_op_begin(r->p.data, &err)) < 0 ||
	    bx_path_join(r->up_path, sizeof(r->up_path), &err, "%s/load-stdin.XXXXXX", r->p.data) < 0)
		return -1;
	r->up_fd = mkstemp(r->up_path);
	if (r->up_fd < 0) {
		r->up_path[0] = 0;
		return -1;
	}
	return 0;
}

void api_upload_chunk(struct api_req *r, const char *data, size_t len)
{
	if (r->up_failed || r->up_too_big)
		return; /* the rest is read and dropped: the reply says why */
	if (r->up_len + (long long)len > API_UPLOAD_MAX) {
		r->up_too_big = true;
		return;
	}
	if (r->up_fd < 0 && open_file(r) < 0) {
		r->up_failed = true;
		return;
	}
	while (len) {
		ssize_t n = write(r->up_fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r->up_failed = true; /* a full disk: the reply says so */
			return;
		}
		data += n;
		len -= (size_t)n;
		r->up_len += n;
	}
}

bool api_upload_check(struct api_req *r, enum MHD_Result *ret)
{
	if (r->up_too_big)
		*ret = api_error(r, 413, "the request body is larger than %lld bytes", API_UPLOAD_MAX);
	else if (r->up_failed)
		*ret = api_error(r, 500, "cannot store the request body in %s (is the disk full?)", r->p.data);
	else if (r->up_fd < 0 && open_file(r) < 0) /* an empty body: an empty file */
		*ret = api_error(r, 500, "cannot store the request body in %s", r->p.data);
	else
		return false;
	return true;
}

void api_upload_end(struct api_req *r)
{
	if (r->up_fd >= 0)
		close(r->up_fd);
	if (r->up_path[0])
		unlink(r->up_path);
	if (r->up_op >= 0)
		bx_store_op_end(r->up_op);
	r->up_fd = r->up_op = -1;
	r->up_path[0] = 0;
}
