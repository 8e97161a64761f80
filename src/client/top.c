/* The ps of `top` (top.h). */
#include "top.h"

int bx_top_spec(struct bx_spec *spec, char *const *args, size_t n, struct bx_err *err)
{
	static const char *const dflt[] = {"-o", "pid,ppid,user,stat,args"};
	if (bx_spec_add_arg(spec, "ps", err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (bx_spec_add_arg(spec, args[i], err) < 0)
			return -1;
	for (size_t i = 0; !n && i < 2; i++)
		if (bx_spec_add_arg(spec, dflt[i], err) < 0)
			return -1;
	if (bx_spec_set_user(spec, "0", err) < 0 || bx_spec_set_cwd(spec, "/", err) < 0)
		return -1;
	return 0;
}
