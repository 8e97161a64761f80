/* A TCP connection over a mux channel (relay.h). */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_MAX 65536u

static struct bx_chan *chan_of(struct bx_mux *m, const struct bx_relay *r)
{
	struct bx_chan *ch = r->chan_id ? bx_mux_chan(m, r->chan_id) : NULL;
	return ch && ch->user == r ? ch : NULL;
}

void bx_relay_init(struct bx_relay *r, int fd, struct bx_chan *ch)
{
	*r = (struct bx_relay){.fd = fd, .chan_id = ch->id};
	ch->user = r;
}

static void drop_chan(struct bx_mux *m, struct bx_relay *r)
{
	struct bx_chan *ch = chan_of(m, r);
	if (ch) {
		ch->user = NULL; /* what still comes for it is not ours */
		if (ch->state != BX_CH_CLOSING)
			bx_mux_close(m, ch);
	}
	r->chan_id = 0;
}

void bx_relay_end(struct bx_mux *m, struct bx_relay *r)
{
	if (r->dead)
		return;
	drop_chan(m, r);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	bx_bytes_free(&r->to_fd);
	r->dead = true;
}

/* Done when both directions are over, or the channel is gone and what it
 * sent is written. */
static void maybe_done(struct bx_mux *m, struct bx_relay *r)
{
	if (r->dead)
		return;
	if (r->wr_eof && !r->wr_shut && !bx_bytes_size(&r->to_fd)) {
		shutdown(r->fd, SHUT_WR);
		r->wr_shut = true;
	}
	if ((r->rd_eof && r->wr_shut) || (!chan_of(m, r) && !bx_bytes_size(&r->to_fd)))
		bx_relay_end(m, r);
}

int bx_relay_events(struct bx_mux *m, const struct bx_relay *r)
{
	struct bx_chan *ch = chan_of(m, r);
	int ev = 0;
	if (!r->rd_eof && ch && bx_mux_send_room(m, ch))
		ev |= POLLIN;
	if (bx_bytes_size(&r->to_fd))
		ev |= POLLOUT;
	return !ev && r->hup ? -1 : ev;
}

static void write_out(struct bx_mux *m, struct bx_relay *r)
{
	while (!r->dead && bx_bytes_size(&r->to_fd)) {
		ssize_t n = send(r->fd, bx_bytes_data(&r->to_fd), bx_bytes_size(&r->to_fd), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* also while a connect is under way */
		if (n < 0) {
			bx_relay_end(m, r);
			return;
		}
		bx_bytes_pop(&r->to_fd, (size_t)n);
		struct bx_chan *ch = chan_of(m, r);
		if (ch)
			bx_mux_consumed(m, ch, (size_t)n);
	}
	maybe_done(m, r);
}

static void read_in(struct bx_mux *m, struct bx_relay *r)
{
	uint8_t buf[READ_MAX];
	while (!r->dead && !r->rd_eof) {
		struct bx_chan *ch = chan_of(m, r);
		size_t room = ch ? bx_mux_send_room(m, ch) : 0;
		if (!room)
			return;
		ssize_t n = recv(r->fd, buf, room < sizeof(buf) ? room : sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			bx_relay_end(m, r);
			return;
		}
		if (n == 0) {
			r->rd_eof = true;
			bx_mux_send_eof(m, ch);
			break;
		}
		bx_mux_send(m, ch, buf, (size_t)n); /* within the room: all taken */
	}
	maybe_done(m, r);
}

void bx_relay_io(struct bx_mux *m, struct bx_relay *r, short revents)
{
	if (r->dead || !revents)
		return;
	if (revents & POLLHUP)
		r->hup = true;
	if (revents & POLLOUT)
		write_out(m, r);
	if (revents & (POLLIN | POLLERR | POLLHUP))
		read_in(m, r);
	/* an error or hang-up nothing above could take (no room to read, or
	 * the socket's EOF is behind us): the connection is gone */
	if (!r->dead && (revents & POLLERR || (revents & POLLHUP && r->rd_eof)))
		bx_relay_end(m, r);
}

void bx_relay_data(struct bx_mux *m, struct bx_relay *r, const uint8_t *buf, size_t len)
{
	struct bx_chan *ch = chan_of(m, r);
	if (r->dead || r->wr_eof || bx_bytes_push(&r->to_fd, buf, len, NULL) < 0) {
		if (ch)
			bx_mux_consumed(m, ch, len);
		if (!r->dead && !r->wr_eof)
			bx_relay_end(m, r); /* out of memory */
		return;
	}
	write_out(m, r);
}

void bx_relay_eof(struct bx_mux *m, struct bx_relay *r)
{
	r->wr_eof = true;
	maybe_done(m, r);
}

void bx_relay_closed(struct bx_mux *m, struct bx_relay *r)
{
	struct bx_chan *ch = chan_of(m, r);
	if (ch)
		ch->user = NULL; /* the mux frees it after this callback */
	r->chan_id = 0;
	r->wr_eof = true;
	maybe_done(m, r);
}
