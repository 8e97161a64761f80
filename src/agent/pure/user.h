/* Resolve a Docker-style user spec against the box's /etc/passwd and
 * /etc/group text. Pure: the caller reads the files (missing file = "").
 *
 * Accepted specs: "" (root), "name", "uid", "uid:gid", "name:group",
 * "uid:groupname", "name:gid". A numeric uid absent from passwd runs with
 * gid 0 and HOME "/" (as runc does). Supplementary groups come from
 * /etc/group only for a user found in passwd and only when no group was
 * given explicitly. Failures use exit code 125 with Docker's wording. */
#ifndef BOXVM_AGENT_USER_H
#define BOXVM_AGENT_USER_H

#include <stddef.h>
#include <sys/types.h>

#include "../../common/err.h"

#define BX_USER_MAX_GROUPS 64

struct bx_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[BX_USER_MAX_GROUPS]; /* supplementary groups, gid first */
	size_t ngroups;
	char home[512];
};

int bx_user_resolve(const char *spec, const char *passwd, const char *group, struct bx_user *out,
		    struct bx_err *err);

/* --group-add NAME: its gid in the box's /etc/group text; Docker's words
 * ("Unable to find group NAME: no matching entries in group file.") if none. */
int bx_group_lookup(const char *group, const char *name, gid_t *gid, struct bx_err *err);

/* Parse a decimal id ("0".."4294967294"); returns 0 and fills *v, or -1. */
int bx_parse_id(const char *s, size_t len, unsigned *v);

#endif
