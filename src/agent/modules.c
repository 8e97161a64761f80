/* Load the initramfs' kernel modules. The host names them NN-name.ko in
 * dependency order (resolved from modules.dep), so file-name order is load
 * order. */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int agent_load_modules(const char *dir, struct bx_err *err)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0; /* a kernel with everything built in */
		return bx_fail(err, errno, "open %s", dir);
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 4 || strcmp(e->d_name + l - 3, ".ko") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				closedir(d);
				free_names(names, n);
				return bx_fail(err, ENOMEM, "module list");
			}
			names = nn;
		}
		if (!(names[n] = strdup(e->d_name))) {
			closedir(d);
			free_names(names, n);
			return bx_fail(err, ENOMEM, "module list");
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);

	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		int fd = openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int mfd = fd < 0 ? -1 : openat(fd, names[i], O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		if (mfd < 0) {
			rc = bx_fail(err, errno, "open module %s/%s", dir, names[i]);
			break;
		}
		if (syscall(SYS_finit_module, mfd, "", 0) < 0 && errno != EEXIST)
			rc = bx_fail(err, errno, "load module %s", names[i]);
		else
			agent_info("loaded module %s", names[i]);
		close(mfd);
	}
	free_names(names, n);
	return rc;
}
