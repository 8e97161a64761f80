/* boxvm port BOX [PRIVATE_PORT[/PROTO]]: the box's published ports, as
 * `docker port` prints them (from the box's vm.json, where `run` stored the
 * host ports it chose). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/state.h"
#include "../vm/vmspec.h"
#include "args.h"
#include "cli.h"

int cmd_port(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const struct bx_opt opts[] = {
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm port BOX [PRIVATE_PORT[/PROTO]]",
			   "List port mappings or a specific mapping for the box.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (a.i >= argc || argc - a.i > 2) {
		bx_fail(&err, 0, "\"port\" requires 1 or 2 arguments: boxvm port BOX [PRIVATE_PORT[/PROTO]]");
		return bx_cli_report(&err);
	}
	const char *ref = argv[a.i], *want = a.i + 1 < argc ? argv[a.i + 1] : NULL;
	int want_port = 0;
	char want_proto[8] = "tcp";
	if (want) {
		char *end;
		long v = strtol(want, &end, 10);
		if (end == want || v < 1 || v > 65535 || (*end && strcmp(end, "/tcp") && strcmp(end, "/udp"))) {
			bx_fail(&err, 0, "invalid port '%s': use PORT or PORT/tcp or PORT/udp", want);
			return bx_cli_report(&err);
		}
		want_port = (int)v;
		if (*end)
			snprintf(want_proto, sizeof(want_proto), "%s", end + 1);
	}
	struct bx_paths p;
	struct bx_box_record rec;
	static struct bx_vmspec vm; /* large */
	char path[PATH_MAX];
	if (bx_paths_init(&p, &err) < 0 || bx_state_lookup(&p, ref, &rec, &err) < 0 ||
	    bx_path_join(path, sizeof(path), &err, "%s/vm.json", rec.box_dir) < 0 || bx_vmspec_read(path, &vm, &err) < 0)
		return bx_cli_report(&err);
	int shown = 0;
	/* Docker shows live bindings only: a box that is not running has none */
	for (int i = 0; bx_box_status_live(rec.status) && i < vm.nports; i++) {
		const struct bx_port *pt = &vm.ports[i];
		if (want && (pt->guest_port != want_port || strcmp(pt->proto, want_proto)))
			continue;
		char line[128];
		bx_port_format(pt, line, sizeof(line));
		/* with a port given, Docker prints only the host side */
		printf("%s\n", want ? strstr(line, "-> ") + 3 : line);
		shown++;
	}
	if (want && !shown) {
		bx_fail(&err, 0, "no public port '%d/%s' published for %s", want_port, want_proto, ref);
		return bx_cli_report(&err);
	}
	return 0;
}
