/* A small text file read whole (readtext.h): used by the guest agent too. */
#include "readtext.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

const char *bx_read_text(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && len < cap - 1) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	buf[len] = '\0';
	return buf;
}
