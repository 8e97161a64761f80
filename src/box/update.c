/* Docker's update of a box (update.h). */
#include "update.h"
#include "resources.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../client/exec_client.h"
#include "../vm/kernel.h"
#include "../common/cleanup.h"
#include "../store/events.h"
#include "../store/state.h"
#include "../vm/cgroup.h"
#include "../vm/qmp.h"
#include "../vm/vmspec.h"

/* QEMU answers the balloon and its queries at once; a guard against a wedged one */
#define QMP_GUARD_MS 5000

int bx_update_parse_bytes(const char *flag, const char *s, long long *out, struct bx_err *err)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		goto bad;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (errno)
		goto bad;
	int shift = 0;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'b': shift = 0; break;
	case 'k': shift = 10; break;
	case 'm': shift = 20; break;
	case 'g': shift = 30; break;
	default: goto bad;
	}
	if (*end && end[1] && !(tolower((unsigned char)end[1]) == 'b' && !end[2] && tolower((unsigned char)*end) != 'b'))
		goto bad;
	if (n > (1LL << 50) >> shift)
		goto bad;
	*out = n << shift;
	return 0;
bad:
	bx_fail(err, 0, "invalid argument \"%.60s\" for \"%s\" flag: use a size in bytes with an optional unit b, k, "
			"m or g", s, flag);
	err->errnum = EINVAL;
	return -1;
}

static int invalid(struct bx_err *err, const char *msg)
{
	bx_fail(err, 0, "%s", msg);
	err->errnum = EINVAL;
	return -1;
}

int bx_update_check(const struct bx_update *u, long long memory, long long reservation, int host_cpus,
		    const char *online, struct bx_err *err)
{
	if (u->memory_set) {
		if (u->memory < BX_RES_MEMORY_MIN)
			return invalid(err, "Minimum memory limit allowed is 6MB");
		memory = u->memory;
	}
	if (u->reservation_set)
		reservation = u->reservation;
	if (reservation > 0 && memory > 0 && memory < reservation)
		return invalid(err, "Minimum memory limit can not be less than memory reservation limit, see usage");
	if (u->cpus_set && u->nano_cpus != 0 &&
	    (u->nano_cpus < 10000000LL || u->nano_cpus > (long long)host_cpus * 1000000000LL)) {
		bx_fail(err, 0, "Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", host_cpus,
			host_cpus);
		err->errnum = EINVAL;
		return -1;
	}
	if (u->shares_set && u->cpu_shares < 0)
		return invalid(err, "invalid CPU shares: use a number >= 0 (0: the default, 1024)");
	if (u->cpuset_set && u->cpuset[0] && bx_cpuset_check(u->cpuset, online, err) < 0)
		return -1;
	return 0;
}

/* The box's memory limit (bytes; 0: none) and reservation as config.json's
 * HostConfig has them (box/resources.h: the VM is sized around the limit). */
static void recorded_memory(json_t *hc, const struct bx_vmspec *vm, long long *memory, long long *reservation)
{
	json_t *m = json_object_get(hc, "Memory");
	*memory = json_is_integer(m) && json_integer_value(m) > 0 ? json_integer_value(m) : 0;
	*reservation = json_integer_value(json_object_get(hc, "MemoryReservation"));
}

/* The RAM the running VM booted with (QEMU's base memory), checked: QEMU
 * runs code the guest steers, so its answer is only a number in range. */
static int boot_memory(const char *qmp_sock, long long *bytes, struct bx_err *err)
{
	json_t *ret = NULL;
	if (bx_qmp_call(qmp_sock, "query-memory-size-summary", NULL, &ret, QMP_GUARD_MS, err) < 0)
		return bx_wrap(err, "cannot ask QEMU the box's memory size");
	json_t *b = json_object_get(ret, "base-memory");
	long long v = json_is_integer(b) ? json_integer_value(b) : -1;
	json_decref(ret);
	if (v < (BX_BOX_MEMORY_MIN_MB << 20) || v > (1LL << 44))
		return bx_fail(err, 0, "QEMU answered an unusable memory size for the box");
	*bytes = v;
	return 0;
}

/* A running box's limits in its guest cgroup (BX_M_LIMIT): the pids limit
 * must take (it lives nowhere else); memory and its reservation follow the
 * balloon where the guest has the cgroup, and the balloon alone holds the
 * guest where it has none. */
static int guest_pids(const struct bx_box_record *rec, const struct bx_update *u, struct bx_err *err)
{
	char text[64];
	struct bx_err why;
	if (u->pids_set && rec->status == BX_BOX_PAUSED) { /* a frozen guest answers nothing */
		bx_fail(err, 0, "cannot change the pids limit of paused box %s: unpause it first", rec->name);
		err->errnum = EINVAL;
		return -1;
	}
	if (u->pids_set) {
		if (u->pids_limit > 0)
			snprintf(text, sizeof(text), "pids.max=%lld", u->pids_limit);
		else
			snprintf(text, sizeof(text), "pids.max=max");
		if (bx_exec_limit(rec, text, &why) < 0) {
			bx_fail(err, 0, "cannot change the pids limit of running box %s: %s", rec->name, why.msg);
			err->errnum = EINVAL;
			return -1;
		}
	}
	return 0;
}

static void guest_memory(const struct bx_box_record *rec, const struct bx_update *u)
{
	char text[64];
	struct bx_err why;
	if (rec->status == BX_BOX_PAUSED)
		return; /* the balloon holds it meanwhile */
	if (u->reservation_set) {
		snprintf(text, sizeof(text), "memory.low=%lld", u->reservation);
		bx_exec_limit(rec, text, &why);
	}
	if (u->shares_set) { /* the box's share among its own VM's processes too (box/resources.c) */
		snprintf(text, sizeof(text), "cpu.weight=%llu",
			 (unsigned long long)(u->cpu_shares ? bx_cpu_shares_weight(u->cpu_shares) : 100));
		bx_exec_limit(rec, text, &why);
	}
	if (u->memory_set) {
		snprintf(text, sizeof(text), "memory.max=%lld", u->memory);
		bx_exec_limit(rec, text, &why);
	}
}

/* A running box's live changes: what may refuse first (the boot size, the
 * guest's pids limit), then the balloon, the guest's memory limits and the
 * host cgroup. */
static int apply_live(const struct bx_box_record *rec, const struct bx_update *u, const struct bx_vmspec *next,
		      struct bx_err *err)
{
	if (u->memory_set) {
		char sock[PATH_MAX], args[64];
		long long boot = 0; /* set by boot_memory on success (-O2 cannot tell) */
		if (bx_path_join(sock, sizeof(sock), err, "%s/qmp.sock", rec->run_dir) < 0 || boot_memory(sock, &boot, err) < 0)
			return -1;
		if (((long long)next->mem_mb << 20) > boot)
			return bx_fail(err, 0, "cannot raise the memory limit of running box %s above %lldMiB (its VM booted "
					       "with %lldMiB): stop it, update it, then start it", rec->name,
				       (boot >> 20) - BX_RES_VM_OVERHEAD_MB, boot >> 20);
		if (guest_pids(rec, u, err) < 0)
			return -1;
		/* the guest's balloon driver gives the difference back to the host */
		snprintf(args, sizeof(args), "{\"value\":%lld}", (long long)next->mem_mb << 20);
		if (bx_qmp_call(sock, "balloon", args, NULL, QMP_GUARD_MS, err) < 0)
			return bx_wrap(err, "cannot resize the balloon of box %s", rec->name);
	} else if (guest_pids(rec, u, err) < 0) {
		return -1;
	}
	guest_memory(rec, u);
	unsigned which = (u->cpus_set || u->shares_set ? BX_CG_CPU : 0) | (u->cpuset_set ? BX_CG_CPUSET : 0);
	struct bx_cgroup cg;
	/* a host without the controllers runs boxes without them (`info` says so) */
	if (which && bx_cgroup_find(&cg, rec->id, NULL) == 0) {
		struct bx_cg_limits l = {.nano_cpus = next->nano_cpus, .cpu_shares = next->cpu_shares};
		snprintf(l.cpuset, sizeof(l.cpuset), "%s", next->cpuset_cpus);
		if (bx_cgroup_set(&cg, &l, which, err) < 0)
			return bx_wrap(err, "cannot change the host cgroup of box %s", rec->name);
	}
	return 0;
}

/* The guest cgroup's limits for the box's next boots: they travel in the
 * spec inside its initramfs (BX_T_CGROUP), rewritten with the new values. */
static int respec_limits(struct bx_spec *spec, void *ctx, struct bx_err *err)
{
	const struct bx_update *u = ctx;
	char set[4][64];
	int n = 0;
	if (u->memory_set)
		snprintf(set[n++], sizeof(set[0]), "memory.max=%lld", u->memory);
	if (u->reservation_set)
		snprintf(set[n++], sizeof(set[0]), "memory.low=%lld", u->reservation);
	if (u->pids_set)
		snprintf(set[n++], sizeof(set[0]), u->pids_limit > 0 ? "pids.max=%lld" : "pids.max=max", u->pids_limit);
	if (u->shares_set)
		snprintf(set[n++], sizeof(set[0]), "cpu.weight=%llu",
			 (unsigned long long)(u->cpu_shares ? bx_cpu_shares_weight(u->cpu_shares) : 100));
	char **old = spec->cgroup;
	spec->cgroup = NULL;
	spec->ncgroup = 0;
	int rc = 0;
	for (char **kv = old; kv && *kv && rc == 0; kv++) {
		bool replaced = false;
		for (int i = 0; i < n && !replaced; i++)
			replaced = !strncmp(*kv, set[i], (size_t)(strchr(set[i], '=') - set[i] + 1));
		if (!replaced)
			rc = bx_spec_add_cgroup(spec, *kv, err);
	}
	for (int i = 0; i < n && rc == 0; i++)
		rc = bx_spec_add_cgroup(spec, set[i], err);
	for (char **kv = old; kv && *kv; kv++)
		free(*kv);
	free(old);
	return rc;
}

/* config.json's HostConfig as Docker's update leaves it. */
static void host_config_apply(json_t *hc, const struct bx_update *u, const struct bx_vmspec *next)
{
	if (u->memory_set)
		json_object_set_new(hc, "Memory", json_integer((json_int_t)u->memory));
	if (u->reservation_set)
		json_object_set_new(hc, "MemoryReservation", json_integer(u->reservation));
	if (u->cpus_set)
		json_object_set_new(hc, "NanoCpus", json_integer(u->nano_cpus));
	if (u->shares_set)
		json_object_set_new(hc, "CpuShares", json_integer(u->cpu_shares));
	if (u->cpuset_set)
		json_object_set_new(hc, "CpusetCpus", json_string(u->cpuset));
	if (u->pids_set)
		json_object_set_new(hc, "PidsLimit", u->pids_limit > 0 ? json_integer(u->pids_limit) : json_null());
	if (u->restart_set)
		json_object_set_new(hc, "RestartPolicy", json_pack("{s:s,s:i}", "Name", bx_restart_kind_name(u->restart.kind),
								   "MaximumRetryCount", u->restart.max_retries));
}

int bx_box_update(const struct bx_paths *p, const char *ref, const struct bx_update *u, struct bx_err *err)
{
	struct bx_box_record rec;
	if (bx_state_lookup(p, ref, &rec, err) < 0) {
		if (err->errnum == ENOENT) {
			bx_fail(err, 0, "No such container: %s", ref);
			err->errnum = ENOENT;
		}
		return -1;
	}
	return bx_box_update_record(&rec, u, err);
}

int bx_box_update_record(const struct bx_box_record *r, const struct bx_update *u, struct bx_err *err)
{
	struct bx_box_record rec = *r;
	/* a box still booting has its VM (and a cgroup made from the old
	 * vm.json): it is changed live too, or refused if QEMU cannot answer yet */
	bool running = rec.status == BX_BOX_RUNNING || rec.status == BX_BOX_PAUSED || rec.status == BX_BOX_STARTING;
	char vmjson[PATH_MAX], cfgjson[PATH_MAX], online[BX_CPUSET_TEXT];
	struct bx_vmspec *vm = calloc(1, sizeof(*vm)); /* large, and the API calls this from many threads */
	json_t *cfg = NULL;
	int rc = -1;
	/* no start reads vm.json meanwhile, and no other update writes it */
	int lock = bx_state_start_lock(rec.box_dir, err);
	if (!vm) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	if (lock < 0 || bx_path_join(vmjson, sizeof(vmjson), err, "%s/vm.json", rec.box_dir) < 0 ||
	    bx_path_join(cfgjson, sizeof(cfgjson), err, "%s/config.json", rec.box_dir) < 0 ||
	    bx_vmspec_read(vmjson, vm, err) < 0)
		goto out;
	/* a box of boxvm-runtime has no config.json: its limits are vm.json's alone */
	json_error_t je;
	if (access(cfgjson, F_OK) == 0 &&
	    (!(cfg = json_load_file(cfgjson, 0, &je)) || !json_is_object(json_object_get(cfg, "HostConfig")))) {
		bx_fail(err, 0, "cannot read %s: %s", cfgjson, cfg ? "no HostConfig" : je.text);
		goto out;
	}
	json_t *hc = json_object_get(cfg, "HostConfig");
	long long memory, reservation;
	recorded_memory(hc, vm, &memory, &reservation);
	int ncpus = bx_host_cpus(online, sizeof(online));
	if (bx_update_check(u, memory, reservation, ncpus, online, err) < 0)
		goto out;
	if (u->restart_set && !cfg) {
		bx_fail(err, 0, "box %s has no restart policy to update", rec.name);
		err->errnum = EINVAL;
		goto out;
	}
	if (u->restart_set && u->restart.kind != BX_RESTART_NO && json_is_true(json_object_get(hc, "AutoRemove"))) {
		bx_fail(err, 0, "Restart policy cannot be updated because AutoRemove is enabled for the container");
		err->errnum = EINVAL;
		goto out;
	}
	/* the next boot's values */
	if (u->memory_set) /* the VM around the limit, as run's (bx_resources_vm_mb) */
		vm->mem_mb = (int)(u->memory >> 20) + BX_RES_VM_OVERHEAD_MB;
	if (u->cpus_set)
		vm->nano_cpus = u->nano_cpus;
	if (u->shares_set)
		vm->cpu_shares = u->cpu_shares;
	if (u->cpuset_set)
		snprintf(vm->cpuset_cpus, sizeof(vm->cpuset_cpus), "%s", u->cpuset);
	if (running && apply_live(&rec, u, vm, err) < 0)
		goto out;
	if (bx_vmspec_write(vmjson, vm, err) < 0 ||
	    ((u->memory_set || u->reservation_set || u->pids_set || u->shares_set) &&
	     bx_initramfs_box_respec(vm->initrd, respec_limits, (void *)u, err) < 0))
		goto out;
	if (cfg) {
		host_config_apply(hc, u, vm);
		_cleanup_free_ char *text = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (!text) {
			bx_fail(err, ENOMEM, "cannot encode %s", cfgjson);
			goto out;
		}
		if (bx_write_file_atomic(cfgjson, text, strlen(text), 0600, err) < 0)
			goto out;
		bx_event_box(rec.box_dir, "update", NULL, NULL);
	}
	rc = 0;
out:
	if (lock >= 0)
		close(lock);
	json_decref(cfg);
	free(vm);
	return rc;
}
