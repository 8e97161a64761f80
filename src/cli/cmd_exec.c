/* boxvm exec [OPTIONS] BOX COMMAND [ARG...] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../box/runconfig.h"
#include "../client/exec_client.h"
#include "../common/cleanup.h"
#include "args.h"
#include "cli.h"

enum { OPT_INTERACTIVE, OPT_TTY, OPT_ENV, OPT_WORKDIR, OPT_USER, OPT_TIMEOUT, OPT_HELP, OPT_DETACH, OPT_ENV_FILE, OPT_PRIVILEGED };
static const struct bx_opt exec_opts[] = {
	{'d', "detach", NULL, OPT_DETACH, "Detached mode: start the command and return at once (its output is discarded)"},
	{'i', "interactive", NULL, OPT_INTERACTIVE, "Keep STDIN open and forward it to the command"},
	{'t', "tty", NULL, OPT_TTY, "Run the command on a terminal (raw mode, resizes, Ctrl-C reach it)"},
	{'e', "env", "list", OPT_ENV, "Set environment variables (NAME=VALUE, or NAME to copy it)"},
	{0, "env-file", "list", OPT_ENV_FILE, "Read environment variables from a file (NAME=VALUE lines; -e wins)"},
	{'w', "workdir", "string", OPT_WORKDIR, "Working directory inside the box (default: the box's)"},
	{'u', "user", "string", OPT_USER, "Username or UID (format: <name|uid>[:<group|gid>]; default: the box's)"},
	{0, "privileged", NULL, OPT_PRIVILEGED, "Give the command every capability (default: the box's)"},
	{0, "timeout", "seconds", OPT_TIMEOUT, "Kill the command after this many seconds (exit code 137)"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

static int parse_timeout(const char *s, uint32_t *ms, struct bx_err *err)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v > 0) || v > 4000000)
		return bx_fail(err, 0, "invalid --timeout '%s': use a positive number of seconds", s);
	*ms = (uint32_t)(v * 1000);
	if (!*ms)
		*ms = 1;
	return 0;
}

/* Set KEY=VALUE, replacing an earlier value of KEY (an --env-file line that
 * -e overrides, or a repeated -e): the agent gets each name once. */
static int set_env(struct bx_spec *spec, const char *kv, struct bx_err *err)
{
	size_t kl = strcspn(kv, "=");
	for (size_t i = 0; i < spec->nenv; i++)
		if (!strncmp(spec->env[i], kv, kl) && spec->env[i][kl] == '=') {
			char *copy = strdup(kv);
			if (!copy)
				return bx_fail(err, 0, "out of memory");
			free(spec->env[i]);
			spec->env[i] = copy;
			return 0;
		}
	return bx_spec_add_env(spec, kv, err);
}

static const char *getenv_of_caller(const char *name)
{
	return getenv(name);
}

/* --env-file: Docker's format (see bx_envfile_parse), read before any -e. */
static int add_env_file(struct bx_spec *spec, const char *path, struct bx_err *err)
{
	_cleanup_free_ char *text = NULL;
	if (bx_read_file(path, &text, NULL, err) < 0)
		return bx_fail(err, errno, "cannot read env file %s", path);
	char **env = NULL;
	size_t n = 0;
	int rc = bx_envfile_parse(text, path, getenv_of_caller, &env, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = set_env(spec, env[i], err);
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(env);
	return rc;
}

/* -e NAME copies the caller's value; an unset NAME is left out (Docker). */
static int add_env(struct bx_spec *spec, const char *v, struct bx_err *err)
{
	if (!*v || *v == '=') /* Docker's client: a usage error (125) */
		return bx_fail_code(err, CLI_EXIT_BAD_FLAG, 0, "invalid environment variable '%s': expected NAME=VALUE or NAME", v);
	if (strchr(v, '='))
		return set_env(spec, v, err);
	const char *val = getenv(v);
	if (!val)
		return 0;
	size_t n = strlen(v) + strlen(val) + 2;
	char *kv = malloc(n);
	if (!kv)
		return bx_fail(err, 0, "out of memory");
	snprintf(kv, n, "%s=%s", v, val);
	int rc = set_env(spec, kv, err);
	free(kv);
	return rc;
}

static int exec_main(int argc, char **argv, struct bx_spec *spec)
{
	struct bx_err err = {0};
	struct bx_args a;
	int id, r;
	const char *val;
	bool interactive = false, tty = false, detach = false;
	/* -e applies after every --env-file, wherever it stands (Docker) */
	_cleanup_free_ const char **envs = calloc((size_t)argc, sizeof(*envs));
	_cleanup_free_ const char **env_files = calloc((size_t)argc, sizeof(*env_files));
	size_t nenvs = 0, nenv_files = 0;
	if (!envs || !env_files) {
		bx_fail(&err, 0, "out of memory");
		return bx_cli_report(&err);
	}
	bx_args_init(&a, argc, argv);
	a.stop_at_operand = true; /* BOX COMMAND [ARG...]: the command's own flags follow */
	a.i = 1;
	while ((r = bx_args_next(&a, exec_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_INTERACTIVE: interactive = !val; break;
		case OPT_TTY: tty = !val; break;
		case OPT_DETACH: detach = !val; break;
		case OPT_PRIVILEGED:
			if (!val) /* else the box's sets (exec_defaults.c) */
				spec->caps = (struct bx_spec_caps){.set = true, .bounding = BX_CAPS_ALL,
								   .effective = BX_CAPS_ALL, .permitted = BX_CAPS_ALL};
			break;
		case OPT_ENV: envs[nenvs++] = val; break;
		case OPT_ENV_FILE: env_files[nenv_files++] = val; break;
		case OPT_WORKDIR:
			if (bx_spec_set_cwd(spec, val, &err) < 0)
				return bx_cli_report(&err);
			break;
		case OPT_USER:
			if (bx_spec_set_user(spec, val, &err) < 0)
				return bx_cli_report(&err);
			break;
		case OPT_TIMEOUT:
			if (parse_timeout(val, &spec->timeout_ms, &err) < 0)
				return bx_cli_report(&err);
			break;
		case OPT_HELP:
			bx_args_usage("boxvm exec [OPTIONS] BOX COMMAND [ARG...]",
				      "Run a command in a running box. Its output streams as it comes and boxvm exits\n"
				      "with its exit code (126: it could not be started: not found, not executable, unknown\n"
				      "-u user or missing -w directory; 137: killed by --timeout). -w is not created.\n"
				      "With -d boxvm returns once the command has started (exit 1 if it could not); it\n"
				      "runs on in the box (output discarded) until it exits or the box stops.",
				      exec_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	for (size_t i = 0; i < nenv_files; i++)
		if (add_env_file(spec, env_files[i], &err) < 0)
			return bx_cli_report(&err);
	for (size_t i = 0; i < nenvs; i++)
		if (add_env(spec, envs[i], &err) < 0)
			return bx_cli_report(&err);
	if (argc - a.i < 2) {
		bx_fail_code(&err, CLI_EXIT_USAGE, 0, "\"exec\" requires at least 2 arguments: boxvm exec [OPTIONS] BOX COMMAND [ARG...]");
		return bx_cli_report(&err);
	}
	const char *ref = argv[a.i++];
	if (a.i < argc && !strcmp(argv[a.i], "--"))
		a.i++;
	for (int i = a.i; i < argc; i++)
		if (bx_spec_add_arg(spec, argv[i], &err) < 0)
			return bx_cli_report(&err);
	if (!spec->nargs) {
		bx_fail(&err, 0, "\"exec\" needs a command to run");
		return bx_cli_report(&err);
	}
	if (detach)
		interactive = false; /* nothing is attached to a detached command (Docker) */
	if (tty && interactive && !isatty(0)) {
		bx_fail(&err, 0, "the input device is not a TTY; drop -t (or run from a terminal)");
		return bx_cli_report(&err);
	}
	spec->tty = tty;
	spec->stdin_open = interactive;
	if (tty && !bx_spec_has_env(spec, "TERM") && bx_spec_add_env(spec, "TERM=xterm", &err) < 0)
		return bx_cli_report(&err);

	struct bx_box_record box;
	if (bx_cli_running_box(ref, "exec", &box, &err) < 0)
		return bx_cli_report(&err);
	if (detach)
		return bx_exec_start_detached(&box, spec, &err) != 0 ? bx_cli_report(&err) : 0;
	char what[64];
	snprintf(what, sizeof(what), "box %.12s", box.id);
	struct bx_relay_opts o = {
		.in_fd = interactive ? 0 : -1,
		.out_fd = 1,
		.err_fd = 2,
		.tty = tty,
		.tty_fd = isatty(0) ? 0 : isatty(1) ? 1 : -1,
		.what = what,
	};
	if (o.tty_fd < 0)
		o.tty = false; /* -t alone without a terminal: the output still comes from a pty */
	int code = bx_exec_run(&box, spec, &o, &err);
	return code < 0 ? bx_cli_report(&err) : code;
}

int cmd_exec(int argc, char **argv)
{
	struct bx_spec spec;
	bx_spec_init(&spec);
	int rc = exec_main(argc, argv, &spec);
	bx_spec_free(&spec);
	return rc;
}
