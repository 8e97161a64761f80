/* A seccomp profile (--security-opt seccomp=FILE, linux.seccomp): one
 * steering byte (bit 0: OCI format, bit 1: CAP_SYS_ADMIN held, bits 2-7: the
 * kernel's minor version), then the JSON. What parses compiles to at most
 * the kernel's 4096 instructions, or fails cleanly. */
#include "box/seccomp.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	enum bx_seccomp_format fmt = data[0] & 1 ? BX_SECCOMP_OCI : BX_SECCOMP_DOCKER;
	struct bx_seccomp_target t = {.bounding = BX_CAPS_DOCKER_DEFAULT | (data[0] & 2 ? 1ULL << 21 : 0),
				      .kernel_major = 5, .kernel_minor = data[0] >> 2};
	struct bx_seccomp_profile p;
	struct bx_err err = {0};
	if (bx_seccomp_parse_text((const char *)data + 1, size - 1, fmt, &t, &p, &err) < 0) {
		FZ_CHECK(err.msg[0]);
		FZ_CHECK(p.nrules == 0 && p.rules == NULL);
		return 0;
	}
	FZ_CHECK(p.narches <= BX_SECCOMP_MAX_ARCHES);
	size_t names = 0;
	for (size_t i = 0; i < p.nrules; i++) {
		const struct bx_seccomp_rule *r = &p.rules[i];
		FZ_CHECK(r->nargs <= BX_SECCOMP_MAX_ARGS);
		for (size_t j = 0; j < r->nargs; j++)
			FZ_CHECK(r->args[j].index <= 5);
		for (size_t j = 0; j < r->nnames; j++)
			FZ_CHECK(r->names[j][0] && strlen(r->names[j]) <= BX_SECCOMP_MAX_NAME);
		FZ_CHECK(r->names == NULL || r->names[r->nnames] == NULL);
		names += r->nnames;
	}
	FZ_CHECK(names <= BX_SECCOMP_MAX_NAMES);
	struct bx_spec s;
	bx_spec_init(&s);
	if (bx_seccomp_compile(&p, &s, &err) == 0)
		FZ_CHECK(s.nseccomp <= BX_SECCOMP_MAX_INSNS && (p.none ? s.nseccomp == 0 : s.nseccomp > 0));
	else
		FZ_CHECK(s.nseccomp == 0 && err.msg[0]);
	bx_spec_free(&s);
	bx_seccomp_profile_free(&p);
	return 0;
}
