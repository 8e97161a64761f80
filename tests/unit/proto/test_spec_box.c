/* The box-only TLVs of the process spec (network, /etc files, mounts) and
 * their vm.json / QEMU counterparts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/frame.h"
#include "proto/spec.h"
#include "vm/vmspec.h"

static void test_box_roundtrip(void **state)
{
	struct bx_spec s, d;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_spec_add_arg(&s, "sh", &err), 0);
	assert_int_equal(bx_spec_set_net(&s, "10.0.2.15/24", "10.0.2.2", 65520, &err), 0);
	assert_int_equal(bx_spec_set_etc(&s, "127.0.0.1\tlocalhost\n", "nameserver 10.0.2.3\n", &err), 0);
	s.read_only = true;
	assert_int_equal(bx_spec_add_mount(&s, BX_SM_DIR, false, "m0", "/data", "", &err), 0);
	assert_int_equal(bx_spec_add_mount(&s, BX_SM_FILE, true, "m1", "/etc/app.conf", "app.conf", &err), 0);
	assert_int_equal(bx_spec_add_mount(&s, BX_SM_TMPFS, false, NULL, "/run", "size=64m", &err), 0);
	uint8_t *buf;
	size_t len;
	assert_int_equal(bx_spec_encode(&s, &buf, &len, &err), 0);
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, buf, len, &err), 0);
	assert_string_equal(d.ipv4, "10.0.2.15/24");
	assert_string_equal(d.gateway, "10.0.2.2");
	assert_int_equal(d.mtu, 65520);
	assert_string_equal(d.etc_hosts, "127.0.0.1\tlocalhost\n");
	assert_string_equal(d.etc_resolv, "nameserver 10.0.2.3\n");
	assert_true(d.read_only);
	assert_int_equal(d.nmounts, 3);
	assert_int_equal(d.mounts[0].kind, BX_SM_DIR);
	assert_string_equal(d.mounts[0].source, "m0");
	assert_string_equal(d.mounts[0].target, "/data");
	assert_false(d.mounts[0].ro);
	assert_int_equal(d.mounts[1].kind, BX_SM_FILE);
	assert_true(d.mounts[1].ro);
	assert_string_equal(d.mounts[1].options, "app.conf");
	assert_int_equal(d.mounts[2].kind, BX_SM_TMPFS);
	assert_string_equal(d.mounts[2].source, "");
	assert_string_equal(d.mounts[2].options, "size=64m");
	bx_spec_free(&d);
	bx_spec_free(&s);
	free(buf);
}

static void test_box_defaults_absent(void **state)
{
	struct bx_spec s, d;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_spec_add_arg(&s, "true", &err), 0);
	uint8_t *buf;
	size_t len;
	assert_int_equal(bx_spec_encode(&s, &buf, &len, &err), 0);
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, buf, len, &err), 0);
	assert_null(d.ipv4);
	assert_null(d.etc_hosts);
	assert_false(d.read_only);
	assert_int_equal(d.nmounts, 0);
	bx_spec_free(&d);
	bx_spec_free(&s);
	free(buf);
}

/* one record: ARG "x" + a MOUNT record with the given payload */
static size_t with_mount(uint8_t *out, const uint8_t *payload, size_t n)
{
	bx_put_u16(out, BX_T_ARG);
	bx_put_u32(out + 2, 1);
	out[6] = 'x';
	bx_put_u16(out + 7, BX_T_MOUNT);
	bx_put_u32(out + 9, (uint32_t)n);
	memcpy(out + 13, payload, n);
	return 13 + n;
}

static void test_malformed_mounts(void **state)
{
	struct bx_spec d;
	struct bx_err err;
	uint8_t buf[128];
	/* kind 9 */
	const uint8_t bad_kind[] = {9, 0, 0, 0, 2, 0, '/', 'a'};
	/* target length beyond the record */
	const uint8_t bad_len[] = {1, 0, 2, 0, 'm', '0', 50, 0, '/'};
	/* relative target */
	const uint8_t rel[] = {1, 0, 2, 0, 'm', '0', 1, 0, 'a'};
	/* ro byte 2 */
	const uint8_t bad_ro[] = {1, 2, 2, 0, 'm', '0', 1, 0, '/'};
	/* a NUL inside the target */
	const uint8_t nul[] = {1, 0, 2, 0, 'm', '0', 2, 0, '/', 0};
	const uint8_t *cases[] = {bad_kind, bad_len, rel, bad_ro, nul};
	size_t sizes[] = {sizeof(bad_kind), sizeof(bad_len), sizeof(rel), sizeof(bad_ro), sizeof(nul)};
	for (size_t i = 0; i < 5; i++) {
		bx_spec_init(&d);
		size_t n = with_mount(buf, cases[i], sizes[i]);
		assert_int_equal(bx_spec_decode(&d, buf, n, &err), -1);
		assert_int_equal(d.nmounts, 0);
	}
	/* a well-formed one with empty options decodes */
	const uint8_t ok[] = {1, 1, 2, 0, 'm', '0', 1, 0, '/'};
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, buf, with_mount(buf, ok, sizeof(ok)), &err), 0);
	assert_int_equal(d.nmounts, 1);
	assert_true(d.mounts[0].ro);
	bx_spec_free(&d);
}

static void test_vmjson_and_argv(void **state)
{
	static struct bx_vmspec s, r;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%064d", 1);
	snprintf(s.box_dir, sizeof(s.box_dir), "/b");
	snprintf(s.run_dir, sizeof(s.run_dir), "/r");
	snprintf(s.rootfs, sizeof(s.rootfs), "/b/rootfs");
	snprintf(s.kernel, sizeof(s.kernel), "/k");
	snprintf(s.initrd, sizeof(s.initrd), "/i");
	snprintf(s.cmdline, sizeof(s.cmdline), "quiet");
	snprintf(s.accel, sizeof(s.accel), "tcg");
	s.mem_mb = 256;
	s.cpus = 1;
	s.network = true;
	s.nports = 1;
	s.ports[0] = (struct bx_port){.host_ip = "127.0.0.1", .host_port = 8080, .guest_port = 80, .proto = "udp"};
	s.nshares = 2;
	s.shares[0] = (struct bx_share){.tag = "m0", .source = "/host/dir", .volume = "", .ro = true};
	s.shares[1] = (struct bx_share){.tag = "m1", .source = "/v/_data", .volume = "data", .file = false};
	char path[] = "/tmp/test_spec_box_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct bx_err err;
	assert_int_equal(bx_vmspec_write(path, &s, &err), 0);
	assert_int_equal(bx_vmspec_read(path, &r, &err), 0);
	unlink(path);
	assert_true(r.network);
	assert_int_equal(r.nports, 1);
	assert_false(r.all_ports);
	assert_int_equal(r.ports[0].host_port, 8080);
	assert_string_equal(r.ports[0].proto, "udp");
	assert_int_equal(r.nshares, 2);
	assert_true(r.shares[0].ro);
	assert_string_equal(r.shares[1].volume, "data");
	assert_false(r.rootfs_ro);
	/* boxvm-runtime in a pod's namespace: every port; root.readonly: virtiofsd serves the root read-only */
	s.all_ports = true;
	s.rootfs_ro = true;
	static struct bx_vmspec all;
	char all_path[] = "/tmp/test_spec_box_all_XXXXXX";
	fd = mkstemp(all_path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(bx_vmspec_write(all_path, &s, &err), 0);
	assert_int_equal(bx_vmspec_read(all_path, &all, &err), 0);
	unlink(all_path);
	assert_true(all.all_ports);
	assert_true(all.rootfs_ro);

	char **v = NULL;
	struct bx_qemu_fds fds = {.console = 3, .ctl = 4, .qmp = 5, .vfs = 6, .shares = {8, 9}, .net = 7,
				  .kernel = 10, .initrd = 11};
	assert_int_equal(bx_qemu_argv(&r, &fds, &v, &err), 0);
	bool share_dev = false, net = false, netdev = false;
	for (size_t i = 0; v[i]; i++) {
		share_dev |= !strcmp(v[i], "vhost-user-fs-device,chardev=vfs-m1,tag=m1") && !strcmp(v[i - 2], "socket,id=vfs-m1,fd=9");
		net |= !strcmp(v[i], "virtio-net-device,netdev=net0");
		netdev |= !strcmp(v[i], "stream,id=net0,server=off,addr.type=fd,addr.str=7");
	}
	assert_true(share_dev && net && netdev);
	bx_strv_free(v);
	/* --network none: no NIC at all */
	r.network = false;
	assert_int_equal(bx_qemu_argv(&r, &fds, &v, &err), 0);
	for (size_t i = 0; v[i]; i++)
		assert_null(strstr(v[i], "virtio-net"));
	bx_strv_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_box_roundtrip),
		cmocka_unit_test(test_box_defaults_absent),
		cmocka_unit_test(test_malformed_mounts),
		cmocka_unit_test(test_vmjson_and_argv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
