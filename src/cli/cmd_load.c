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

enum { OPT_INPUT, OPT_QUIET, OPT_HELP };
static const struct bx_opt load_opts[] = {
	{'i', "input", "FILE", OPT_INPUT, "Read from tar archive file, instead of STDIN"},
	{'q', "quiet", NULL, OPT_QUIET, "Suppress the load output"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

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
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, load_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_INPUT: input = val; break;
		case OPT_QUIET:
			break; /* Docker's -q hides only progress, which boxvm never shows: "Loaded image:" stays */
		case OPT_HELP:
			bx_args_usage("boxvm load [OPTIONS]", "Load an image from an OCI image layout tar or a `docker save` tar.",
				      load_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
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
