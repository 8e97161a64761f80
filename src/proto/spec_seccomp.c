/* The process spec's seccomp filter (BX_T_SECCOMP): the classic BPF program
 * the host compiled from a profile (src/box/seccomp*.c), which the agent
 * installs in the child before exec. The guest only ever receives BPF. */
#include "spec_box.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

#define INSN_REC 8 /* u16 code | u8 jt | u8 jf | u32 k */

void bx_spec_seccomp_free(struct bx_spec *s)
{
	free(s->seccomp);
	s->seccomp = NULL;
	s->nseccomp = 0;
}

int bx_spec_set_seccomp(struct bx_spec *s, const struct bx_spec_bpf *prog, size_t n, struct bx_err *err)
{
	if (n > BX_SECCOMP_MAX_INSNS)
		return bx_fail(err, E2BIG, "seccomp filter of %zu instructions is over the kernel's limit of %d", n,
			       BX_SECCOMP_MAX_INSNS);
	struct bx_spec_bpf *copy = NULL;
	if (n && !(copy = malloc(n * sizeof(*copy))))
		return bx_fail(err, ENOMEM, "cannot grow process spec");
	if (n)
		memcpy(copy, prog, n * sizeof(*copy));
	free(s->seccomp);
	s->seccomp = copy;
	s->nseccomp = n;
	return 0;
}

int bx_spec_seccomp_pack(const struct bx_spec *s, uint8_t **out, size_t *len)
{
	*out = malloc(s->nseccomp * INSN_REC);
	if (!*out)
		return -1;
	for (size_t i = 0; i < s->nseccomp; i++) {
		uint8_t *p = *out + i * INSN_REC;
		bx_put_u16(p, s->seccomp[i].code);
		p[2] = s->seccomp[i].jt;
		p[3] = s->seccomp[i].jf;
		bx_put_u32(p + 4, s->seccomp[i].k);
	}
	*len = s->nseccomp * INSN_REC;
	return 0;
}

int bx_spec_seccomp_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err)
{
	if (s->seccomp)
		return bx_fail(err, 0, "process spec: duplicate seccomp filter");
	if (len == 0 || len % INSN_REC || len / INSN_REC > BX_SECCOMP_MAX_INSNS)
		return bx_fail(err, 0, "process spec: seccomp filter must be 1 to %d instructions of %d bytes, got %u "
				       "bytes", BX_SECCOMP_MAX_INSNS, INSN_REC, len);
	size_t n = len / INSN_REC;
	if (!(s->seccomp = malloc(n * sizeof(*s->seccomp))))
		return bx_fail(err, ENOMEM, "cannot decode process spec");
	for (size_t i = 0; i < n; i++, p += INSN_REC)
		s->seccomp[i] = (struct bx_spec_bpf){.code = bx_get_u16(p), .jt = p[2], .jf = p[3], .k = bx_get_u32(p + 4)};
	s->nseccomp = n;
	return 0;
}
