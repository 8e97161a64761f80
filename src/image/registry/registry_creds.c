/* Credentials stored by `boxvm login`: DATA/auth.json, mode 0600, written
 * atomically under flock(DATA/auth.lock):
 *   {"auths": {"HOST[:PORT]": {"username": "...", "secret": "..."}}}
 * The secret is stored as given (like Docker's config.json without a
 * credential helper); the file's mode is what protects it. */
#include "registry.h"

#include "../../common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int auth_path(const struct bx_paths *p, const char *name, char *out, size_t size, struct bx_err *err)
{
	return bx_path_join(out, size, err, "%s/%s", p->data, name);
}

static json_t *load(const char *path, struct bx_err *err)
{
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return json_pack("{s:{}}", "auths");
	struct stat st;
	if (stat(path, &st) == 0 && (st.st_mode & 077)) {
		/* someone widened it: refuse to use secrets others could read */
		bx_fail(err, 0, "%s is readable by other users (mode %o); chmod 600 it or log in again", path,
			(unsigned)(st.st_mode & 0777));
		return NULL;
	}
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root || !json_is_object(json_object_get(root, "auths"))) {
		json_decref(root);
		bx_fail(err, 0, "%s is corrupt; remove it and log in again", path);
		return NULL;
	}
	return root;
}

int bx_creds_get(const struct bx_paths *p, const char *registry, struct bx_credentials *out, struct bx_err *err)
{
	char path[PATH_MAX];
	memset(out, 0, sizeof(*out));
	if (auth_path(p, "auth.json", path, sizeof(path), err) < 0)
		return -1;
	_cleanup_json_ json_t *root = load(path, err);
	if (!root)
		return -1;
	json_t *e = json_object_get(json_object_get(root, "auths"), registry);
	const char *u = json_string_value(json_object_get(e, "username"));
	const char *s = json_string_value(json_object_get(e, "secret"));
	if (!u || !s || strlen(u) >= sizeof(out->user) || strlen(s) >= sizeof(out->secret))
		return 0;
	strcpy(out->user, u);
	strcpy(out->secret, s);
	return 1;
}

static int locked_update(const struct bx_paths *p, const char *registry, const struct bx_credentials *c,
			 struct bx_err *err)
{
	char path[PATH_MAX], lpath[PATH_MAX];
	if (bx_mkdir_p(p->data, 0700, err) < 0 || auth_path(p, "auth.json", path, sizeof(path), err) < 0 ||
	    auth_path(p, "auth.lock", lpath, sizeof(lpath), err) < 0)
		return -1;
	_cleanup_close_ int lfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0)
		return bx_fail(err, errno, "cannot open %s", lpath);
	while (flock(lfd, LOCK_EX) < 0 && errno == EINTR)
		;
	int removed = 0;
	_cleanup_json_ json_t *root = load(path, err);
	if (!root)
		return -1;
	json_t *auths = json_object_get(root, "auths");
	if (c) {
		if (json_object_set_new(auths, registry, json_pack("{s:s,s:s}", "username", c->user, "secret", c->secret)) < 0)
			return bx_fail(err, ENOMEM, "out of memory");
	} else {
		removed = json_object_get(auths, registry) != NULL;
		json_object_del(auths, registry);
	}
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!s)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = bx_write_file_atomic(path, s, strlen(s), 0600, err);
	explicit_bzero(s, strlen(s)); /* the secret: not left in freed memory */
	free(s);
	return rc == 0 ? removed : rc;
}

int bx_creds_put(const struct bx_paths *p, const char *registry, const struct bx_credentials *c, struct bx_err *err)
{
	return locked_update(p, registry, c, err) < 0 ? -1 : 0;
}

int bx_creds_remove(const struct bx_paths *p, const char *registry, struct bx_err *err)
{
	return locked_update(p, registry, NULL, err);
}
