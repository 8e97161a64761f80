/* Test tars from a table of entries, for the tests of the two code paths that
 * unpack untrusted tars: bx_layer_apply (test_layer.c) and bx_tar_extract_fd
 * (test_tar_extract.c). */
#ifndef BOXVM_TEST_TAR_ENTS_H
#define BOXVM_TEST_TAR_ENTS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/sysmacros.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

struct ent {
	const char *path;
	char type;          /* f file, d dir, l symlink, h hardlink, p fifo, c char device (1,3),
			     * w overlayfs whiteout (char device 0,0), x dir with xattrs (see write_tar) */
	const char *data;   /* file content, or link target */
	unsigned mode;
};

/* every entry is owned by 0:0 with a fixed mtime; mode is used by files and
 * directories (0: 0644 and 0755), the other types have fixed ones */
static void write_tar(const char *out, const struct ent *e, size_t n, bool gzip)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_filename(a, out), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_mtime(ae, 1000000000, 0);
		archive_entry_set_uid(ae, 0);
		archive_entry_set_gid(ae, 0);
		switch (e[i].type) {
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0644);
			archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data));
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0755);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].data);
			break;
		case 'p':
			archive_entry_set_filetype(ae, AE_IFIFO);
			archive_entry_set_perm(ae, 0600);
			break;
		case 'c':
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_perm(ae, 0666);
			archive_entry_set_rdev(ae, makedev(1, 3));
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e[i].data);
			break;
		case 'w':
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_perm(ae, 0);
			archive_entry_set_rdev(ae, makedev(0, 0));
			break;
		case 'x':
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, 0755);
			archive_entry_xattr_add_entry(ae, "trusted.overlay.opaque", "y", 1);
			archive_entry_xattr_add_entry(ae, "trusted.overlay.redirect", "/etc", 4);
			archive_entry_xattr_add_entry(ae, "security.selinux", "x", 1);
			archive_entry_xattr_add_entry(ae, "user.keep", "k", 1);
			break;
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].type == 'f')
			archive_write_data(a, e[i].data, strlen(e[i].data));
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
}

#endif
