/* boxvm export [-o FILE] BOX: the box's whole filesystem as one flat tar
 * (the merged view, no whiteouts), as `docker export`; and
 * boxvm import [-c INSTRUCTION]... [-m MSG] [--platform P] FILE|- [REPO[:TAG]]:
 * a flat tar (any compression libarchive reads) as a one-layer image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../box/commit.h"
#include "../common/cleanup.h"
#include "../image/image_create.h"
#include "args.h"
#include "cli.h"

int cmd_export(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *out = NULL;
	const struct bx_opt opts[] = {
		{'o', "output", "string", 0, "Write to a file, instead of STDOUT", .str = &out},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm export [OPTIONS] BOX",
			  "Export a box's filesystem as a tar archive", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, 1, "boxvm export [OPTIONS] BOX", &err) < 0)
		return bx_cli_report(&err);
	if (!out && isatty(STDOUT_FILENO)) {
		bx_fail(&err, 0, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
		return bx_cli_report(&err);
	}
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	char tmp[PATH_MAX] = "";
	_cleanup_close_ int fd = STDOUT_FILENO;
	if (out) {
		/* written beside FILE and renamed: a failed export leaves no half archive */
		snprintf(tmp, sizeof(tmp), "%s.boxvm-tmp-%d", out, (int)getpid());
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
			bx_fail(&err, errno, "failed to export box's filesystem: cannot create %s", tmp);
			return bx_cli_report(&err);
		}
	} else {
		fd = dup(STDOUT_FILENO);
	}
	int rc = bx_box_export(&p, argv[a.i], fd, &err);
	if (rc == 0 && out && (fsync(fd) < 0 || rename(tmp, out) < 0))
		rc = bx_fail(&err, errno, "cannot write %s", out);
	if (rc < 0 && *tmp)
		unlink(tmp);
	return rc < 0 ? bx_cli_report(&err) : 0;
}

enum { OPT_CHANGE = 1, OPT_MESSAGE, OPT_PLATFORM };

static const struct bx_opt import_opts[] = {
	{'c', "change", "list", OPT_CHANGE, "Apply Dockerfile instruction to the created image"},
	{'m', "message", "string", OPT_MESSAGE, "Set commit message for imported image"},
	{0, "platform", "string", OPT_PLATFORM, "Set platform if server is multi-platform capable (linux/amd64 only)"},
	BX_OPT_HELP,
	BX_OPT_END,
};

#define IMPORT_USAGE "boxvm import [OPTIONS] file|- [REPOSITORY[:TAG]]"

static int import_image(const char *src, const char *repo_tag, char *const *changes, const char *msg, char id[BX_DIGEST_SIZE],
			struct bx_err *err)
{
	if (strstr(src, "://"))
		return bx_fail(err, 0, "import from a URL is not supported: download %s and import the file", src);
	struct bx_paths p;
	if (bx_paths_init(&p, err) < 0)
		return -1;
	_cleanup_close_ int fd = strcmp(src, "-") ? open(src, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", src);
	return bx_image_import(&p, fd, repo_tag, changes, msg, id, err);
}

int cmd_import(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	char **changes = NULL;
	const char *msg = NULL, *val;
	int id, r, rc = 1;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, import_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_MESSAGE: msg = val; break;
		case OPT_PLATFORM:
			if (strcmp(val, "linux/amd64") && strcmp(val, "linux") && strcmp(val, "amd64")) {
				bx_fail(&err, 0, "--platform %s: boxvm runs linux/amd64 images only", val);
				goto out;
			}
			break;
		case OPT_CHANGE:
			if (cli_strv_append(&changes, val, &err) < 0)
				goto out;
			break;
		case BX_OPT_HELP_ID:
			bx_args_usage(IMPORT_USAGE, "Import the contents from a tarball to create a filesystem image", import_opts);
			rc = 0;
			goto done;
		}
	}
	if (r < 0 || cli_need_operands(&a, 1, 2, IMPORT_USAGE, &err) < 0)
		goto out;
	char image_id[BX_DIGEST_SIZE];
	if (import_image(argv[a.i], a.i + 1 < argc ? argv[a.i + 1] : NULL, changes, msg, image_id, &err) < 0)
		goto out;
	printf("%s\n", image_id);
	rc = 0;
	goto done;
out:
	rc = bx_cli_report(&err);
done:
	for (size_t i = 0; changes && changes[i]; i++)
		free(changes[i]);
	free(changes);
	return rc;
}
