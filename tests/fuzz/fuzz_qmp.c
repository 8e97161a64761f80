/* Lines from QEMU's monitor (QMP), as the shim classifies them (a
 * compromised QEMU writes what it likes), and the one-line "ok" /
 * "error: MESSAGE" replies between boxvm's own processes. */
#include "common/reply.h"
#include "fuzz.h"
#include "vm/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fz_cstr(data, size);
	char desc[256];
	memset(desc, 'x', sizeof(desc));
	enum bx_qmp_line kind = bx_qmp_classify(line, desc, sizeof(desc));
	FZ_CHECK(kind >= BX_QMP_BAD && kind <= BX_QMP_EVENT);
	FZ_CHECK(memchr(desc, '\0', sizeof(desc)));
	FZ_CHECK(kind == BX_QMP_ERROR || desc[0] == '\0');
	(void)bx_qmp_classify(line, desc, 1);

	struct bx_err err = {0};
	int rc = bx_reply_check(line, "the shim exited without answering", &err);
	FZ_CHECK(rc == 0 || rc == -1);
	if (rc < 0)
		FZ_CHECK(memchr(err.msg, '\0', sizeof(err.msg)));
	free(line);
	return 0;
}
