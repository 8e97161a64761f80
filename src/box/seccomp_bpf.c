/* A parsed seccomp profile through libseccomp into the BPF program the
 * guest installs (seccomp.h). Rules are added as runc's matchCall adds
 * them: a rule whose action is the default one is redundant and skipped, a
 * syscall libseccomp does not know is skipped (not supported by this
 * kernel), conditions on distinct arguments make one rule and two on the
 * same argument one rule each. */
#include "seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"

struct ctx_holder {
	scmp_filter_ctx ctx;
};

static void release_ctx(struct ctx_holder *h)
{
	if (h->ctx)
		seccomp_release(h->ctx);
}

static int add_rule(scmp_filter_ctx ctx, const struct bx_seccomp_rule *r, const char *name, struct bx_err *err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* unknown here: runc ignores it too */
	struct scmp_arg_cmp conds[BX_SECCOMP_MAX_ARGS];
	bool same_arg_twice = false;
	unsigned seen = 0;
	for (size_t i = 0; i < r->nargs; i++) {
		const struct bx_seccomp_arg *a = &r->args[i];
		conds[i] = (struct scmp_arg_cmp){.arg = a->index, .op = (enum scmp_compare)a->op, .datum_a = a->value,
						 .datum_b = a->op == SCMP_CMP_MASKED_EQ ? a->value_two : 0};
		same_arg_twice = same_arg_twice || (seen & (1u << a->index));
		seen |= 1u << a->index;
	}
	int rc = 0;
	if (!same_arg_twice)
		rc = seccomp_rule_add_array(ctx, r->action, nr, (unsigned)r->nargs, conds);
	else /* runc's older behaviour for that case: each condition a rule of its own */
		for (size_t i = 0; i < r->nargs && rc == 0; i++)
			rc = seccomp_rule_add_array(ctx, r->action, nr, 1, &conds[i]);
	if (rc < 0)
		return bx_fail(err, -rc, "error adding seccomp rule for syscall %s", name);
	return 0;
}

/* the exported program, read back from the memfd libseccomp wrote it to */
static int read_program(scmp_filter_ctx ctx, struct bx_spec *spec, struct bx_err *err)
{
	_cleanup_close_ int fd = memfd_create("boxvm-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "cannot export the seccomp filter");
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return bx_fail(err, -rc, "cannot export the seccomp filter");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return bx_fail(err, errno, "cannot export the seccomp filter");
	size_t size = (size_t)st.st_size, n = size / sizeof(struct sock_filter);
	if (size == 0 || size % sizeof(struct sock_filter))
		return bx_fail(err, 0, "libseccomp exported a filter of %zu bytes", size);
	if (n > BX_SECCOMP_MAX_INSNS)
		return bx_fail(err, E2BIG, "the seccomp profile compiles to %zu BPF instructions, over the kernel's limit of "
				       "%d: use fewer rules", n, BX_SECCOMP_MAX_INSNS);
	_cleanup_free_ struct sock_filter *raw = malloc(size);
	_cleanup_free_ struct bx_spec_bpf *prog = malloc(n * sizeof(*prog));
	if (!raw || !prog)
		return bx_fail(err, ENOMEM, "out of memory");
	if (pread(fd, raw, size, 0) != (ssize_t)size)
		return bx_fail(err, errno, "cannot read back the seccomp filter");
	for (size_t i = 0; i < n; i++)
		prog[i] = (struct bx_spec_bpf){.code = raw[i].code, .jt = raw[i].jt, .jf = raw[i].jf, .k = raw[i].k};
	return bx_spec_set_seccomp(spec, prog, n, err);
}

int bx_seccomp_compile(const struct bx_seccomp_profile *p, struct bx_spec *spec, struct bx_err *err)
{
	if (p->none)
		return bx_spec_set_seccomp(spec, NULL, 0, err);
	struct ctx_holder h __attribute__((cleanup(release_ctx))) = {seccomp_init(p->default_action)};
	if (!h.ctx)
		return bx_fail(err, 0, "cannot create a seccomp filter (default action %#x)", p->default_action);
	/* the agent decides about no_new_privs (the process's own setting); a
	 * binary tree keeps a syscall's path short however long the allow list */
	if (seccomp_attr_set(h.ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 || seccomp_attr_set(h.ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
		return bx_fail(err, 0, "cannot set the seccomp filter's attributes");
	for (size_t i = 0; i < p->narches; i++) {
		int rc = seccomp_arch_add(h.ctx, p->arches[i]);
		if (rc < 0 && rc != -EEXIST)
			return bx_fail(err, -rc, "seccomp profile: cannot add architecture %#x to this machine's filter",
				       p->arches[i]);
	}
	for (size_t i = 0; i < p->nrules; i++) {
		const struct bx_seccomp_rule *r = &p->rules[i];
		if (r->action == p->default_action)
			continue;
		for (size_t j = 0; j < r->nnames; j++)
			if (add_rule(h.ctx, r, r->names[j], err) < 0)
				return -1;
	}
	return read_program(h.ctx, spec, err);
}
