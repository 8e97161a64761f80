/* Find the virtio-serial port by name. There is no udev: the driver creates
 * /dev/vportNpM itself, and the name shows up in sysfs a moment after the
 * driver has loaded, so poll for it (bounded). */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PORTS_DIR "/sys/class/virtio-ports"

static int find_port(const char *name, char *dev, size_t dev_size)
{
	DIR *d = opendir(PORTS_DIR);
	if (!d)
		return -1;
	struct dirent *e;
	int found = -1;
	while (found < 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[512], buf[256];
		snprintf(path, sizeof(path), PORTS_DIR "/%s/name", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, name) == 0) {
			snprintf(dev, dev_size, "/dev/%s", e->d_name);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

int agent_open_vport(const char *name, unsigned timeout_ms, struct bx_err *err)
{
	uint64_t end = agent_now_ms() + timeout_ms;
	char dev[300];
	for (;;) {
		if (find_port(name, dev, sizeof(dev)) == 0) {
			int fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
			if (fd >= 0) {
				agent_info("control port %s is %s", name, dev);
				return fd;
			}
			/* the device node may lag the sysfs entry: keep waiting */
			if (errno != ENOENT && errno != ENXIO)
				return bx_fail(err, errno, "open %s", dev);
		}
		if (agent_now_ms() >= end)
			return bx_fail(err, 0, "virtio-serial port %s did not appear within %u ms", name, timeout_ms);
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}
