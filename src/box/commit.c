/* diff, commit and export of a box (commit.h). */
#include "commit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "../common/cleanup.h"
#include "../image/image_create.h"
#include "../image/instr.h"
#include "../image/layer_write.h"
#include "../image/rootfs.h"
#include "../store/events.h"
#include "../store/state.h"

/* The box, held still: a stopped one's start lock, a running one paused
 * (when asked); released by hold_release. */
struct hold {
	struct bx_box_record rec;
	int start_lock;
	bool paused_here;
	char ref[256];
};

static int hold_box(const struct bx_paths *p, const char *ref, bool pause, struct hold *h, struct bx_err *err)
{
	memset(h, 0, sizeof(*h));
	h->start_lock = -1;
	snprintf(h->ref, sizeof(h->ref), "%s", ref);
	if (bx_state_lookup(p, ref, &h->rec, err) < 0)
		return -1;
	if (h->rec.status == BX_BOX_REMOVING)
		return bx_fail(err, 0, "box %s is being removed", ref);
	if (!bx_box_is_running(&h->rec)) {
		if ((h->start_lock = bx_state_start_lock(h->rec.box_dir, err)) < 0 ||
		    bx_state_lookup(p, h->rec.id, &h->rec, err) < 0)
			return -1;
		if (!bx_box_is_running(&h->rec))
			return 0;
		close(h->start_lock); /* it started before we held the lock */
		h->start_lock = -1;
	}
	if (pause && h->rec.status == BX_BOX_RUNNING) {
		if (bx_box_pause(h->rec.id, &h->rec, true, err) < 0)
			return -1;
		h->paused_here = true;
	}
	return 0;
}

static int hold_release(struct hold *h, struct bx_err *err)
{
	int rc = 0;
	if (h->paused_here) {
		struct bx_err e2 = {0};
		if (bx_box_pause(h->rec.id, &h->rec, false, &e2) < 0) {
			if (err)
				*err = e2;
			rc = -1;
		}
		h->paused_here = false;
	}
	if (h->start_lock >= 0)
		close(h->start_lock);
	h->start_lock = -1;
	return rc;
}

/* What holds the box's changes: its overlayfs upper dir, or for a box
 * whose root is a private copy (no overlayfs) that copy, compared with the
 * image's tree (*copy). lower: the image's tree (its rootfs-cache entry). */
static int open_layers(const struct bx_paths *p, const struct bx_box_record *r, int *upper, int *lower, bool *copy,
		       struct bx_err *err)
{
	struct bx_rootfs_info info;
	int rc = bx_rootfs_info_read(r->box_dir, &info, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return bx_fail(err, 0, "box %.12s has no record of its changes (no rootfs.json): it was not made from an image here",
			       r->id);
	*copy = !info.overlay;
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, *copy ? "%s/rootfs" : "%s/overlay/upper", r->box_dir) < 0)
		return -1;
	if ((*upper = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	if (bx_path_join(path, sizeof(path), err, "%s/rootfs-cache/%s", p->data, info.chain + 7) < 0)
		return -1;
	if ((*lower = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return bx_fail(err, errno, "cannot open the box's image tree %s (was it collected? remove the box)", path);
	return 0;
}

int bx_box_changes(const struct bx_paths *p, const char *ref, struct bx_change **out, size_t *n, struct bx_err *err)
{
	struct hold h;
	int rc = -1;
	_cleanup_close_ int upper = -1, lower = -1;
	bool copy;
	if (hold_box(p, ref, false, &h, err) == 0 && open_layers(p, &h.rec, &upper, &lower, &copy, err) == 0)
		rc = bx_changes(upper, lower, copy, out, n, err);
	hold_release(&h, NULL);
	return rc;
}

/* Docker's created_by of a commit: the box's path and args joined by spaces */
static char *command_line(json_t *boxcfg)
{
	size_t len = 1, i;
	json_t *v, *args = json_object_get(boxcfg, "Args");
	const char *path = json_string_value(json_object_get(boxcfg, "Path"));
	len += path ? strlen(path) : 0;
	json_array_foreach(args, i, v) len += 1 + (json_string_value(v) ? strlen(json_string_value(v)) : 0);
	char *s = calloc(1, len);
	if (!s)
		return NULL;
	strcat(s, path ? path : "");
	json_array_foreach(args, i, v) {
		if (*s)
			strcat(s, " ");
		strcat(s, json_string_value(v) ? json_string_value(v) : "");
	}
	return s;
}

/* The image's "config" for the commit: the parent's, with what the box ran
 * with (as Docker takes the container's Config), then the -c changes. */
static json_t *commit_config(const struct bx_paths *p, const struct bx_image *parent, json_t *boxcfg,
			     char *const *changes, struct bx_err *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (bx_blob_read(p, parent->id, BX_CONFIG_MAX, &buf, &len, err) < 0)
		return NULL;
	_cleanup_json_ json_t *pdoc = json_loadb(buf, len, 0, NULL);
	json_t *pc = json_object_get(pdoc, "config");
	json_t *c = json_is_object(pc) ? json_deep_copy(pc) : json_object();
	json_t *bc = json_object_get(boxcfg, "Config");
	static const char *const keys[] = {"Hostname", "User", "Tty", "OpenStdin", "Env", "Cmd", "Image",
					   "Volumes", "WorkingDir", "Entrypoint", "Labels", "Healthcheck"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(bc, keys[i]);
		if (v)
			json_object_set(c, keys[i], v);
		else if (!strcmp(keys[i], "Cmd") || !strcmp(keys[i], "Entrypoint"))
			json_object_set_new(c, keys[i], json_null());
	}
	const char *sig = json_string_value(json_object_get(bc, "StopSignal"));
	if (sig && *sig)
		json_object_set_new(c, "StopSignal", json_string(sig));
	for (size_t i = 0; changes && changes[i]; i++) {
		struct bx_instr in;
		if (bx_instr_parse(changes[i], &in, err) < 0 || bx_instr_apply_change(c, &in, err) < 0) {
			bx_instr_free(&in);
			json_decref(c);
			return NULL;
		}
		bx_instr_free(&in);
	}
	return c;
}

int bx_box_commit(const struct bx_paths *p, const char *ref, const struct bx_commit_opts *o, char id[BX_DIGEST_SIZE],
		  struct bx_err *err)
{
	struct hold h;
	struct bx_image parent = {0};
	json_t *boxcfg = NULL, *cfg = NULL;
	char *created_by = NULL;
	struct bx_new_layer layer = {.blob.fd = -1};
	_cleanup_close_ int upper = -1, lower = -1;
	bool copy = false;
	int rc = -1;
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	size_t len;
	/* the changes are checked before the box is paused: a typo costs nothing */
	json_t *probe = json_object();
	for (size_t i = 0; o->changes && o->changes[i]; i++) {
		struct bx_instr in;
		int r = bx_instr_parse(o->changes[i], &in, err) < 0 || bx_instr_apply_change(probe, &in, err) < 0 ? -1 : 0;
		bx_instr_free(&in);
		if (r < 0) {
			json_decref(probe);
			return -1;
		}
	}
	json_decref(probe);
	char norm[512];
	if (o->repo_tag && bx_image_ref_normalize(o->repo_tag, norm, sizeof(norm), err) < 0)
		return -1;
	if (hold_box(p, ref, o->pause, &h, err) < 0)
		goto out;
	if (bx_image_lookup(p, h.rec.image_id, &parent, err) < 0) {
		bx_wrap(err, "box %s's image", ref);
		goto out;
	}
	if (bx_path_join(path, sizeof(path), err, "%s/config.json", h.rec.box_dir) < 0 ||
	    bx_read_file(path, &text, &len, err) < 0)
		goto out;
	if (!(boxcfg = json_loadb(text, len, 0, NULL))) {
		bx_fail(err, 0, "%s is corrupt", path);
		goto out;
	}
	if (o->config)
		cfg = json_incref(o->config);
	else if (!(cfg = commit_config(p, &parent, boxcfg, o->changes, err)))
		goto out;
	if (!(created_by = o->created_by ? strdup(o->created_by) : command_line(boxcfg))) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	if (open_layers(p, &h.rec, &upper, &lower, &copy, err) < 0 ||
	    bx_layer_from_tree(p, upper, true, copy ? lower : -1, &layer, err) < 0)
		goto out;
	if (hold_release(&h, err) < 0) { /* thawed as soon as its changes are read */
		bx_blob_writer_abort(&layer.blob);
		goto out;
	}
	struct bx_image_new n = {.parent = &parent, .config = cfg, .created_by = created_by, .comment = o->comment,
				 .author = o->author, .layer = &layer, .name = o->repo_tag};
	if (bx_image_create(p, &n, id, err) < 0)
		goto out;
	/* Docker's container event, with what it names */
	bx_event_box(h.rec.box_dir, "commit",
		     (const char *const[]){"comment", o->comment ? o->comment : "", "imageID", id, "imageRef",
					   o->repo_tag ? norm : "", NULL},
		     NULL);
	rc = 0;
out:
	hold_release(&h, NULL);
	bx_image_free(&parent);
	json_decref(boxcfg);
	json_decref(cfg);
	free(created_by);
	return rc;
}

static int fd_sink(void *ctx, const void *buf, size_t len, struct bx_err *err)
{
	int fd = *(int *)ctx;
	const char *c = buf;
	while (len) {
		ssize_t n = write(fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bx_fail(err, errno, "cannot write the archive");
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

int bx_box_export(const struct bx_paths *p, const char *ref, int out_fd, struct bx_err *err)
{
	struct hold h;
	int rc = -1;
	char path[PATH_MAX], diff_id[BX_DIGEST_SIZE];
	long long size;
	_cleanup_close_ int root = -1;
	if (hold_box(p, ref, false, &h, err) < 0)
		goto out;
	if (bx_rootfs_ensure(h.rec.box_dir, err) < 0 || bx_path_join(path, sizeof(path), err, "%s/rootfs", h.rec.box_dir) < 0)
		goto out;
	if ((root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		bx_fail(err, errno, "cannot open %s", path);
		goto out;
	}
	rc = bx_tree_tar(root, false, -1, fd_sink, &out_fd, diff_id, &size, err);
out:
	hold_release(&h, NULL);
	return rc;
}
