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

int cmd_attach(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *keys = BX_DETACH_DEFAULT;
	bool no_stdin = false;
	const struct bx_opt opts[] = {
		{0, "no-stdin", NULL, 0, "Do not attach STDIN", .on = &no_stdin},
		{0, "detach-keys", "string", 0, "Key sequence for detaching (default \"ctrl-p,ctrl-q\")", .str = &keys},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm attach [OPTIONS] BOX",
			   "Attach this terminal's input and output to a running box's main process.\n"
			   "A box started with -t gets a raw terminal; detach with Ctrl-P Ctrl-Q (the box\n"
			   "keeps running). Otherwise signals (Ctrl-C) are forwarded and ending boxvm\n"
			   "detaches. boxvm exits with the main process's exit code when it ends.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
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
