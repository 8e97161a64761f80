/* boxvm run [OPTIONS] IMAGE [COMMAND [ARG...]] */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/box.h"
#include "../lib/boxid.h"
#include "../lib/image.h"
#include "../lib/runconfig.h"
#include "args.h"
#include "cli.h"
#include "shim_client.h"

enum {
	OPT_RM, OPT_ENV, OPT_ENV_FILE, OPT_WORKDIR, OPT_USER, OPT_ENTRYPOINT, OPT_INTERACTIVE,
	OPT_MEMORY, OPT_CPUS, OPT_HELP,
};
static const struct bx_opt run_opts[] = {
	{0, "rm", NULL, OPT_RM, "Automatically remove the box when it exits"},
	{'e', "env", "list", OPT_ENV, "Set environment variables (NAME=VALUE, or NAME to copy it)"},
	{0, "env-file", "list", OPT_ENV_FILE, "Read in a file of environment variables"},
	{'w', "workdir", "string", OPT_WORKDIR, "Working directory inside the box"},
	{'u', "user", "string", OPT_USER, "Username or UID (format: <name|uid>[:<group|gid>])"},
	{0, "entrypoint", "string", OPT_ENTRYPOINT, "Overwrite the default ENTRYPOINT of the image"},
	{'i', "interactive", NULL, OPT_INTERACTIVE, "Keep STDIN open and forward it to the box"},
	{'m', "memory", "bytes", OPT_MEMORY, "Memory of the box's VM (default 512m, minimum 64m)"},
	{0, "cpus", "number", OPT_CPUS, "Virtual CPUs of the box's VM (default 2)"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

/* "512m", "1g", "268435456" -> MiB */
static int parse_memory(const char *s, int *mb, struct bx_err *err)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		goto bad;
	unsigned long long mult = 1;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'b': break;
	case 'k': mult = 1ULL << 10; break;
	case 'm': mult = 1ULL << 20; break;
	case 'g': mult = 1ULL << 30; break;
	default: goto bad;
	}
	if (*end && end[1] && !(tolower((unsigned char)end[1]) == 'b' && !end[2]))
		goto bad;
	unsigned long long bytes = v * mult;
	if (bytes / mult != v)
		goto bad;
	if (bytes < (64ULL << 20))
		return bx_fail(err, 0, "invalid --memory '%s': a box needs at least 64m", s);
	if (bytes > (1ULL << 40))
		return bx_fail(err, 0, "invalid --memory '%s': too large", s);
	*mb = (int)(bytes >> 20);
	return 0;
bad:
	return bx_fail(err, 0, "invalid --memory '%s': use a number with an optional unit b, k, m or g", s);
}

static int parse_cpus(const char *s, int *cpus, struct bx_err *err)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 1 || v > 64)
		return bx_fail(err, 0, "invalid --cpus '%s': use a whole number from 1 to 64", s);
	*cpus = (int)v;
	return 0;
}

/* BOXVM_TEST_ACCEPT_DELAY_MS: the agent delays serving its services by that
 * long after spawning the main process (tests a guest whose exec service
 * starts late). */
static int apply_test_knobs(struct bx_spec *spec, struct bx_err *err)
{
	const char *v = getenv("BOXVM_TEST_ACCEPT_DELAY_MS");
	if (!v || !*v)
		return 0;
	char *end;
	unsigned long ms = strtoul(v, &end, 10);
	if (*end || ms > 600000)
		return bx_fail(err, 0, "invalid BOXVM_TEST_ACCEPT_DELAY_MS '%s'", v);
	spec->accept_delay_ms = (uint32_t)ms;
	return 0;
}

static void run_opts_free(struct bx_run_opts *ro)
{
	bx_strv_free(ro->env);
	bx_strv_free(ro->env_files);
	bx_strv_free(ro->command);
}

static const char *caller_getenv(const char *name)
{
	return getenv(name);
}

static int run(int argc, char **argv, struct bx_run_opts *ro);

int cmd_run(int argc, char **argv)
{
	struct bx_run_opts ro = {0};
	int rc = run(argc, argv, &ro);
	run_opts_free(&ro);
	return rc;
}

static int run(int argc, char **argv, struct bx_run_opts *rop)
{
	struct bx_err err = {0};
	struct bx_run_opts *ro = rop;
	struct bx_box_opts bo = {.mem_mb = 512, .cpus = 2};
	struct bx_args a;
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, run_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_RM: bo.auto_remove = !val; break;
		case OPT_ENV: cli_strv_append(&ro->env, val); break;
		case OPT_ENV_FILE: cli_strv_append(&ro->env_files, val); break;
		case OPT_WORKDIR: ro->workdir = val; break;
		case OPT_USER: ro->user = val; break;
		case OPT_ENTRYPOINT: ro->entrypoint = val; break;
		case OPT_INTERACTIVE: ro->stdin_open = !val; break;
		case OPT_MEMORY:
			if (parse_memory(val, &bo.mem_mb, &err) < 0)
				return bx_cli_report(&err);
			break;
		case OPT_CPUS:
			if (parse_cpus(val, &bo.cpus, &err) < 0)
				return bx_cli_report(&err);
			break;
		case OPT_HELP:
			bx_args_usage("boxvm run [OPTIONS] IMAGE [COMMAND] [ARG...]",
				      "Create and run a new box from an image, in its own microVM.", run_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	if (a.i >= argc) {
		bx_fail(&err, 0, "\"run\" requires at least 1 argument: boxvm run [OPTIONS] IMAGE [COMMAND] [ARG...]");
		return bx_cli_report(&err);
	}
	const char *ref = argv[a.i++];
	if (a.i < argc && !strcmp(argv[a.i], "--"))
		a.i++;
	for (int i = a.i; i < argc; i++)
		cli_strv_append(&ro->command, argv[i]);

	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	struct bx_image img;
	if (bx_image_lookup(&p, ref, &img, &err) < 0)
		return bx_cli_report(&err);

	char boxid[BX_ID_LEN + 1];
	char hostname[BX_SHORT_ID_LEN + 1];
	struct bx_spec spec;
	bx_spec_init(&spec);
	struct bx_vmspec vm;
	int rc = BX_EXIT_ERROR;
	if (bx_boxid_new(boxid, &err) < 0)
		goto fail;
	memcpy(hostname, boxid, BX_SHORT_ID_LEN);
	hostname[BX_SHORT_ID_LEN] = 0;
	ro->hostname = hostname;
	if (bx_runconfig_build(&img.config, ro, caller_getenv, &spec, &err) < 0 ||
	    apply_test_knobs(&spec, &err) < 0 || bx_box_create(&p, &img, &spec, &bo, boxid, &vm, &err) < 0)
		goto fail;
	if (bx_shim_start(&vm, &err) < 0) {
		bx_box_destroy(&vm);
		goto fail;
	}
	rc = bx_shim_attach(&vm, ro->stdin_open, &err);
	if (rc < 0)
		rc = bx_cli_report(&err);
	goto out;
fail:
	rc = bx_cli_report(&err);
out:
	bx_spec_free(&spec);
	bx_image_free(&img);
	return rc;
}
