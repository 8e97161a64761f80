/* boxvm network create|ls|inspect|rm|prune|connect|disconnect: named
 * networks (src/store/networks.h; docs/ARCHITECTURE.md, "Named networks").
 * Docker's output and messages; `ls` lists the networks made with create
 * (boxvm's predefined modes, default and none, are not records). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../box/netconnect.h"
#include "../store/networks.h"
#include "../store/state.h"
#include "args.h"
#include "cli.h"
#include "inspect_out.h"
#include "prune.h"
#include "table.h"
#include "template.h"

enum { OPT_SUBNET, OPT_GATEWAY, OPT_INTERNAL, OPT_LABEL, OPT_DRIVER, OPT_QUIET, OPT_NO_TRUNC, OPT_FORMAT,
       OPT_FILTER, OPT_FORCE, OPT_ALIAS, OPT_IP, OPT_HELP };
static const struct bx_opt create_opts[] = {
	{0, "subnet", "string", OPT_SUBNET, "Subnet in CIDR format (default: the next free of 172.18-31.0.0/16, then 192.168.N.0/20)"},
	{0, "gateway", "string", OPT_GATEWAY, "IPv4 gateway of the subnet (default: its first address): the network's DNS"},
	{0, "internal", NULL, OPT_INTERNAL, "No way out of the network (no outbound access, no published ports)"},
	{0, "label", "list", OPT_LABEL, "Set metadata on a network (KEY=VALUE)"},
	{'d', "driver", "string", OPT_DRIVER, "Driver to manage the network (only \"bridge\")"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};
static const struct bx_opt ls_opts[] = {
	{'q', "quiet", NULL, OPT_QUIET, "Only display network IDs"},
	{0, "no-trunc", NULL, OPT_NO_TRUNC, "Do not truncate the output"},
	{0, "format", "string", OPT_FORMAT, "Pretty-print networks using a Go template"},
	{'f', "filter", "filter", OPT_FILTER, "Filter output: name=SUBSTRING, id=PREFIX"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};
static const struct bx_opt inspect_opts[] = {
	{'f', "format", "string", OPT_FORMAT, "Format the output using the given Go template"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};
static const struct bx_opt force_opts[] = {
	{'f', "force", NULL, OPT_FORCE, "disconnect: also when not running"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};
static const struct bx_opt connect_opts[] = {
	{0, "alias", "list", OPT_ALIAS, "Add network-scoped alias for the box"},
	{0, "ip", "string", OPT_IP, "IPv4 address (e.g., 172.30.100.104) on a network created with --subnet"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

static const struct bx_opt *opts_of(const char *sub)
{
	if (!strcmp(sub, "create"))
		return create_opts;
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return ls_opts;
	if (!strcmp(sub, "inspect"))
		return inspect_opts;
	if (!strcmp(sub, "connect"))
		return connect_opts;
	return force_opts;
}

static void usage(void)
{
	bx_args_usage("boxvm network COMMAND",
		      "Manage networks.\n\nCommands:\n"
		      "  connect [--alias A] [--ip IP] NETWORK BOX  Connect a box to a network (a running box at once)\n"
		      "  create [OPTIONS] NETWORK         Create a network\n"
		      "  disconnect [-f] NETWORK BOX      Disconnect a box from a network\n"
		      "  inspect NETWORK...               Display detailed information on networks\n"
		      "  ls                               List networks\n"
		      "  prune [-f] [--filter until=T|label=K[=V]|label!=K[=V]]  Remove all networks no box uses\n"
		      "  rm NETWORK...                    Remove networks\n\n"
		      "Flags: create [--subnet CIDR] [--gateway IP] [--internal] [--label K=V]; ls [-q] [--no-trunc]\n"
		      "[-f name=S|id=S] [--format T]; inspect [-f T]; connect [--alias A]",
		      NULL);
}

static int do_create(const struct bx_paths *p, char **rest, int nrest, const char *subnet, const char *gateway,
		     bool internal, char **labels)
{
	struct bx_err err = {0};
	if (nrest != 1) {
		bx_fail(&err, 0, "\"network create\" requires exactly 1 argument: boxvm network create [OPTIONS] NETWORK");
		return bx_cli_report(&err);
	}
	json_t *lab = json_object();
	for (char **l = labels; l && *l; l++) {
		const char *eq = strchr(*l, '=');
		char key[256];
		size_t kl = eq ? (size_t)(eq - *l) : strlen(*l);
		if (!kl || kl >= sizeof(key)) {
			json_decref(lab);
			bx_fail(&err, 0, "invalid label '%s': use KEY=VALUE", *l);
			return bx_cli_report(&err);
		}
		memcpy(key, *l, kl);
		key[kl] = '\0';
		json_object_set_new(lab, key, json_string(eq ? eq + 1 : ""));
	}
	char id[65];
	int rc = bx_network_create(p, rest[0], subnet, gateway, internal, lab, id, &err);
	json_decref(lab);
	if (rc < 0)
		return bx_cli_report(&err);
	printf("%s\n", id);
	return 0;
}

static int do_ls(const struct bx_paths *p, bool quiet, bool no_trunc, const char *format, char **filters)
{
	struct bx_err err = {0};
	json_t *all;
	for (char **f = filters; f && *f; f++)
		if (strncmp(*f, "name=", 5) && strncmp(*f, "id=", 3)) {
			bx_fail(&err, 0, "invalid filter '%s': use name=SUBSTRING or id=PREFIX", *f);
			return bx_cli_report(&err);
		}
	if (bx_network_list(p, &all, &err) < 0)
		return bx_cli_report(&err);
	if (format)
		quiet = false;
	if (!quiet && !format)
		printf("%-*s   %-9s %-9s %s\n", no_trunc ? 64 : 12, "NETWORK ID", "NAME", "DRIVER", "SCOPE");
	size_t i;
	json_t *r;
	json_array_foreach(all, i, r) {
		const char *id = json_string_value(json_object_get(r, "Id")), *name = json_string_value(json_object_get(r, "Name"));
		bool keep = true;
		for (char **f = filters; f && *f && keep; f++)
			keep = !strncmp(*f, "name=", 5) ? strstr(name, *f + 5) != NULL : !strncmp(id, *f + 3, strlen(*f + 3));
		if (!keep)
			continue;
		char shortid[13];
		snprintf(shortid, sizeof(shortid), "%.12s", id);
		if (format) {
			json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "ID", no_trunc ? id : shortid, "Name", name,
						"Driver", "bridge", "Scope", "local", "Internal",
						json_is_true(json_object_get(r, "Internal")), "CreatedAt",
						json_string_value(json_object_get(r, "Created")));
			char *text = NULL;
			if (row && bx_template_render(format, row, &text, &err) == 0)
				printf("%s\n", text);
			free(text);
			json_decref(row);
		} else if (quiet) {
			printf("%s\n", no_trunc ? id : shortid);
		} else {
			printf("%-*s   %-9s %-9s %s\n", no_trunc ? 64 : 12, no_trunc ? id : shortid, name, "bridge", "local");
		}
	}
	json_decref(all);
	return 0;
}

static int do_inspect(const struct bx_paths *p, char **rest, int nrest, const char *format)
{
	struct bx_err err = {0};
	if (nrest < 1) {
		bx_fail(&err, 0, "\"network inspect\" requires at least 1 argument: boxvm network inspect NETWORK...");
		return bx_cli_report(&err);
	}
	json_t *arr = json_array();
	int rc = 0;
	for (int i = 0; i < nrest; i++) {
		json_t *r;
		if (bx_network_get(p, rest[i], &r, &err) < 0) {
			rc = bx_cli_report(&err);
			continue;
		}
		json_array_append_new(arr, bx_network_inspect_json(r));
		json_decref(r);
	}
	if (json_array_size(arr) || !rc)
		cli_inspect_print(arr, format);
	json_decref(arr);
	return rc;
}

static int do_rm(const struct bx_paths *p, char **rest, int nrest)
{
	struct bx_err err = {0};
	if (nrest < 1) {
		bx_fail(&err, 0, "\"network rm\" requires at least 1 argument: boxvm network rm NETWORK...");
		return bx_cli_report(&err);
	}
	int rc = 0;
	for (int i = 0; i < nrest; i++) {
		if (bx_network_remove(p, rest[i], &err) < 0)
			rc = bx_cli_report(&err);
		else
			printf("%s\n", rest[i]);
	}
	return rc;
}

/* Docker 20.10's network prune: every network no box uses, with its prompt and filters (until=, label=) */
static int network_prune(int argc, char **argv)
{
	struct bx_err err = {0};
	struct cli_prune_args a;
	struct bx_paths p;
	int r = cli_prune_args(argc, argv, "boxvm network prune [OPTIONS]", "Remove all networks no box uses.", 0,
			       BX_PRUNE_UNTIL | BX_PRUNE_LABEL, &a, &err);
	if (r != 0) {
		bx_prune_filter_free(&a.filter);
		return r > 0 ? 0 : bx_cli_report(&err);
	}
	struct cli_pruned out = {0};
	if (a.force || cli_prune_confirm("WARNING! This will remove all custom networks not used by at least one "
					 "container.\nAre you sure you want to continue?")) {
		if (bx_paths_init(&p, &err) < 0) {
			bx_prune_filter_free(&a.filter);
			return bx_cli_report(&err);
		}
		cli_prune_networks(&p, &a.filter, &out);
	}
	cli_pruned_print("Deleted Networks:", &out);
	int rc = out.rc;
	cli_pruned_free(&out);
	bx_prune_filter_free(&a.filter);
	return rc;
}

static int do_connect(const struct bx_paths *p, char **rest, int nrest, char **aliases, const char *ip)
{
	struct bx_err err = {0};
	if (nrest != 2) {
		bx_fail(&err, 0, "\"network connect\" requires exactly 2 arguments: boxvm network connect [OPTIONS] NETWORK BOX");
		return bx_cli_report(&err);
	}
	char warn[1400];
	int rc = bx_box_net_connect(p, rest[0], rest[1], aliases, ip, warn, sizeof(warn), &err);
	if (rc < 0)
		return bx_cli_report(&err);
	if (rc > 0)
		fprintf(stderr, "boxvm: %s\n", warn);
	return 0;
}

static int do_disconnect(const struct bx_paths *p, char **rest, int nrest)
{
	struct bx_err err = {0};
	if (nrest != 2) {
		bx_fail(&err, 0, "\"network disconnect\" requires exactly 2 arguments: boxvm network disconnect [OPTIONS] "
				 "NETWORK BOX");
		return bx_cli_report(&err);
	}
	char warn[1400];
	int rc = bx_box_net_disconnect(p, rest[0], rest[1], warn, sizeof(warn), &err);
	if (rc < 0)
		return bx_cli_report(&err);
	if (rc > 0)
		fprintf(stderr, "boxvm: warning: %s\n", warn);
	return 0;
}

int cmd_network(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return 0;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "prune"))
		return network_prune(argc - 1, argv + 1);
	struct bx_args a;
	int id, r;
	const char *val, *format = NULL, *subnet = NULL, *gateway = NULL, *ip = NULL;
	bool quiet = false, no_trunc = false, internal = false;
	char **labels = NULL, **filters = NULL, **aliases = NULL;
	bx_args_init(&a, argc - 1, argv + 1);
	a.i = 1;
	while ((r = bx_args_next(&a, opts_of(sub), &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_HELP: usage(); return 0;
		case OPT_SUBNET: subnet = val; break;
		case OPT_GATEWAY: gateway = val; break;
		case OPT_INTERNAL: internal = !val; break;
		case OPT_LABEL: r = cli_strv_append(&labels, val, &err); break;
		case OPT_DRIVER:
			if (strcmp(val, "bridge")) {
				bx_fail(&err, 0, "plugin \"%s\" not found: boxvm has the bridge driver only", val);
				return bx_cli_report(&err);
			}
			break;
		case OPT_QUIET: quiet = true; break;
		case OPT_NO_TRUNC: no_trunc = true; break;
		case OPT_FORMAT: format = val; break;
		case OPT_FILTER: r = cli_strv_append(&filters, val, &err); break;
		case OPT_ALIAS: r = cli_strv_append(&aliases, val, &err); break;
		case OPT_IP: ip = val; break;
		default: break;
		}
		if (r < 0) /* a value that could not be kept (out of memory) */
			break;
	}
	if (r < 0 || cli_inspect_format_check(!strcmp(sub, "inspect") ? format : NULL, &err) < 0)
		return bx_cli_report(&err);
	char **rest = argv + 1 + a.i;
	int nrest = argc - 1 - a.i;
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	if (!strcmp(sub, "create"))
		return do_create(&p, rest, nrest, subnet, gateway, internal, labels);
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return do_ls(&p, quiet, no_trunc, format, filters);
	if (!strcmp(sub, "inspect"))
		return do_inspect(&p, rest, nrest, format);
	if (!strcmp(sub, "rm") || !strcmp(sub, "remove"))
		return do_rm(&p, rest, nrest);
	if (!strcmp(sub, "connect"))
		return do_connect(&p, rest, nrest, aliases, ip);
	if (!strcmp(sub, "disconnect"))
		return do_disconnect(&p, rest, nrest);
	bx_fail(&err, 0, "unknown network command '%s' (connect, create, disconnect, inspect, ls, prune, rm)", sub);
	return bx_cli_report(&err);
}
