/* The one trace a --rm box leaves (keptlog.h). */
#include "keptlog.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "logfile.h"

static int kept_dir(const struct bx_paths *p, char *out, size_t size, struct bx_err *err)
{
	return bx_path_join(out, size, err, "%s/kept-logs", p->data);
}

int bx_keptlog_save(const struct bx_paths *p, const struct bx_box_record *r, struct bx_err *err)
{
	char dir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX], meta[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (kept_dir(p, dir, sizeof(dir), err) < 0 || bx_mkdir_p(dir, 0700, err) < 0 ||
	    bx_path_join(src, sizeof(src), err, "%s/%s", r->box_dir, BX_LOG_NAME) < 0 ||
	    bx_path_join(dst, sizeof(dst), err, "%s/%s.json.log", dir, r->id) < 0 ||
	    bx_path_join(meta, sizeof(meta), err, "%s/%s.json", dir, r->id) < 0)
		return -1;
	if (bx_read_file(src, &text, &len, err) < 0)
		return -1;
	/* the newest lines only, starting on a line boundary */
	size_t start = 0;
	if (len > BX_KEPTLOG_MAX_BYTES) {
		start = len - BX_KEPTLOG_MAX_BYTES;
		char *nl = memchr(text + start, '\n', len - start);
		start = nl ? (size_t)(nl - text) + 1 : len;
	}
	_cleanup_json_ json_t *m = json_pack("{s:s,s:s,s:i,s:I}", "Id", r->id, "Name", r->name, "ExitCode",
					     r->exit_code, "Finished", (json_int_t)r->finished_ns);
	_cleanup_free_ char *mt = m ? json_dumps(m, JSON_COMPACT) : NULL;
	int rc = -1;
	if (!mt)
		bx_fail(err, ENOMEM, "out of memory");
	else if (bx_write_file_atomic(dst, text + start, len - start, 0600, err) == 0 &&
		 bx_write_file_atomic(meta, mt, strlen(mt), 0600, err) == 0)
		rc = 0;
	bx_keptlog_prune(p);
	return rc;
}

struct kept {
	char id[65];
	time_t mtime;
};

static int newest_first(const void *a, const void *b)
{
	const struct kept *x = a, *y = b;
	return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : 0;
}

static void drop(const char *dir, const char *id)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/%s.json.log", dir, id) == 0)
		unlink(path);
	if (bx_path_join(path, sizeof(path), NULL, "%s/%s.json", dir, id) == 0)
		unlink(path);
}

void bx_keptlog_prune(const struct bx_paths *p)
{
	char dir[PATH_MAX];
	if (kept_dir(p, dir, sizeof(dir), NULL) < 0)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct kept *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	time_t now = time(NULL);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		struct stat st;
		if (l != 64 + 5 || strcmp(e->d_name + 64, ".json") || fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		char id[65];
		memcpy(id, e->d_name, 64);
		id[64] = '\0';
		if (now - st.st_mtime > BX_KEPTLOG_MAX_AGE_S) {
			drop(dir, id);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct kept *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		memcpy(v[n].id, id, 65);
		v[n++].mtime = st.st_mtime;
	}
	closedir(d);
	if (v && n > BX_KEPTLOG_MAX_COUNT) {
		qsort(v, n, sizeof(*v), newest_first);
		for (size_t i = BX_KEPTLOG_MAX_COUNT; i < n; i++)
			drop(dir, v[i].id);
	}
	free(v);
}

int bx_keptlog_find(const struct bx_paths *p, const char *ref, char *path, size_t size, struct bx_err *err)
{
	char dir[PATH_MAX];
	bx_keptlog_prune(p);
	if (kept_dir(p, dir, sizeof(dir), err) < 0)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return bx_fail(err, 0, "no such box: %s", ref);
	const char *name = ref[0] == '/' ? ref + 1 : ref;
	char found[65] = "";
	int matches = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l != 64 + 5 || strcmp(e->d_name + 64, ".json"))
			continue;
		bool hit = !strncmp(e->d_name, ref, strlen(ref)) && strlen(ref) <= 64;
		if (!hit) {
			char mp[PATH_MAX];
			json_t *m = bx_path_join(mp, sizeof(mp), NULL, "%s/%s", dir, e->d_name) == 0
					    ? json_load_file(mp, 0, NULL)
					    : NULL;
			const char *n = json_string_value(json_object_get(m, "Name"));
			hit = n && !strcmp(n, name);
			json_decref(m);
		}
		if (hit && matches++ == 0)
			memcpy(found, e->d_name, 64);
	}
	closedir(d);
	if (matches > 1)
		return bx_fail(err, 0, "box ID prefix %s is ambiguous: give more characters", ref);
	if (!matches)
		return bx_fail(err, 0, "no such box: %s", ref);
	return bx_path_join(path, size, err, "%s/%s.json.log", dir, found);
}
