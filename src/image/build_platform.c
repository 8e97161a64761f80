/* Whether a build's --platform names the one boxvm builds (build_platform.h). */
#include "build_platform.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Docker's (containerd's) spellings of the OS and architecture boxvm has */
static bool is_os(const char *s)
{
	return !strcasecmp(s, "linux");
}

static bool is_arch(const char *s)
{
	return !strcasecmp(s, "amd64") || !strcasecmp(s, "x86_64") || !strcasecmp(s, "x86-64");
}

/* a platform component as containerd takes one: [A-Za-z0-9_-]+ */
static bool component_ok(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

int bx_build_platform_check(const char *spec, struct bx_err *err)
{
	char part[3][64];
	size_t n = 0;
	const char *s = spec;
	for (;;) {
		size_t l = strcspn(s, "/");
		if (n == 3 || !component_ok(s, l) || l >= sizeof(part[0]))
			return bx_fail(err, 0, "invalid platform \"%.64s\": use OS/ARCH[/VARIANT], e.g. linux/amd64", spec);
		snprintf(part[n++], sizeof(part[0]), "%.*s", (int)l, s);
		if (!s[l])
			break;
		s += l + 1;
	}
	bool ours;
	if (n == 1)
		ours = is_os(part[0]) || is_arch(part[0]); /* one word: an OS (this arch) or an arch (this OS) */
	else
		ours = is_os(part[0]) && is_arch(part[1]) && (n == 2 || !strcasecmp(part[2], "v1"));
	if (!ours)
		return bx_fail(err, 0, "platform \"%s\" is not supported: boxvm builds linux/amd64 images only (its boxes "
				       "are x86-64 microVMs)", spec);
	return 0;
}
