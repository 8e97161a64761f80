/* boxvm pull [OPTIONS] NAME[:TAG|@DIGEST], and the pull `run` does for a
 * missing image. Output follows Docker's: a live progress line per layer on
 * a terminal, one line per finished layer otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../image/image.h"
#include "../image/registry/pull.h"
#include "../store/events.h"
#include "args.h"
#include "cli.h"
#include "cli_pull.h"
#include "progress.h"

struct progress {
	FILE *out;
	bool tty, quiet, line_open;
	long long last_ms;
};

static void on_event(void *vp, const struct bx_pull_event *ev)
{
	struct progress *pr = vp;
	if (pr->quiet || ev->kind == BX_PULL_RESOLVED)
		return;
	const char *hex = ev->digest + 7;
	char done[32], total[32];
	switch (ev->kind) {
	case BX_PULL_LAYER_PROGRESS:
		if (!pr->tty || bx_mono_ms() - pr->last_ms < 100)
			return;
		pr->last_ms = bx_mono_ms();
		cli_progress_size(ev->done, done, sizeof(done));
		cli_progress_size(ev->total, total, sizeof(total));
		fprintf(pr->out, "\r\033[K%.12s: Downloading  %s/%s", hex, done, total);
		pr->line_open = true;
		break;
	case BX_PULL_LAYER_WAITING:
		if (pr->tty) {
			fprintf(pr->out, "\r\033[K%.12s: Waiting", hex);
			pr->line_open = true;
		}
		break;
	case BX_PULL_LAYER_EXISTS:
	case BX_PULL_LAYER_DONE:
		fprintf(pr->out, "%s%.12s: %s\n", pr->line_open ? "\r\033[K" : "", hex,
			ev->kind == BX_PULL_LAYER_EXISTS ? "Already exists" : "Pull complete");
		pr->line_open = false;
		break;
	default:
		break;
	}
	fflush(pr->out);
}

int cli_pull_image(const struct bx_paths *p, const char *ref, const char *platform, bool quiet, FILE *out,
		   struct bx_err *err)
{
	struct bx_pull_opts o = {0};
	if (platform) {
		if (bx_platform_parse(platform, &o.platform, err) < 0)
			return -1;
	} else {
		bx_platform_default(&o.platform);
	}
	struct bx_ref r;
	if (bx_ref_parse(ref, &r, err) < 0)
		return -1;
	struct progress pr = {.out = out, .tty = isatty(fileno(out)), .quiet = quiet};
	o.progress = on_event;
	o.progress_ctx = &pr;
	if (!quiet) {
		if (!strchr(ref, '@') && !strchr(strrchr(ref, '/') ? strrchr(ref, '/') : ref, ':'))
			fprintf(out, "Using default tag: latest\n");
		fprintf(out, "%s: Pulling from %s\n", r.tag[0] ? r.tag : r.digest, r.path);
		fflush(out);
	}
	struct bx_pull_result res;
	int rc = bx_image_pull(p, ref, &o, &res, err);
	if (pr.line_open)
		fprintf(out, "\n");
	if (rc < 0)
		return -1;
	/* Docker names a pull by the reference, in both places */
	bx_event_emit(p->data, "image", "pull", res.name, (const char *const[]){"name", res.name, NULL}, NULL);
	if (!quiet) {
		fprintf(out, "Digest: %s\n", res.repo_digest);
		fprintf(out, "Status: %s for %s\n", res.updated ? "Downloaded newer image" : "Image is up to date", res.name);
	}
	return 0;
}

int cli_image_for_box(const struct bx_paths *p, const char *ref, const char *policy, const char *platform,
		      struct bx_image *img, struct bx_err *err)
{
	bool always = !strcmp(policy, "always"), never = !strcmp(policy, "never");
	if (!always && !never && strcmp(policy, "missing") != 0)
		return bx_fail(err, 0, "invalid --pull '%s': use missing, always or never", policy);
	if (!always) {
		if (bx_image_lookup(p, ref, img, err) == 0)
			return 0;
		/* only "not there" leads to a pull; a corrupt store or bad reference is reported as is */
		if (strncmp(err->msg, "no such image", 13) != 0)
			return -1;
		if (never)
			return bx_fail(err, 0, "no such image: %s (--pull=never forbids pulling it; run 'boxvm pull %s')", ref, ref);
		struct bx_ref r;
		if (bx_ref_parse(ref, &r, err) < 0)
			return -1;
		fprintf(stderr, "Unable to find image '%s' locally\n", ref);
	}
	if (cli_pull_image(p, ref, platform, false, stderr, err) < 0)
		return -1;
	return bx_image_lookup(p, ref, img, err);
}

int cmd_pull(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *platform = NULL;
	bool quiet = false;
	const struct bx_opt opts[] = {
		{0, "platform", "string", 0, "Set platform if server is multi-platform capable (default linux/amd64)", .str = &platform},
		{'q', "quiet", NULL, 0, "Suppress verbose output", .on = &quiet},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm pull [OPTIONS] NAME[:TAG|@DIGEST]",
			   "Download an image from a registry.\n\n"
			   "Plain HTTP is used only for loopback registries and those listed in\n"
			   "BOXVM_INSECURE_REGISTRIES (comma-separated HOST[:PORT]); HTTPS otherwise.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, 1, "boxvm pull [OPTIONS] NAME[:TAG|@DIGEST]", &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	const char *ref = argv[a.i];
	if (cli_pull_image(&p, ref, platform, quiet, stdout, &err) < 0)
		return bx_cli_report(&err);
	/* Docker prints the canonical reference last; scripts read it */
	struct bx_ref pr;
	if (bx_ref_parse(ref, &pr, &err) == 0) {
		if (pr.tag[0] && pr.digest[0])
			printf("%s/%s:%s@%s\n", pr.domain, pr.path, pr.tag, pr.digest);
		else
			printf("%s/%s%s%s\n", pr.domain, pr.path, pr.tag[0] ? ":" : "@", pr.tag[0] ? pr.tag : pr.digest);
	}
	return 0;
}
