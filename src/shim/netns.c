/* The box's NICs on named networks (docs/ARCHITECTURE.md, "Named
 * networks"): for each network in vm.json, the network's daemon is started
 * if it is not running (bx_netd_ensure), a tap is opened on its bridge from
 * inside its namespace (a forked child that setns()es there and sends the
 * fd back: the shim itself never leaves the host's namespace) and handed to
 * QEMU; and the guest learns its addresses from /boxvm/net, an initramfs
 * segment appended to the box's initrd for this boot. Nothing of this
 * touches the host's own network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/unixsock.h"
#include "../store/networks.h"
#include "../vm/kernel.h"
#include "shim.h"

/* DATA and RUN from the box's own directories (DATA/boxes/ID, RUN/ID12) */
static int box_paths(const struct shim *s, struct bx_paths *p, struct bx_err *err)
{
	char a[PATH_MAX], b[PATH_MAX];
	memset(p, 0, sizeof(*p));
	snprintf(a, sizeof(a), "%s", s->spec.box_dir);
	snprintf(b, sizeof(b), "%s", s->spec.run_dir);
	if (bx_path_join(p->data, sizeof(p->data), err, "%s", dirname(dirname(a))) < 0 ||
	    bx_path_join(p->run, sizeof(p->run), err, "%s", dirname(b)) < 0 ||
	    bx_path_join(p->libexec, sizeof(p->libexec), err, "%s", s->spec.libexec) < 0)
		return -1;
	return 0;
}

int shim_tap_create(const char *ifname)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	/* VNET_HDR: QEMU passes checksum and segmentation offloads through */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* In the child, inside the network's namespace: the tap, on the bridge, up. */
static int tap_make(const char *ifname, struct bx_err *err)
{
	int fd = shim_tap_create(ifname);
	if (fd < 0)
		return bx_fail(err, errno, "cannot create tap %s", ifname);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return bx_fail(err, errno, "socket");
	struct ifreq br;
	memset(&br, 0, sizeof(br));
	snprintf(br.ifr_name, sizeof(br.ifr_name), "br0");
	br.ifr_ifindex = (int)if_nametoindex(ifname);
	if (!br.ifr_ifindex || ioctl(sock, SIOCBRADDIF, &br) < 0)
		return bx_fail(err, errno, "cannot put tap %s on the network's bridge", ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "cannot read the flags of %s", ifname);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0)
		return bx_fail(err, errno, "cannot bring %s up", ifname);
	close(sock);
	return fd;
}

static int tap_open(int nsfd, const char *ifname, struct bx_err *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return bx_fail(err, errno, "socketpair");
	pid_t pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return bx_fail(err, errno, "fork");
	}
	if (pid == 0) {
		struct bx_err e = {0};
		int fd = setns(nsfd, CLONE_NEWNET) < 0 ? bx_fail(&e, errno, "cannot enter the network's namespace")
						       : tap_make(ifname, &e);
		if (fd < 0 || bx_unix_send_fds(sv[1], "ok", 2, &fd, 1, &e) < 0)
			if (send(sv[1], e.msg, strlen(e.msg), 0) < 0)
				_exit(1);
		_exit(0);
	}
	close(sv[1]);
	char msg[sizeof(err->msg)];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {msg, sizeof(msg) - 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
	ssize_t n = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC);
	close(sv[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
		int fd;
		memcpy(&fd, CMSG_DATA(c), sizeof(fd));
		return fd;
	}
	msg[n > 0 ? n : 0] = '\0';
	return bx_fail(err, 0, "%s", n > 0 ? msg : "the tap helper died");
}

void shim_netns_close_taps(struct shim *s)
{
	for (int i = 0; i < BX_MAX_NETS; i++) {
		if (s->spec.net_taps[i] > 0)
			close(s->spec.net_taps[i]);
		s->spec.net_taps[i] = 0;
	}
}

int shim_netns_open_taps(struct shim *s, struct bx_err *err)
{
	shim_netns_close_taps(s); /* a boot that failed before QEMU took them */
	/* the networks as vm.json has them now: a connect or disconnect since
	 * the shim started counts at a restart by the policy too (a box taken
	 * off a network must not get its tap back) */
	char path[PATH_MAX];
	struct bx_vmspec *now = calloc(1, sizeof(*now)); /* large */
	if (now && bx_path_join(path, sizeof(path), NULL, "%s/vm.json", s->spec.box_dir) == 0 &&
	    bx_vmspec_read(path, now, NULL) == 0) {
		memcpy(s->spec.nets, now->nets, sizeof(s->spec.nets));
		s->spec.nnets = now->nnets;
	}
	free(now);
	if (!s->spec.nnets)
		return 0;
	struct bx_paths p;
	if (box_paths(s, &p, err) < 0)
		return -1;
	for (int i = 0; i < s->spec.nnets; i++) {
		const struct bx_vm_net *n = &s->spec.nets[i];
		char ifname[IFNAMSIZ];
		snprintf(ifname, sizeof(ifname), "bx%.12s", s->spec.id);
		int nsfd = bx_netd_ensure(&p, n->id, err) < 0 ? -1 : bx_netd_netns_open(&p, n->id, err);
		if (nsfd < 0) {
			shim_netns_close_taps(s);
			return bx_wrap(err, "network %s", n->name);
		}
		int fd = tap_open(nsfd, ifname, err);
		close(nsfd);
		if (fd < 0) {
			shim_netns_close_taps(s);
			return bx_wrap(err, "network %s", n->name);
		}
		s->spec.net_taps[i] = fd;
	}
	shim_log(s, false, "%d network tap(s) opened", s->spec.nnets);
	return 0;
}

int shim_netns_initrd(struct shim *s, int fd, struct bx_err *err)
{
	if (!s->spec.nnets)
		return fd;
	char text[1024];
	int len = bx_vm_netconf(&s->spec, text, sizeof(text));
	struct bx_cpio c = {0};
	c.ino = 200000; /* past the base's and the box segment's */
	if (len < 0 || bx_cpio_add(&c, "boxvm/net", S_IFREG | 0600, text, (size_t)len, err) < 0 ||
	    bx_cpio_finish(&c, err) < 0) {
		bx_cpio_free(&c);
		close(fd);
		return len < 0 ? bx_fail(err, 0, "too many networks for /boxvm/net") : -1;
	}
	/* the box's initrd, then this boot's segment: the kernel unpacks both */
	struct stat st;
	int m = memfd_create("boxvm-initrd", MFD_CLOEXEC);
	off_t off = 0;
	int rc = m >= 0 && fstat(fd, &st) == 0 ? 0 : -1;
	while (rc == 0 && off < st.st_size) {
		ssize_t k = sendfile(m, fd, &off, (size_t)(st.st_size - off));
		if (k <= 0)
			rc = -1;
	}
	if (rc == 0 && write(m, c.buf, c.len) != (ssize_t)c.len)
		rc = -1;
	int e = errno;
	bx_cpio_free(&c);
	close(fd);
	if (rc < 0) {
		if (m >= 0)
			close(m);
		return bx_fail(err, e, "cannot add the network settings to the initrd");
	}
	return m;
}

void shim_netns_release(struct shim *s)
{
	struct bx_paths p;
	if (s->spec.nnets && box_paths(s, &p, NULL) == 0)
		bx_networks_release_box(&p, s->spec.id);
}

void shim_netns_poke(struct shim *s)
{
	struct bx_paths p;
	/* any box: one connected while it ran has no network in this boot's spec */
	if (box_paths(s, &p, NULL) == 0)
		bx_networks_changed(&p);
}
