/* boxvm-runtime create --bundle DIR --pid-file F [--console-socket S] ID
 *
 * Prepares the box (vm.json pointing virtiofsd at root.path as it is, the
 * initramfs with the main process's spec), forks the monitor (the container's
 * pid, see monitor.c) and returns once the monitor holds everything; nothing
 * boots until `start`. Any failure leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../box/create.h"
#include "../box/mounts_resolve.h"
#include "../common/boxid.h"
#include "../common/cleanup.h"
#include "../common/forkpipe.h"
#include "../common/treecopy.h"
#include "../common/reply.h"
#include "../store/state.h"
#include "../vm/kernel.h"
#include "../vm/vmspec.h"
#include "oci_config.h"
#include "rt.h"

#define DEFAULT_MEM_MB 512
#define DEFAULT_CPUS 2

/* Bind sources must exist (runc fails on a missing one; boxvm's -v would
 * create it), and the guest's /proc and /sys must be directories: a symlink
 * there would take the kernel's files elsewhere (runc refuses it with these
 * words; the guest used to hang on it). */
static int check_binds(const struct bx_oci_config *oc, struct bx_err *err)
{
	struct stat st;
	if (stat(oc->root_path, &st) < 0 || !S_ISDIR(st.st_mode))
		return bx_fail(err, errno ? errno : ENOTDIR, "invalid root.path %s", oc->root_path);
	static const char *const kernel_fs[][2] = {{"proc", "/proc"}, {"sysfs", "/sys"}};
	for (size_t i = 0; i < sizeof(kernel_fs) / sizeof(kernel_fs[0]); i++) {
		char path[PATH_MAX];
		if (bx_path_join(path, sizeof(path), err, "%s%s", oc->root_path, kernel_fs[i][1]) < 0)
			return -1;
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			return bx_fail(err, 0, "error mounting \"%s\" to rootfs at \"%s\": filesystem \"%s\" must be "
					       "mounted on ordinary directory", kernel_fs[i][0], kernel_fs[i][1],
				       kernel_fs[i][0]);
	}
	for (size_t i = 0; i < oc->nmounts; i++)
		if (oc->mounts[i].kind == BX_MNT_BIND && stat(oc->mounts[i].source, &st) < 0)
			return bx_fail(err, errno, "invalid mount source %s (for %s)", oc->mounts[i].source,
				       oc->mounts[i].target);
	return 0;
}

/* runc: a tmpfs without mode= takes the mode of the directory it covers
 * (/tmp's 1777, a 0755 mount point's 0755); one the rootfs lacks keeps
 * tmpfs's own 1777. The mount point is looked up inside the rootfs, its
 * symlinks resolved there as the guest will (never onto the host's files). */
static void tmpfs_modes(struct bx_oci_config *oc)
{
	_cleanup_close_ int rootfd = open(oc->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; rootfd >= 0 && i < oc->nmounts; i++) {
		struct bx_mount_req *r = &oc->mounts[i];
		if (r->kind != BX_MNT_TMPFS || strstr(r->options, "mode="))
			continue;
		_cleanup_close_ int fd = bx_open_in_root(rootfd, r->target, O_PATH);
		struct stat st;
		size_t used = strlen(r->options);
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			snprintf(r->options + used, sizeof(r->options) - used, "%smode=%o", used ? "," : "",
				 (unsigned)(st.st_mode & 07777));
	}
}

/* vm.json and initrd.img in c->box_dir (which must exist): the container's
 * settings, then the VM half every box shares (bx_box_build_vm). */
static int prepare_box(const struct bx_paths *p, struct bx_oci_config *oc, const struct rt_container *c,
		       struct bx_vmspec *vm, struct bx_err *err)
{
	memset(vm, 0, sizeof(*vm));
	if (bx_boxid_new(vm->id, err) < 0)
		return -1;
	if (bx_path_join(vm->box_dir, sizeof(vm->box_dir), err, "%s", c->box_dir) < 0 ||
	    bx_path_join(vm->run_dir, sizeof(vm->run_dir), err, "%s", c->run_dir) < 0 ||
	    bx_path_join(vm->rootfs, sizeof(vm->rootfs), err, "%s", oc->root_path) < 0)
		return -1;
	vm->mem_mb = oc->mem_mb ? oc->mem_mb : DEFAULT_MEM_MB;
	vm->cpus = oc->cpus ? oc->cpus : DEFAULT_CPUS;
	vm->tty = oc->spec.tty;
	vm->rootfs_ro = oc->spec.read_only; /* root.readonly, held by virtiofsd too */
	vm->network = oc->network;
	memcpy(vm->ports, oc->ports, sizeof(vm->ports));
	vm->nports = oc->nports;
	vm->all_ports = oc->all_ports;
	vm->rootfs_host_edits = true; /* the bundle's root belongs to containerd/Podman, which may write into it */
	if (oc->network && bx_spec_set_net(&oc->spec, BX_NET_GUEST_ADDR "/24", BX_NET_GATEWAY, BX_NET_MTU, err) < 0)
		return -1;
	if (bx_mounts_resolve(p, oc->mounts, oc->nmounts, vm->shares, &vm->nshares, &oc->spec, err) < 0)
		return -1;
	/* linux.resources: the guest's cgroup limits; a cpuset within the VM's vCPUs */
	if (bx_resources_check(&oc->res, vm->cpus, err) < 0)
		return bx_wrap(err, "config.json linux.resources");
	if (bx_resources_apply(&oc->res, &oc->spec, err) < 0)
		return -1;
	return bx_box_build_vm(p, &oc->spec, vm, err);
}

static int listen_ctl(const char *path, struct bx_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (bx_path_join(sa.sun_path, sizeof(sa.sun_path), err, "%s", path) < 0)
		return -1;
	unlink(path); /* a stale one: the ID is free (its record is gone) */
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bx_fail(err, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		return bx_fail(err, errno, "cannot listen on %s", path);
	return BX_TAKE_FD(fd);
}

static void now_rfc3339(char *out, size_t size)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, size - n, ".%09ldZ", ts.tv_nsec);
}

static char *annotations_of(const char *config_text)
{
	_cleanup_json_ json_t *o = json_loads(config_text, 0, NULL);
	json_t *ann = json_object_get(o, "annotations");
	return json_is_object(ann) ? json_dumps(ann, JSON_COMPACT) : NULL;
}

/* Fork the monitor and wait for it to report that it holds the terminal and
 * the network namespace. Returns its pid. */
static int fork_monitor(const struct rt_monitor_args *tmpl, struct bx_err *err)
{
	int sync;
	pid_t pid = bx_fork_pipe(&sync, true, err);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rt_monitor_args a = *tmpl;
		a.sync_fd = sync;
		rt_monitor_run(&a);
	}
	char line[1200];
	bx_reply_read(sync, line, sizeof(line), -1);
	close(sync);
	if (bx_reply_check(line, "the container's monitor process exited while starting", err) == 0)
		return pid;
	waitpid(pid, NULL, 0);
	return -1;
}

/* A container told to join another's UTS namespace (a pod's container, the
 * sandbox's) takes the host name held there when it names none itself: the
 * one the sandbox's monitor set (monitor.c). Joined by this short-lived
 * process only (and the monitor it forks), which sets no name. */
static int hostname_from_uts(struct bx_oci_config *oc, struct bx_err *err)
{
	if (!oc->uts_path[0] || (oc->spec.hostname && oc->spec.hostname[0]))
		return 0;
	_cleanup_close_ int fd = open(oc->uts_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open UTS namespace %s", oc->uts_path);
	struct utsname u;
	if (setns(fd, CLONE_NEWUTS) < 0 || uname(&u) < 0)
		return bx_fail(err, errno, "cannot join UTS namespace %s", oc->uts_path);
	return bx_spec_set_hostname(&oc->spec, u.nodename, err);
}

static int write_pid_file(const char *path, int pid, struct bx_err *err)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%d", pid); /* runc writes no newline */
	return bx_write_file_atomic(path, text, (size_t)n, 0644, err);
}

int rt_cmd_create(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_opt o[] = {
		{"bundle", 'b', true, NULL},        {"pid-file", 0, true, NULL},   {"console-socket", 0, true, NULL},
		{"no-pivot", 0, false, NULL},       {"no-new-keyring", 0, false, NULL}, {"preserve-fds", 0, true, NULL},
		{"notify-socket", 0, true, NULL},
	};
	const size_t no = sizeof(o) / sizeof(o[0]);
	char *pos[1];
	int npos = rt_opts_parse("create", argc, argv, o, no, pos, 1);
	if (npos < 0)
		return 1;
	if (npos != 1) {
		rt_error("create: requires exactly 1 argument (the container ID)");
		return 1;
	}
	const char *id = pos[0];
	const char *preserve = rt_opt_get(o, no, "preserve-fds");
	if (preserve && strcmp(preserve, "0")) {
		rt_error("create: --preserve-fds is not supported by boxvm-runtime (file descriptors cannot cross into the VM)");
		return 1;
	}
	struct bx_err err = {0};
	char bundle[PATH_MAX];
	const char *b = rt_opt_get(o, no, "bundle");
	if (!realpath(b && *b ? b : ".", bundle)) {
		rt_error("invalid bundle %s: %s", b ? b : ".", strerror(errno));
		return 1;
	}
	char cfgpath[PATH_MAX];
	_cleanup_free_ char *cfgtext = NULL;
	if (bx_path_join(cfgpath, sizeof(cfgpath), &err, "%s/config.json", bundle) < 0 ||
	    bx_read_file(cfgpath, &cfgtext, NULL, &err) < 0) {
		rt_error("cannot read the bundle's config: %s", err.msg);
		return 1;
	}
	static struct bx_oci_config oc; /* large: not on the stack */
	struct bx_paths p;
	struct rt_container c;
	if (bx_oci_config_parse(cfgtext, bundle, &oc, &err) < 0 || check_binds(&oc, &err) < 0 ||
	    hostname_from_uts(&oc, &err) < 0 ||
	    bx_paths_init(&p, &err) < 0 || rt_container_paths(g, &p, id, &c, &err) < 0) {
		rt_error("%s", err.msg);
		bx_oci_config_free(&oc);
		return 1;
	}
	tmpfs_modes(&oc);
	snprintf(c.bundle, sizeof(c.bundle), "%s", bundle);
	snprintf(c.rootfs, sizeof(c.rootfs), "%s", oc.root_path);
	now_rfc3339(c.created, sizeof(c.created));
	c.annotations_json = annotations_of(cfgtext);
	c.hooks_json = oc.hooks_json ? strdup(oc.hooks_json) : NULL;

	int rc = 1;
	_cleanup_close_ int listen_fd = -1, slave = -1; /* the monitor has its own copies */
	bool made_dir = false;
	struct bx_vmspec vm;
	if (bx_mkdir_p(g->root, 0711, &err) < 0 || bx_mkdir_p(p.run, 0711, &err) < 0)
		goto fail;
	if (mkdir(c.dir, 0711) < 0) {
		if (errno == EEXIST)
			bx_fail(&err, 0, "container with id exists: %s", id);
		else
			bx_fail(&err, errno, "cannot create %s", c.dir);
		goto fail;
	}
	made_dir = true;
	if (bx_mkdir_p(c.box_dir, 0700, &err) < 0 || prepare_box(&p, &oc, &c, &vm, &err) < 0 ||
	    (listen_fd = listen_ctl(c.ctl_sock, &err)) < 0)
		goto fail;
	if (oc.spec.tty && (slave = rt_console_make(rt_opt_get(o, no, "console-socket"), &err)) < 0)
		goto fail;
	if (slave >= 0)
		rt_console_size(slave, cfgtext, true);
	struct rt_monitor_args ma = {.c = &c, .vm = &vm, .paths = &p, .listen_fd = listen_fd, .tty_slave = slave,
				     .netns_path = oc.netns_join ? oc.netns_path : NULL, .sync_fd = -1,
				     .uts_name = oc.uts_new && oc.spec.hostname && oc.spec.hostname[0] ? oc.spec.hostname : NULL};
	c.pid = fork_monitor(&ma, &err);
	if (c.pid < 0)
		goto fail;
	const char *pidfile = rt_opt_get(o, no, "pid-file");
	if (bx_proc_start_time(c.pid, &c.pid_start, &err) < 0 || rt_container_write(&c, &err) < 0 ||
	    (pidfile && *pidfile && write_pid_file(pidfile, c.pid, &err) < 0)) {
		kill(c.pid, SIGKILL);
		waitpid(c.pid, NULL, 0);
		goto fail;
	}
	/* runc's order and state: prestart (deprecated, the same moment) and
	 * createRuntime, then createContainer, all while "creating"; one failing
	 * fails create, and the container goes (its poststop hooks run) */
	static const char *const create_hooks[] = {"prestart", "createRuntime", "createContainer"};
	for (size_t i = 0; i < sizeof(create_hooks) / sizeof(create_hooks[0]); i++)
		if (rt_hooks_run(&c, create_hooks[i], "creating", &err) < 0) {
			struct bx_err ignored;
			rt_container_destroy(&c, &ignored);
			rt_error("%s", err.msg);
			goto out;
		}
	rt_debug("created container %s (monitor pid %d)", id, c.pid);
	rc = 0;
	goto out;
fail:
	rt_error("%s", err.msg);
	if (made_dir)
		bx_rm_rf(c.dir, NULL);
	if (listen_fd >= 0)
		unlink(c.ctl_sock);
out:
	rt_container_free(&c);
	bx_oci_config_free(&oc);
	return rc;
}
