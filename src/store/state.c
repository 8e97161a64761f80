/* The box state record: JSON codec and locked, atomic reads and writes of
 * DATA/boxes/<id>/state.json. Writers hold an exclusive flock on
 * DATA/boxes/<id>/lock across read-modify-write, so two commands (or a
 * command and the shim) never lose each other's update; readers need no lock
 * because a record is only ever replaced by rename. */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../common/cleanup.h"

static const char *const status_names[] = {
	[BX_BOX_CREATED] = "created", [BX_BOX_RUNNING] = "running", [BX_BOX_RESTARTING] = "restarting",
	[BX_BOX_EXITED] = "exited",   [BX_BOX_REMOVING] = "removing", [BX_BOX_PAUSED] = "paused",
	[BX_BOX_STARTING] = "starting",
};

const char *bx_box_status_name(enum bx_box_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s] : "unknown";
}

const char *bx_box_status_docker(enum bx_box_status s)
{
	return s == BX_BOX_STARTING ? "created" : bx_box_status_name(s);
}

static int status_parse(const char *s, enum bx_box_status *out)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (!strcmp(s, status_names[i])) {
			*out = (enum bx_box_status)i;
			return 0;
		}
	return -1;
}

#define STR_FIELDS(X)                                                                                               \
	X("Id", id) X("Name", name) X("Image", image) X("ImageID", image_id) X("BoxDir", box_dir)                   \
	X("RunDir", run_dir) X("Command", command) X("Error", error)
#define INT_FIELDS(X)                                                                                               \
	X("ExitCode", exit_code) X("Created", created_ns) X("Started", started_ns) X("Finished", finished_ns)       \
	X("ShimPid", shim_pid) X("ShimStartTime", shim_start_time) X("RestartCount", restart_count)
#define BOOL_FIELDS(X)                                                                                              \
	X("AutoRemove", auto_remove) X("ManuallyStopped", manually_stopped) X("HoldOutput", hold_output)           \
	X("OOMKilled", oom_killed)

int bx_state_encode(const struct bx_box_record *r, char **text, struct bx_err *err)
{
	_cleanup_json_ json_t *o = json_object();
	if (!o)
		return bx_fail(err, ENOMEM, "out of memory");
#define PUT_S(k, f) json_object_set_new(o, k, json_string(r->f));
#define PUT_I(k, f) json_object_set_new(o, k, json_integer((json_int_t)r->f));
#define PUT_B(k, f) json_object_set_new(o, k, json_boolean(r->f));
	STR_FIELDS(PUT_S) INT_FIELDS(PUT_I) BOOL_FIELDS(PUT_B)
#undef PUT_S
#undef PUT_I
#undef PUT_B
	json_object_set_new(o, "Status", json_string(bx_box_status_name(r->status)));
	*text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	return *text ? 0 : bx_fail(err, ENOMEM, "cannot encode the state of box %.12s", r->id);
}

int bx_state_decode(const char *text, struct bx_box_record *r, struct bx_err *err)
{
	json_error_t je;
	_cleanup_json_ json_t *o = json_loads(text, 0, &je);
	if (!o)
		return bx_fail(err, 0, "corrupt box state: %s (line %d)", je.text, je.line);
	memset(r, 0, sizeof(*r));
	json_t *v;
	if (!json_is_object(o))
		return bx_fail(err, 0, "corrupt box state: not a JSON object");
#define GET_S(k, f)                                                                                                 \
	if ((v = json_object_get(o, k)) && json_is_string(v) &&                                                     \
	    snprintf(r->f, sizeof(r->f), "%s", json_string_value(v)) >= (int)sizeof(r->f))                           \
		return bx_fail(err, 0, "corrupt box state: \"%s\" is too long", k);
#define GET_I(k, f)                                                                                                 \
	if ((v = json_object_get(o, k)) && json_is_integer(v))                                                      \
		r->f = (__typeof__(r->f))json_integer_value(v);
#define GET_B(k, f) r->f = json_is_true(json_object_get(o, k));
	STR_FIELDS(GET_S) INT_FIELDS(GET_I) BOOL_FIELDS(GET_B)
#undef GET_S
#undef GET_I
#undef GET_B
	v = json_object_get(o, "Status");
	if (!json_is_string(v) || status_parse(json_string_value(v), &r->status) < 0)
		return bx_fail(err, 0, "corrupt box state: bad \"Status\"");
	if (strlen(r->id) != 64 || !r->box_dir[0])
		return bx_fail(err, 0, "corrupt box state: bad \"Id\" or \"BoxDir\"");
	return 0;
}

int bx_state_read(const char *box_dir, struct bx_box_record *r, struct bx_err *err)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	if (bx_path_join(path, sizeof(path), err, "%s/state.json", box_dir) < 0 ||
	    bx_read_file(path, &text, NULL, err) < 0)
		return -1;
	if (bx_state_decode(text, r, err) < 0)
		return bx_wrap(err, "%s", path);
	return 0;
}

static int lock_box(const char *box_dir, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/lock", box_dir) < 0)
		return -1;
	return bx_lock_file(path, LOCK_EX, err);
}

static int write_locked(const struct bx_box_record *r, struct bx_err *err)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	if (bx_path_join(path, sizeof(path), err, "%s/state.json", r->box_dir) < 0 ||
	    bx_state_encode(r, &text, err) < 0)
		return -1;
	return bx_write_file_atomic(path, text, strlen(text), 0600, err);
}

int bx_state_write(const struct bx_box_record *r, struct bx_err *err)
{
	_cleanup_close_ int fd = lock_box(r->box_dir, err);
	if (fd < 0)
		return -1;
	return write_locked(r, err);
}

int bx_state_update(const char *box_dir, bx_state_fn fn, void *ctx, struct bx_box_record *out, struct bx_err *err)
{
	struct bx_box_record r;
	_cleanup_close_ int fd = lock_box(box_dir, err);
	if (fd < 0 || bx_state_read(box_dir, &r, err) < 0)
		return -1;
	int rc = fn(&r, ctx, err); /* > 0: nothing to write */
	if (rc < 0)
		return rc;
	if (rc == 0 && write_locked(&r, err) < 0)
		return -1;
	if (out)
		*out = r;
	return 0;
}

int bx_state_box_dir(const struct bx_paths *p, const char *id, char *out, size_t size, struct bx_err *err)
{
	return bx_path_join(out, size, err, "%s/boxes/%s", p->data, id);
}
