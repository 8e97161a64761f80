/* boxvm load [-i FILE] [-q]: images from a docker-save or OCI-layout archive (file or stdin). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../image/image.h"
#include "../store/events.h"
#include "../store/state.h"
#include "args.h"
#include "cli.h"

/* stdin is spooled to a temp file: the importer reads the tar several times
 * (a listing, then each piece of metadata as the image's references lead to
 * it, then the blobs in one pass; image_load.c) and a pipe is read once. */
static int spool_stdin(const struct bx_paths *p, char *path, size_t size, struct bx_err *err)
{
	if (isatty(0))
		return bx_fail(err, 0, "requested load from stdin, but stdin is empty (use -i FILE)");
	if (bx_mkdir_p(p->data, 0700, err) < 0 ||
	    bx_path_join(path, size, err, "%s/load-stdin.XXXXXX", p->data) < 0)
		return -1;
	int fd = mkstemp(path);
	if (fd < 0)
		return bx_fail(err, 0, "cannot create a temp file in %s", p->data);
	char buf[65536];
	ssize_t n;
	while ((n = read(0, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(fd, buf, (size_t)n) != n) {
			int e = errno;
			close(fd);
			unlink(path);
			return n < 0 ? bx_fail(err, e, "cannot read stdin") : bx_fail(err, e, "cannot spool stdin to %s", path);
		}
	}
	if (close(fd) < 0) {
		int e = errno;
		unlink(path);
		return bx_fail(err, e, "cannot spool stdin to %s", path);
	}
	return 0;
}

/* Docker's "load" event names the image by its ID */
static void load_event(const struct bx_paths *p, const char *name)
{
	struct bx_image img;
	if (bx_image_lookup(p, name, &img, NULL) < 0)
		return;
	bx_event_emit(p->data, "image", "load", img.id, (const char *const[]){"name", img.id, NULL}, NULL);
	bx_image_free(&img);
}

int cmd_load(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *input = NULL;
	const struct bx_opt opts[] = {
		{'i', "input", "FILE", 0, "Read from tar archive file, instead of STDIN", .str = &input},
		{'q', "quiet", NULL, 0, "Suppress the load output"},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm load [OPTIONS]",
			   "Load an image from an OCI image layout tar or a `docker save` tar.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (a.i < argc) {
		bx_fail(&err, 0, "\"load\" accepts no arguments (use -i FILE)");
		return bx_cli_report(&err);
	}
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	char spooled[PATH_MAX] = "";
	/* its temp files (the spool, blobs being hashed) are leftovers only
	 * when no load runs: src/store/state_sweep.c */
	int op = bx_store_op_begin(p.data, &err);
	if (op < 0)
		return bx_cli_report(&err);
	if (!input) {
		if (spool_stdin(&p, spooled, sizeof(spooled), &err) < 0) {
			bx_store_op_end(op);
			return bx_cli_report(&err);
		}
		input = spooled;
	}
	char **names = NULL;
	int rc = bx_image_load_tar(&p, input, spooled[0] ? "stdin" : NULL, &names, &err);
	if (spooled[0])
		unlink(spooled);
	bx_store_op_end(op);
	if (rc < 0)
		return bx_cli_report(&err);
	for (char **n = names; n && *n; n++) {
		printf("Loaded image: %s\n", *n);
		load_event(&p, *n);
		free(*n);
	}
	free(names);
	return 0;
}
