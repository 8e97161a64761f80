/* Subcommand flags as runc (urfave/cli) takes them: "--name value",
 * "--name=value", a single dash for long names too, and short aliases. */
#include <stdio.h>
#include <string.h>

#include "rt.h"

static struct rt_opt *find(struct rt_opt *opts, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (len == 1 && opts[i].shortname == name[0])
			return &opts[i];
		if (strlen(opts[i].name) == len && !strncmp(opts[i].name, name, len))
			return &opts[i];
	}
	return NULL;
}

int rt_opts_parse(const char *cmd, int argc, char **argv, struct rt_opt *opts, size_t nopts, char **pos, int maxpos)
{
	int npos = 0;
	bool only_pos = false;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (only_pos || a[0] != '-' || !a[1]) {
			if (npos >= maxpos) {
				rt_error("%s: unexpected argument \"%s\"", cmd, a);
				return -1;
			}
			pos[npos++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		const char *name = a + (a[1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		struct rt_opt *o = find(opts, nopts, name, len);
		if (!o) {
			rt_error("%s: flag provided but not defined: %s", cmd, a);
			return -1;
		}
		if (!o->has_value) {
			o->value = "";
			if (eq && (!strcmp(eq + 1, "false") || !strcmp(eq + 1, "0")))
				o->value = NULL;
			continue;
		}
		if (eq) {
			o->value = eq + 1;
		} else if (i + 1 < argc) {
			o->value = argv[++i];
		} else {
			rt_error("%s: flag needs an argument: %s", cmd, a);
			return -1;
		}
	}
	return npos;
}

const char *rt_opt_get(const struct rt_opt *opts, size_t nopts, const char *name)
{
	for (size_t i = 0; i < nopts; i++)
		if (!strcmp(opts[i].name, name))
			return opts[i].value;
	return NULL;
}
