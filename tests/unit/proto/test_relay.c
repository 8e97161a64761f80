/* A TCP connection relayed over a mux channel (proto/relay.h), both ends in
 * one process: two muxes back to back, each relay on a socketpair whose other
 * end plays the client (host side) or the server (guest side). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/relay.h"

struct end {
	struct bx_mux m;
	struct bx_relay r;
	int server_fd; /* guest: the relay's socket for the next accepted channel */
};

static int on_open(struct bx_mux *m, struct bx_chan *c)
{
	struct end *e = m->user;
	bx_relay_init(&e->r, e->server_fd, c);
	return 0;
}
static void on_data(struct bx_mux *m, struct bx_chan *c, const uint8_t *buf, size_t len)
{
	if (c->user)
		bx_relay_data(m, c->user, buf, len);
	else
		bx_mux_consumed(m, c, len);
}
static void on_eof(struct bx_mux *m, struct bx_chan *c)
{
	if (c->user)
		bx_relay_eof(m, c->user);
}
static void on_close(struct bx_mux *m, struct bx_chan *c)
{
	if (c->user)
		bx_relay_closed(m, c->user);
}
static const struct bx_mux_ops ops = {.on_open = on_open, .on_data = on_data, .on_eof = on_eof, .on_close = on_close};

static void move(struct bx_mux *from, struct bx_mux *to)
{
	size_t len;
	const uint8_t *p;
	while ((p = bx_mux_out_peek(from, &len)) && len) {
		uint8_t buf[65536];
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		memcpy(buf, p, n);
		bx_mux_out_consume(from, n);
		assert_int_equal(bx_mux_input(to, buf, n, NULL), 0);
	}
}

/* One round of both loops: poll each live relay's socket, then carry the frames */
static void round_trip(struct end *h, struct end *g)
{
	struct end *ends[2] = {h, g};
	for (int i = 0; i < 2; i++) {
		struct bx_relay *r = &ends[i]->r;
		if (r->dead || r->fd < 0)
			continue;
		int ev = bx_relay_events(&ends[i]->m, r);
		struct pollfd p = {.fd = r->fd, .events = (short)ev};
		if (ev >= 0 && poll(&p, 1, 0) > 0)
			bx_relay_io(&ends[i]->m, r, p.revents);
	}
	move(&h->m, &g->m);
	move(&g->m, &h->m);
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* The client's connection (client[0] is the client) relayed from the host
 * end over a new channel to the guest end, connected there to server[1]
 * (server[0] is the server). */
static void connect_ends(struct end *h, struct end *g, int client[2], int server[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, client), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, server), 0);
	for (int i = 0; i < 2; i++) {
		nonblock(client[i]);
		nonblock(server[i]);
	}
	*h = (struct end){0};
	*g = (struct end){.server_fd = server[1]};
	bx_mux_init(&h->m, true, &ops, h);
	bx_mux_init(&g->m, false, &ops, g);
	struct bx_chan *ch = bx_mux_open(&h->m, 0x10000u + 80, NULL);
	assert_non_null(ch);
	bx_relay_init(&h->r, client[1], ch);
}

/* A request, the client's half-close, a large answer (four windows: the
 * credit paces it) and the server's close: all of it arrives, in order, and
 * both relays end with nothing left open. */
static void test_half_close_and_flow(void **state)
{
	(void)state;
	int client[2], server[2];
	struct end h, g;
	connect_ends(&h, &g, client, server);

	assert_int_equal(write(client[0], "GET /\n", 6), 6);
	shutdown(client[0], SHUT_WR);
	char req[16] = {0};
	size_t got = 0;
	bool req_eof = false;
	for (int i = 0; i < 100 && !req_eof; i++) {
		round_trip(&h, &g);
		ssize_t n = read(server[0], req + got, sizeof(req) - 1 - got);
		if (n > 0)
			got += (size_t)n;
		req_eof = n == 0;
	}
	assert_true(req_eof);
	assert_string_equal(req, "GET /\n");

	size_t total = 4 * BX_MUX_WINDOW, sent = 0, recvd = 0;
	uint8_t *big = malloc(total), *back = malloc(total);
	for (size_t i = 0; i < total; i++)
		big[i] = (uint8_t)(i * 7);
	bool server_closed = false, client_eof = false;
	for (int i = 0; i < 100000 && !client_eof; i++) {
		if (sent < total) {
			ssize_t n = write(server[0], big + sent, total - sent);
			if (n > 0)
				sent += (size_t)n;
		} else if (!server_closed) {
			close(server[0]);
			server_closed = true;
		}
		round_trip(&h, &g);
		ssize_t n = read(client[0], back + recvd, total - recvd);
		if (n > 0)
			recvd += (size_t)n;
		client_eof = n == 0 && recvd == total;
	}
	assert_true(client_eof);
	assert_memory_equal(big, back, total);
	for (int i = 0; i < 10; i++)
		round_trip(&h, &g);
	assert_true(h.r.dead);
	assert_true(g.r.dead);
	assert_int_equal(h.r.fd, -1);
	assert_int_equal(g.r.fd, -1);
	free(big);
	free(back);
	close(client[0]);
	bx_mux_free(&h.m);
	bx_mux_free(&g.m);
}

/* The far end goes away at once (the server closes unread): the client's
 * connection ends too, and the relays with it. */
static void test_far_end_gone(void **state)
{
	(void)state;
	int client[2], server[2];
	struct end h, g;
	connect_ends(&h, &g, client, server);
	round_trip(&h, &g);
	close(server[0]);
	char c;
	ssize_t n = -1;
	for (int i = 0; i < 100 && n != 0; i++) {
		round_trip(&h, &g);
		n = read(client[0], &c, 1);
	}
	assert_int_equal(n, 0); /* EOF */
	/* the client closes too: both relays end */
	close(client[0]);
	for (int i = 0; i < 10; i++)
		round_trip(&h, &g);
	assert_true(h.r.dead);
	assert_true(g.r.dead);
	bx_mux_free(&h.m);
	bx_mux_free(&g.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half_close_and_flow),
		cmocka_unit_test(test_far_end_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
