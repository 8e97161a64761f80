/* Parsing of -v and --tmpfs, and mount ordering (pure). */
#include "mounts.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bx_volume_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n < 2 || n > 127 || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

/* An absolute path without "." / ".." components; trailing slashes dropped. */
static int clean_abs(const char *in, char *out, size_t size, const char *what, const char *flag,
		     struct bx_err *err)
{
	if (in[0] != '/')
		return bx_fail(err, 0, "invalid %s '%s': %s must be an absolute path", flag, in, what);
	if (snprintf(out, size, "%s", in) >= (int)size)
		return bx_fail(err, 0, "invalid %s: %s too long", flag, what);
	size_t n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	for (const char *p = out; (p = strstr(p, "/.")); p++)
		if (p[2] == '\0' || p[2] == '/' || (p[2] == '.' && (p[3] == '\0' || p[3] == '/')))
			return bx_fail(err, 0, "invalid %s '%s': %s must not contain '.' or '..'", flag, in, what);
	return 0;
}

int bx_volume_flag_parse(const char *text, struct bx_mount_req *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	char buf[2 * PATH_MAX];
	if (!*text || snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		return bx_fail(err, 0, "invalid volume spec '%s': use SRC:DST[:ro]", text);
	char *parts[4] = {0};
	int n = 0;
	for (char *save = NULL, *t = strtok_r(buf, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (n == 3)
			return bx_fail(err, 0, "invalid volume spec '%s': too many ':' (use SRC:DST[:ro])", text);
		parts[n++] = t;
	}
	if (n == 0)
		return bx_fail(err, 0, "invalid volume spec '%s': use SRC:DST[:ro]", text);
	const char *src = n >= 2 ? parts[0] : "", *dst = n >= 2 ? parts[1] : parts[0], *mode = n == 3 ? parts[2] : "";
	/* mode: comma list; ro/rw matter here, SELinux labels (z, Z) and propagation are accepted and ignored */
	char mbuf[64];
	/* a cut list could lose its last "ro" and mount read-write */
	if (snprintf(mbuf, sizeof(mbuf), "%s", mode) >= (int)sizeof(mbuf))
		return bx_fail(err, 0, "invalid volume spec '%s': mode list too long (use ro or rw)", text);
	for (char *save = NULL, *m = strtok_r(mbuf, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
		if (!strcmp(m, "ro"))
			out->ro = true;
		else if (!strcmp(m, "rw"))
			out->ro = false;
		else if (!strcmp(m, "nocopy"))
			out->nocopy = true;
		else if (strcmp(m, "z") && strcmp(m, "Z") && strcmp(m, "rprivate") && strcmp(m, "private"))
			return bx_fail(err, 0, "invalid volume spec '%s': invalid mode '%s' (use ro or rw)", text, m);
	}
	if (clean_abs(dst, out->target, sizeof(out->target), "the destination", "volume spec", err) < 0)
		return -1;
	if (!strcmp(out->target, "/"))
		return bx_fail(err, 0, "invalid volume spec '%s': destination can't be '/'", text);
	if (src[0] == '/') {
		out->kind = BX_MNT_BIND;
		return clean_abs(src, out->source, sizeof(out->source), "the source", "volume spec", err);
	}
	out->kind = BX_MNT_VOLUME;
	if (*src && !bx_volume_name_valid(src))
		return bx_fail(err, 0,
			       "\"%s\" includes invalid characters for a local volume name, only "
			       "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed; if you intended to pass a host directory, use an "
			       "absolute path",
			       src);
	snprintf(out->source, sizeof(out->source), "%s", src);
	return 0;
}

int bx_tmpfs_flag_parse(const char *text, struct bx_mount_req *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	out->kind = BX_MNT_TMPFS;
	char buf[PATH_MAX + 256];
	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		return bx_fail(err, 0, "invalid --tmpfs '%s': too long", text);
	char *colon = strchr(buf, ':');
	const char *opts = "";
	if (colon) {
		*colon = '\0';
		opts = colon + 1;
	}
	if (clean_abs(buf, out->target, sizeof(out->target), "the destination", "--tmpfs", err) < 0)
		return -1;
	char obuf[256];
	if (snprintf(obuf, sizeof(obuf), "%s", opts) >= (int)sizeof(obuf))
		return bx_fail(err, 0, "invalid --tmpfs '%s': options too long", text);
	static const char *const flags[] = {"ro", "rw", "noexec", "exec", "nosuid", "suid", "nodev", "dev", NULL};
	for (char *save = NULL, *o = strtok_r(obuf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		bool ok = !strncmp(o, "size=", 5) || !strncmp(o, "mode=", 5) || !strncmp(o, "uid=", 4) ||
			  !strncmp(o, "gid=", 4) || !strncmp(o, "nr_inodes=", 10);
		for (const char *const *f = flags; *f && !ok; f++)
			ok = !strcmp(o, *f);
		if (!ok)
			return bx_fail(err, 0, "invalid --tmpfs '%s': unknown option '%s'", text, o);
		if (!strcmp(o, "ro"))
			out->ro = true;
	}
	snprintf(out->options, sizeof(out->options), "%s", opts);
	return 0;
}

static size_t depth(const char *p)
{
	size_t d = 0;
	for (; *p; p++)
		d += *p == '/';
	return d;
}

static int by_depth(const void *a, const void *b)
{
	const struct bx_mount_req *x = a, *y = b;
	size_t dx = depth(x->target), dy = depth(y->target);
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->target, y->target);
}

int bx_mounts_order(struct bx_mount_req *m, size_t n, struct bx_err *err)
{
	/* a stable order by depth puts /a before /a/b, as Docker does */
	if (n > 1)
		qsort(m, n, sizeof(*m), by_depth);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(m[i].target, m[i - 1].target))
			return bx_fail(err, 0, "duplicate mount point: %s", m[i].target);
	return 0;
}
