/* boxvm login [-u USER] [-p PASS | --password-stdin] [SERVER]; boxvm logout [SERVER].
 * Credentials are checked against the registry before they are stored
 * (DATA/auth.json, mode 0600) and are never printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../image/registry/registry.h"
#include "args.h"
#include "cli.h"

enum { OPT_USER, OPT_PASS, OPT_PASS_STDIN, OPT_HELP };
static const struct bx_opt login_opts[] = {
	{'u', "username", "string", OPT_USER, "Username"},
	{'p', "password", "string", OPT_PASS, "Password (insecure: it shows in the process list; use --password-stdin)"},
	{0, "password-stdin", NULL, OPT_PASS_STDIN, "Take the password from stdin"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};
static const struct bx_opt logout_opts[] = {
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

/* "docker.io" for no server (Docker Hub), else the host[:port] as given (a URL's host part). */
static int server_name(const char *arg, char *out, size_t size, struct bx_err *err)
{
	if (!arg)
		arg = "docker.io";
	const char *s = strstr(arg, "://") ? strstr(arg, "://") + 3 : arg;
	size_t l = strcspn(s, "/");
	if (l == 0 || l >= size)
		return bx_fail(err, 0, "invalid registry server '%s'", arg);
	memcpy(out, s, l);
	out[l] = '\0';
	if (!strcmp(out, "index.docker.io") || !strcmp(out, "registry-1.docker.io"))
		snprintf(out, size, "docker.io");
	return 0;
}

static int read_line(FILE *in, char *out, size_t size, struct bx_err *err)
{
	if (!fgets(out, (int)size, in))
		return bx_fail(err, 0, "no password given on stdin");
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

int cmd_login(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *user = NULL, *pass = NULL;
	bool pass_stdin = false;
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, login_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_USER: user = val; break;
		case OPT_PASS: pass = val; break;
		case OPT_PASS_STDIN: pass_stdin = true; break;
		case OPT_HELP:
			bx_args_usage("boxvm login [OPTIONS] [SERVER]",
				      "Log in to a registry (Docker Hub if no server is given).\n"
				      "Credentials are stored in DATA/auth.json (mode 0600).",
				      login_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	if (argc - a.i > 1) {
		bx_fail(&err, 0, "\"login\" accepts at most 1 argument: boxvm login [OPTIONS] [SERVER]");
		return bx_cli_report(&err);
	}
	if (pass && pass_stdin) {
		bx_fail(&err, 0, "--password and --password-stdin are mutually exclusive");
		return bx_cli_report(&err);
	}
	struct bx_credentials c = {0};
	struct bx_registry reg = {0};
	char server[256];
	int rc = BX_EXIT_ERROR;
	if (server_name(a.i < argc ? argv[a.i] : NULL, server, sizeof(server), &err) < 0)
		goto report;
	if (!user) {
		if (pass_stdin || !isatty(0)) {
			bx_fail(&err, 0, "a username is needed (-u USER) when the password comes from stdin");
			goto report;
		}
		fprintf(stderr, "Username: ");
		if (read_line(stdin, c.user, sizeof(c.user), &err) < 0)
			goto report;
	} else {
		snprintf(c.user, sizeof(c.user), "%s", user);
	}
	if (pass) {
		fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
		snprintf(c.secret, sizeof(c.secret), "%s", pass);
	} else if (pass_stdin || !isatty(0)) {
		if (read_line(stdin, c.secret, sizeof(c.secret), &err) < 0)
			goto report;
	} else {
		char *pw = getpass("Password: ");
		snprintf(c.secret, sizeof(c.secret), "%s", pw ? pw : "");
		if (pw)
			explicit_bzero(pw, strlen(pw));
	}
	if (!c.user[0] || !c.secret[0]) {
		bx_fail(&err, 0, "username and password must not be empty");
		goto report;
	}
	struct bx_paths p;
	struct bx_ref ref = {0};
	snprintf(ref.domain, sizeof(ref.domain), "%s", server);
	if (bx_paths_init(&p, &err) < 0 || bx_registry_open(&reg, &p, &ref, &err) < 0)
		goto report;
	reg.creds = c;
	reg.have_creds = true;
	if (bx_registry_ping(&reg, &err) < 0) {
		bx_wrap(&err, "login to %s failed", server);
		goto report;
	}
	if (bx_creds_put(&p, server, &c, &err) < 0)
		goto report;
	printf("Login Succeeded\n");
	rc = 0;
	goto out;
report:
	rc = bx_cli_report(&err);
out:
	if (reg.curl)
		bx_registry_close(&reg);
	explicit_bzero(&c, sizeof(c));
	return rc;
}

int cmd_logout(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, logout_opts, &id, &val, &err)) > 0) {
		if (id == OPT_HELP) {
			bx_args_usage("boxvm logout [SERVER]", "Log out from a registry (remove its stored credentials).",
				      logout_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	if (argc - a.i > 1) {
		bx_fail(&err, 0, "\"logout\" accepts at most 1 argument: boxvm logout [SERVER]");
		return bx_cli_report(&err);
	}
	char server[256];
	struct bx_paths p;
	if (server_name(a.i < argc ? argv[a.i] : NULL, server, sizeof(server), &err) < 0 || bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	int removed = bx_creds_remove(&p, server, &err);
	if (removed < 0)
		return bx_cli_report(&err);
	if (removed)
		printf("Removing login credentials for %s\n", server);
	else
		printf("Not logged in to %s\n", server);
	return 0;
}
