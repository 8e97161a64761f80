/* Finishing what a killed boxvm process left half-done (issue 11, crash
 * consistency). Every operation that changes the store in several steps
 * (creating a box from its reservation to its record, removing, renaming,
 * loading images, deleting volumes) holds DATA/ops.lock shared for its whole
 * length. The sweep takes it exclusively, without waiting: when it gets
 * it, no such operation is in progress anywhere, so whatever is half-done
 * was left by a process that died, and is finished or undone. A lock, not
 * an age: an operation is never mistaken for a leftover however slow it is,
 * and a leftover is never kept for a time. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/boxid.h"
#include "../image/rootfs.h"
#include "../vm/cgroup.h"

/* DATA/ops.lock taken with how; a data dir that cannot be written is told
 * as such: every command that would change it ends here first. */
static int ops_lock(const char *data_dir, int how, struct bx_err *err)
{
	char path[PATH_MAX];
	struct bx_err e = {0};
	if (bx_mkdir_p(data_dir, 0700, err) < 0 || bx_path_join(path, sizeof(path), err, "%s/ops.lock", data_dir) < 0)
		return -1;
	int fd = bx_lock_file(path, how, &e);
	if (fd < 0 && (e.errnum == EROFS || e.errnum == EACCES || e.errnum == EPERM))
		return bx_fail(err, e.errnum, "the data directory %s cannot be written, so boxvm cannot change its boxes, "
			       "images or volumes (remount it read-write, or point BOXVM_ROOT elsewhere)", data_dir);
	if (fd < 0 && err)
		*err = e;
	return fd;
}

int bx_store_op_begin(const char *data_dir, struct bx_err *err)
{
	return ops_lock(data_dir, LOCK_SH, err);
}

int bx_store_lock_all(const char *data_dir, struct bx_err *err)
{
	return ops_lock(data_dir, LOCK_EX, err);
}

void bx_store_op_end(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* A box directory without a record: a create that died before writing it,
 * or a remove that died after deleting it. Its runtime dir and cgroup go too. */
static void remove_recordless(const struct bx_paths *p, const char *id)
{
	char box_dir[PATH_MAX], run_dir[PATH_MAX];
	if (bx_path_join(box_dir, sizeof(box_dir), NULL, "%s/boxes/%s", p->data, id) < 0 ||
	    bx_path_join(run_dir, sizeof(run_dir), NULL, "%s/%.*s", p->run, BX_SHORT_ID_LEN, id) < 0)
		return;
	bx_rm_rf(run_dir, NULL);
	bx_cgroup_remove_box(id);
	bx_box_remove_dir(box_dir, NULL); /* unmounts the overlay rootfs first */
}

static void sweep_boxes(const struct bx_paths *p)
{
	char dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), NULL, "%s/boxes", p->data) < 0)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char box_dir[PATH_MAX], rec_path[PATH_MAX];
		struct stat st;
		if (!bx_boxid_valid(e->d_name) ||
		    bx_path_join(box_dir, sizeof(box_dir), NULL, "%s/%s", dir, e->d_name) < 0 ||
		    bx_path_join(rec_path, sizeof(rec_path), NULL, "%s/state.json", box_dir) < 0)
			continue;
		if (lstat(rec_path, &st) < 0) {
			if (errno == ENOENT)
				remove_recordless(p, e->d_name);
			continue;
		}
		struct bx_box_record r;
		if (bx_state_read(box_dir, &r, NULL) == 0 && r.status == BX_BOX_REMOVING)
			bx_state_remove_locked(p, &r, NULL); /* an rm that died half-way: finish it */
	}
	closedir(d);
}

/* A name whose box is gone (rm died between its steps), or whose box is
 * called otherwise (rename died after reserving the new name, or before
 * releasing the old one). */
static void sweep_names(const struct bx_paths *p)
{
	char dir[PATH_MAX];
	if (bx_path_join(dir, sizeof(dir), NULL, "%s/names", p->data) < 0)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	while (flock(dirfd(d), LOCK_EX) < 0 && errno == EINTR) /* bx_name_reserve's lock */
		;
	struct dirent *e;
	while ((e = readdir(d))) {
		char owner[80], box_dir[PATH_MAX];
		if (e->d_name[0] == '.')
			continue;
		ssize_t n = readlinkat(dirfd(d), e->d_name, owner, sizeof(owner) - 1);
		if (n < 0)
			continue;
		owner[n] = '\0';
		struct bx_box_record r;
		bool keep = bx_boxid_valid(owner) &&
			    bx_path_join(box_dir, sizeof(box_dir), NULL, "%s/boxes/%s", p->data, owner) == 0 &&
			    bx_state_read(box_dir, &r, NULL) == 0 && !strcmp(r.name, e->d_name);
		if (!keep)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* What a load or a volume rm that died left: blobs being hashed, stdin
 * spools, a volume moved aside to be deleted. */
/* Every entry of DATA/sub (sub "": DATA itself) whose name starts with
 * prefix, removed whole (bx_rm_at: no symlink followed, no mount crossed). */
static void remove_prefixed(const struct bx_paths *p, const char *sub, const char *prefix)
{
	char dir[PATH_MAX];
	DIR *d;
	if (bx_path_join(dir, sizeof(dir), NULL, "%s/%s", p->data, sub) < 0 || !(d = opendir(dir)))
		return;
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			bx_rm_at(dirfd(d), e->d_name);
	closedir(d);
}

static void sweep_temp_files(const struct bx_paths *p)
{
	remove_prefixed(p, "blobs/tmp", "blob-");
	remove_prefixed(p, "", "load-stdin.");
	remove_prefixed(p, "volumes", ".trash-"); /* a volume rm that died after moving the volume aside */
}

void bx_store_sweep(const struct bx_paths *p)
{
	int fd = ops_lock(p->data, LOCK_EX | LOCK_NB, NULL); /* busy, or read-only: nothing to do now */
	if (fd < 0)
		return;
	sweep_boxes(p);
	sweep_names(p);
	sweep_temp_files(p);
	close(fd);
}
