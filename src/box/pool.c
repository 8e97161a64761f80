/* The warm pool (pool.h): its profiles, its VMs, and claiming one. */
#include "pool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "../client/shim_client.h"
#include "../common/boxid.h"
#include "../common/cleanup.h"
#include "../common/crashpoint.h"
#include "../common/forkpipe.h"
#include "../common/pidwait.h"
#include "../common/reply.h"
#include "../common/unixsock.h"
#include "../vm/pool_fit.h"
#include "create.h"

/* a pool VM's shim is told to stop and goes; this only guards a hang */
#define STOP_GUARD_MS 60000

static int pool_path(const struct bx_paths *p, char *out, size_t size, const char *leaf, struct bx_err *err)
{
	return bx_path_join(out, size, err, "%s/pool%s%s", p->data, leaf ? "/" : "", leaf ? leaf : "");
}

static int run_dir_of(const struct bx_paths *p, const char *id, char *out, size_t size, struct bx_err *err)
{
	return bx_path_join(out, size, err, "%s/pool/%.*s", p->run, BX_SHORT_ID_LEN, id);
}

/* ---- config ---- */

int bx_pool_config_read(const struct bx_paths *p, struct bx_pool_config *c, struct bx_err *err)
{
	memset(c, 0, sizeof(*c));
	char path[PATH_MAX];
	if (pool_path(p, path, sizeof(path), "config.json", err) < 0)
		return -1;
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	if (!root)
		return access(path, F_OK) == 0 ? bx_fail(err, 0, "%s: %s", path, je.text) : 0;
	json_t *arr = json_object_get(root, "profiles"), *v;
	size_t i;
	json_array_foreach(arr, i, v)
	{
		if (c->n >= BX_POOL_MAX_PROFILES)
			break;
		struct bx_pool_profile *pr = &c->p[c->n];
		pr->mem_mb = (int)json_integer_value(json_object_get(v, "memory_mb"));
		pr->cpus = (int)json_integer_value(json_object_get(v, "cpus"));
		pr->network = json_is_true(json_object_get(v, "network"));
		pr->runtime = json_is_true(json_object_get(v, "runtime"));
		json_t *sh = json_object_get(v, "shares");
		pr->shares = json_is_integer(sh) ? (int)json_integer_value(sh) : BX_POOL_SPARE_SHARES;
		pr->size = (int)json_integer_value(json_object_get(v, "size"));
		if (pr->mem_mb > 0 && pr->cpus > 0 && pr->size > 0 && pr->size <= BX_POOL_MAX_SIZE && pr->shares >= 0 &&
		    pr->shares <= BX_POOL_MAX_SPARE_SHARES)
			c->n++;
	}
	json_decref(root);
	return 0;
}

bool bx_pool_profile_same(const struct bx_pool_profile *a, const struct bx_pool_profile *b)
{
	return a->mem_mb == b->mem_mb && a->cpus == b->cpus && a->network == b->network && a->runtime == b->runtime &&
	       a->shares == b->shares;
}

/* the boxvm that keeps the pool: a pool VM that dies unclaimed runs its `pool fill` */
static void write_refill_link(const struct bx_paths *p)
{
	char self[PATH_MAX], link[PATH_MAX], tmp[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || pool_path(p, link, sizeof(link), "refill", NULL) < 0 ||
	    pool_path(p, tmp, sizeof(tmp), ".refill.tmp", NULL) < 0)
		return;
	self[n] = '\0';
	unlink(tmp);
	if (symlink(self, tmp) == 0 && rename(tmp, link) < 0)
		unlink(tmp);
}

int bx_pool_config_set(const struct bx_paths *p, const struct bx_pool_profile *prof, struct bx_err *err)
{
	struct bx_pool_config c;
	char dir[PATH_MAX], path[PATH_MAX];
	if (bx_pool_config_read(p, &c, err) < 0 || pool_path(p, dir, sizeof(dir), NULL, err) < 0 ||
	    pool_path(p, path, sizeof(path), "config.json", err) < 0 || bx_mkdir_p(dir, 0700, err) < 0)
		return -1;
	int at = -1;
	for (int i = 0; i < c.n; i++)
		if (bx_pool_profile_same(&c.p[i], prof))
			at = i;
	if (at < 0 && prof->size > 0) {
		if (c.n >= BX_POOL_MAX_PROFILES)
			return bx_fail(err, 0, "the pool has %d profiles already; set one of them to 0 first",
				       BX_POOL_MAX_PROFILES);
		at = c.n++;
	}
	if (at >= 0) {
		c.p[at] = *prof;
		if (prof->size == 0)
			c.p[at] = c.p[--c.n];
	}
	json_t *arr = json_array();
	for (int i = 0; i < c.n; i++)
		json_array_append_new(arr, json_pack("{s:i,s:i,s:b,s:b,s:i,s:i}", "memory_mb", c.p[i].mem_mb, "cpus",
						     c.p[i].cpus, "network", c.p[i].network, "runtime", c.p[i].runtime,
						     "shares", c.p[i].shares, "size", c.p[i].size));
	json_t *root = json_pack("{s:o}", "profiles", arr);
	char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	json_decref(root);
	if (!text)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = bx_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	if (rc == 0)
		write_refill_link(p);
	return rc;
}

/* ---- the VMs ---- */

static bool is_id(const char *name)
{
	size_t n = strlen(name);
	if (n != BX_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

/* The pid of the shim serving pool VM id, or 0 when it is gone: its
 * shim.pid, trusted only while that process's command line names this
 * VM's vm.json (a pid taken over by anything else is not it). */
static int live_shim(const struct bx_paths *p, const char *id)
{
	char run[PATH_MAX], path[PATH_MAX], cmd[4096], want[PATH_MAX];
	if (run_dir_of(p, id, run, sizeof(run), NULL) < 0 ||
	    bx_path_join(path, sizeof(path), NULL, "%s/shim.pid", run) < 0 ||
	    bx_path_join(want, sizeof(want), NULL, "%s/pool/%s/vm.json", p->data, id) < 0)
		return 0;
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (bx_read_file(path, &text, &len, NULL) < 0)
		return 0;
	int pid = atoi(text);
	if (pid <= 0 || bx_path_join(path, sizeof(path), NULL, "/proc/%d/cmdline", pid) < 0)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, cmd, sizeof(cmd) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	cmd[n] = '\0';
	/* argv: boxvm-shim --pool --sync-fd N PATH (NUL-separated) */
	for (char *a = cmd; a < cmd + n; a += strlen(a) + 1)
		if (!strcmp(a, want))
			return pid;
	return 0;
}

static void remove_vm_dirs(const struct bx_paths *p, const char *id)
{
	char dir[PATH_MAX], run[PATH_MAX];
	if (pool_path(p, dir, sizeof(dir), id, NULL) == 0)
		bx_rm_rf(dir, NULL);
	if (run_dir_of(p, id, run, sizeof(run), NULL) == 0)
		bx_rm_rf(run, NULL);
	if (bx_path_join(run, sizeof(run), NULL, "%s/pool", p->run) == 0)
		rmdir(run); /* ENOTEMPTY: other pool VMs */
}

static int read_vm(const struct bx_paths *p, const char *id, struct bx_vmspec *vm, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/pool/%s/vm.json", p->data, id) < 0)
		return -1;
	return bx_vmspec_read(path, vm, err);
}

/* A claimed VM whose claim nobody holds: its claimer share-locks the file
 * from before it won it until the claim is over, the shim from when it
 * takes the claim on (bx_pool_claim, shim_pool_accept). Nobody: a claimer
 * killed in between, and a VM that would wait for ever. */
static bool claim_abandoned(const char *claimed)
{
	_cleanup_close_ int fd = open(claimed, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
}

int bx_pool_list(const struct bx_paths *p, struct bx_pool_vm **vms, int *n, struct bx_err *err)
{
	*vms = NULL;
	*n = 0;
	char dir[PATH_MAX];
	if (pool_path(p, dir, sizeof(dir), NULL, err) < 0)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : bx_fail(err, errno, "cannot read %s", dir);
	struct bx_vmspec *vm = malloc(sizeof(*vm));
	int cap = 0, rc = vm ? 0 : bx_fail(err, ENOMEM, "out of memory");
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (!is_id(e->d_name) || read_vm(p, e->d_name, vm, NULL) < 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			struct bx_pool_vm *nv = realloc(*vms, (size_t)cap * sizeof(**vms));
			if (!nv) {
				rc = bx_fail(err, ENOMEM, "out of memory");
				break;
			}
			*vms = nv;
		}
		struct bx_pool_vm *v = &(*vms)[(*n)++];
		memset(v, 0, sizeof(*v));
		snprintf(v->id, sizeof(v->id), "%.64s", e->d_name);
		v->profile = (struct bx_pool_profile){.mem_mb = vm->mem_mb, .cpus = vm->cpus, .network = vm->network,
						      .runtime = vm->rootfs_host_edits, .shares = vm->nshares};
		v->shim_pid = live_shim(p, e->d_name);
		char ready[PATH_MAX], claimed[PATH_MAX];
		v->ready = bx_path_join(ready, sizeof(ready), NULL, "%s/%s/ready", dir, e->d_name) == 0 &&
			   access(ready, F_OK) == 0;
		v->orphaned = !v->ready && bx_path_join(claimed, sizeof(claimed), NULL, "%s/%s/claimed", dir, e->d_name) == 0 &&
			      claim_abandoned(claimed);
	}
	closedir(d);
	free(vm);
	if (rc < 0) {
		free(*vms);
		*vms = NULL;
		*n = 0;
	}
	return rc;
}

/* held while VMs are added or removed, so that nobody takes a VM being made for a dead one */
static int pool_lock(const struct bx_paths *p, struct bx_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	if (pool_path(p, dir, sizeof(dir), NULL, err) < 0 || pool_path(p, path, sizeof(path), ".lock", err) < 0 ||
	    bx_mkdir_p(dir, 0700, err) < 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return bx_fail(err, errno, "cannot lock %s", path);
		}
	return fd;
}

static int boot_one(const struct bx_paths *p, const struct bx_pool_profile *prof, struct bx_err *err)
{
	struct bx_vmspec *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return bx_fail(err, ENOMEM, "out of memory");
	char share[PATH_MAX], root[PATH_MAX], base[PATH_MAX], vmjson[PATH_MAX];
	int rc = bx_boxid_new(vm->id, err);
	if (rc == 0)
		rc = pool_path(p, vm->box_dir, sizeof(vm->box_dir), vm->id, err) < 0 ||
			     run_dir_of(p, vm->id, vm->run_dir, sizeof(vm->run_dir), err) < 0 ||
			     bx_path_join(share, sizeof(share), err, "%s/share", vm->box_dir) < 0 ||
			     bx_path_join(root, sizeof(root), err, "%s/root", share) < 0 ||
			     bx_path_join(vmjson, sizeof(vmjson), err, "%s/vm.json", vm->box_dir) < 0 ||
			     bx_mkdir_p(vm->box_dir, 0700, err) < 0 || bx_mkdir_p(share, 0700, err) < 0 ||
			     bx_mkdir_p(root, 0700, err) < 0
		     ? -1
		     : 0;
	/* spare shares m0, m1, ...: a box's bind mounts and volumes of
	 * directories go onto them at the claim (tags in the CLI's order) */
	for (int i = 0; rc == 0 && i < prof->shares; i++) {
		struct bx_share *sh = &vm->shares[vm->nshares];
		char s_dir[PATH_MAX + 8];
		snprintf(sh->tag, sizeof(sh->tag), "m%d", i);
		rc = bx_path_join(sh->source, sizeof(sh->source), err, "%s/shares/%d", vm->box_dir, i) < 0 ||
			     bx_path_join(s_dir, sizeof(s_dir), err, "%s/s", sh->source) < 0 ||
			     bx_mkdir_p(s_dir, 0700, err) < 0
		     ? -1
		     : 0;
		vm->nshares++;
	}
	if (rc == 0) {
		snprintf(vm->rootfs, sizeof(vm->rootfs), "%s", share);
		vm->mem_mb = prof->mem_mb;
		vm->cpus = prof->cpus;
		vm->network = prof->network;
		vm->rootfs_host_edits = prof->runtime; /* virtiofsd's cache mode for the root */
		rc = bx_box_vm_machine(p, vm, base, sizeof(base), err);
	}
	if (rc == 0) {
		size_t used = strlen(vm->cmdline);
		snprintf(vm->initrd, sizeof(vm->initrd), "%s", base);
		if (snprintf(vm->cmdline + used, sizeof(vm->cmdline) - used, " %s", BX_POOL_CMDLINE_WORD) >=
		    (int)(sizeof(vm->cmdline) - used))
			rc = bx_fail(err, 0, "the kernel command line is too long for a pool VM");
	}
	if (rc == 0)
		rc = bx_vmspec_write(vmjson, vm, err) < 0 || bx_shim_spawn(vm, true, err) < 0 ? -1 : 0;
	if (rc < 0 && vm->id[0])
		remove_vm_dirs(p, vm->id);
	free(vm);
	return rc;
}

int bx_pool_fill(const struct bx_paths *p, int *booted, struct bx_err *err)
{
	*booted = 0;
	struct bx_pool_config c;
	if (bx_pool_config_read(p, &c, err) < 0)
		return -1;
	int lock = pool_lock(p, err);
	if (lock < 0)
		return -1;
	struct bx_pool_vm *vms;
	int n, rc = bx_pool_list(p, &vms, &n, err);
	if (rc < 0) {
		close(lock);
		return -1;
	}
	int have[BX_POOL_MAX_PROFILES] = {0}, extra[BX_POOL_MAX_PROFILES * BX_POOL_MAX_SIZE], nextra = 0;
	for (int i = 0; i < n; i++) {
		if (!vms[i].shim_pid) {
			remove_vm_dirs(p, vms[i].id); /* its shim died without cleaning up */
			continue;
		}
		int at = -1;
		for (int j = 0; j < c.n && !vms[i].orphaned; j++) /* an orphan is stopped, and replaced */
			if (bx_pool_profile_same(&c.p[j], &vms[i].profile))
				at = j;
		if (at >= 0 && have[at] < c.p[at].size)
			have[at]++;
		else if (nextra < (int)(sizeof(extra) / sizeof(extra[0])))
			extra[nextra++] = vms[i].shim_pid;
	}
	free(vms);
	bx_signal_and_wait(extra, nextra, SIGTERM, STOP_GUARD_MS);
	for (int j = 0; rc == 0 && j < c.n; j++)
		for (; rc == 0 && have[j] < c.p[j].size; have[j]++)
			if ((rc = boot_one(p, &c.p[j], err)) == 0)
				(*booted)++;
	close(lock);
	/* a refill runs where nobody sees it (a claimed VM's shim starts it):
	 * its failure is kept for `pool ls` */
	char path[PATH_MAX];
	if (pool_path(p, path, sizeof(path), "fill.err", NULL) == 0) {
		if (rc < 0)
			bx_write_file_atomic(path, err->msg, strlen(err->msg), 0600, NULL);
		else
			unlink(path);
	}
	return rc;
}

int bx_pool_drain(const struct bx_paths *p, int *stopped, struct bx_err *err)
{
	*stopped = 0;
	int lock = pool_lock(p, err);
	if (lock < 0)
		return -1;
	struct bx_pool_vm *vms;
	int n;
	if (bx_pool_list(p, &vms, &n, err) < 0) {
		close(lock);
		return -1;
	}
	int pids[BX_POOL_MAX_PROFILES * BX_POOL_MAX_SIZE], k = 0;
	for (int i = 0; i < n && k < (int)(sizeof(pids) / sizeof(pids[0])); i++)
		if (vms[i].shim_pid)
			pids[k++] = vms[i].shim_pid;
	bx_signal_and_wait(pids, k, SIGTERM, STOP_GUARD_MS);
	for (int i = 0; i < n; i++)
		remove_vm_dirs(p, vms[i].id); /* what a killed shim could not */
	*stopped = k;
	free(vms);
	close(lock);
	return 0;
}

/* ---- claiming ---- */

/* Hand the box to pool VM id, whose ready file this caller won: 1 taken
 * (the box's story follows on the sync pipe), 0 refused (the VM ends). */
static int claim_one(const struct bx_paths *p, const char *id, const struct bx_vmspec *vm, struct bx_err *err)
{
	char run[PATH_MAX], sock[PATH_MAX], req[PATH_MAX + 16];
	if (run_dir_of(p, id, run, sizeof(run), NULL) < 0 ||
	    bx_path_join(sock, sizeof(sock), NULL, "%s/claim.sock", run) < 0 ||
	    bx_path_join(req, sizeof(req), NULL, "claim %s/vm.json", vm->box_dir) < 0)
		return 0;
	_cleanup_close_ int conn = bx_unix_connect(sock, NULL);
	/* the shim of a cold boot runs in its starter's network namespace (a
	 * pod's, for boxvm-runtime): the claimed one joins ours */
	_cleanup_close_ int netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int sync[2];
	if (conn < 0 || netns < 0 || pipe2(sync, O_CLOEXEC) < 0)
		return 0;
	int rc = bx_unix_send_fds(conn, req, strlen(req), (const int[]){sync[1], netns}, 2, NULL);
	close(sync[1]);
	/* the shim answers once it has taken the box or refused it; no time
	 * limit: giving up while it may still take the box would boot it twice
	 * (a shim that dies closes the socket: EOF, then a cold boot) */
	char reply[1200] = "";
	if (rc == 0)
		bx_reply_read(conn, reply, sizeof(reply), -1);
	if (strcmp(reply, "ok")) {
		close(sync[0]);
		/* the box boots cold; why the VM refused is kept for `pool ls` */
		char path[PATH_MAX];
		if (!strncmp(reply, "no: ", 4) && pool_path(p, path, sizeof(path), "claim.err", NULL) == 0)
			bx_write_file_atomic(path, reply + 4, strlen(reply + 4), 0600, NULL);
		return 0;
	}
	return bx_shim_sync_wait(sync[0], vm->id, err) < 0 ? -1 : 1;
}

int bx_pool_claim(const struct bx_paths *p, const struct bx_vmspec *vm, struct bx_err *err)
{
	char dir[PATH_MAX];
	if (pool_path(p, dir, sizeof(dir), NULL, NULL) < 0)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct bx_vmspec *pv = malloc(sizeof(*pv));
	int rc = 0;
	char why[128];
	for (struct dirent *e; pv && rc == 0 && (e = readdir(d));) {
		char ready[PATH_MAX], taken[PATH_MAX];
		if (!is_id(e->d_name) || bx_path_join(ready, sizeof(ready), NULL, "%s/%s/ready", dir, e->d_name) < 0 ||
		    bx_path_join(taken, sizeof(taken), NULL, "%s/%s/claimed", dir, e->d_name) < 0 ||
		    access(ready, F_OK) < 0 || read_vm(p, e->d_name, pv, NULL) < 0 || !bx_pool_fits(pv, vm, why, sizeof(why)))
			continue;
		/* locked before it is won, held until the claim is over: see claim_abandoned */
		_cleanup_close_ int hold = open(ready, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (hold < 0 || flock(hold, LOCK_SH) < 0 || rename(ready, taken) < 0)
			continue; /* another start took it first */
		bx_crash_point("pool.claimed");
		rc = claim_one(p, e->d_name, vm, err);
	}
	closedir(d);
	free(pv);
	return rc; /* one VM fewer: the claimed VM's shim boots its replacement meanwhile */
}

int bx_box_boot(const struct bx_paths *p, const struct bx_vmspec *vm, struct bx_err *err)
{
	int rc = bx_pool_claim(p, vm, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return bx_shim_start(vm, err);
}
