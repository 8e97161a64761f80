/* GET /images/NAME/get and /images/get?names= (docker save: the archive
 * `boxvm save` writes, image/image_save.c, streamed as it is made) and POST
 * /images/load (docker load: the body, spooled to a temp file by upload.c,
 * imported as `boxvm load` does; Docker's {"stream":"Loaded image: ..."}
 * lines). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "pipestream.h"
#include "../image/image.h"
#include "../image/image_inspect.h"
#include "../store/events.h"

#define SAVE_NAMES_MAX 256

struct save {
	struct bx_paths p;
	char **refs;
	size_t n;
};

static int save_run(void *ctx, int fd)
{
	struct save *s = ctx;
	struct bx_err err = {0};
	if (bx_image_save_fd(&s->p, s->refs, s->n, fd, &err) < 0) {
		if (err.errnum != EPIPE) /* not a client that hung up */
			fprintf(stderr, "boxvm: image save: %s\n", err.msg);
		return -1;
	}
	/* Docker's "save" event, one per image (by its ID) */
	for (size_t i = 0; i < s->n; i++) {
		struct bx_image img;
		if (bx_image_lookup(&s->p, s->refs[i], &img, NULL) < 0)
			continue;
		bx_event_emit(s->p.data, "image", "save", img.id, (const char *const[]){"name", img.id, NULL}, NULL);
		bx_image_free(&img);
	}
	return 0;
}

static void save_done(void *ctx, int rc)
{
	struct save *s = ctx;
	bx_strv_free(s->refs);
	free(s);
}

static int collect_name(struct save *s, const char *name, struct bx_err *err)
{
	if (s->n >= SAVE_NAMES_MAX)
		return bx_fail(err, EINVAL, "more than %d names to save", SAVE_NAMES_MAX);
	return bx_strv_push(&s->refs, &s->n, name, err);
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct save *s = cls;
	if (!strcmp(key, "names") && value && *value && collect_name(s, value, NULL) < 0)
		return MHD_NO;
	return MHD_YES;
}

enum MHD_Result api_images_get(struct api_req *r, const char *name)
{
	struct bx_err err = {0};
	struct save *s = calloc(1, sizeof(*s));
	if (!s)
		return api_error(r, 500, "out of memory");
	s->p = r->p;
	if (name)
		collect_name(s, name, &err);
	else
		MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_arg, s);
	if (!s->n) {
		save_done(s, -1);
		return api_error(r, 400, "no image to save: give names=IMAGE");
	}
	/* every name is resolved before a byte goes out: a missing one is a 404 in Docker's words */
	if (bx_image_save_check(&r->p, s->refs, s->n, &err) < 0) {
		const char *missing = NULL;
		for (size_t i = 0; i < s->n && !missing && err.errnum == ENOENT; i++) {
			struct bx_image img;
			struct bx_err e2 = {0};
			if (bx_image_lookup(&r->p, s->refs[i], &img, &e2) == 0)
				bx_image_free(&img);
			else if (e2.errnum == ENOENT)
				missing = s->refs[i];
		}
		enum MHD_Result ret = missing ? api_error(r, 404, "No such image: %s", missing)
				      : err.errnum == ENOENT ? api_error(r, 404, "%s", err.msg) : api_fail(r, &err);
		save_done(s, -1);
		return ret;
	}
	struct MHD_Response *resp = api_pipe_response(r, save_run, save_done, s);
	if (!resp)
		return api_error(r, 500, "cannot start the save");
	MHD_add_response_header(resp, "Content-Type", "application/x-tar");
	return api_reply(r, 200, resp);
}

enum MHD_Result api_images_load(struct api_req *r)
{
	struct bx_err err = {0};
	enum MHD_Result ret;
	if (api_upload_check(r, &ret))
		return ret;
	char **names = NULL;
	if (bx_image_load_tar(&r->p, r->up_path, "the request body", &names, &err) < 0) {
		/* a bad archive is the client's (its reason has no errno); the rest ours or the host's */
		return err.errnum ? api_error(r, 500, "%s", err.msg) : api_error(r, 400, "%s", err.msg);
	}
	json_t *lines = json_array();
	for (char **n = names; n && *n; n++) {
		char *line = NULL;
		if (asprintf(&line, "Loaded image: %s\n", *n) >= 0)
			json_array_append_new(lines, json_pack("{s:s}", "stream", line));
		free(line);
		struct bx_image img;
		if (bx_image_lookup(&r->p, *n, &img, NULL) == 0) {
			bx_event_emit(r->p.data, "image", "load", img.id, (const char *const[]){"name", img.id, NULL}, NULL);
			bx_image_free(&img);
		}
		free(*n);
	}
	free(names);
	/* Docker's body: one JSON message a line (the CLI prints each "stream") */
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	size_t i;
	json_t *l;
	if (f) {
		json_array_foreach(lines, i, l) {
			json_dumpf(l, f, JSON_COMPACT);
			fputc('\n', f);
		}
		fclose(f);
	}
	json_decref(lines);
	if (!text)
		return api_error(r, 500, "out of memory");
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return api_error(r, 500, "out of memory");
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return api_reply(r, 200, resp);
}
