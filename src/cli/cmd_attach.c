/* boxvm attach [OPTIONS] BOX: this terminal to the main process's stdio (or
 * its pty, when the box was started with -t); detach with Ctrl-P Ctrl-Q. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../client/exec_client.h"
#include "../client/shim_client.h"
#include "../client/tty_keys.h"
#include "../common/paths.h"
#include "../vm/vmspec.h"
#include "args.h"
#include "cli.h"

enum { OPT_NO_STDIN, OPT_DETACH_KEYS, OPT_HELP };
static const struct bx_opt attach_opts[] = {
	{0, "no-stdin", NULL, OPT_NO_STDIN, "Do not attach STDIN"},
	{0, "detach-keys", "string", OPT_DETACH_KEYS, "Key sequence for detaching (default \"ctrl-p,ctrl-q\")"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

int cmd_attach(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	int id, r;
	const char *val, *keys = BX_DETACH_DEFAULT;
	bool no_stdin = false;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, attach_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_NO_STDIN: no_stdin = !val; break;
		case OPT_DETACH_KEYS: keys = val; break;
		case OPT_HELP:
			bx_args_usage("boxvm attach [OPTIONS] BOX",
				      "Attach this terminal's input and output to a running box's main process.\n"
				      "A box started with -t gets a raw terminal; detach with Ctrl-P Ctrl-Q (the box\n"
				      "keeps running). Otherwise signals (Ctrl-C) are forwarded and ending boxvm\n"
				      "detaches. boxvm exits with the main process's exit code when it ends.",
				      attach_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	if (cli_need_operands(&a, 1, 1, "boxvm attach [OPTIONS] BOX", &err) < 0)
		return bx_cli_report(&err);
	struct bx_detach detach;
	if (bx_detach_parse(keys, &detach, &err) < 0)
		return bx_cli_report(&err);
	struct bx_box_record box;
	struct bx_vmspec vm;
	char vmjson[PATH_MAX];
	if (bx_cli_running_box(argv[a.i], "attach", &box, &err) < 0 ||
	    bx_path_join(vmjson, sizeof(vmjson), &err, "%s/vm.json", box.box_dir) < 0 ||
	    bx_vmspec_read(vmjson, &vm, &err) < 0)
		return bx_cli_report(&err);
	int code;
	if (vm.tty) {
		bool detached;
		if (!no_stdin && !isatty(0)) {
			bx_fail(&err, 0, "the input device is not a TTY; use --no-stdin (or run from a terminal)");
			return bx_cli_report(&err);
		}
		code = bx_shim_attach_tty(vm.run_dir, vm.id, !no_stdin, &detach, &detached, &err);
		if (code >= 0 && detached)
			return 0;
	} else {
		code = bx_shim_attach(&vm, !no_stdin, &err);
	}
	return code < 0 ? bx_cli_report(&err) : code;
}
