/* Dev tool: prepare a box for boxvm-shim by hand, with the library's own code
 * (kernel discovery, initramfs cache, per-box segment, cmdline, vm.json).
 *   mkbox DATA RUNDIR ROOTFS AGENT [--rm] [--stdin] [--timeout S] -- ARGS...
 * Creates DATA/boxes/<id>/vm.json and prints its path. Kernel from
 * BOXVM_KERNEL_DIR (default DATA/kernel). Build:
 *   cc -Isrc -o build/test/mkbox tests/tools/mkbox.c build/test/libboxvm.a \
 *      $(pkg-config --libs libarchive jansson libcurl) [-fsanitize=address,undefined] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/kernel.h"
#include "lib/paths.h"
#include "lib/vmspec.h"
#include "proto/spec.h"

static int die(const struct bx_err *e)
{
	fprintf(stderr, "mkbox: %s\n", e->msg);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 6)
		return fprintf(stderr, "usage: mkbox DATA RUNDIR ROOTFS AGENT [--rm] [--stdin] [--timeout S] -- ARGS...\n"), 2;
	struct bx_err err;
	struct bx_paths p = {0};
	snprintf(p.data, sizeof(p.data), "%s", argv[1]);
	const char *kd = getenv("BOXVM_KERNEL_DIR");
	snprintf(p.kernel, sizeof(p.kernel), "%s", kd ? kd : "/var/lib/boxvm/kernel");
	struct bx_vmspec s = {0};
	int i = 5;
	bool stdin_open = false;
	s.boot_timeout_s = 300;
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--stdin"))
			stdin_open = true;
		else if (!strcmp(argv[i], "--rm"))
			s.auto_remove = true;
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			s.boot_timeout_s = atoi(argv[++i]);
	}
	if (i >= argc)
		return fprintf(stderr, "mkbox: missing -- ARGS\n"), 2;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int k = 0; k < 64; k++)
		s.id[k] = "0123456789abcdef"[rand() % 16];
	struct bx_kernel k;
	if (bx_kernel_find(&p, &k, &err) < 0)
		return die(&err);
	char base[PATH_MAX];
	if (bx_initramfs_base(&p, &k, argv[4], base, sizeof(base), &err) < 0)
		return die(&err);
	struct bx_spec sp;
	bx_spec_init(&sp);
	sp.stdin_open = stdin_open;
	for (i++; i < argc; i++)
		if (bx_spec_add_arg(&sp, argv[i], &err) < 0)
			return die(&err);
	bx_spec_add_env(&sp, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", &err);
	uint8_t *enc;
	size_t enc_len;
	if (bx_spec_encode(&sp, &enc, &enc_len, &err) < 0)
		return die(&err);
	snprintf(s.box_dir, sizeof(s.box_dir), "%s/boxes/%s", p.data, s.id);
	snprintf(s.run_dir, sizeof(s.run_dir), "%s/%.12s", argv[2], s.id);
	snprintf(s.rootfs, sizeof(s.rootfs), "%s", argv[3]);
	snprintf(s.kernel, sizeof(s.kernel), "%s", k.vmlinuz);
	snprintf(s.diag_dir, sizeof(s.diag_dir), "%s/diagnostics", p.data);
	if (bx_mkdir_p(s.box_dir, 0755, &err) < 0 ||
	    bx_path_join(s.initrd, sizeof(s.initrd), &err, "%s/initrd.cpio", s.box_dir) < 0 ||
	    bx_initramfs_box(base, enc, enc_len, s.initrd, &err) < 0)
		return die(&err);
	char why[256];
	if (bx_accel_detect(s.accel, why, sizeof(why), &err) < 0)
		return die(&err);
	const char *dbg = getenv("BOXVM_DEBUG");
	if (bx_kernel_cmdline(&k, s.accel, dbg && *dbg && strcmp(dbg, "0"), s.cmdline, sizeof(s.cmdline), &err) < 0)
		return die(&err);
	s.mem_mb = 256;
	s.cpus = 2;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/vm.json", s.box_dir);
	if (bx_vmspec_write(path, &s, &err) < 0)
		return die(&err);
	fprintf(stderr, "mkbox: %s; initramfs base %s\n", why, base);
	printf("%s\n", path);
	free(enc);
	bx_spec_free(&sp);
	return 0;
}
