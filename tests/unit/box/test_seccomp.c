/* Seccomp profiles (src/box/seccomp*.c): Docker's format filtered as Docker
 * 20.10 filters it (includes/excludes against caps, arch, kernel), OCI's,
 * the errors for hostile or broken profiles, and the BPF libseccomp makes
 * of them, run here on a test syscall number through a tiny BPF interpreter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include "box/seccomp.h"

#define SYSADMIN (1ULL << 21)

static const struct bx_seccomp_target default_caps = {.bounding = BX_CAPS_DOCKER_DEFAULT, .kernel_major = 6,
							.kernel_minor = 1};

static int parse(const char *text, enum bx_seccomp_format fmt, const struct bx_seccomp_target *t,
		 struct bx_seccomp_profile *p, struct bx_err *err)
{
	return bx_seccomp_parse_text(text, strlen(text), fmt, t ? t : &default_caps, p, err);
}

static const struct bx_seccomp_rule *rule_naming(const struct bx_seccomp_profile *p, const char *name)
{
	for (size_t i = 0; i < p->nrules; i++)
		for (size_t j = 0; j < p->rules[i].nnames; j++)
			if (!strcmp(p->rules[i].names[j], name))
				return &p->rules[i];
	return NULL;
}

/* run the classic BPF program on one seccomp_data, as the kernel would */
static uint32_t run_bpf(const struct bx_spec *s, int nr, const uint64_t args[6])
{
	struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64};
	for (int i = 0; i < 6; i++)
		d.args[i] = args ? args[i] : 0;
	uint32_t a = 0;
	for (size_t pc = 0; pc < s->nseccomp; pc++) {
		const struct bx_spec_bpf *in = &s->seccomp[pc];
		switch (in->code) {
		case BPF_LD | BPF_W | BPF_ABS: memcpy(&a, (const uint8_t *)&d + in->k, 4); break;
		case BPF_RET | BPF_K: return in->k;
		case BPF_JMP | BPF_JA: pc += in->k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == in->k ? in->jt : in->jf; break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += a > in->k ? in->jt : in->jf; break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += a >= in->k ? in->jt : in->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += (a & in->k) ? in->jt : in->jf; break;
		case BPF_ALU | BPF_AND | BPF_K: a &= in->k; break;
		case BPF_LD | BPF_MEM: case BPF_ST: case BPF_MISC | BPF_TAX: case BPF_MISC | BPF_TXA: break;
		default: fail_msg("BPF opcode %#x not handled by the test", in->code);
		}
	}
	fail_msg("BPF program fell off its end");
	return 0;
}

static void compile(const char *text, enum bx_seccomp_format fmt, const struct bx_seccomp_target *t, struct bx_spec *s)
{
	struct bx_seccomp_profile p;
	struct bx_err err;
	bx_spec_init(s);
	if (parse(text, fmt, t, &p, &err) < 0)
		fail_msg("%s", err.msg);
	if (bx_seccomp_compile(&p, s, &err) < 0)
		fail_msg("%s", err.msg);
	bx_seccomp_profile_free(&p);
}

static void test_docker_default_follows_caps(void **state)
{
	struct bx_seccomp_profile p;
	struct bx_err err;
	assert_int_equal(bx_seccomp_parse_text(bx_seccomp_docker_default, bx_seccomp_docker_default_len,
					       BX_SECCOMP_DOCKER, &default_caps, &p, &err), 0);
	assert_int_equal(p.default_action, SCMP_ACT_ERRNO(1));
	/* archMap: this machine's x86_64 with x86 and x32 */
	assert_int_equal(p.narches, 3);
	assert_non_null(rule_naming(&p, "read"));
	assert_non_null(rule_naming(&p, "ptrace")); /* minKernel 4.8 <= 6.1 */
	assert_null(rule_naming(&p, "mount"));      /* CAP_SYS_ADMIN only */
	assert_null(rule_naming(&p, "keyctl"));     /* never */
	assert_null(rule_naming(&p, "s390_pci_mmio_read")); /* another arch's */
	const struct bx_seccomp_rule *clone3 = rule_naming(&p, "clone3");
	assert_non_null(clone3); /* ENOSYS without CAP_SYS_ADMIN */
	assert_int_equal(clone3->action, SCMP_ACT_ERRNO(38));
	bx_seccomp_profile_free(&p);

	/* with CAP_SYS_ADMIN: mount allowed, clone3 not refused */
	struct bx_seccomp_target admin = default_caps;
	admin.bounding |= SYSADMIN;
	admin.kernel_major = 4, admin.kernel_minor = 4;
	assert_int_equal(bx_seccomp_parse_text(bx_seccomp_docker_default, bx_seccomp_docker_default_len,
					       BX_SECCOMP_DOCKER, &admin, &p, &err), 0);
	assert_non_null(rule_naming(&p, "mount"));
	assert_int_equal(rule_naming(&p, "clone3")->action, SCMP_ACT_ALLOW);
	assert_null(rule_naming(&p, "ptrace")); /* kernel 4.4 < 4.8 */
	bx_seccomp_profile_free(&p);
}

static void test_default_bpf_allows_and_denies(void **state)
{
	struct bx_spec s;
	compile(bx_seccomp_docker_default, BX_SECCOMP_DOCKER, &default_caps, &s);
	assert_true(s.nseccomp > 10 && s.nseccomp <= BX_SECCOMP_MAX_INSNS);
	assert_int_equal(run_bpf(&s, SYS_read, NULL), SECCOMP_RET_ALLOW);
	assert_int_equal(run_bpf(&s, SYS_keyctl, NULL), SECCOMP_RET_ERRNO | 1);
	assert_int_equal(run_bpf(&s, SYS_add_key, NULL), SECCOMP_RET_ERRNO | 1);
	assert_int_equal(run_bpf(&s, SYS_mount, NULL), SECCOMP_RET_ERRNO | 1);
	assert_int_equal(run_bpf(&s, SYS_clone3, NULL), SECCOMP_RET_ERRNO | 38);
	/* personality(0) allowed, personality(7) not (args) */
	assert_int_equal(run_bpf(&s, SYS_personality, (uint64_t[6]){0}), SECCOMP_RET_ALLOW);
	assert_int_equal(run_bpf(&s, SYS_personality, (uint64_t[6]){7}), SECCOMP_RET_ERRNO | 1);
	bx_spec_free(&s);
}

static void test_custom_profiles(void **state)
{
	struct bx_spec s;
	/* the one the integration test uses: mkdir denied, all else allowed; unknown names skipped */
	compile("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\",\"nosuchcall\"],"
		"\"action\":\"SCMP_ACT_ERRNO\"},{\"name\":\"chdir\",\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":5},"
		"{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
		BX_SECCOMP_DOCKER, NULL, &s);
	assert_int_equal(run_bpf(&s, SYS_mkdir, NULL), SECCOMP_RET_ERRNO | 1);
	assert_int_equal(run_bpf(&s, SYS_mkdirat, NULL), SECCOMP_RET_ERRNO | 1);
	assert_int_equal(run_bpf(&s, SYS_chdir, NULL), SECCOMP_RET_ERRNO | 5);
	assert_int_equal(run_bpf(&s, SYS_getpid, NULL), SECCOMP_RET_ALLOW);
	assert_int_equal(run_bpf(&s, SYS_read, NULL), SECCOMP_RET_ALLOW);
	bx_spec_free(&s);
	/* OCI: defaultErrnoRet, args with MASKED_EQ, two conditions on one arg (a rule each) */
	compile("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,\"architectures\":[\"SCMP_ARCH_X86_64\"],"
		"\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		"{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":3,\"valueTwo\":1,"
		"\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
		"{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
		"{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		BX_SECCOMP_OCI, NULL, &s);
	assert_int_equal(run_bpf(&s, SYS_read, NULL), SECCOMP_RET_ALLOW);
	assert_int_equal(run_bpf(&s, SYS_getpid, NULL), SECCOMP_RET_ERRNO | 38);
	assert_int_equal(run_bpf(&s, SYS_write, (uint64_t[6]){5}), SECCOMP_RET_ALLOW);
	assert_int_equal(run_bpf(&s, SYS_write, (uint64_t[6]){4}), SECCOMP_RET_ERRNO | 38);
	assert_int_equal(run_bpf(&s, SYS_close, (uint64_t[6]){1}), SECCOMP_RET_ALLOW);
	assert_int_equal(run_bpf(&s, SYS_close, (uint64_t[6]){2}), SECCOMP_RET_ALLOW);
	assert_int_equal(run_bpf(&s, SYS_close, (uint64_t[6]){3}), SECCOMP_RET_ERRNO | 38);
	bx_spec_free(&s);
	/* no defaultAction and no syscalls: no filter at all (Docker: seccomp off) */
	compile("{}", BX_SECCOMP_DOCKER, NULL, &s);
	assert_int_equal(s.nseccomp, 0);
	bx_spec_free(&s);
}

static void expect_error(const char *text, enum bx_seccomp_format fmt, const char *want)
{
	struct bx_seccomp_profile p;
	struct bx_err err = {0};
	if (parse(text, fmt, NULL, &p, &err) == 0) {
		bx_seccomp_profile_free(&p);
		fail_msg("accepted: %s", text);
	}
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
}

/* a profile of n rules (each of k names) as text */
static char *big_profile(size_t n, size_t k)
{
	size_t cap = 64 + n * (64 + k * 12);
	char *t = malloc(cap), *o = t;
	o += sprintf(o, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[");
	for (size_t i = 0; i < n; i++) {
		o += sprintf(o, "%s{\"action\":\"SCMP_ACT_ERRNO\",\"names\":[", i ? "," : "");
		for (size_t j = 0; j < k; j++)
			o += sprintf(o, "%s\"n%zu\"", j ? "," : "", j);
		o += sprintf(o, "]}");
	}
	sprintf(o, "]}");
	return t;
}

static void test_hostile_and_broken(void **state)
{
	expect_error("{\"defaultAction\": ", BX_SECCOMP_DOCKER, "Decoding seccomp profile failed");
	expect_error("[]", BX_SECCOMP_DOCKER, "not a JSON object");
	expect_error("{\"defaultAction\":\"SCMP_ACT_BOGUS\"}", BX_SECCOMP_DOCKER,
		     "string SCMP_ACT_BOGUS is not a valid action for seccomp");
	expect_error("{\"defaultAction\":7}", BX_SECCOMP_DOCKER, "defaultAction must be a string");
	expect_error("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", BX_SECCOMP_OCI, "SCMP_ACT_NOTIFY is not supported");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":"
		     "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":7,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		     BX_SECCOMP_DOCKER, "syscalls only have up to 6 arguments");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":"
		     "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_SORTA\"}]}]}",
		     BX_SECCOMP_DOCKER, "op SCMP_CMP_SORTA is not a valid operator");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":"
		     "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":-5,\"op\":\"SCMP_CMP_EQ\"}]}]}",
		     BX_SECCOMP_DOCKER, "value and valueTwo must be numbers");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
		     BX_SECCOMP_DOCKER, "non-empty string");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"name\":\"a\",\"names\":[\"b\"],"
		     "\"action\":\"SCMP_ACT_ERRNO\"}]}", BX_SECCOMP_DOCKER, "'name' and 'names' were specified");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],\"archMap\":"
		     "[{\"architecture\":\"SCMP_ARCH_X86_64\"}]}", BX_SECCOMP_DOCKER, "use either 'architectures' or 'archMap'");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}", BX_SECCOMP_OCI,
		     "unknown architecture SCMP_ARCH_VAX");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ERRNO\","
		     "\"errnoRet\":70000}]}", BX_SECCOMP_DOCKER, "errnoRet must be a number");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
		     "\"includes\":{\"minKernel\":\"4\"}}]}", BX_SECCOMP_DOCKER, "invalid kernel version");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ALLOW\","
		     "\"includes\":{\"minKernel\":\"0.0\"}}]}", BX_SECCOMP_DOCKER, "invalid kernel version");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}", BX_SECCOMP_DOCKER, "syscalls must be an array");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"]}", BX_SECCOMP_OCI,
		     "flags are not supported");
	expect_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/x.sock\"}", BX_SECCOMP_OCI,
		     "listenerPath is not supported");
	/* sizes: too many rules, too many names, a name too long, a file too big */
	char *t = big_profile(BX_SECCOMP_MAX_RULES + 1, 1);
	expect_error(t, BX_SECCOMP_DOCKER, "more than 8192 syscalls entries");
	free(t);
	t = big_profile(9, 1000);
	expect_error(t, BX_SECCOMP_DOCKER, "more than 8192 syscall names");
	free(t);
	char name[200];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	char text[400];
	snprintf(text, sizeof(text), "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"%s\"],"
		 "\"action\":\"SCMP_ACT_ERRNO\"}]}", name);
	expect_error(text, BX_SECCOMP_DOCKER, "is too long");
	struct bx_seccomp_profile p;
	struct bx_err err;
	assert_int_equal(bx_seccomp_parse_text("{}", BX_SECCOMP_MAX_TEXT + 1, BX_SECCOMP_DOCKER, &default_caps, &p, &err),
			 -1);
	assert_non_null(strstr(err.msg, "over boxvm's limit"));
}

static void test_program_too_big_is_refused(void **state)
{
	/* eight syscalls on 600 argument values each: over 4096 instructions */
	size_t cap = 1 << 20;
	char *t = malloc(cap), *o = t;
	o += sprintf(o, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[");
	static const char *const calls[] = {"read", "write", "openat", "close", "fstat", "lseek", "mmap", "mprotect"};
	for (int i = 0; i < 8 * 600; i++)
		o += sprintf(o, "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":%d,"
			     "\"op\":\"SCMP_CMP_EQ\"}]}", i ? "," : "", calls[i % 8], i);
	sprintf(o, "]}");
	struct bx_seccomp_profile p;
	struct bx_err err;
	struct bx_spec s;
	bx_spec_init(&s);
	if (parse(t, BX_SECCOMP_OCI, NULL, &p, &err) < 0)
		fail_msg("%s", err.msg);
	int rc = bx_seccomp_compile(&p, &s, &err);
	if (rc == 0)
		fail_msg("compiled to %zu instructions", s.nseccomp);
	assert_non_null(strstr(err.msg, "over the kernel's limit of 4096"));
	assert_int_equal(s.nseccomp, 0);
	bx_seccomp_profile_free(&p);
	free(t);
}

static void test_spec_round_trip(void **state)
{
	struct bx_spec s, d;
	compile(bx_seccomp_docker_default, BX_SECCOMP_DOCKER, &default_caps, &s);
	bx_spec_add_arg(&s, "true", NULL);
	uint8_t *buf;
	size_t len;
	struct bx_err err;
	assert_int_equal(bx_spec_encode(&s, &buf, &len, &err), 0);
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, buf, len, &err), 0);
	assert_int_equal(d.nseccomp, s.nseccomp);
	assert_memory_equal(d.seccomp, s.seccomp, s.nseccomp * sizeof(*s.seccomp));
	bx_spec_free(&d);
	/* a record that is not whole instructions, or too many, is refused */
	uint8_t bad[6 + 12] = {16, 0, 12, 0, 0, 0};
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, bad, sizeof(bad), &err), -1);
	assert_non_null(strstr(err.msg, "seccomp filter must be"));
	free(buf);
	bx_spec_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_default_follows_caps),
		cmocka_unit_test(test_default_bpf_allows_and_denies),
		cmocka_unit_test(test_custom_profiles),
		cmocka_unit_test(test_hostile_and_broken),
		cmocka_unit_test(test_program_too_big_is_refused),
		cmocka_unit_test(test_spec_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
