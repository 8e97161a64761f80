/* The guest's serial console and QEMU's stderr: QEMU writes them into a
 * socket / pipe the shim holds, and the shim drains them in its event loop
 * into BOXDIR/console.log and BOXDIR/qemu.log (mode 0600), each capped at
 * BX_CONSOLE_CAP (src/common/capfile.h). A guest that floods its console costs
 * the host one bounded file and the shim's reading time, never memory or
 * disk; and QEMU holds no file of the data directory. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../common/paths.h"
#include "shim.h"

int shim_capture_start(struct shim *s, struct shim_capture *c, int fd, const char *name, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/%s", s->spec.box_dir, name) < 0 ||
	    bx_capfile_open(&c->file, path, BX_CONSOLE_CAP, err) < 0)
		return -1;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	c->fd = fd;
	return 0;
}

static void capture_close(struct shim_capture *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	bx_capfile_close(&c->file);
}

/* Read what is there (a bounded amount per call, so a flood cannot starve
 * the control link); 1 when more may be waiting. */
static int take(struct shim *s, struct shim_capture *c, int rounds)
{
	char buf[65536];
	for (int i = 0; i < rounds; i++) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			capture_close(c);
			return 0;
		}
		struct bx_err err;
		if (bx_capfile_write(&c->file, buf, (size_t)n, &err) < 0) {
			shim_log(s, true, "%s: QEMU's output is dropped from now on", err.msg);
			bx_capfile_close(&c->file); /* still drained: QEMU must never block on it */
		}
	}
	return 1;
}

void shim_capture_readable(struct shim *s, struct shim_capture *c)
{
	if (c->fd >= 0)
		take(s, c, 4);
}

void shim_capture_finish(struct shim *s, struct shim_capture *c)
{
	while (c->fd >= 0 && take(s, c, 64))
		;
	capture_close(c);
}
