/* boxvm commit [-a AUTHOR] [-c INSTRUCTION]... [-m MSG] [-p=false] BOX [REPO[:TAG]]:
 * a new image from a box's changes (src/box/commit.h); prints its ID. */
#include <stdio.h>
#include <stdlib.h>

#include "../box/commit.h"
#include "args.h"
#include "cli.h"

enum { OPT_AUTHOR = 1, OPT_CHANGE, OPT_MESSAGE, OPT_PAUSE };

static const struct bx_opt commit_opts[] = {
	{'a', "author", "string", OPT_AUTHOR, "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"},
	{'c', "change", "list", OPT_CHANGE, "Apply Dockerfile instruction to the created image"},
	{'m', "message", "string", OPT_MESSAGE, "Commit message"},
	{'p', "pause", NULL, OPT_PAUSE, "Pause box during commit (default true)"},
	BX_OPT_HELP,
	BX_OPT_END,
};

#define COMMIT_USAGE "boxvm commit [OPTIONS] BOX [REPOSITORY[:TAG]]"

int cmd_commit(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	struct bx_commit_opts o = {.pause = true};
	char **changes = NULL;
	int id, r, rc = 1;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, commit_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_AUTHOR: o.author = val; break;
		case OPT_MESSAGE: o.comment = val; break;
		case OPT_PAUSE: o.pause = !val; break;
		case OPT_CHANGE:
			if (cli_strv_append(&changes, val, &err) < 0)
				goto out;
			break;
		case BX_OPT_HELP_ID:
			bx_args_usage(COMMIT_USAGE, "Create a new image from a box's changes", commit_opts);
			rc = 0;
			goto done;
		}
	}
	if (r < 0 || cli_need_operands(&a, 1, 2, COMMIT_USAGE, &err) < 0)
		goto out;
	o.changes = changes;
	o.repo_tag = a.i + 1 < argc ? argv[a.i + 1] : NULL;
	struct bx_paths p;
	char image_id[BX_DIGEST_SIZE];
	if (bx_paths_init(&p, &err) < 0 || bx_box_commit(&p, argv[a.i], &o, image_id, &err) < 0)
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
