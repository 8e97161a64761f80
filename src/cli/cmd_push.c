/* boxvm push [-a|--all-tags] [-q] NAME[:TAG]: a local image to its registry
 * (image/registry/push.h). Output follows Docker's: on a terminal a live
 * "Pushing [==>  ]" line for the layer going up; otherwise (a script) one
 * line per layer when its fate is known; then "TAG: digest: D size: N". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../image/image.h"
#include "../image/registry/push.h"
#include "../store/events.h"
#include "args.h"
#include "cli.h"
#include "progress.h"

struct progress {
	FILE *out;
	bool tty, quiet, line_open;
	long long last_ms;
};

static void end_line(struct progress *pr)
{
	if (pr->line_open)
		fprintf(pr->out, "\r\033[K");
	pr->line_open = false;
}

static void on_event(void *vp, const struct bx_push_event *ev)
{
	struct progress *pr = vp;
	if (pr->quiet)
		return;
	const char *hex = strchr(ev->id, ':') ? strchr(ev->id, ':') + 1 : ev->id;
	char bar[128];
	switch (ev->kind) {
	case BX_PUSH_PREPARING:
		fprintf(pr->out, "%.12s: Preparing\n", hex);
		break;
	case BX_PUSH_PROGRESS:
		if (!pr->tty || (ev->done != ev->total && bx_mono_ms() - pr->last_ms < 100))
			return;
		pr->last_ms = bx_mono_ms();
		cli_progress_bar(ev->done, ev->total, bar, sizeof(bar));
		fprintf(pr->out, "\r\033[K%.12s: Pushing  %s", hex, bar);
		pr->line_open = true;
		break;
	case BX_PUSH_EXISTS:
		end_line(pr);
		fprintf(pr->out, "%.12s: Layer already exists\n", hex);
		break;
	case BX_PUSH_MOUNTED:
		end_line(pr);
		fprintf(pr->out, "%.12s: Mounted from %s\n", hex, ev->from);
		break;
	case BX_PUSH_PUSHED:
		end_line(pr);
		fprintf(pr->out, "%.12s: Pushed\n", hex);
		break;
	}
	fflush(pr->out);
}

static int push_one(const struct bx_paths *p, const char *name, bool quiet, struct bx_err *err)
{
	struct progress pr = {.out = stdout, .tty = isatty(1), .quiet = quiet};
	struct bx_push_opts o = {.progress = on_event, .progress_ctx = &pr};
	struct bx_push_result res;
	int rc = bx_image_push(p, name, &o, &res, err);
	end_line(&pr);
	if (rc < 0)
		return -1;
	bx_event_emit(p->data, "image", "push", name, (const char *const[]){"name", name, NULL}, NULL);
	if (quiet)
		printf("%s\n", name);
	else
		printf("%s: digest: %s size: %lld\n", res.tag, res.digest, res.size);
	fflush(stdout);
	return 0;
}

int cmd_push(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	bool all = false, quiet = false;
	const struct bx_opt opts[] = {
		{'a', "all-tags", NULL, 0, "Push all tagged images in the repository", .on = &all},
		{'q', "quiet", NULL, 0, "Suppress verbose output", .on = &quiet},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	const char *usage = "boxvm push [OPTIONS] NAME[:TAG]";
	int r = cli_flags(&a, argc, argv, opts, usage,
			   "Upload an image to a registry, with the credentials 'boxvm login' stored.\n\n"
			   "Blobs the registry has are not sent again; blobs of another repository on\n"
			   "the same registry are mounted from it. Plain HTTP only for loopback\n"
			   "registries and those in BOXVM_INSECURE_REGISTRIES.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, 1, usage, &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	const char *arg = argv[a.i];
	struct bx_ref ref;
	if (bx_ref_parse(arg, &ref, &err) < 0)
		return bx_cli_report(&err);
	const char *last = strrchr(arg, '/') ? strrchr(arg, '/') : arg;
	bool tagged = strchr(last, ':') || strchr(arg, '@');
	if (all && tagged) {
		bx_fail(&err, 0, "tag can't be used with --all-tags/-a");
		return bx_cli_report(&err);
	}
	if (!all && !tagged && !quiet)
		printf("Using default tag: latest\n");
	if (!quiet)
		printf("The push refers to repository [%s/%s]\n", ref.domain, ref.path);
	fflush(stdout);
	if (!all)
		return push_one(&p, arg, quiet, &err) < 0 ? bx_cli_report(&err) : 0;
	char **tags;
	size_t n;
	if (bx_push_local_tags(&p, arg, &tags, &n, &err) < 0)
		return bx_cli_report(&err);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (push_one(&p, tags[i], quiet, &err) < 0)
			rc = bx_cli_report(&err);
	bx_strv_free(tags);
	return rc;
}
