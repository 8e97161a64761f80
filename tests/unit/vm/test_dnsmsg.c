/* The network responder's DNS parsing, answers and lookups (src/vm/dnsmsg.c):
 * well-formed queries answered, hostile ones dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vm/dnsmsg.h"

/* a query for name (dotted) of qtype */
static size_t query(uint8_t *b, const char *name, uint16_t qtype)
{
	memset(b, 0, 12);
	b[0] = 0x12, b[1] = 0x34, b[2] = 0x01; /* id, RD */
	b[5] = 1;
	size_t off = 12;
	while (*name) {
		size_t l = strcspn(name, ".");
		b[off++] = (uint8_t)l;
		memcpy(b + off, name, l);
		off += l;
		name += l + (name[l] == '.');
	}
	b[off++] = 0;
	b[off++] = (uint8_t)(qtype >> 8), b[off++] = (uint8_t)qtype;
	b[off++] = 0, b[off++] = 1;
	return off;
}

static void parses_and_answers(void **state)
{
	uint8_t b[512], out[512];
	size_t n = query(b, "Web.App", BX_DNS_TYPE_A);
	struct bx_dns_query q;
	assert_int_equal(bx_dns_parse_query(b, n, &q), 0);
	assert_string_equal(q.name, "web.app");
	assert_int_equal(q.qtype, BX_DNS_TYPE_A);
	uint32_t ips[2] = {0xac120002u, 0xac120003u};
	size_t len = bx_dns_answer(b, &q, BX_DNS_NOERROR, ips, 2, out, sizeof(out));
	assert_int_equal(len, n + 32);
	assert_int_equal(out[0], 0x12);
	assert_int_equal(out[2] & 0x80, 0x80);  /* a response */
	assert_int_equal(out[3] & 0x0f, 0);     /* NOERROR */
	assert_int_equal(out[7], 2);            /* two answers */
	assert_memory_equal(out + 12, b + 12, n - 12);
	assert_int_equal(out[n], 0xc0);       /* the name: the question's */
	assert_int_equal(out[n + 11], 4);     /* rdlength */
	assert_int_equal(out[n + 12], 172);
	assert_int_equal(out[n + 15], 2);
	assert_int_equal(out[n + 16 + 15], 3); /* the second address */
	assert_int_equal(bx_dns_answer(b, &q, BX_DNS_NOERROR, ips, 2, out, n + 31), 0); /* no room */
}

static void drops_hostile_packets(void **state)
{
	uint8_t b[512];
	struct bx_dns_query q;
	size_t n = query(b, "db", BX_DNS_TYPE_A);
	for (size_t cut = 0; cut < n; cut++) /* every truncation */
		assert_int_equal(bx_dns_parse_query(b, cut, &q), -1);
	b[2] |= 0x80; /* a response */
	assert_int_equal(bx_dns_parse_query(b, n, &q), -1);
	n = query(b, "db", BX_DNS_TYPE_A);
	b[5] = 2; /* two questions */
	assert_int_equal(bx_dns_parse_query(b, n, &q), -1);
	n = query(b, "db", BX_DNS_TYPE_A);
	b[12] = 0xc0; /* a compression pointer in the question */
	assert_int_equal(bx_dns_parse_query(b, n, &q), -1);
	n = query(b, "d.b", BX_DNS_TYPE_A);
	b[13] = '.'; /* a label holding a dot */
	assert_int_equal(bx_dns_parse_query(b, n, &q), -1);
	/* a name over 255 bytes */
	uint8_t big[600] = {0};
	big[5] = 1;
	size_t off = 12;
	for (int i = 0; i < 5; i++) {
		big[off++] = 63;
		memset(big + off, 'a', 63);
		off += 63;
	}
	big[off++] = 0;
	off += 4;
	assert_int_equal(bx_dns_parse_query(big, off, &q), -1);
	n = query(b, "db", BX_DNS_TYPE_A);
	b[2] = 0x28; /* opcode 5 (update): NOTIMP */
	assert_int_equal(bx_dns_parse_query(b, n, &q), 1);
}

static void lookups_follow_the_queriers_networks(void **state)
{
	struct bx_dns_name names[] = {
		{"db", 0xac120002u, 0}, {"database", 0xac120002u, 0}, {"cache", 0x0a000002u, 1}, {"db", 0xac120009u, 2}};
	struct bx_dns_querier q[] = {{0xac120003u, 1 << 0 | 1 << 1}, {0xac120004u, 1 << 0}};
	struct bx_dns_table t = {names, 4, q, 2};
	uint32_t ips[4];
	assert_int_equal(bx_dns_lookup(&t, 0xac120003u, "db", ips, 4), 1);
	assert_int_equal(ips[0], 0xac120002u);
	assert_int_equal(bx_dns_lookup(&t, 0xac120003u, "cache", ips, 4), 1); /* on its second network */
	assert_int_equal(bx_dns_lookup(&t, 0xac120004u, "cache", ips, 4), 0); /* not on that one */
	assert_int_equal(bx_dns_lookup(&t, 0xac120099u, "db", ips, 4), 0);   /* no box of the network */
	assert_int_equal(bx_dns_lookup(&t, 0xac120004u, "nothere", ips, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_and_answers),
		cmocka_unit_test(drops_hostile_packets),
		cmocka_unit_test(lookups_follow_the_queriers_networks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
