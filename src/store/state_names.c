/* Box names: DATA/names/NAME is a symlink whose target is the box ID.
 * symlink(2) either creates the entry or fails with EEXIST, so two commands
 * racing for one name cannot both win; taking over a stale entry (its box is
 * gone) is done under an flock on DATA/names so it cannot race either. */
#include "state.h"

#include "../common/cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

int bx_name_check(const char *name, struct bx_err *err)
{
	size_t n = strlen(name);
	bool ok = n >= 2 && n < 128;
	for (size_t i = 0; ok && i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		ok = alnum || (i > 0 && (c == '_' || c == '.' || c == '-'));
	}
	if (!ok)
		return bx_fail(err, 0, "invalid box name \"%s\": use 2 to 127 of [a-zA-Z0-9_.-], starting with a letter or digit",
			       name);
	return 0;
}

static int names_dir(const struct bx_paths *p, char *out, size_t size, struct bx_err *err)
{
	if (bx_path_join(out, size, err, "%s/names", p->data) < 0)
		return -1;
	return bx_mkdir_p(out, 0700, err);
}

/* An entry whose box directory is gone (a crash between steps of rm) is stale. */
static bool entry_is_stale(const struct bx_paths *p, const char *id)
{
	char dir[PATH_MAX];
	struct stat st;
	if (bx_state_box_dir(p, id, dir, sizeof(dir), NULL) < 0)
		return false;
	return stat(dir, &st) < 0 && errno == ENOENT;
}

static int reserve_locked(const struct bx_paths *p, const char *name, const char *path, const char *id,
			  struct bx_err *err)
{
	if (symlink(id, path) == 0)
		return 0;
	if (errno != EEXIST)
		return bx_fail(err, errno, "cannot reserve the name \"%s\"", name);
	char owner[80];
	ssize_t n = readlink(path, owner, sizeof(owner) - 1);
	if (n < 0)
		return bx_fail(err, errno, "cannot read the owner of the name \"%s\"", name);
	owner[n] = '\0';
	if (!strcmp(owner, id))
		return 0;
	if (!entry_is_stale(p, owner)) {
		bx_fail(err, 0, "the name \"%s\" is already in use by box %.12s; remove (or rename) that box to reuse the name",
			name, owner);
		if (err)
			err->errnum = EEXIST; /* tells a conflict (the Engine API's 409) from other failures */
		return -1;
	}
	if (unlink(path) < 0 || symlink(id, path) < 0)
		return bx_fail(err, errno, "cannot take over the stale name \"%s\"", name);
	return 0;
}

int bx_name_reserve(const struct bx_paths *p, const char *name, const char *id, struct bx_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	if (bx_name_check(name, err) < 0 || names_dir(p, dir, sizeof(dir), err) < 0 ||
	    bx_path_join(path, sizeof(path), err, "%s/%s", dir, name) < 0)
		return -1;
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return bx_fail(err, errno, "cannot open %s", dir);
	while (flock(dfd, LOCK_EX) < 0 && errno == EINTR)
		;
	return reserve_locked(p, name, path, id, err);
}

void bx_name_release(const struct bx_paths *p, const char *name, const char *id)
{
	char path[PATH_MAX], owner[80];
	if (!name[0] || bx_path_join(path, sizeof(path), NULL, "%s/names/%s", p->data, name) < 0)
		return;
	ssize_t n = readlink(path, owner, sizeof(owner) - 1);
	if (n < 0)
		return;
	owner[n] = '\0';
	if (!strcmp(owner, id))
		unlink(path);
}

static const char *const adjectives[] = {
	"admiring", "brave", "busy", "calm", "clever", "cool", "eager", "elegant", "focused", "gentle",
	"happy", "jolly", "keen", "kind", "lucid", "modest", "nifty", "quirky", "serene", "sharp",
	"stoic", "sweet", "tender", "upbeat", "vibrant", "wizardly", "youthful", "zealous",
};
static const char *const nouns[] = {
	"babbage", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "fermi", "galileo", "gauss",
	"hopper", "hypatia", "kepler", "knuth", "lovelace", "mccarthy", "newton", "noether", "pascal", "ritchie",
	"shannon", "thompson", "torvalds", "turing", "wozniak", "yalow",
};

int bx_name_generate(const struct bx_paths *p, const char *id, char *out, size_t size, struct bx_err *err)
{
	const size_t na = sizeof(adjectives) / sizeof(adjectives[0]), nn = sizeof(nouns) / sizeof(nouns[0]);
	for (int attempt = 0; attempt < 64; attempt++) {
		unsigned r = 0;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (unsigned)attempt * 2654435761u;
		int w = attempt < 8 ? snprintf(out, size, "%s_%s", adjectives[r % na], nouns[(r / na) % nn])
				    : snprintf(out, size, "%s_%s%u", adjectives[r % na], nouns[(r / na) % nn], r % 100);
		if (w < 0 || (size_t)w >= size)
			return bx_fail(err, 0, "name buffer too small");
		struct bx_err e2;
		if (bx_name_reserve(p, out, id, &e2) == 0)
			return 0;
		if (e2.errnum && e2.errnum != EEXIST) {
			*err = e2;
			return -1;
		}
	}
	return bx_fail(err, 0, "cannot find a free box name; give one with --name");
}
