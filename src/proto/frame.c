/* Wire frames of the host<->guest mux over one virtio-serial port (frame.h). */
#include "frame.h"

void bx_frame_encode_hdr(uint8_t out[BX_FRAME_HDR_SIZE], uint32_t chan, uint8_t type, uint32_t len)
{
	bx_put_u32(out, chan);
	out[4] = type;
	out[5] = 0;           /* flags */
	bx_put_u16(out + 6, 0); /* reserved */
	bx_put_u32(out + 8, len);
}

/* The header is validated as soon as it is complete, before waiting for the
 * payload: a reader can then refuse an oversized length without buffering it. */
int bx_frame_decode(const uint8_t *buf, size_t avail, struct bx_frame *f, struct bx_err *err)
{
	if (avail < BX_FRAME_HDR_SIZE)
		return 0;
	uint32_t chan = bx_get_u32(buf);
	uint8_t type = buf[4];
	uint32_t len = bx_get_u32(buf + 8);
	if (type == 0 || type > BX_F_TYPE_MAX)
		return bx_fail(err, 0, "protocol error: unknown frame type %u on channel %u", type, chan);
	if (buf[5] != 0 || bx_get_u16(buf + 6) != 0)
		return bx_fail(err, 0, "protocol error: non-zero reserved header fields on channel %u", chan);
	if (len > BX_FRAME_MAX_PAYLOAD)
		return bx_fail(err, 0, "protocol error: frame of %u bytes exceeds the %u-byte limit", len,
			       BX_FRAME_MAX_PAYLOAD);
	if (avail - BX_FRAME_HDR_SIZE < len)
		return 0;
	f->chan = chan;
	f->type = type;
	f->len = len;
	f->payload = buf + BX_FRAME_HDR_SIZE;
	return (int)(BX_FRAME_HDR_SIZE + len);
}
