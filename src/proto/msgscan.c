/* Watching a session message stream go by (msgscan.h) (pure). */
#include "msgscan.h"

#include <stdlib.h>
#include <string.h>

#include "frame.h"

void bx_msgscan_init(struct bx_msgscan *s, uint32_t want, uint32_t max)
{
	memset(s, 0, sizeof(*s));
	s->want = want;
	s->max = max;
}

void bx_msgscan_free(struct bx_msgscan *s)
{
	free(s->buf);
	s->buf = NULL;
}

void bx_msgscan_feed(struct bx_msgscan *s, const uint8_t *p, size_t n, bx_msgscan_fn fn, void *ctx)
{
	while (n > 0 && !s->broken) {
		if (s->hdr_have < BX_MSG_HDR_SIZE) {
			size_t take = BX_MSG_HDR_SIZE - s->hdr_have < n ? BX_MSG_HDR_SIZE - s->hdr_have : n;
			memcpy(s->hdr + s->hdr_have, p, take);
			s->hdr_have += take;
			p += take;
			n -= take;
			if (s->hdr_have < BX_MSG_HDR_SIZE)
				return;
			s->kind = s->hdr[0];
			s->len = s->left = bx_get_u32(s->hdr + 1);
			if (s->len > BX_MSG_MAX) {
				s->broken = true;
				return;
			}
			bool wanted = s->kind < 32 && (s->want & (1u << s->kind)) && s->len <= s->max;
			free(s->buf);
			s->buf = NULL;
			if (wanted && !(s->buf = malloc(s->len ? s->len : 1))) {
				s->broken = true; /* out of memory: stop watching, never the stream */
				return;
			}
		}
		size_t take = s->left < n ? s->left : n;
		if (s->buf)
			memcpy(s->buf + (s->len - s->left), p, take);
		s->left -= (uint32_t)take;
		p += take;
		n -= take;
		if (s->left == 0) {
			if (s->buf && fn)
				fn(ctx, s->kind, s->buf, s->len);
			free(s->buf);
			s->buf = NULL;
			s->hdr_have = 0;
		}
	}
}
