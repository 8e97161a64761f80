/* Wire frames of the host<->guest mux (one virtio-serial port, both directions).
 *
 * Every frame is a 12-byte header followed by `len` payload bytes; all integers
 * little-endian:
 *     u32 chan | u8 type | u8 flags (0) | u16 reserved (0) | u32 len
 * A frame whose len exceeds BX_FRAME_MAX_PAYLOAD, whose type is unknown, or
 * whose reserved fields are non-zero is a protocol error: the link is dead
 * (there is no resynchronisation on a byte stream). */
#ifndef BOXVM_FRAME_H
#define BOXVM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define BX_FRAME_HDR_SIZE 12
#define BX_FRAME_MAX_PAYLOAD 32768u

enum bx_frame_type {
	BX_F_OPEN = 1,     /* payload: u32 port. Opener may send DATA right after. */
	BX_F_OPEN_OK = 2,  /* no payload */
	BX_F_OPEN_ERR = 3, /* payload: u32 errno (ECONNREFUSED: no service on that port) */
	BX_F_DATA = 4,     /* payload: bytes; counts against the receiver's credit */
	BX_F_CREDIT = 5,   /* payload: u32 bytes the sender may now additionally send */
	BX_F_EOF = 6,      /* sender sends no more DATA on this channel (half close) */
	BX_F_CLOSE = 7,    /* sender is done with the channel; peer answers CLOSE once */
	BX_F_TYPE_MAX = 7,
};

struct bx_frame {
	uint32_t chan;
	uint8_t type;
	uint32_t len;
	const uint8_t *payload; /* points into the decoded buffer; valid until it changes */
};

/* Encode header for (chan,type,len) into out[BX_FRAME_HDR_SIZE]. */
void bx_frame_encode_hdr(uint8_t out[BX_FRAME_HDR_SIZE], uint32_t chan, uint8_t type, uint32_t len);

/* Decode one frame from buf[0..avail).
 * Returns: >0 bytes consumed (header + payload) and fills *f;
 *          0 when more bytes are needed (truncated frame);
 *          -1 on a malformed frame (fills err). */
int bx_frame_decode(const uint8_t *buf, size_t avail, struct bx_frame *f, struct bx_err *err);

static inline void bx_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t bx_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void bx_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8);
}
static inline uint16_t bx_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

#endif
