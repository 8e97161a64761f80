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
	const struct bx_opt opts[] = {
		{'u', "username", "string", 0, "Username", .str = &user},
		{'p', "password", "string", 0, "Password (insecure: it shows in the process list; use --password-stdin)", .str = &pass},
		{0, "password-stdin", NULL, 0, "Take the password from stdin", .on = &pass_stdin},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm login [OPTIONS] [SERVER]",
			   "Log in to a registry (Docker Hub if no server is given).\n"
			   "Credentials are stored in DATA/auth.json (mode 0600).", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (argc - a.i > 1) {
		bx_fail(&err, 0, "\"login\" accepts at most 1 argument: boxvm login [OPTIONS] [SERVER]");
		return bx_cli_report(&err);
	}
	if (pass && pass_stdin) {
		bx_fail(&err, 0, "--password and --password-stdin are mutually exclusive");
		return bx_cli_report(&err);
	}
	struct bx_credentials c = {0};
	char server[256];
	int rc = BX_EXIT_ERROR;
	if (bx_registry_server_name(a.i < argc ? argv[a.i] : NULL, server, sizeof(server), &err) < 0)
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
	if (bx_paths_init(&p, &err) < 0 || bx_registry_login_check(&p, server, &c, &err) < 0)
		goto report;
	if (bx_creds_put(&p, server, &c, &err) < 0)
		goto report;
	printf("Login Succeeded\n");
	rc = 0;
	goto out;
report:
	rc = bx_cli_report(&err);
out:
	explicit_bzero(&c, sizeof(c));
	return rc;
}

int cmd_logout(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const struct bx_opt opts[] = {
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm logout [SERVER]",
			   "Log out from a registry (remove its stored credentials).", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (argc - a.i > 1) {
		bx_fail(&err, 0, "\"logout\" accepts at most 1 argument: boxvm logout [SERVER]");
		return bx_cli_report(&err);
	}
	char server[256];
	struct bx_paths p;
	if (bx_registry_server_name(a.i < argc ? argv[a.i] : NULL, server, sizeof(server), &err) < 0 || bx_paths_init(&p, &err) < 0)
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
