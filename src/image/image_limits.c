/* How much an image may make boxvm read or write. Metadata (manifests,
 * indexes, configs) has fixed caps like containerd's; a layer's unpacked size
 * has a generous ceiling the user can move (BOXVM_MAX_LAYER_SIZE), so a small
 * compressed bomb fails with a clear error instead of filling the disk. */
#include "image.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int bx_size_limit_parse(const char *v, long long *out)
{
	char *end;
	if (!isdigit((unsigned char)*v)) /* strtoll would take " 5" and "+5" */
		return -1;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || n <= 0)
		return -1;
	int shift = 0;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'k': shift = 10; break;
	case 'm': shift = 20; break;
	case 'g': shift = 30; break;
	case 't': shift = 40; break;
	default: return -1;
	}
	if (*end && end[1] && !((end[1] == 'b' || end[1] == 'B') && !end[2]))
		return -1;
	if (n > (LLONG_MAX >> shift))
		return -1;
	*out = n << shift;
	return 0;
}

int bx_layer_max_size(long long *out, struct bx_err *err)
{
	const char *v = getenv("BOXVM_MAX_LAYER_SIZE");
	*out = BX_LAYER_MAX_DEFAULT;
	if (!v || !*v)
		return 0;
	if (bx_size_limit_parse(v, out) < 0)
		return bx_fail(err, 0, "BOXVM_MAX_LAYER_SIZE='%.40s' is not a size (bytes, or a number with k, m, g or t)", v);
	return 0;
}
