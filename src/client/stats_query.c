/* A guest's numbers over the exec service (stats_query.h). */
#include "stats_query.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/paths.h"
#include "../common/unixsock.h"
#include "../proto/frame.h"
#include "../proto/msg.h"

void bx_stats_query_start(struct bx_stats_query *q, const struct bx_box_record *rec)
{
	char path[PATH_MAX];
	uint8_t hello[4 + BX_MSG_HDR_SIZE];
	q->sock = -1;
	q->known = false;
	/* a paused guest cannot answer; it would only cost the deadline */
	if (!bx_box_is_running(rec) || rec->status == BX_BOX_PAUSED ||
	    bx_path_join(path, sizeof(path), NULL, "%s/exec.sock", rec->run_dir) < 0)
		return;
	q->sock = bx_unix_connect(path, NULL);
	if (q->sock < 0)
		return;
	/* the service port, then STATS: the shim relays it to the agent */
	bx_put_u32(hello, BX_PORT_EXEC);
	bx_msg_encode_hdr(hello + 4, BX_M_STATS, 0);
	if (send(q->sock, hello, sizeof(hello), MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(hello)) {
		close(q->sock);
		q->sock = -1;
		return;
	}
	bx_msgbuf_init(&q->mb);
	q->got = 0;
}

void bx_stats_query_end(struct bx_stats_query *q)
{
	if (q->sock < 0)
		return;
	close(q->sock);
	q->sock = -1;
	bx_msgbuf_free(&q->mb);
}

void bx_stats_query_read(struct bx_stats_query *q)
{
	uint8_t buf[4096];
	ssize_t n = recv(q->sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	q->got += n > 0 ? (size_t)n : 0;
	if (n <= 0 || q->got > BX_STATS_QUERY_MAX || bx_msgbuf_append(&q->mb, buf, (size_t)n, NULL) < 0) {
		bx_stats_query_end(q);
		return;
	}
	struct bx_msg m;
	int k;
	while (q->sock >= 0 && (k = bx_msgbuf_next(&q->mb, &m, NULL)) != 0) {
		if (k > 0 && m.kind == BX_M_STATS_REPLY)
			q->known = bx_stats_decode(m.payload, m.len, &q->g, NULL) == 0;
		if (k < 0 || m.kind == BX_M_STATS_REPLY || m.kind == BX_M_ERROR || m.kind == BX_M_EXIT)
			bx_stats_query_end(q);
	}
}

bool bx_stats_query_once(const struct bx_box_record *rec, int deadline_ms, struct bx_guest_stats *g)
{
	struct bx_stats_query q;
	bx_stats_query_start(&q, rec);
	long long end = bx_mono_ns() + deadline_ms * 1000000LL;
	while (q.sock >= 0) {
		long long left = (end - bx_mono_ns()) / 1000000LL;
		struct pollfd pf = {.fd = q.sock, .events = POLLIN};
		if (left <= 0 || (poll(&pf, 1, (int)left) < 0 && errno != EINTR))
			break;
		bx_stats_query_read(&q);
	}
	bx_stats_query_end(&q);
	if (q.known)
		*g = q.g;
	return q.known;
}
