/* boxvm rename BOX NEW_NAME: the new name is reserved first (atomically),
 * then the record changes, then the old name is released; a failure undoes
 * the reservation. A crash between the steps leaves a name the sweep
 * releases (src/store/state_sweep.c): the whole rename is a store operation. */
#include <stdio.h>
#include <string.h>

#include "../common/crashpoint.h"
#include "../store/events.h"
#include "../store/networks.h"
#include "../store/state.h"
#include "args.h"
#include "cli.h"

struct names {
	const char *from, *to;
};

/* Under the record's lock: a concurrent rename that got there first wins,
 * and ours fails rather than leave its name on a box called otherwise. */
static int set_name(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	struct names *n = ctx;
	if (strcmp(r->name, n->from))
		return bx_fail(err, 0, "box %s was renamed to %s meanwhile", n->from, r->name);
	snprintf(r->name, sizeof(r->name), "%s", n->to);
	return 0;
}

int cmd_rename(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const struct bx_opt opts[] = {
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm rename BOX NEW_NAME",
			   "Rename a box.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 2, 2, "boxvm rename BOX NEW_NAME", &err) < 0)
		return bx_cli_report(&err);
	const char *to = argv[a.i + 1][0] == '/' ? argv[a.i + 1] + 1 : argv[a.i + 1];
	struct bx_paths p;
	struct bx_box_record rec;
	if (bx_paths_init(&p, &err) < 0 || bx_state_lookup(&p, argv[a.i], &rec, &err) < 0)
		return bx_cli_report(&err);
	if (!strcmp(rec.name, to)) {
		bx_fail(&err, 0, "renaming box %s to the name it already has", argv[a.i]);
		return bx_cli_report(&err);
	}
	char old[128];
	snprintf(old, sizeof(old), "%s", rec.name);
	int op = bx_store_op_begin(p.data, &err);
	if (op < 0)
		return bx_cli_report(&err);
	struct names n = {old, to};
	int rc = 0;
	if (bx_name_reserve(&p, to, rec.id, &err) < 0) {
		rc = bx_cli_report(&err);
	} else {
		bx_crash_point("rename.reserved");
		if (bx_state_update(rec.box_dir, set_name, &n, NULL, &err) < 0) {
			bx_name_release(&p, to, rec.id);
			rc = bx_cli_report(&err);
		} else {
			bx_crash_point("rename.recorded");
			bx_name_release(&p, old, rec.id);
			bx_networks_rename_box(&p, rec.id, to); /* its peers on named networks resolve the new name */
			char was[sizeof(old) + 1];
			snprintf(was, sizeof(was), "/%s", old); /* Docker's oldName keeps its leading slash */
			bx_event_box(rec.box_dir, "rename", (const char *const[]){"oldName", was, NULL}, NULL);
		}
	}
	bx_store_op_end(op);
	return rc;
}
