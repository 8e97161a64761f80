/* Pure naming rules of the tree walk and the layer writer (tree_walk.h). */
#include "tree_walk.h"

#include <stdio.h>
#include <string.h>

bool bx_walk_runtime_file(const char *path)
{
	return !strcmp(path, "etc/hostname") || !strcmp(path, "etc/hosts") || !strcmp(path, "etc/resolv.conf");
}

bool bx_layer_name_plain(const char *name)
{
	return strncmp(name, ".wh.", 4) != 0;
}

int bx_whiteout_path(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	int n = slash ? snprintf(out, size, "%.*s/.wh.%s", (int)(slash - path), path, slash + 1)
		      : snprintf(out, size, ".wh.%s", path);
	return n < 0 || (size_t)n >= size || !*path ? -1 : 0;
}

int bx_opaque_path(const char *dir, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/.wh..wh..opq", dir);
	return n < 0 || (size_t)n >= size || !*dir ? -1 : 0;
}
