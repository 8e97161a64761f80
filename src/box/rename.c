/* Renaming and restarting a box (rename.h). */
#include "rename.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/crashpoint.h"
#include "../store/boxconfig.h"
#include "../store/events.h"
#include "../store/networks.h"
#include "control.h"

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

int bx_box_rename(const struct bx_paths *p, struct bx_box_record *rec, const char *to, struct bx_err *err)
{
	if (bx_name_check(to, err) < 0) {
		err->errnum = EINVAL;
		return -1;
	}
	if (!strcmp(rec->name, to)) {
		bx_fail(err, 0, "renaming box %s to the name it already has", rec->name);
		err->errnum = EINVAL; /* a bad parameter, with no strerror in its words */
		return -1;
	}
	char old[128];
	snprintf(old, sizeof(old), "%s", rec->name);
	int op = bx_store_op_begin(p->data, err);
	if (op < 0)
		return -1;
	struct names n = {old, to};
	int rc = 0;
	if (bx_name_reserve(p, to, rec->id, err) < 0) {
		rc = -1;
	} else {
		bx_crash_point("rename.reserved");
		if (bx_state_update(rec->box_dir, set_name, &n, NULL, err) < 0) {
			bx_name_release(p, to, rec->id);
			rc = -1;
		} else {
			bx_crash_point("rename.recorded");
			bx_name_release(p, old, rec->id);
			bx_networks_rename_box(p, rec->id, to); /* its peers on named networks resolve the new name */
			char was[sizeof(old) + 1];
			snprintf(was, sizeof(was), "/%s", old); /* Docker's oldName keeps its leading slash */
			bx_event_box(rec->box_dir, "rename", (const char *const[]){"oldName", was, NULL}, NULL);
			snprintf(rec->name, sizeof(rec->name), "%s", to);
		}
	}
	bx_store_op_end(op);
	return rc;
}

int bx_box_restart(const struct bx_paths *p, struct bx_box_record *rec, int sig, int timeout_s, struct bx_err *err)
{
	struct bx_box_config cfg;
	if (bx_box_config_read(rec->box_dir, &cfg, err) < 0 ||
	    bx_box_stop(rec, sig ? sig : cfg.stop_signal, timeout_s >= 0 ? timeout_s : cfg.stop_timeout, err) < 0)
		return -1;
	if (bx_state_lookup(p, rec->id, rec, err) < 0 || bx_box_start(p, rec, false, false, err) < 0)
		return -1;
	bx_event_box(rec->box_dir, "restart", NULL, NULL); /* after its start, as Docker's */
	return 0;
}
