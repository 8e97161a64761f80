/* POST /commit, GET /containers/ID/changes and GET /containers/ID/export:
 * the Engine API's side of box/commit.h (the same calls as `boxvm commit`,
 * `diff` and `export`); POST /images/create?fromSrc=- (`docker import`: the
 * body, spooled by upload.c, as `boxvm import` reads a file). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "pipestream.h"
#include "../box/commit.h"
#include "../image/image_create.h"
#include "../store/state.h"

#define COMMIT_CHANGES_MAX 64

struct changes_arg {
	char *v[COMMIT_CHANGES_MAX + 1];
	size_t n;
	bool too_many;
};

/* every "changes" query value (docker's client sends one per -c); a value
 * with newlines holds one instruction per line, as Docker's API reads it */
static enum MHD_Result collect_change(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct changes_arg *c = cls;
	if (strcmp(key, "changes") || !value)
		return MHD_YES;
	const char *s = value;
	while (*s) {
		size_t len = strcspn(s, "\n");
		if (len && !(c->n < COMMIT_CHANGES_MAX && (c->v[c->n++] = strndup(s, len)))) {
			c->too_many = true;
			return MHD_NO;
		}
		s += len + (s[len] == '\n');
	}
	return MHD_YES;
}

static bool no_such_box(const struct bx_err *err)
{
	return err->errnum == ENOENT && !strncmp(err->msg, "no such box", 11);
}

enum MHD_Result api_commit(struct api_req *r)
{
	struct bx_err err = {0};
	const char *box = api_arg(r, "container"), *repo = api_arg(r, "repo"), *tag = api_arg(r, "tag");
	if (!box || !*box)
		return api_error(r, 400, "give container=NAME|ID to commit");
	struct changes_arg c = {0};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_change, &c);
	enum MHD_Result ret;
	if (c.too_many) {
		ret = api_error(r, 400, "more than %d changes", COMMIT_CHANGES_MAX);
		goto out;
	}
	char ref[600] = "";
	if (repo && *repo)
		snprintf(ref, sizeof(ref), "%s%s%s", repo, tag && *tag ? ":" : "", tag && *tag ? tag : "");
	const char *pause = api_arg(r, "pause");
	struct bx_commit_opts o = {.repo_tag = *ref ? ref : NULL, .comment = api_arg(r, "comment"),
				   .author = api_arg(r, "author"), .pause = !pause || api_arg_bool(r, "pause"),
				   .changes = c.v};
	char id[BX_DIGEST_SIZE];
	if (bx_box_commit(&r->p, box, &o, id, &err) < 0)
		ret = no_such_box(&err) ? api_error(r, 404, "No such container: %s", box) : api_error(r, 400, "%s", err.msg);
	else
		ret = api_json(r, 201, json_pack("{s:s}", "Id", id));
out:
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i]);
	return ret;
}

enum MHD_Result api_changes(struct api_req *r, const char *id)
{
	struct bx_err err = {0};
	struct bx_change *c = NULL;
	size_t n = 0;
	if (bx_box_changes(&r->p, id, &c, &n, &err) < 0)
		return no_such_box(&err) ? api_error(r, 404, "No such container: %s", id) : api_fail(r, &err);
	/* Docker's: null, not [], for a box without changes */
	json_t *a = n ? json_array() : json_null();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:i}", "Path", c[i].path, "Kind", (int)c[i].kind));
	bx_changes_free(c, n);
	return a ? api_json(r, 200, a) : api_error(r, 500, "out of memory");
}

struct export_job {
	struct bx_paths p;
	char id[256];
};

static int export_run(void *ctx, int fd)
{
	struct export_job *j = ctx;
	struct bx_err err = {0};
	if (bx_box_export(&j->p, j->id, fd, &err) < 0) {
		if (err.errnum != EPIPE)
			fprintf(stderr, "boxvm: export %s: %s\n", j->id, err.msg);
		return -1;
	}
	return 0;
}

static void export_done(void *ctx, int rc)
{
	free(ctx);
}

enum MHD_Result api_export(struct api_req *r, const char *id)
{
	struct bx_err err = {0};
	struct bx_box_record rec;
	if (bx_state_lookup(&r->p, id, &rec, &err) < 0)
		return err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", id) : api_fail(r, &err);
	struct export_job *j = calloc(1, sizeof(*j));
	if (!j)
		return api_error(r, 500, "out of memory");
	j->p = r->p;
	snprintf(j->id, sizeof(j->id), "%s", rec.id);
	struct MHD_Response *resp = api_pipe_response(r, export_run, export_done, j);
	if (!resp)
		return api_error(r, 500, "cannot start the export");
	MHD_add_response_header(resp, "Content-Type", "application/x-tar");
	return api_reply(r, 200, resp);
}

enum MHD_Result api_images_import(struct api_req *r)
{
	struct bx_err err = {0};
	enum MHD_Result ret;
	if (api_upload_check(r, &ret))
		return ret;
	const char *src = api_arg(r, "fromSrc"), *repo = api_arg(r, "repo"), *tag = api_arg(r, "tag");
	const char *plat = api_arg(r, "platform");
	if (strcmp(src, "-"))
		return api_error(r, 400, "import from a URL is not supported: download %s and send it as the body", src);
	if (plat && *plat && strcmp(plat, "linux/amd64") && strcmp(plat, "linux") && strcmp(plat, "amd64"))
		return api_error(r, 400, "platform %s: boxvm runs linux/amd64 images only", plat);
	struct changes_arg c = {0};
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_change, &c);
	char ref[600] = "";
	if (repo && *repo)
		snprintf(ref, sizeof(ref), "%s%s%s", repo, tag && *tag ? ":" : "", tag && *tag ? tag : "");
	char id[BX_DIGEST_SIZE];
	int fd = c.too_many ? -1 : open(r->up_path, O_RDONLY | O_CLOEXEC);
	if (c.too_many)
		ret = api_error(r, 400, "more than %d changes", COMMIT_CHANGES_MAX);
	else if (fd < 0)
		ret = api_error(r, 500, "cannot read the request body back");
	else if (bx_image_import(&r->p, fd, *ref ? ref : NULL, c.v, api_arg(r, "message"), id, &err) < 0)
		ret = err.errnum && err.errnum != EFBIG ? api_fail(r, &err) : api_error(r, 400, "%s", err.msg);
	else {
		/* Docker's body: one JSON message, the new image's ID as its status */
		char *line = NULL;
		if (asprintf(&line, "{\"status\":\"%s\"}\r\n", id) < 0)
			ret = api_error(r, 500, "out of memory");
		else {
			struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(line), line, MHD_RESPMEM_MUST_FREE);
			if (!resp) {
				free(line);
				ret = api_error(r, 500, "out of memory");
			} else {
				MHD_add_response_header(resp, "Content-Type", "application/json");
				ret = api_reply(r, 200, resp);
			}
		}
	}
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < c.n; i++)
		free(c.v[i]);
	return ret;
}
