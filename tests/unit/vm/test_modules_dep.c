#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "vm/kernel.h"

/* shaped like Debian 6.1.0-56's modules.dep (virtio needs virtio_ring first) */
static const char DEP[] =
	"kernel/fs/fuse/fuse.ko:\n"
	"kernel/fs/fuse/cuse.ko: kernel/fs/fuse/fuse.ko\n"
	"kernel/fs/fuse/virtiofs.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko "
	"kernel/fs/fuse/fuse.ko\n"
	"kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/drivers/virtio/virtio_ring.ko:\n"
	"kernel/drivers/virtio/virtio_mmio.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/drivers/net/virtio-net.ko: kernel/drivers/virtio/virtio.ko\n"
	"kernel/drivers/virtio/virtio_balloon.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n"
	"kernel/fs/overlayfs/overlay.ko:\n";

static size_t pos(char **v, size_t n, const char *suffix)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]), s = strlen(suffix);
		if (l >= s && !strcmp(v[i] + l - s, suffix))
			return i;
	}
	fail_msg("%s missing", suffix);
	return 0;
}

static void guest_modules_order(void **state)
{
	char **v = NULL;
	size_t n = 0;
	struct bx_err err;
	assert_int_equal(bx_modules_dep_order(DEP, bx_guest_modules, &v, &n, &err), 0);
	/* shared deps once: ring, virtio, mmio, console, fuse, virtiofs, virtio-net, balloon, overlay */
	assert_int_equal(n, 9);
	assert_null(v[n]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(v[i], v[j]);
	assert_true(pos(v, n, "/virtio_ring.ko") < pos(v, n, "/virtio.ko"));
	assert_true(pos(v, n, "/virtio.ko") < pos(v, n, "/virtio_mmio.ko"));
	assert_true(pos(v, n, "/virtio.ko") < pos(v, n, "/virtio_console.ko"));
	assert_true(pos(v, n, "/fuse.ko") < pos(v, n, "/virtiofs.ko"));
	assert_true(pos(v, n, "/virtio.ko") < pos(v, n, "/virtio-net.ko"));
	assert_true(pos(v, n, "/virtio.ko") < pos(v, n, "/virtio_balloon.ko"));
	pos(v, n, "/overlay.ko");
	assert_string_equal(v[0], "kernel/drivers/virtio/virtio_ring.ko");
	assert_string_equal(v[2], "kernel/drivers/virtio/virtio_mmio.ko");
	bx_modules_free(v, n);
}

/* the old kernel's virtio had no virtio_ring dependency: order follows the file */
static void order_follows_file(void **state)
{
	static const char dep[] = "kernel/a.ko: kernel/c.ko kernel/b.ko\nkernel/b.ko: kernel/c.ko\nkernel/c.ko:\n";
	const char *want[] = {"a", "b", NULL};
	char **v = NULL;
	size_t n = 0;
	assert_int_equal(bx_modules_dep_order(dep, want, &v, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "kernel/c.ko");
	assert_string_equal(v[1], "kernel/b.ko");
	assert_string_equal(v[2], "kernel/a.ko");
	bx_modules_free(v, n);
}

static void dash_underscore(void **state)
{
	const char *want[] = {"virtio_net", NULL};
	char **v = NULL;
	size_t n = 0;
	assert_int_equal(bx_modules_dep_order(DEP, want, &v, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[2], "kernel/drivers/net/virtio-net.ko");
	bx_modules_free(v, n);
}

static void unknown_module(void **state)
{
	const char *want[] = {"virtio_mmio", "nosuchmod", NULL};
	char **v = NULL;
	size_t n = 0;
	struct bx_err err;
	assert_int_equal(bx_modules_dep_order(DEP, want, &v, &n, &err), -1);
	assert_non_null(strstr(err.msg, "nosuchmod"));
}

static void missing_dep_entry_and_cycle(void **state)
{
	const char *want[] = {"a", NULL};
	char **v = NULL;
	size_t n = 0;
	struct bx_err err;
	assert_int_equal(bx_modules_dep_order("kernel/a.ko: kernel/zz.ko\n", want, &v, &n, &err), -1);
	assert_non_null(strstr(err.msg, "kernel/zz.ko"));
	assert_int_equal(bx_modules_dep_order("kernel/a.ko: kernel/b.ko\nkernel/b.ko: kernel/a.ko\n", want, &v, &n, &err),
			 -1);
	assert_non_null(strstr(err.msg, "cycle"));
}

static void config_and_cpuinfo(void **state)
{
	assert_int_equal(bx_config_hz("# CONFIG_HZ_1000 is not set\nCONFIG_HZ_250=y\nCONFIG_HZ=250\n"), 250);
	assert_int_equal(bx_config_hz("nothing\n"), 0);
	assert_int_equal(bx_cpuinfo_khz("processor\t: 0\ncpu MHz\t\t: 2445.426\ncache size\t: 1 KB\n"), 2445426);
	assert_int_equal(bx_cpuinfo_khz("processor\t: 0\n"), 0);
	struct bx_kernel k = {.hz = 250, .tsc_khz_hint = 2445426};
	char buf[256];
	assert_int_equal(bx_kernel_cmdline(&k, "tcg", false, buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, "console=ttyS0 panic=-1 reboot=t quiet tsc_early_khz=2445426 lpj=9781704 tsc=reliable");
	assert_int_equal(bx_kernel_cmdline(&k, "kvm", true, buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, "console=ttyS0 panic=-1 reboot=t quiet boxvm.debug=1");
	assert_int_equal(bx_kernel_cmdline(&k, "tcg", false, buf, 20, NULL), -1);
}

/* The tailored kernel's config turns modules off: its initramfs carries none. */
static void config_modular(void **state)
{
	(void)state;
	assert_true(bx_config_modular("CONFIG_64BIT=y\nCONFIG_MODULES=y\nCONFIG_HZ=250\n"));
	assert_true(bx_config_modular("CONFIG_MODULES=y"));
	assert_false(bx_config_modular("CONFIG_64BIT=y\n# CONFIG_MODULES is not set\n"));
	assert_false(bx_config_modular("CONFIG_MODULES_TREE_LOOKUP=y\nCONFIG_MODULES=yes\n"));
	assert_false(bx_config_modular("XCONFIG_MODULES=y\n"));
	assert_false(bx_config_modular(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guest_modules_order), cmocka_unit_test(order_follows_file),
		cmocka_unit_test(dash_underscore),     cmocka_unit_test(unknown_module),
		cmocka_unit_test(missing_dep_entry_and_cycle), cmocka_unit_test(config_and_cpuinfo),
		cmocka_unit_test(config_modular),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
