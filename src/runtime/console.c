/* process.terminal: a host pty whose master goes to the caller over
 * --console-socket (SCM_RIGHTS, as runc does) and whose slave is the
 * monitor's stdio. The slave is raw: the guest has its own pty with the line
 * discipline, so the host side must pass bytes through untouched. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/unixsock.h"
#include "rt.h"

static int send_master(const char *console_socket, int master, const char *name, struct bx_err *err)
{
	_cleanup_close_ int sock = bx_unix_connect(console_socket, err);
	if (sock < 0)
		return bx_wrap(err, "console socket");
	/* runc sends the pty's name as the message body */
	if (bx_unix_send_fds(sock, name, strlen(name), &master, 1, err) < 0)
		return bx_wrap(err, "cannot send the terminal to console socket %s", console_socket);
	return 0;
}

int rt_console_make(const char *console_socket, struct bx_err *err)
{
	if (!console_socket || !*console_socket)
		return bx_fail(err, 0, "cannot allocate tty if boxvm-runtime will detach without setting console socket");
	_cleanup_close_ int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return bx_fail(err, errno, "cannot open a pseudo-terminal");
	char name[64];
	if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
		return bx_fail(err, errno, "cannot set up a pseudo-terminal");
	_cleanup_close_ int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return bx_fail(err, errno, "cannot open %s", name);
	struct termios t;
	if (tcgetattr(slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(slave, TCSANOW, &t);
	}
	if (send_master(console_socket, master, name, err) < 0)
		return -1;
	return BX_TAKE_FD(slave);
}

void rt_console_size(int slave, const char *json_text, bool whole_config)
{
	_cleanup_json_ json_t *o = json_loads(json_text, 0, NULL);
	json_t *p = whole_config ? json_object_get(o, "process") : o;
	json_t *cs = json_object_get(p, "consoleSize");
	json_int_t h = json_integer_value(json_object_get(cs, "height")), w = json_integer_value(json_object_get(cs, "width"));
	if (h <= 0 || w <= 0 || h > 0xffff || w > 0xffff)
		return; /* absent (or nonsense): the pty keeps the caller's resizes to come */
	struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
	ioctl(slave, TIOCSWINSZ, &ws);
}

int rt_console_adopt(int slave, struct bx_err *err)
{
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return bx_fail(err, errno, "cannot make the terminal the controlling one");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return bx_fail(err, errno, "dup2");
	if (slave > 2)
		close(slave);
	return 0;
}
