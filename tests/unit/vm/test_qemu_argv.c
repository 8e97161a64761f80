#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm/vmspec.h"

static void fill(struct bx_vmspec *s, const char *accel)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%064d", 1);
	snprintf(s->box_dir, sizeof(s->box_dir), "/var/lib/boxvm/boxes/x");
	snprintf(s->run_dir, sizeof(s->run_dir), "/run/boxvm/0000");
	snprintf(s->rootfs, sizeof(s->rootfs), "/var/lib/boxvm/boxes/x/rootfs");
	snprintf(s->kernel, sizeof(s->kernel), "/k/vmlinuz");
	snprintf(s->initrd, sizeof(s->initrd), "/var/lib/boxvm/boxes/x/initrd.cpio");
	snprintf(s->cmdline, sizeof(s->cmdline), "console=ttyS0 quiet");
	snprintf(s->accel, sizeof(s->accel), "%s", accel);
	s->mem_mb = 512;
	s->cpus = 2;
	s->boot_timeout_s = 300;
}

/* value following flag `opt` whose value contains `needle` */
static const char *opt(char **v, const char *flag, const char *needle)
{
	for (size_t i = 0; v[i]; i++)
		if (!strcmp(v[i], flag) && v[i + 1] && (!needle || strstr(v[i + 1], needle)))
			return v[i + 1];
	return NULL;
}

static bool has(char **v, const char *a)
{
	for (size_t i = 0; v[i]; i++)
		if (!strcmp(v[i], a))
			return true;
	return false;
}

/* the fd numbers the shim lays out in QEMU (src/shim/confine.c) */
static const struct bx_qemu_fds fds = {.console = 3, .ctl = 4, .qmp = 5, .vfs = 6, .shares = {7, 8}, .net = 9,
				       .kernel = 10, .initrd = 11};

static void tcg_line(void **state)
{
	struct bx_vmspec s;
	fill(&s, "tcg");
	char **v = NULL;
	assert_int_equal(bx_qemu_argv(&s, &fds, &v, NULL), 0);
	assert_string_equal(v[0], "qemu-system-x86_64");
	assert_string_equal(opt(v, "-accel", NULL), "tcg,thread=multi,tb-size=128");
	assert_string_equal(opt(v, "-cpu", NULL), "max");
	assert_string_equal(opt(v, "-m", NULL), "512");
	assert_string_equal(opt(v, "-smp", NULL), "2");
	assert_non_null(strstr(opt(v, "-machine", NULL), "microvm"));
	assert_non_null(strstr(opt(v, "-machine", NULL), "memory-backend=mem"));
	assert_string_equal(opt(v, "-object", NULL), "memory-backend-memfd,id=mem,size=512M,share=on");
	assert_string_equal(opt(v, "-global", NULL), "virtio-mmio.force-legacy=false");
	/* confined: seccomp, and every resource an inherited fd (no path of DATA or RUN) */
	assert_string_equal(opt(v, "-sandbox", NULL), "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	assert_string_equal(opt(v, "-serial", NULL), "chardev:con");
	assert_string_equal(opt(v, "-chardev", "id=con"), "socket,id=con,fd=3");
	assert_string_equal(opt(v, "-chardev", "id=vfs"), "socket,id=vfs,fd=6");
	assert_string_equal(opt(v, "-chardev", "id=ctl"), "socket,id=ctl,fd=4");
	assert_non_null(opt(v, "-device", "vhost-user-fs-device,chardev=vfs,tag=rootfs"));
	assert_non_null(opt(v, "-device", "virtio-serial-device"));
	assert_non_null(opt(v, "-device", "virtio-balloon-device,free-page-reporting=on"));
	assert_string_equal(opt(v, "-device", "virtserialport"), "virtserialport,chardev=ctl,name=boxvm.ctl");
	/* the shim's QMP monitor (pause/unpause): a listening socket the shim bound */
	assert_string_equal(opt(v, "-chardev", "id=qmp"), "socket,id=qmp,fd=5,server=on,wait=off");
	assert_string_equal(opt(v, "-mon", NULL), "chardev=qmp,mode=control");
	assert_string_equal(opt(v, "-kernel", NULL), "/proc/self/fd/10");
	assert_string_equal(opt(v, "-initrd", NULL), "/proc/self/fd/11");
	for (size_t i = 0; v[i]; i++) /* nothing names a host path QEMU would open itself */
		assert_null(strstr(v[i], "/var/lib") ?: strstr(v[i], "/run/"));
	assert_string_equal(opt(v, "-append", NULL), "console=ttyS0 quiet");
	assert_true(has(v, "-nodefaults") && has(v, "-no-user-config") && has(v, "-nographic") && has(v, "-no-reboot"));
	bx_strv_free(v);
}

static void kvm_line(void **state)
{
	struct bx_vmspec s;
	fill(&s, "kvm");
	char **v = NULL;
	assert_int_equal(bx_qemu_argv(&s, &fds, &v, NULL), 0);
	assert_string_equal(opt(v, "-accel", NULL), "kvm");
	assert_string_equal(opt(v, "-cpu", NULL), "host");
	assert_non_null(opt(v, "-sandbox", NULL));
	bx_strv_free(v);
}

static void vmspec_roundtrip(void **state)
{
	char dir[] = "/tmp/test_qemu_argv.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/vm.json", dir);
	struct bx_vmspec s, r;
	fill(&s, "tcg");
	s.auto_remove = true;
	assert_string_equal(bx_vmspec_rootfs_cache(&s), "cache=always"); /* a box's own rootfs */
	s.rootfs_host_edits = true;
	assert_string_equal(bx_vmspec_rootfs_cache(&s), "cache=auto"); /* boxvm-runtime's bundle root */
	struct bx_err err;
	assert_int_equal(bx_vmspec_write(path, &s, &err), 0);
	assert_int_equal(bx_vmspec_read(path, &r, &err), 0);
	assert_memory_equal(&s, &r, sizeof(s));
	unlink(path);
	rmdir(dir);
	assert_int_equal(bx_vmspec_read(path, &r, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcg_line),
		cmocka_unit_test(kvm_line),
		cmocka_unit_test(vmspec_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
