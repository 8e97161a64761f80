/* Internal to spec*.c: the box-only parts of the process spec (spec_box.c). */
#ifndef BOXVM_SPEC_BOX_H
#define BOXVM_SPEC_BOX_H

#include "spec.h"

void bx_spec_box_free(struct bx_spec *s);
/* One BX_T_MOUNT payload (malloc'd). */
int bx_spec_mount_pack(const struct bx_spec_mount *m, uint8_t **out, size_t *len);
/* Parse one BX_T_MOUNT payload and append it to s->mounts. */
int bx_spec_mount_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err);

/* spec_limits.c: resource limits and supplementary groups */
void bx_spec_limits_free(struct bx_spec *s);
void bx_spec_rlimit_pack(const struct bx_spec_rlimit *r, uint8_t out[20]);
int bx_spec_rlimit_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err);
int bx_spec_group_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err);
#define BX_SPEC_CAPS_REC 41 /* u8 keep | 5 x u64 */
void bx_spec_caps_pack(const struct bx_spec_caps *c, uint8_t out[BX_SPEC_CAPS_REC]);
int bx_spec_caps_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err);

/* spec_seccomp.c: the seccomp filter */
void bx_spec_seccomp_free(struct bx_spec *s);
/* One BX_T_SECCOMP payload (malloc'd, 8 bytes an instruction). */
int bx_spec_seccomp_pack(const struct bx_spec *s, uint8_t **out, size_t *len);
int bx_spec_seccomp_unpack(struct bx_spec *s, const uint8_t *p, uint32_t len, struct bx_err *err);

#endif
