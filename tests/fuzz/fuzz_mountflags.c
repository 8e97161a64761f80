/* -v / --volume and --tmpfs values, and the order mounts are made in. */
#include "fuzz.h"
#include "vm/mounts.h"

/* SRC:DST:MODE whose mode list ends in "ro": the mount must be read-only (the last of ro/rw wins). */
static bool asks_read_only(const char *text)
{
	char *copy = strdup(text), *save = NULL;
	int n = 0;
	for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
		n++;
	free(copy);
	size_t len = strlen(text);
	return n == 3 && len >= 3 && !strcmp(text + len - 2, "ro") && (text[len - 3] == ':' || text[len - 3] == ',');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_cstr(data, size);
	struct bx_mount_req m[3];
	memset(m, 0, sizeof(m));
	size_t n = 0;
	struct bx_err err = {0};
	if (bx_volume_flag_parse(text, &m[n], &err) == 0) {
		FZ_CHECK(m[n].target[0] == '/');
		FZ_CHECK(m[n].kind == BX_MNT_BIND || m[n].kind == BX_MNT_VOLUME);
		FZ_CHECK(!asks_read_only(text) || m[n].ro);
		if (m[n].kind == BX_MNT_BIND)
			FZ_CHECK(m[n].source[0] == '/');
		else
			FZ_CHECK(!m[n].source[0] || bx_volume_name_valid(m[n].source));
		n++;
	} else {
		FZ_CHECK_ERR(err);
	}
	struct bx_err terr = {0};
	if (bx_tmpfs_flag_parse(text, &m[n], &terr) == 0) {
		FZ_CHECK(m[n].target[0] == '/' && m[n].kind == BX_MNT_TMPFS);
		FZ_CHECK(memchr(m[n].options, '\0', sizeof(m[n].options)));
		n++;
	} else {
		FZ_CHECK_ERR(terr);
	}
	/* a second mount on the same target is refused; distinct ones are ordered */
	m[n] = m[0];
	struct bx_err oerr = {0};
	if (n > 0)
		FZ_CHECK(bx_mounts_order(m, n + 1, &oerr) < 0);
	(void)bx_volume_name_valid(text);
	free(text);
	return 0;
}
