/* The host terminal during an interactive session (tty.h). */
#include "tty.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* The saved mode is the CLI's one piece of global state: a fatal-signal
 * handler and atexit must be able to put the user's terminal back. */
static struct termios saved_mode;
static volatile sig_atomic_t saved_fd = -1;

void bx_tty_restore(void)
{
	int fd = saved_fd;
	if (fd < 0)
		return;
	saved_fd = -1;
	tcsetattr(fd, TCSADRAIN, &saved_mode);
}

static void on_fatal(int sig)
{
	bx_tty_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

int bx_tty_raw(int fd, struct bx_err *err)
{
	if (saved_fd >= 0)
		return bx_fail(err, 0, "internal error: the terminal is already in raw mode");
	struct termios raw;
	if (tcgetattr(fd, &saved_mode) < 0)
		return bx_fail(err, errno, "cannot read the terminal's mode");
	raw = saved_mode;
	cfmakeraw(&raw);
	static bool hooks;
	if (!hooks) {
		hooks = true;
		atexit(bx_tty_restore);
		static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
			struct sigaction sa = {.sa_handler = on_fatal, .sa_flags = SA_RESETHAND};
			sigemptyset(&sa.sa_mask);
			sigaction(fatal[i], &sa, NULL);
		}
	}
	saved_fd = fd;
	if (tcsetattr(fd, TCSADRAIN, &raw) < 0) {
		int e = errno;
		saved_fd = -1;
		return bx_fail(err, e, "cannot put the terminal into raw mode");
	}
	return 0;
}

bool bx_tty_size(int fd, uint16_t *rows, uint16_t *cols)
{
	struct winsize ws;
	if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return true;
}
