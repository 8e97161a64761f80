/* DNS query parsing, answers and name lookup for named networks (pure). */
#include "dnsmsg.h"

#include <stdbool.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int bx_dns_parse_query(const uint8_t *buf, size_t len, struct bx_dns_query *q)
{
	memset(q, 0, sizeof(*q));
	if (len < 12)
		return -1;
	q->id = rd16(buf);
	q->flags = rd16(buf + 2);
	if (q->flags & 0x8000) /* a response: never answered (no loops between responders) */
		return -1;
	if ((q->flags >> 11 & 15) != 0)
		return 1;
	if (rd16(buf + 4) != 1 || rd16(buf + 6) != 0 || rd16(buf + 8) != 0)
		return -1; /* one question, no answers or authority; additional records (EDNS) are ignored */
	size_t off = 12, out = 0;
	for (;;) {
		if (off >= len)
			return -1;
		uint8_t l = buf[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > len || out + l + 1 >= sizeof(q->name))
			return -1; /* compression pointers (0xc0) and the reserved 0x40/0x80 kinds land here too */
		if (out)
			q->name[out++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			char c = (char)buf[off + i];
			if (c == '.' || c == '\0')
				return -1; /* a label holding a dot would read as another name */
			q->name[out++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		off += l;
	}
	q->name[out] = '\0';
	if (off + 4 > len)
		return -1;
	q->qtype = rd16(buf + off);
	q->qclass = rd16(buf + off + 2);
	q->question_end = off + 4;
	return 0;
}

size_t bx_dns_answer(const uint8_t *query, const struct bx_dns_query *q, int rcode, const uint32_t *ips, int n,
		     uint8_t *out, size_t cap)
{
	if (n < 0 || n > BX_DNS_MAX_ANSWERS)
		n = 0;
	size_t qlen = q->question_end > 12 ? q->question_end - 12 : 0; /* 0: a NOTIMP without question */
	size_t need = 12 + qlen + (size_t)n * 16;
	if (need > cap || need > BX_DNS_MAX_PACKET)
		return 0;
	wr16(out, q->id);
	/* QR, the query's opcode and RD, AA (we are the authority for these names), RA */
	uint16_t flags = (uint16_t)(0x8000 | (q->flags & 0x7900) | 0x0400 | 0x0080 | (rcode & 15));
	wr16(out + 2, flags);
	wr16(out + 4, qlen ? 1 : 0);
	wr16(out + 6, (uint16_t)n);
	wr16(out + 8, 0);
	wr16(out + 10, 0);
	memcpy(out + 12, query + 12, qlen);
	size_t off = 12 + qlen;
	for (int i = 0; i < n; i++) {
		wr16(out + off, 0xc00c); /* the name: a pointer to the question's */
		wr16(out + off + 2, BX_DNS_TYPE_A);
		wr16(out + off + 4, BX_DNS_CLASS_IN);
		out[off + 6] = 0;
		out[off + 7] = 0;
		wr16(out + off + 8, BX_DNS_TTL);
		wr16(out + off + 10, 4);
		out[off + 12] = (uint8_t)(ips[i] >> 24);
		out[off + 13] = (uint8_t)(ips[i] >> 16);
		out[off + 14] = (uint8_t)(ips[i] >> 8);
		out[off + 15] = (uint8_t)ips[i];
		off += 16;
	}
	return off;
}

int bx_dns_lookup(const struct bx_dns_table *t, uint32_t src, const char *name, uint32_t *ips, int max)
{
	uint64_t nets = 0;
	bool found = false;
	for (size_t i = 0; i < t->nqueriers && !found; i++)
		if (t->queriers[i].ip == src) {
			nets = t->queriers[i].nets;
			found = true;
		}
	if (!found)
		return 0;
	int n = 0;
	for (size_t i = 0; i < t->nnames && n < max; i++) {
		const struct bx_dns_name *e = &t->names[i];
		if (e->net < 0 || e->net >= 64 || !(nets >> e->net & 1) || strcmp(e->name, name))
			continue;
		bool dup = false;
		for (int j = 0; j < n && !dup; j++)
			dup = ips[j] == e->ip;
		if (!dup)
			ips[n++] = e->ip;
	}
	return n;
}
