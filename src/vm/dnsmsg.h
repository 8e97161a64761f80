/* DNS for named networks (pure, unit-tested, fuzzed): the query parser and
 * answer builder of boxvm-netd's responder, and the table of names a box
 * may resolve. Every packet comes from a guest: lengths are checked before
 * every read, names are bounded (255 bytes, 63 a label, no compression in
 * a question), only standard queries with one question are answered. */
#ifndef BOXVM_DNSMSG_H
#define BOXVM_DNSMSG_H

#include <stddef.h>
#include <stdint.h>

#define BX_DNS_MAX_PACKET 512 /* what the responder answers (no EDNS): bigger is truncated by design */
#define BX_DNS_TTL 600        /* Docker's embedded DNS */
#define BX_DNS_MAX_ANSWERS 16

enum { BX_DNS_NOERROR = 0, BX_DNS_SERVFAIL = 2, BX_DNS_NXDOMAIN = 3, BX_DNS_NOTIMP = 4, BX_DNS_REFUSED = 5 };
enum { BX_DNS_TYPE_A = 1, BX_DNS_TYPE_AAAA = 28, BX_DNS_CLASS_IN = 1 };

struct bx_dns_query {
	uint16_t id, flags, qtype, qclass;
	char name[256];   /* lower case, dotted, no trailing dot ("" = the root) */
	size_t question_end; /* offset just past the question */
};

/* 0: a standard query (QR=0, opcode 0, one question) in q; 1: a query
 * with another opcode (answer NOTIMP with q->id, q->flags); -1: drop it
 * (malformed, a response, truncated, ...). */
int bx_dns_parse_query(const uint8_t *buf, size_t len, struct bx_dns_query *q);
/* The answer to q (whose packet is query): its question and one A record
 * per ips[] entry (n <= BX_DNS_MAX_ANSWERS), with rcode. Returns the length
 * written into out, 0 if it does not fit in cap. */
size_t bx_dns_answer(const uint8_t *query, const struct bx_dns_query *q, int rcode, const uint32_t *ips, int n,
		     uint8_t *out, size_t cap);

/* Who resolves what: names[] are the names of boxes on network `net` (an
 * index into the daemon's list of networks), queriers[] the boxes on this
 * daemon's network by address, each with the networks it is on (a bit per
 * index: Docker answers a box the names of every network it has joined). */
struct bx_dns_name {
	char name[128]; /* lower case */
	uint32_t ip;    /* host order */
	int net;
};
struct bx_dns_querier {
	uint32_t ip;
	uint64_t nets;
};
struct bx_dns_table {
	struct bx_dns_name *names;
	size_t nnames;
	struct bx_dns_querier *queriers;
	size_t nqueriers;
};
/* The addresses name has for a box querying from src (at most max); 0 if
 * none (or src is no box of the network). */
int bx_dns_lookup(const struct bx_dns_table *t, uint32_t src, const char *name, uint32_t *ips, int max);

#endif
