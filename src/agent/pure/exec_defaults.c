/* What an exec/pty session inherits from its box, as `docker exec` does (exec_defaults.h). */
#include "exec_defaults.h"

#include <stdlib.h>
#include <string.h>

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

/* req's entry for the key of kv, or NULL */
static const char *find_key(char *const *env, const char *kv)
{
	size_t kl = key_len(kv);
	for (size_t i = 0; env && env[i]; i++)
		if (key_len(env[i]) == kl && !strncmp(env[i], kv, kl))
			return env[i];
	return NULL;
}

int bx_exec_apply_box_defaults(struct bx_spec *req, const struct bx_spec *box, struct bx_err *err)
{
	struct bx_spec merged;
	bx_spec_init(&merged);
	/* the box's variables in their order, each overridden by the exec's */
	for (size_t i = 0; box->env && box->env[i]; i++) {
		const char *over = find_key(req->env, box->env[i]);
		if (bx_spec_add_env(&merged, over ? over : box->env[i], err) < 0)
			goto fail;
	}
	for (size_t i = 0; req->env && req->env[i]; i++)
		if (!find_key(box->env, req->env[i]) && bx_spec_add_env(&merged, req->env[i], err) < 0)
			goto fail;
	if ((!req->user || !*req->user) && box->user && bx_spec_set_user(&merged, box->user, err) < 0)
		goto fail;
	if ((!req->cwd || !*req->cwd) && box->cwd && bx_spec_set_cwd(&merged, box->cwd, err) < 0)
		goto fail;
	/* the box's resource limits (--ulimit: Docker's execs have them too) */
	for (size_t i = 0; !req->nrlimits && i < box->nrlimits; i++)
		if (bx_spec_add_rlimit(&merged, box->rlimits[i].resource, box->rlimits[i].soft, box->rlimits[i].hard,
				       err) < 0)
			goto fail;
	/* the box's seccomp filter: docker exec (--privileged too) keeps its container's */
	if (!req->nseccomp && bx_spec_set_seccomp(&merged, box->seccomp, box->nseccomp, err) < 0)
		goto fail;
	/* --group-add: Docker's execs are in those groups too */
	for (size_t i = 0; !req->ngroups && !req->ngroup_names && i < box->ngroups; i++)
		if (bx_spec_add_group(&merged, box->groups[i], err) < 0)
			goto fail;
	for (size_t i = 0; !req->ngroups && !req->ngroup_names && i < box->ngroup_names; i++)
		if (bx_spec_add_group_name(&merged, box->group_names[i], err) < 0)
			goto fail;
	/* commit: nothing below can fail; an exec has its box's privileges
	 * unless it names its own (docker exec --privileged) */
	if (!req->caps.set)
		req->caps = box->caps;
	req->no_new_privs = req->no_new_privs || box->no_new_privs;
	if (merged.nrlimits) {
		struct bx_spec_rlimit *old = req->rlimits;
		req->rlimits = merged.rlimits;
		req->nrlimits = merged.nrlimits;
		merged.rlimits = old; /* freed with merged (req had none) */
		merged.nrlimits = 0;
	}
	if (!req->oom_score_adj_set) {
		req->oom_score_adj_set = box->oom_score_adj_set;
		req->oom_score_adj = box->oom_score_adj;
	}
	if (merged.ngroups || merged.ngroup_names) { /* req had none */
		uint32_t *g = req->groups;
		char **gn = req->group_names;
		req->groups = merged.groups, req->ngroups = merged.ngroups;
		req->group_names = merged.group_names, req->ngroup_names = merged.ngroup_names;
		merged.groups = g, merged.ngroups = 0;
		merged.group_names = gn, merged.ngroup_names = 0;
	}
	if (merged.nseccomp) {
		req->seccomp = merged.seccomp;
		req->nseccomp = merged.nseccomp;
		merged.seccomp = NULL; /* req had none */
		merged.nseccomp = 0;
	}
	char **old_env = req->env;
	req->env = merged.env;
	req->nenv = merged.nenv;
	merged.env = old_env;
	if (merged.user) {
		free(req->user);
		req->user = merged.user;
		merged.user = NULL;
	}
	if (merged.cwd) {
		free(req->cwd);
		req->cwd = merged.cwd;
		merged.cwd = NULL;
	}
	bx_spec_free(&merged);
	return 0;
fail:
	bx_spec_free(&merged);
	return -1;
}
