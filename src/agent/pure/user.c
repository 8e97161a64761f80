/* Resolve a Docker-style user spec against the box's /etc/passwd and /etc/group text (user.h). */
#include "user.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int bx_parse_id(const char *s, size_t len, unsigned *v)
{
	if (len == 0 || len > 10)
		return -1;
	unsigned long long acc = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		acc = acc * 10 + (unsigned)(s[i] - '0');
	}
	if (acc >= UINT_MAX) /* (uid_t)-1 is "no change" for setuid: never valid */
		return -1;
	*v = (unsigned)acc;
	return 0;
}

/* Split one line of a colon-separated database into at most `max` fields
 * (pointers + lengths into the line). Returns the field count. */
static size_t split_fields(const char *line, size_t len, const char **f, size_t *fl, size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len && n < max; i++) {
		if (i == len || line[i] == ':') {
			f[n] = line + start;
			fl[n] = i - start;
			n++;
			start = i + 1;
		}
	}
	return n;
}

static bool field_is(const char *f, size_t fl, const char *s, size_t sl)
{
	return fl == sl && memcmp(f, s, sl) == 0;
}

/* Iterate lines of a database; calls fn for each non-comment line with its
 * fields until fn returns true. */
typedef bool (*line_fn)(const char **f, size_t *fl, size_t n, void *ud);
static void each_line(const char *db, line_fn fn, void *ud)
{
	if (!db)
		return;
	const char *p = db;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 0 && p[0] != '#') {
			const char *f[8];
			size_t fl[8];
			size_t n = split_fields(p, len, f, fl, 8);
			if (fn(f, fl, n, ud))
				return;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

struct pw_query {
	const char *name; /* by name (len nlen) ... */
	size_t nlen;
	bool by_id;       /* ... or by uid */
	unsigned id;
	bool found;
	char pw_name[256];
	unsigned uid, gid;
	char home[512];
};

static bool pw_match(const char **f, size_t *fl, size_t n, void *ud)
{
	struct pw_query *q = ud;
	unsigned uid, gid;
	if (n < 4 || bx_parse_id(f[2], fl[2], &uid) || bx_parse_id(f[3], fl[3], &gid))
		return false;
	if (q->by_id ? uid != q->id : !field_is(f[0], fl[0], q->name, q->nlen))
		return false;
	q->found = true;
	q->uid = uid;
	q->gid = gid;
	snprintf(q->pw_name, sizeof(q->pw_name), "%.*s", (int)fl[0], f[0]);
	if (n >= 6 && fl[5] > 0)
		snprintf(q->home, sizeof(q->home), "%.*s", (int)fl[5], f[5]);
	else
		snprintf(q->home, sizeof(q->home), "/");
	return true;
}

struct gr_query {
	const char *name;
	size_t nlen;
	bool found;
	unsigned gid;
};

static bool gr_match(const char **f, size_t *fl, size_t n, void *ud)
{
	struct gr_query *q = ud;
	unsigned gid;
	if (n < 3 || bx_parse_id(f[2], fl[2], &gid) || !field_is(f[0], fl[0], q->name, q->nlen))
		return false;
	q->found = true;
	q->gid = gid;
	return true;
}

int bx_group_lookup(const char *group, const char *name, gid_t *gid, struct bx_err *err)
{
	struct gr_query q = {.name = name, .nlen = strlen(name)};
	each_line(group ? group : "", gr_match, &q);
	if (!q.found)
		return bx_fail_code(err, BX_EXIT_ERROR, 0, "Unable to find group %s: no matching entries in group file.",
				    name);
	*gid = q.gid;
	return 0;
}

struct member_query {
	const char *user;
	struct bx_user *out;
};

static void add_group(struct bx_user *u, gid_t g)
{
	for (size_t i = 0; i < u->ngroups; i++)
		if (u->groups[i] == g)
			return;
	if (u->ngroups < BX_USER_MAX_GROUPS)
		u->groups[u->ngroups++] = g;
}

static bool member_match(const char **f, size_t *fl, size_t n, void *ud)
{
	struct member_query *q = ud;
	unsigned gid;
	if (n < 4 || bx_parse_id(f[2], fl[2], &gid))
		return false;
	const char *m = f[3], *end = f[3] + fl[3];
	size_t ulen = strlen(q->user);
	while (m < end) {
		const char *c = memchr(m, ',', (size_t)(end - m));
		size_t ml = c ? (size_t)(c - m) : (size_t)(end - m);
		if (field_is(m, ml, q->user, ulen)) {
			add_group(q->out, gid);
			break;
		}
		m += ml + 1;
	}
	return false;
}

int bx_user_resolve(const char *spec, const char *passwd, const char *group, struct bx_user *out,
		    struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!spec)
		spec = "";
	const char *colon = strchr(spec, ':');
	size_t ulen = colon ? (size_t)(colon - spec) : strlen(spec);
	const char *gspec = colon ? colon + 1 : NULL;

	struct pw_query q = {0};
	unsigned num;
	if (ulen == 0) {
		/* no user: root, with root's passwd entry if there is one */
		q.by_id = true;
		q.id = 0;
	} else if (bx_parse_id(spec, ulen, &num) == 0) {
		q.by_id = true;
		q.id = num;
	} else {
		q.name = spec;
		q.nlen = ulen;
	}
	each_line(passwd, pw_match, &q);
	if (!q.found && !q.by_id)
		return bx_fail_code(err, BX_EXIT_ERROR, 0, "unable to find user %.*s: no matching entries in passwd file",
				    (int)ulen, spec);
	if (q.found) {
		out->uid = q.uid;
		out->gid = q.gid;
		snprintf(out->home, sizeof(out->home), "%s", q.home);
	} else {
		out->uid = q.id;
		out->gid = 0;
		snprintf(out->home, sizeof(out->home), "/");
	}

	if (gspec && *gspec) {
		size_t glen = strlen(gspec);
		if (bx_parse_id(gspec, glen, &num) == 0) {
			out->gid = num;
		} else {
			struct gr_query g = {.name = gspec, .nlen = glen};
			each_line(group, gr_match, &g);
			if (!g.found)
				return bx_fail_code(err, BX_EXIT_ERROR, 0,
						    "unable to find group %s: no matching entries in group file", gspec);
			out->gid = g.gid;
		}
		add_group(out, out->gid);
		return 0;
	}
	add_group(out, out->gid);
	if (q.found) {
		struct member_query mq = {.user = q.pw_name, .out = out};
		each_line(group, member_match, &mq);
	}
	return 0;
}
