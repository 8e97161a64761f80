/* Named volumes: DATA/volumes/<name>/_data (Docker's layout). A volume is
 * created on first use and lives until `volume rm`; it is "in use" while any
 * box (running or not) records it in its vm.json, as Docker refuses to
 * remove a volume a container still references. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "boxid.h"
#include "mounts.h"
#include "vmspec.h"

int bx_volume_dir(const struct bx_paths *p, const char *name, char *out, size_t size, struct bx_err *err)
{
	if (!bx_volume_name_valid(name))
		return bx_fail(err, 0, "invalid volume name '%s': use [a-zA-Z0-9][a-zA-Z0-9_.-]+", name);
	return bx_path_join(out, size, err, "%s/volumes/%s", p->data, name);
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
	static struct bx_vmspec vm; /* large; the CLI is single-threaded */
	size_t used = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[PATH_MAX];
		if (bx_path_join(path, sizeof(path), NULL, "%s/%s/vm.json", boxes, e->d_name) < 0 ||
		    bx_vmspec_read(path, &vm, NULL) < 0)
			continue; /* a box being created or removed right now */
		for (int i = 0; i < vm.nshares; i++) {
			if (strcmp(vm.shares[i].volume, name))
				continue;
			int n = snprintf(out + used, size - used, "%s%.*s", used ? ", " : "", BX_SHORT_ID_LEN, vm.id);
			if (n > 0 && (size_t)n < size - used)
				used += (size_t)n;
			break;
		}
	}
	closedir(d);
	return 0;
}
