/* Pure parts of the registry client: Docker reference parsing, the
 * WWW-Authenticate challenge, platforms and index selection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "image/ref.h"
#include "image/registry/registry.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void expect_ref(const char *in, const char *domain, const char *path, const char *tag, const char *digest)
{
	struct bx_ref r;
	struct bx_err err = {0};
	int rc = bx_ref_parse(in, &r, &err);
	if (rc != 0)
		fail_msg("%s: %s", in, err.msg);
	assert_string_equal(r.domain, domain);
	assert_string_equal(r.path, path);
	assert_string_equal(r.tag, tag);
	assert_string_equal(r.digest, digest);
}

static void test_ref_defaults(void **state)
{
	expect_ref("busybox", "docker.io", "library/busybox", "latest", "");
	expect_ref("busybox:1.36", "docker.io", "library/busybox", "1.36", "");
	expect_ref("user/app", "docker.io", "user/app", "latest", "");
	expect_ref("docker.io/busybox", "docker.io", "library/busybox", "latest", "");
	expect_ref("index.docker.io/library/busybox:x", "docker.io", "library/busybox", "x", "");
	expect_ref("docker.io/library/busybox", "docker.io", "library/busybox", "latest", "");
	expect_ref("a/b/c/d:v1", "docker.io", "a/b/c/d", "v1", "");
}

static void test_ref_registry_hosts(void **state)
{
	expect_ref("127.0.0.1:5000/busybox:latest", "127.0.0.1:5000", "busybox", "latest", "");
	expect_ref("127.0.0.1:5000/busybox", "127.0.0.1:5000", "busybox", "latest", "");
	expect_ref("localhost/app", "localhost", "app", "latest", "");
	expect_ref("localhost:5000/ns/app:2", "localhost:5000", "ns/app", "2", "");
	expect_ref("ghcr.io/owner/img", "ghcr.io", "owner/img", "latest", "");
	expect_ref("[::1]:5000/app", "[::1]:5000", "app", "latest", "");
	/* no '.', ':' or localhost: a Docker Hub namespace, not a host */
	expect_ref("myhost/app", "docker.io", "myhost/app", "latest", "");
}

static void test_ref_digests(void **state)
{
	expect_ref("busybox@sha256:" HEX64, "docker.io", "library/busybox", "", "sha256:" HEX64);
	expect_ref("127.0.0.1:5000/busybox@sha256:" HEX64, "127.0.0.1:5000", "busybox", "", "sha256:" HEX64);
	expect_ref("r.io/a:v1@sha256:" HEX64, "r.io", "a", "v1", "sha256:" HEX64);
}

static void test_ref_invalid(void **state)
{
	const char *bad[] = {"", "Busybox", "busybox:", "busybox:-x", "busybox@sha256:abc", "a//b", "/a", "a/",
			     "busybox@md5:" HEX64, "-a", "a_", "a:b:c", "host:port/x", NULL};
	for (const char **b = bad; *b; b++) {
		struct bx_ref r;
		struct bx_err err = {0};
		if (bx_ref_parse(*b, &r, &err) == 0)
			fail_msg("'%s' parsed as %s/%s:%s", *b, r.domain, r.path, r.tag);
		assert_non_null(strstr(err.msg, "invalid reference format"));
	}
	struct bx_ref r;
	struct bx_err err = {0};
	assert_int_equal(bx_ref_parse("Busybox", &r, &err), -1);
	assert_non_null(strstr(err.msg, "must be lowercase"));
}

static void test_ref_familiar_and_loopback(void **state)
{
	struct bx_ref r;
	struct bx_err err;
	char out[600];
	assert_int_equal(bx_ref_parse("docker.io/library/busybox", &r, &err), 0);
	assert_int_equal(bx_ref_familiar(&r, true, out, sizeof(out), &err), 0);
	assert_string_equal(out, "busybox:latest");
	assert_string_equal(bx_ref_api_host(&r), "registry-1.docker.io");
	assert_int_equal(bx_ref_parse("127.0.0.1:5000/a/b@sha256:" HEX64, &r, &err), 0);
	assert_int_equal(bx_ref_familiar(&r, true, out, sizeof(out), &err), 0);
	assert_string_equal(out, "127.0.0.1:5000/a/b@sha256:" HEX64);
	assert_int_equal(bx_ref_familiar(&r, false, out, sizeof(out), &err), 0);
	assert_string_equal(out, "127.0.0.1:5000/a/b");
	assert_true(bx_ref_host_is_loopback("127.0.0.1:5000"));
	assert_true(bx_ref_host_is_loopback("127.1.2.3"));
	assert_true(bx_ref_host_is_loopback("localhost:80"));
	assert_true(bx_ref_host_is_loopback("[::1]:5000"));
	assert_false(bx_ref_host_is_loopback("127.0.0.1.evil.com"));
	assert_false(bx_ref_host_is_loopback("10.0.0.1:5000"));
	assert_false(bx_ref_host_is_loopback("docker.io"));
}

/* Found by fuzz_ref: a bracketed host took anything up to a ']' and after it
 * ("[a b]/app", "[::1]evil/app"), and "[::1]x" counted as loopback, where plain
 * HTTP is allowed. */
static void test_ref_bracket_host(void **state)
{
	const char *bad[] = {"[::1]evil/app", "[a b]/app", "[]/app", "[::1]:/app", "[::1]:123456/app", "[::1]x:80/app",
			     "[fe80::1%eth0]/app", NULL};
	for (const char **b = bad; *b; b++) {
		struct bx_ref r;
		struct bx_err err = {0};
		if (bx_ref_parse(*b, &r, &err) == 0)
			fail_msg("'%s' parsed with registry host '%s'", *b, r.domain);
	}
	expect_ref("[::1]/app", "[::1]", "app", "latest", "");
	expect_ref("[2001:db8::1]:5000/ns/app:v1", "[2001:db8::1]:5000", "ns/app", "v1", "");
	assert_false(bx_ref_host_is_loopback("[::1]evil"));
	assert_false(bx_ref_host_is_loopback("[::1]x:5000"));
	assert_false(bx_ref_host_is_loopback("localhost:x"));
	assert_true(bx_ref_host_is_loopback("[::1]"));
	assert_true(bx_ref_host_is_loopback("localhost"));
}

/* Found by fuzz_ref: "00000000000127.0.0.1" was loopback to sscanf's %u, but
 * curl reads a leading 0 as octal and connects to 87.0.0.1, over plain HTTP. */
static void test_loopback_decimal_only(void **state)
{
	assert_false(bx_ref_host_is_loopback("0127.0.0.1:5000"));
	assert_false(bx_ref_host_is_loopback("00000000000127.0.0.1:50000"));
	assert_false(bx_ref_host_is_loopback("127.0.0.01"));
	assert_false(bx_ref_host_is_loopback("127.0.0.256"));
	assert_false(bx_ref_host_is_loopback("127.0.0.1.2"));
	assert_false(bx_ref_host_is_loopback("127.0.1"));
	assert_true(bx_ref_host_is_loopback("127.0.0.1"));
	assert_true(bx_ref_host_is_loopback("127.255.0.10:443"));
	struct bx_ref r;
	struct bx_err err = {0};
	assert_int_equal(bx_ref_parse("0127.0.0.1:5000/app", &r, &err), 0);
	assert_false(bx_ref_host_is_loopback(r.domain));
}

/* Found by fuzz_ref: the Hub repository "l.io/x" (index.docker.io/l.io/x) got
 * the local name "l.io/x:latest", which reads as repository x on host l.io. */
static void test_familiar_keeps_hub_prefix(void **state)
{
	struct bx_ref r, again;
	struct bx_err err = {0};
	char out[600];
	assert_int_equal(bx_ref_parse("index.docker.io/docker.io/library/busybox", &r, &err), 0);
	assert_string_equal(r.domain, "docker.io");
	assert_string_equal(r.path, "docker.io/library/busybox");
	assert_int_equal(bx_ref_familiar(&r, true, out, sizeof(out), &err), 0);
	assert_string_equal(out, "docker.io/docker.io/library/busybox:latest");
	assert_int_equal(bx_ref_parse(out, &again, &err), 0);
	assert_string_equal(again.domain, "docker.io");
	assert_string_equal(again.path, "docker.io/library/busybox");
	assert_int_equal(bx_ref_parse("docker.io/localhost/app", &r, &err), 0);
	assert_int_equal(bx_ref_familiar(&r, false, out, sizeof(out), &err), 0);
	assert_string_equal(out, "docker.io/localhost/app");
	assert_int_equal(bx_ref_parse("docker.io/library/busybox:1", &r, &err), 0);
	assert_int_equal(bx_ref_familiar(&r, true, out, sizeof(out), &err), 0);
	assert_string_equal(out, "busybox:1");
}

static void test_challenge(void **state)
{
	struct bx_auth_challenge c;
	struct bx_err err;
	assert_int_equal(bx_auth_challenge_parse(
				 "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"",
				 &c, &err),
			 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:library/busybox:pull");

	/* spaces after commas, a token value, an escaped quote, an error param */
	assert_int_equal(bx_auth_challenge_parse("bearer  realm=\"http://h/t?a=1\", service=svc, error=\"insufficient_scope\", x=\"a\\\"b\"",
						 &c, &err),
			 0);
	assert_string_equal(c.scheme, "bearer");
	assert_string_equal(c.realm, "http://h/t?a=1");
	assert_string_equal(c.service, "svc");
	assert_string_equal(c.error, "insufficient_scope");
	assert_string_equal(c.scope, "");

	assert_int_equal(bx_auth_challenge_parse("Basic realm=\"Registry Realm\"", &c, &err), 0);
	assert_string_equal(c.scheme, "Basic");
	assert_string_equal(c.realm, "Registry Realm");

	assert_int_equal(bx_auth_challenge_parse("Bearer service=\"x\"", &c, &err), -1);
	assert_int_equal(bx_auth_challenge_parse("Bearer realm=\"unterminated", &c, &err), -1);
	assert_int_equal(bx_auth_challenge_parse(NULL, &c, &err), -1);
	assert_int_equal(bx_auth_challenge_parse("", &c, &err), -1);
}

/* stored credentials travel only over HTTPS, or to a loopback / listed insecure realm */
static void test_realm_credentials(void **state)
{
	assert_true(bx_realm_may_get_credentials("https://auth.docker.io/token", NULL));
	assert_true(bx_realm_may_get_credentials("HTTPS://auth.example.com", NULL));
	assert_false(bx_realm_may_get_credentials("http://auth.example.com/token", NULL));
	assert_false(bx_realm_may_get_credentials("http://auth.example.com:5000/token?x=1", ""));
	assert_true(bx_realm_may_get_credentials("http://127.0.0.1:5000/token", NULL));
	assert_true(bx_realm_may_get_credentials("http://localhost/token", NULL));
	assert_true(bx_realm_may_get_credentials("http://[::1]:80/token", NULL));
	/* userinfo does not make a remote host local */
	assert_false(bx_realm_may_get_credentials("http://127.0.0.1@evil.example/token", NULL));
	assert_false(bx_realm_may_get_credentials("http://localhost.evil.example/token", NULL));
	/* listed insecure registries, exactly as host[:port] */
	assert_true(bx_realm_may_get_credentials("http://reg.lan:5000/token", "other, reg.lan:5000"));
	assert_false(bx_realm_may_get_credentials("http://reg.lan/token", "reg.lan:5000"));
	assert_false(bx_realm_may_get_credentials("http://reg.lan:5000/token", "reg.lan"));
	assert_false(bx_realm_may_get_credentials("ftp://auth.example.com/", NULL));
	assert_false(bx_realm_may_get_credentials("http:///token", NULL));
	assert_false(bx_realm_may_get_credentials("Registry Realm", NULL));
	assert_true(bx_registry_insecure_listed("a:1", "b,a:1"));
	assert_false(bx_registry_insecure_listed("a", NULL));
}

static void test_platform_parse(void **state)
{
	struct bx_platform p;
	struct bx_err err;
	assert_int_equal(bx_platform_parse("linux/amd64", &p, &err), 0);
	assert_string_equal(p.os, "linux");
	assert_string_equal(p.arch, "amd64");
	assert_string_equal(p.variant, "");
	assert_int_equal(bx_platform_parse("linux/arm/v7", &p, &err), 0);
	assert_string_equal(p.variant, "v7");
	assert_int_equal(bx_platform_parse("linux/x86_64", &p, &err), 0);
	assert_string_equal(p.arch, "amd64");
	assert_int_equal(bx_platform_parse("arm64", &p, &err), 0);
	assert_string_equal(p.os, "linux");
	assert_string_equal(p.arch, "arm64");
	assert_int_equal(bx_platform_parse("", &p, &err), -1);
	assert_int_equal(bx_platform_parse("a/b/c/d", &p, &err), -1);
	assert_int_equal(bx_platform_parse("linux/", &p, &err), -1);
	bx_platform_default(&p);
	assert_string_equal(p.os, "linux");
	assert_string_equal(p.arch, "amd64");
}

#define D(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

static const char index_json[] =
	"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
	"{\"digest\":\"" D("a") "\",\"size\":11,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
	"{\"digest\":\"" D("b") "\",\"size\":12,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
	"{\"digest\":\"" D("c") "\",\"size\":13,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
	"{\"digest\":\"" D("e") "\",\"size\":15,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}},"
	"{\"digest\":\"" D("d") "\",\"size\":14,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";

static void test_index_select(void **state)
{
	struct bx_platform p;
	struct bx_err err;
	char dg[72];
	long long size;
	assert_true(bx_manifest_is_index(index_json, strlen(index_json)));
	const char *image = "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}", *bare = "{\"schemaVersion\":2,\"manifests\":[]}";
	assert_false(bx_manifest_is_index(image, strlen(image)));
	assert_true(bx_manifest_is_index(bare, strlen(bare))); /* no mediaType: by shape */

	bx_platform_default(&p);
	assert_int_equal(bx_index_select(index_json, strlen(index_json), &p, dg, &size, &err), 0);
	assert_string_equal(dg, D("d"));
	assert_int_equal(size, 14);

	bx_platform_parse("linux/arm64", &p, &err);
	assert_int_equal(bx_index_select(index_json, strlen(index_json), &p, dg, &size, &err), 0);
	assert_string_equal(dg, D("a"));

	bx_platform_parse("linux/arm/v7", &p, &err);
	assert_int_equal(bx_index_select(index_json, strlen(index_json), &p, dg, &size, &err), 0);
	assert_string_equal(dg, D("c"));

	bx_platform_parse("linux/s390x", &p, &err);
	assert_int_equal(bx_index_select(index_json, strlen(index_json), &p, dg, &size, &err), -1);
	assert_non_null(strstr(err.msg, "no matching manifest for linux/s390x"));
	assert_non_null(strstr(err.msg, "linux/amd64"));
	assert_null(strstr(err.msg, "unknown")); /* attestation entries are not offered as platforms */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_defaults),     cmocka_unit_test(test_ref_registry_hosts),
		cmocka_unit_test(test_ref_digests),      cmocka_unit_test(test_ref_invalid),
		cmocka_unit_test(test_ref_familiar_and_loopback), cmocka_unit_test(test_ref_bracket_host),
		cmocka_unit_test(test_loopback_decimal_only), cmocka_unit_test(test_familiar_keeps_hub_prefix),
		cmocka_unit_test(test_challenge), cmocka_unit_test(test_realm_credentials),
		cmocka_unit_test(test_platform_parse),   cmocka_unit_test(test_index_select),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
