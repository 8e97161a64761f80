/* Named volumes: DATA/volumes/<name>/_data (Docker's layout). A volume is
 * created on first use and lives until `volume rm`; it is "in use" while any
 * box (running or not) records it in its vm.json, as Docker refuses to
 * remove a volume a container still references. */
#include "volumes.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/boxid.h"
#include "../common/crashpoint.h"
#include "../common/treesize.h"
#include "../common/treecopy.h"
#include "../vm/mounts.h"
#include "../vm/vmspec.h"
#include "events.h"
#include "state.h"

int bx_volume_dir(const struct bx_paths *p, const char *name, char *out, size_t size, struct bx_err *err)
{
	if (!bx_volume_name_valid(name))
		return bx_fail(err, 0, "invalid volume name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]+", name);
	return bx_path_join(out, size, err, "%s/volumes/%s", p->data, name);
}

int bx_volume_list(const struct bx_paths *p, char (*names)[BX_VOLUME_LIST_NAME], int cap, struct bx_err *err)
{
	char dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), err, "%s/volumes", p->data) < 0)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : bx_fail(err, errno, "cannot list %s", dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < cap) {
		if (e->d_name[0] == '.' || !bx_volume_name_valid(e->d_name) || strlen(e->d_name) >= BX_VOLUME_LIST_NAME)
			continue;
		snprintf(names[n++], BX_VOLUME_LIST_NAME, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

int bx_volume_create(const struct bx_paths *p, const char *name, bool *created, char *data, size_t size,
		     struct bx_err *err)
{
	char dir[PATH_MAX], d[PATH_MAX];
	if (bx_volume_dir(p, name, dir, sizeof(dir), err) < 0 ||
	    bx_path_join(d, sizeof(d), err, "%s/_data", dir) < 0)
		return -1;
	struct stat st;
	bool existed = stat(d, &st) == 0 && S_ISDIR(st.st_mode);
	if (!existed) {
		char parent[PATH_MAX];
		if (bx_path_join(parent, sizeof(parent), err, "%s/volumes", p->data) < 0 ||
		    bx_mkdir_p(parent, 0700, err) < 0)
			return -1;
		/* mkdir of the volume dir is the atomic "create": _data inside it
		 * may be missing only for an instant (concurrent creators both
		 * succeed, the second just finds it) */
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return bx_fail(err, errno, "cannot create volume %s", name);
		if (mkdir(d, 0755) < 0 && errno != EEXIST)
			return bx_fail(err, errno, "cannot create volume %s", name);
	}
	if (created)
		*created = !existed;
	/* Docker logs a create for every use of a name, new or not */
	bx_event_emit(p->data, "volume", "create", name, (const char *const[]){"driver", "local", NULL}, NULL);
	if (data && bx_path_join(data, size, err, "%s", d) < 0)
		return -1;
	return 0;
}

int bx_volume_users(const struct bx_paths *p, const char *name, char *out, size_t size, struct bx_err *err)
{
	out[0] = '\0';
	char boxes[PATH_MAX];
	if (bx_path_join(boxes, sizeof(boxes), err, "%s/boxes", p->data) < 0)
		return -1;
	DIR *d = opendir(boxes);
	if (!d)
		return errno == ENOENT ? 0 : bx_fail(err, errno, "cannot list %s", boxes);
	/* large, and the API service calls this from many threads: not static */
	struct bx_vmspec *vm = malloc(sizeof(*vm));
	if (!vm) {
		closedir(d);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	size_t used = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		if (bx_path_join(path, sizeof(path), NULL, "%s/%s/vm.json", boxes, e->d_name) < 0 ||
		    bx_vmspec_read(path, vm, NULL) < 0)
			continue; /* a box being created or removed right now */
		for (int i = 0; i < vm->nshares; i++) {
			if (strcmp(vm->shares[i].volume, name))
				continue;
			int n = snprintf(out + used, size - used, "%s%.*s", used ? ", " : "", BX_SHORT_ID_LEN, vm->id);
			if (n > 0 && (size_t)n < size - used)
				used += (size_t)n;
			break;
		}
	}
	closedir(d);
	free(vm);
	return 0;
}

static int exists(const struct bx_paths *p, const char *name, char *dir, size_t size, struct bx_err *err)
{
	struct stat st;
	if (bx_volume_dir(p, name, dir, size, err) < 0)
		return -1;
	if (stat(dir, &st) < 0) {
		bx_fail(err, 0, "no such volume: %s", name);
		if (err)
			err->errnum = ENOENT;
		return -1;
	}
	return 0;
}

/* With the store to ourselves (no box is being created meanwhile, which
 * could take the volume between the check and the removal), the volume goes
 * at once, whole (a rename), then is deleted: an rm that dies half-way
 * leaves a hidden .trash- dir the sweep deletes, never a half-emptied volume
 * under its name. */
static int remove_volume_locked(const struct bx_paths *p, const char *name, bool missing_ok, struct bx_err *err)
{
	char dir[PATH_MAX], users[512], trash[PATH_MAX];
	if (exists(p, name, dir, sizeof(dir), err) < 0)
		return missing_ok ? 0 : -1;
	if (bx_volume_users(p, name, users, sizeof(users), err) < 0)
		return -1;
	if (users[0]) {
		bx_fail(err, 0, "remove %s: volume is in use - [%s] (remove those boxes first)", name, users);
		if (err)
			err->errnum = EBUSY; /* told apart by volume prune, which leaves such a volume alone */
		return -1;
	}
	if (bx_path_join(trash, sizeof(trash), err, "%s/volumes/.trash-%s", p->data, name) < 0)
		return -1;
	bx_rm_rf(trash, NULL); /* an earlier rm of the same name that died */
	if (rename(dir, trash) < 0)
		return bx_fail(err, errno, "cannot remove volume %s", name);
	bx_crash_point("volume_rm.moved");
	bx_event_emit(p->data, "volume", "destroy", name, (const char *const[]){"driver", "local", NULL}, NULL);
	return bx_rm_rf(trash, err);
}

int bx_volume_remove(const struct bx_paths *p, const char *name, bool missing_ok, struct bx_err *err)
{
	int lock = bx_store_lock_all(p->data, err);
	if (lock < 0)
		return -1;
	int rc = remove_volume_locked(p, name, missing_ok, err);
	bx_store_op_end(lock);
	return rc;
}

static bool dir_empty(int fd)
{
	DIR *d = bx_dir_stream(fd);
	if (!d)
		return false;
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

int bx_volume_populate(const char *rootfs, const char *target, const char *data, struct bx_err *err)
{
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return bx_fail(err, errno, "cannot open the box's root %s", rootfs);
	int src = bx_open_in_root(root, target, O_RDONLY | O_DIRECTORY);
	close(root);
	if (src < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : bx_fail(err, errno, "cannot read %s in the image", target);
	int dst = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0) {
		close(src);
		return bx_fail(err, errno, "cannot open volume directory %s", data);
	}
	/* two boxes created at once over the same new volume: one copies, the other then finds it full */
	int rc = 0;
	while (flock(dst, LOCK_EX) < 0 && errno == EINTR)
		;
	struct bx_treecopy_opts o = {.keep_owner = true};
	if (dir_empty(dst) && bx_tree_copy_contents(src, dst, &o, err) < 0)
		rc = bx_wrap(err, "cannot copy the image's %s into its volume", target);
	close(dst); /* and the lock */
	close(src);
	return rc;
}

int bx_volume_create_labeled(const struct bx_paths *p, const char *name, json_t *labels, bool *created,
			     struct bx_err *err)
{
	bool made = false;
	if (bx_volume_create(p, name, &made, NULL, 0, err) < 0)
		return -1;
	if (created)
		*created = made;
	if (!made || !json_object_size(labels))
		return 0;
	char dir[PATH_MAX], path[PATH_MAX];
	if (bx_volume_dir(p, name, dir, sizeof(dir), err) < 0 ||
	    bx_path_join(path, sizeof(path), err, "%s/labels.json", dir) < 0)
		return -1;
	char *text = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = bx_write_file_atomic(path, text, strlen(text), 0644, err);
	free(text);
	if (rc < 0) {
		struct bx_err ignored;
		bx_volume_remove(p, name, true, &ignored); /* the create is undone: no volume without its labels */
	}
	return rc;
}

json_t *bx_volume_labels(const struct bx_paths *p, const char *name)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	if (bx_volume_dir(p, name, dir, sizeof(dir), NULL) < 0 || stat(dir, &st) < 0 ||
	    bx_path_join(path, sizeof(path), NULL, "%s/labels.json", dir) < 0)
		return NULL;
	json_t *l = json_load_file(path, 0, NULL);
	if (json_is_object(l))
		return l;
	json_decref(l);
	return json_object();
}

json_t *bx_volume_inspect_json(const struct bx_paths *p, const char *name, struct bx_err *err)
{
	char dir[PATH_MAX], data[PATH_MAX + 8], when[64];
	struct stat st;
	if (exists(p, name, dir, sizeof(dir), err) < 0 || stat(dir, &st) < 0)
		return NULL;
	snprintf(data, sizeof(data), "%s/_data", dir);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&st.st_mtime, &tm));
	json_t *labels = bx_volume_labels(p, name);
	json_t *o = json_pack("{s:s,s:s,s:o,s:s,s:s,s:{},s:s}", "CreatedAt", when, "Driver", "local", "Labels",
			      labels ? labels : json_object(), "Mountpoint", data, "Name", name, "Options", "Scope", "local");
	if (!o)
		bx_fail(err, ENOMEM, "out of memory");
	return o;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

void bx_volume_prune(const struct bx_paths *p, const struct bx_volume_prune_cb *cb)
{
	struct bx_err err = {0};
	enum { MAX = 1024 };
	char(*names)[BX_VOLUME_LIST_NAME] = malloc(MAX * sizeof(*names)); /* large; callers are threads too */
	if (!names) {
		bx_fail(&err, ENOMEM, "out of memory");
		cb->failed(cb->ctx, &err);
		return;
	}
	int n = bx_volume_list(p, names, MAX, &err);
	if (n < 0)
		cb->failed(cb->ctx, &err);
	if (n > 0)
		qsort(names, (size_t)n, sizeof(names[0]), by_name);
	for (int i = 0; i < n; i++) {
		char users[512], dir[PATH_MAX];
		if (bx_volume_users(p, names[i], users, sizeof(users), &err) < 0) {
			cb->failed(cb->ctx, &err);
			continue;
		}
		if (users[0])
			continue;
		json_t *labels = bx_volume_labels(p, names[i]);
		bool pick = !cb->pick || cb->pick(cb->ctx, names[i], labels);
		json_decref(labels);
		if (!pick)
			continue;
		long long bytes = bx_volume_dir(p, names[i], dir, sizeof(dir), NULL) == 0 ? bx_tree_bytes(dir) : 0;
		if (bx_volume_remove(p, names[i], false, &err) < 0) {
			/* a box took it meanwhile (the removal checks again, with the store
			 * to itself), or another client removed it: neither is ours */
			if (err.errnum != EBUSY && err.errnum != ENOENT)
				cb->failed(cb->ctx, &err);
			continue;
		}
		cb->removed(cb->ctx, names[i], bytes);
	}
	free(names);
}
