/* The process spec's resource limits (BX_T_RLIMIT), supplementary groups
 * (BX_T_GROUP) and capability sets (BX_T_CAPS): OCI process.rlimits,
 * process.user.additionalGids and process.capabilities, Docker's --cap-add,
 * --cap-drop and --privileged, applied by the agent in the child before exec. */
#include "spec_box.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "frame.h"

#define RLIMIT_REC 20 /* u32 resource | u64 soft | u64 hard */
/* Linux has 16 limits (RLIM_NLIMITS); a resource past that is a corrupt spec */
#define RLIMIT_RESOURCES 16
#define MAX_GROUPS 64 /* the agent's bx_user group list holds 64 in all */

int bx_rlimit_by_name(const char *name)
{
	/* Linux's numbers (the kernel ABI, the same in glibc and musl) */
	static const char *const names[RLIMIT_RESOURCES] = {
		"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
		"MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
	};
	for (int i = 0; name && i < RLIMIT_RESOURCES; i++)
		if (!strcasecmp(name, names[i]))
			return i;
	return -1;
}

void bx_spec_limits_free(struct bx_spec *s)
{
	free(s->rlimits);
	free(s->groups);
}

int bx_spec_add_rlimit(struct bx_spec *s, uint32_t resource, uint64_t soft, uint64_t hard, struct bx_err *err)
{
	if (resource >= RLIMIT_RESOURCES)
		return bx_fail(err, EINVAL, "process spec: unknown resource limit %u", resource);
	if (soft > hard)
		return bx_fail(err, EINVAL, "process spec: soft limit %llu exceeds hard limit %llu",
			       (unsigned long long)soft, (unsigned long long)hard);
	struct bx_spec_rlimit *n = realloc(s->rlimits, (s->nrlimits + 1) * sizeof(*n));
	if (!n)
		return bx_fail(err, ENOMEM, "cannot grow process spec");
	s->rlimits = n;
	s->rlimits[s->nrlimits++] = (struct bx_spec_rlimit){.resource = resource, .soft = soft, .hard = hard};
	return 0;
}

int bx_spec_add_group(struct bx_spec *s, uint32_t gid, struct bx_err *err)
{
	if (s->ngroups >= MAX_GROUPS)
		return bx_fail(err, E2BIG, "process spec: more than %d supplementary groups", MAX_GROUPS);
	uint32_t *n = realloc(s->groups, (s->ngroups + 1) * sizeof(*n));
	if (!n)
		return bx_fail(err, ENOMEM, "cannot grow process spec");
	s->groups = n;
	s->groups[s->ngroups++] = gid;
	return 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	bx_put_u32(p, (uint32_t)v);
	bx_put_u32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)bx_get_u32(p) | (uint64_t)bx_get_u32(p + 4) << 32;
}

void bx_spec_rlimit_pack(const struct bx_spec_rlimit *r, uint8_t out[20])
{
	bx_put_u32(out, r->resource);
	put_u64(out + 4, r->soft);
	put_u64(out + 12, r->hard);
}

int bx_spec_rlimit_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err)
{
	if (len != RLIMIT_REC)
		return bx_fail(err, 0, "process spec: resource limit must be %d bytes, got %u", RLIMIT_REC, len);
	return bx_spec_add_rlimit(s, bx_get_u32(p), get_u64(p + 4), get_u64(p + 12), err);
}

int bx_spec_group_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err)
{
	if (len != 4)
		return bx_fail(err, 0, "process spec: supplementary group must be 4 bytes, got %u", len);
	return bx_spec_add_group(s, bx_get_u32(p), err);
}

void bx_spec_caps_pack(const struct bx_spec_caps *c, uint8_t out[BX_SPEC_CAPS_REC])
{
	out[0] = c->keep;
	const uint64_t sets[] = {c->bounding, c->effective, c->permitted, c->inheritable, c->ambient};
	for (int i = 0; i < 5; i++)
		put_u64(out + 1 + 8 * i, sets[i]);
}

int bx_spec_caps_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err)
{
	if (len != BX_SPEC_CAPS_REC || p[0] > 1)
		return bx_fail(err, 0, "process spec: capabilities must be %d bytes, keep 0 or 1", BX_SPEC_CAPS_REC);
	if (s->caps.set)
		return bx_fail(err, 0, "process spec: duplicate capabilities");
	s->caps = (struct bx_spec_caps){.set = true, .keep = p[0], .bounding = get_u64(p + 1),
					.effective = get_u64(p + 9), .permitted = get_u64(p + 17),
					.inheritable = get_u64(p + 25), .ambient = get_u64(p + 33)};
	return 0;
}
