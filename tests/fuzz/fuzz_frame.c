/* Mux frames as the shim reads them from the guest's virtio-serial port:
 * decode back to back until the input ends or a frame is refused. */
#include "fuzz.h"
#include "proto/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	for (;;) {
		struct bx_frame f;
		struct bx_err err = {0};
		int r = bx_frame_decode(data + off, size - off, &f, &err);
		if (r < 0) {
			FZ_CHECK_ERR(err);
			break;
		}
		if (r == 0) {
			size_t avail = size - off; /* short: the header, or the payload it announces */
			FZ_CHECK(avail < BX_FRAME_HDR_SIZE || avail - BX_FRAME_HDR_SIZE < bx_get_u32(data + off + 8));
			break;
		}
		FZ_CHECK((size_t)r == BX_FRAME_HDR_SIZE + f.len && (size_t)r <= size - off);
		FZ_CHECK(f.type >= 1 && f.type <= BX_F_TYPE_MAX && f.len <= BX_FRAME_MAX_PAYLOAD);
		FZ_CHECK(f.payload == data + off + BX_FRAME_HDR_SIZE);
		/* a decoded header encodes back to the same bytes */
		uint8_t hdr[BX_FRAME_HDR_SIZE];
		bx_frame_encode_hdr(hdr, f.chan, f.type, f.len);
		FZ_CHECK(memcmp(hdr, data + off, BX_FRAME_HDR_SIZE) == 0);
		off += (size_t)r;
	}
	return 0;
}
