/* The process spec decoder (BX_M_REQ payloads and the box spec in the
 * initramfs), box-only records (mounts, network, /etc files) and limits
 * included. A spec that decodes must encode again, and that encoding must
 * decode to the same spec and encode to the same bytes. */
#include "fuzz.h"
#include "proto/spec.h"

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool strv_eq(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!str_eq(a[i], b[i]))
			return false;
	return (!a || !a[na]) && (!b || !b[nb]);
}

static bool spec_eq(const struct bx_spec *a, const struct bx_spec *b)
{
	if (!strv_eq(a->args, a->nargs, b->args, b->nargs) || !strv_eq(a->env, a->nenv, b->env, b->nenv))
		return false;
	if (!str_eq(a->cwd, b->cwd) || !str_eq(a->user, b->user) || !str_eq(a->hostname, b->hostname) ||
	    !str_eq(a->ipv4, b->ipv4) || !str_eq(a->gateway, b->gateway) || !str_eq(a->etc_hosts, b->etc_hosts) ||
	    !str_eq(a->etc_resolv, b->etc_resolv))
		return false;
	if (a->tty != b->tty || a->stdin_open != b->stdin_open || a->accept_delay_ms != b->accept_delay_ms ||
	    a->timeout_ms != b->timeout_ms || a->mtu != b->mtu || a->read_only != b->read_only)
		return false;
	if (a->nmounts != b->nmounts || a->nrlimits != b->nrlimits || a->ngroups != b->ngroups)
		return false;
	for (size_t i = 0; i < a->nmounts; i++) {
		const struct bx_spec_mount *x = &a->mounts[i], *y = &b->mounts[i];
		if (x->kind != y->kind || x->ro != y->ro || !str_eq(x->source, y->source) ||
		    !str_eq(x->target, y->target) || !str_eq(x->options, y->options))
			return false;
	}
	for (size_t i = 0; i < a->nrlimits; i++)
		if (a->rlimits[i].resource != b->rlimits[i].resource || a->rlimits[i].soft != b->rlimits[i].soft ||
		    a->rlimits[i].hard != b->rlimits[i].hard)
			return false;
	for (size_t i = 0; i < a->ngroups; i++)
		if (a->groups[i] != b->groups[i])
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bx_spec s;
	struct bx_err err = {0};
	bx_spec_init(&s);
	if (bx_spec_decode(&s, data, size, &err) < 0) {
		FZ_CHECK_ERR(err);
		/* a failed decode leaves the spec empty */
		FZ_CHECK(!s.args && !s.env && !s.mounts && !s.rlimits && !s.groups && !s.cwd && !s.ipv4);
		return 0;
	}
	FZ_CHECK(s.nargs > 0 && s.args[s.nargs] == NULL);
	FZ_CHECK(!s.env || s.env[s.nenv] == NULL);
	for (size_t i = 0; i < s.nmounts; i++)
		FZ_CHECK(s.mounts[i].source && s.mounts[i].target && s.mounts[i].options);

	uint8_t *enc = NULL, *enc2 = NULL;
	size_t len, len2;
	FZ_CHECK(bx_spec_encode(&s, &enc, &len, &err) == 0);
	struct bx_spec t;
	bx_spec_init(&t);
	FZ_CHECK(bx_spec_decode(&t, enc, len, &err) == 0);
	FZ_CHECK(spec_eq(&s, &t));
	FZ_CHECK(bx_spec_encode(&t, &enc2, &len2, &err) == 0);
	FZ_CHECK(len == len2 && memcmp(enc, enc2, len) == 0);
	free(enc);
	free(enc2);
	bx_spec_free(&t);
	bx_spec_free(&s);
	return 0;
}
