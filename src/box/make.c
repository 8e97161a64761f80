/* One new box, whichever front end asks (make.h). */
#include "make.h"

#include "ulimits.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/boxid.h"
#include "../vm/kernel.h"
#include "../store/state.h"

/* BOXVM_TEST_ACCEPT_DELAY_MS: the agent delays serving its services by that
 * long after spawning the main process (tests a guest whose exec service
 * starts late). */
static int apply_test_knobs(struct bx_spec *spec, struct bx_err *err)
{
	const char *v = getenv("BOXVM_TEST_ACCEPT_DELAY_MS");
	if (!v || !*v)
		return 0;
	char *end;
	unsigned long ms = strtoul(v, &end, 10);
	if (*end || ms > 600000)
		return bx_fail(err, 0, "invalid BOXVM_TEST_ACCEPT_DELAY_MS '%s'", v);
	spec->accept_delay_ms = (uint32_t)ms;
	return 0;
}

int bx_box_make(const struct bx_paths *p, const struct bx_box_make *m, struct bx_vmspec *vm, int *start_lock,
		struct bx_err *err)
{
	struct bx_box_lc *lc = m->lc;
	struct bx_netmount *nm = m->nm;
	const struct bx_resources *res = m->res ? m->res : &(const struct bx_resources){0};
	char boxid[BX_ID_LEN + 1];
	char hostname[BX_SHORT_ID_LEN + 1];
	struct bx_spec spec;
	bx_spec_init(&spec);
	memset(vm, 0, sizeof(*vm));
	*start_lock = -1;
	int rc = -1;
	struct bx_kernel kernel; /* the guest's: Docker's seccomp profile asks its version */
	if (bx_boxid_new(boxid, err) < 0 || bx_kernel_find(p, &kernel, err) < 0)
		goto out;
	memcpy(hostname, boxid, BX_SHORT_ID_LEN);
	hostname[BX_SHORT_ID_LEN] = 0;
	m->ro->hostname = nm->hostname ? nm->hostname : hostname;
	if (bx_resources_vm_mb(res))
		m->bo->mem_mb = bx_resources_vm_mb(res);
	nm->image_volumes = m->img->config.volumes;
	if (bx_runconfig_build(&m->img->config, m->ro, m->getenv_fn, &spec, &lc->rec, err) < 0 ||
	    bx_healthopts_build(m->health, m->img->config.healthcheck, &lc->healthcheck, err) < 0 ||
	    bx_secopts_apply(m->sec ? m->sec : &(const struct bx_secopts){0}, &spec, err) < 0 ||
	    bx_resources_apply(res, &spec, err) < 0 ||
	    bx_secopts_seccomp(m->sec ? m->sec : &(const struct bx_secopts){0}, kernel.version, &spec, err) < 0 ||
	    bx_secopts_confine(m->sec ? m->sec : &(const struct bx_secopts){0}, &spec, err) < 0 ||
	    apply_test_knobs(&spec, err) < 0 || (lc->op_fd = bx_store_op_begin(p->data, err)) < 0 ||
	    bx_netmount_apply(p, nm, &spec, m->bo, err) < 0 || bx_box_reserve(p, boxid, lc, err) < 0)
		goto out;
	spec.idle = m->idle_main;
	if (bx_netmount_join(p, nm, boxid, lc->name_buf, m->bo, err) < 0) {
		bx_box_unreserve(p, boxid, lc);
		goto out;
	}
	lc->mounts_view = json_incref(nm->mounts_view);
	lc->host_config = bx_netmount_host_config(nm);
	json_t *sec_config = bx_secopts_host_config(m->sec ? m->sec : &(const struct bx_secopts){0});
	if (lc->host_config && sec_config)
		json_object_update(lc->host_config, sec_config);
	json_decref(sec_config);
	if (lc->host_config)
		json_object_set_new(lc->host_config, "Ulimits", bx_ulimits_json(m->ro->ulimits));
	if (lc->host_config)
		json_object_set_new(lc->host_config, "Sysctls", bx_sysctls_json(m->ro->sysctls));
	json_t *res_config = bx_resources_host_config(res);
	if (lc->host_config && res_config)
		json_object_update(lc->host_config, res_config);
	json_decref(res_config);
	/* once registered, the box can be named by another client's start: one
	 * start at a time (state.h, bx_state_start_lock), ours taken first */
	if (bx_box_create(p, m->img, &spec, m->bo, boxid, vm, err) < 0 || bx_netmount_populate(nm, vm->rootfs, err) < 0 ||
	    (m->start_lock && (*start_lock = bx_state_start_lock(vm->box_dir, err)) < 0) ||
	    bx_box_register(p, vm, m->img, m->image_ref, &spec, lc, m->hold_output, err) < 0) {
		if (*start_lock >= 0)
			close(*start_lock);
		*start_lock = -1;
		bx_box_destroy(vm);
		bx_box_unreserve(p, boxid, lc);
		goto out;
	}
	rc = 0;
out:
	if (m->ro->hostname == hostname)
		m->ro->hostname = NULL; /* (this frame's buffer) */
	bx_spec_free(&spec);
	return rc;
}
