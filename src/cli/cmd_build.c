/* boxvm build [-t NAME[:TAG]]... [-f Dockerfile|-] [--build-arg K=V]...
 * [--label K=V]... [--target STAGE] [--pull] [--platform P] [--no-cache]
 * [-q] CONTEXT|-: an image from a Dockerfile, every RUN in its own microVM
 * (src/box/build.h); "-" reads the context (a tar) or a lone Dockerfile
 * from stdin (src/box/build_stdin.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../box/build.h"
#include "../box/build_stdin.h"
#include "../image/build_platform.h"
#include "args.h"
#include "cli.h"
#include "cli_pull.h"

enum {
	OPT_TAG = 1, OPT_FILE, OPT_BUILD_ARG, OPT_LABEL, OPT_NO_CACHE, OPT_QUIET, OPT_RM, OPT_FORCE_RM, OPT_PULL,
	OPT_TARGET, OPT_PLATFORM, OPT_NETWORK, OPT_ADD_HOST, OPT_RESOURCE, OPT_IIDFILE
};

static const struct bx_opt build_opts[] = {
	{'t', "tag", "list", OPT_TAG, "Name and optionally a tag in the 'name:tag' format"},
	{'f', "file", "string", OPT_FILE, "Name of the Dockerfile (default 'CONTEXT/Dockerfile'; '-': stdin)"},
	{0, "build-arg", "list", OPT_BUILD_ARG, "Set build-time variables (NAME=VALUE, or NAME to copy it)"},
	{0, "label", "list", OPT_LABEL, "Set metadata for an image (KEY=VALUE)"},
	{0, "no-cache", NULL, OPT_NO_CACHE, "Do not use cache when building the image"},
	{0, "target", "string", OPT_TARGET, "Set the target build stage to build"},
	{0, "pull", NULL, OPT_PULL, "Always attempt to pull a newer version of the image"},
	{0, "platform", "string", OPT_PLATFORM, "Set platform if server is multi-platform capable (linux/amd64 only)"},
	{'q', "quiet", NULL, OPT_QUIET, "Suppress the build output and print image ID on success"},
	{0, "network", "string", OPT_NETWORK, "Set the networking mode for the RUN instructions (default, none, or a network)"},
	{0, "add-host", "list", OPT_ADD_HOST, "Add a custom host-to-IP mapping (host:ip) for the RUN instructions"},
	{'m', "memory", "bytes", OPT_RESOURCE, "Memory limit of each RUN's box (its VM gets 128m more)"},
	{0, "memory-swap", "bytes", OPT_RESOURCE, "Swap limit equal to memory plus swap: -1 or the memory value (no swap)"},
	{0, "cpu-shares", "int", OPT_RESOURCE, "CPU shares (relative weight) of each RUN's box"},
	{0, "cpuset-cpus", "string", OPT_RESOURCE, "CPUs of each RUN's VM in which to allow execution (0-3, 0,1)"},
	{0, "iidfile", "string", OPT_IIDFILE, "Write the image ID to the file"},
	{0, "rm", NULL, OPT_RM, "Remove intermediate boxes after a successful build (always: default true)"},
	{0, "force-rm", NULL, OPT_FORCE_RM, "Always remove intermediate boxes (always)"},
	BX_OPT_HELP,
	BX_OPT_END,
};

#define BUILD_USAGE "boxvm build [OPTIONS] PATH | -"

/* a base image from its registry, Docker's pull lines among the build's
 * (the platform: linux/amd64, the only one a build takes) */
static int pull_base(const struct bx_paths *p, const char *ref, bool quiet, struct bx_err *err)
{
	return cli_pull_image(p, ref, NULL, quiet, stdout, err);
}

int cmd_build(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	struct bx_build_opts o = {0};
	struct bx_build_stdin in = {0};
	int run_code = 0;
	o.run_code = &run_code;
	char **tags = NULL, **args = NULL, **labels = NULL, **hosts = NULL;
	struct bx_resources res = {0};
	const char *iidfile = NULL;
	int id, r, rc = 1;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, build_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_TAG: r = cli_strv_append(&tags, val, &err); break;
		case OPT_BUILD_ARG: r = cli_strv_append(&args, val, &err); break;
		case OPT_LABEL: r = cli_strv_append(&labels, val, &err); break;
		case OPT_FILE: o.dockerfile = val; break;
		case OPT_NO_CACHE: o.no_cache = !val; break;
		case OPT_QUIET: o.quiet = !val; break;
		case OPT_PULL: o.pull_always = !val; break;
		case OPT_TARGET: o.target = val; break;
		case OPT_PLATFORM: o.platform = val; break;
		case OPT_NETWORK: o.network = !strcmp(val, "default") || !strcmp(val, "bridge") ? NULL : val; break;
		case OPT_ADD_HOST: r = cli_strv_append(&hosts, val, &err); break;
		case OPT_RESOURCE: r = bx_resources_flag(&res, a.last->long_name, val, &err); break;
		case OPT_IIDFILE: iidfile = val; break;
		case OPT_RM:
		case OPT_FORCE_RM: break;
		case BX_OPT_HELP_ID:
			bx_args_usage(BUILD_USAGE, "Build an image from a Dockerfile (each RUN in its own microVM)", build_opts);
			rc = 0;
			goto done;
		}
		if (r < 0)
			goto out;
	}
	if (r < 0 || cli_need_operands(&a, 1, 1, BUILD_USAGE, &err) < 0)
		goto out;
	for (size_t i = 0; tags && tags[i]; i++) {
		char norm[512];
		if (bx_image_ref_normalize(tags[i], norm, sizeof(norm), &err) < 0 || strchr(norm, '@')) {
			bx_fail(&err, 0, "invalid argument \"%s\" for \"-t, --tag\" flag: invalid reference format", tags[i]);
			goto out;
		}
	}
	for (size_t i = 0; labels && labels[i]; i++)
		if (!*labels[i] || *labels[i] == '=') {
			bx_fail(&err, 0, "invalid label '%s': use KEY=VALUE", labels[i]);
			goto out;
		}
	if (o.platform && bx_build_platform_check(o.platform, &err) < 0) { /* before stdin is read */
		bx_wrap(&err, "--platform");
		goto out;
	}
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		goto out;
	o.context = argv[a.i];
	if (!strcmp(argv[a.i], "-")) {
		if (o.dockerfile && !strcmp(o.dockerfile, "-")) {
			bx_fail(&err, 0, "invalid argument: can't use stdin for both build context and dockerfile");
			goto out;
		}
		if (bx_build_stdin_open(&p, 0, &in, &err) < 0)
			goto out;
		o.context = in.context;
		o.dockerfile_in_context = true;
		if (!in.archive) /* stdin was the Dockerfile itself (Docker then ignores -f too) */
			o.dockerfile = NULL;
	}
	o.tags = tags;
	o.build_args = args;
	o.labels = labels;
	o.pull = pull_base;
	o.add_hosts = hosts;
	o.res = &res;
	if (iidfile)
		unlink(iidfile); /* Docker's: no stale ID when the build fails */
	char image_id[BX_DIGEST_SIZE];
	if (bx_build(&p, &o, image_id, &err) < 0)
		goto out;
	if (iidfile && bx_write_file_atomic(iidfile, image_id, strlen(image_id), 0644, &err) < 0)
		goto out;
	if (o.quiet)
		printf("%s\n", image_id);
	rc = 0;
	goto done;
out:
	rc = bx_cli_report(&err);
	if (run_code > 0)
		rc = run_code; /* a failing RUN's, as docker build exits */
done:
	bx_build_stdin_remove(&in);
	bx_strv_free(tags);
	bx_strv_free(args);
	bx_strv_free(labels);
	bx_strv_free(hosts);
	return rc;
}
