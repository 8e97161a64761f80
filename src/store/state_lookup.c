/* Finding boxes: the whole list (for ps) and one box by name, full ID or
 * unique ID prefix (for every command that takes a box). */
#include "../common/boxid.h"
#include "state.h"

#include "../common/cleanup.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static int by_created(const void *a, const void *b)
{
	const struct bx_box_record *x = a, *y = b;
	return x->created_ns < y->created_ns ? -1 : x->created_ns > y->created_ns ? 1 : strcmp(x->id, y->id);
}

int bx_state_list(const struct bx_paths *p, struct bx_box_record **out, size_t *count, struct bx_err *err)
{
	char dir[PATH_MAX];
	*out = NULL;
	*count = 0;
	if (bx_path_join(dir, sizeof(dir), err, "%s/boxes", p->data) < 0)
		return -1;
	bx_store_sweep(p); /* what a killed command left half-done is not listed, it is finished */
	_cleanup_dir_ DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : bx_fail(err, errno, "cannot read %s", dir);
	_cleanup_free_ struct bx_box_record *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!bx_boxid_valid(e->d_name))
			continue;
		char box_dir[PATH_MAX];
		struct bx_box_record r;
		if (bx_path_join(box_dir, sizeof(box_dir), NULL, "%s/%s", dir, e->d_name) < 0 ||
		    bx_state_read(box_dir, &r, NULL) < 0)
			continue; /* being created (no record yet) or being removed */
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct bx_box_record *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				return bx_fail(err, ENOMEM, "out of memory");
			v = nv;
		}
		v[n++] = r;
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		if (!bx_state_reconcile(&v[i])) /* true: a dead --rm box, removed just now */
			v[kept++] = v[i];
	n = kept;
	if (n)
		qsort(v, n, sizeof(*v), by_created);
	*out = BX_TAKE_PTR(v);
	*count = n;
	return 0;
}

static int read_by_id(const struct bx_paths *p, const char *id, struct bx_box_record *out, struct bx_err *err)
{
	char box_dir[PATH_MAX];
	if (bx_state_box_dir(p, id, box_dir, sizeof(box_dir), err) < 0 || bx_state_read(box_dir, out, err) < 0)
		return -1;
	if (bx_state_reconcile(out))
		return bx_fail(err, ENOENT, "no such box: %s", id); /* a dead --rm box, removed just now */
	return 0;
}

/* errnum ENOENT tells "no such box" from other failures (rm -f ignores it) */
static int no_such_box(struct bx_err *err, const char *shown)
{
	bx_fail(err, 0, "no such box: %s", shown);
	if (err)
		err->errnum = ENOENT;
	return -1;
}

int bx_state_lookup(const struct bx_paths *p, const char *ref, struct bx_box_record *out, struct bx_err *err)
{
	if (!ref[0])
		return no_such_box(err, "\"\"");
	const char *name = ref[0] == '/' ? ref + 1 : ref; /* Docker shows names as "/web" */
	char link[PATH_MAX], id[80];
	/* 1. an exact name */
	if (bx_path_join(link, sizeof(link), err, "%s/names/%s", p->data, name) < 0)
		return -1;
	if (!strchr(name, '/')) {
		ssize_t n = readlink(link, id, sizeof(id) - 1);
		if (n > 0) {
			id[n] = '\0';
			if (bx_boxid_valid(id) && read_by_id(p, id, out, NULL) == 0)
				return 0;
		}
	}
	/* 2. a full ID or a unique ID prefix */
	size_t len = strlen(ref);
	bool hex = len <= 64;
	for (const char *c = ref; hex && *c; c++)
		hex = (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f');
	if (hex && len == 64 && read_by_id(p, ref, out, NULL) == 0)
		return 0;
	if (hex) {
		char dir[PATH_MAX];
		if (bx_path_join(dir, sizeof(dir), err, "%s/boxes", p->data) < 0)
			return -1;
		_cleanup_dir_ DIR *d = opendir(dir);
		char found[65] = "";
		int matches = 0;
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (!bx_boxid_valid(e->d_name) || strncmp(e->d_name, ref, len))
				continue;
			char sp[PATH_MAX];
			if (bx_path_join(sp, sizeof(sp), NULL, "%s/%s/state.json", dir, e->d_name) < 0 || access(sp, F_OK))
				continue;
			if (matches++ == 0)
				memcpy(found, e->d_name, 65); /* is_hex_id: exactly 64 + NUL */
		}
		if (matches > 1)
			return bx_fail(err, 0, "box ID prefix %s is ambiguous: give more characters or the name", ref);
		if (matches == 1 && read_by_id(p, found, out, NULL) == 0)
			return 0;
	}
	return no_such_box(err, ref);
}
