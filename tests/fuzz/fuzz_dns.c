/* A guest's packet to a network's DNS responder (src/netd/dns.c): parsed by
 * bx_dns_parse_query; a query it accepts is answered (with and without
 * addresses, into a buffer of every size up to 512) within bounds. */
#include "fuzz.h"
#include "vm/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bx_dns_query q;
	int kind = bx_dns_parse_query(data, size, &q);
	if (kind < 0)
		return 0;
	FZ_CHECK(strlen(q.name) < sizeof(q.name));
	FZ_CHECK(kind == 1 || (q.question_end > 12 && q.question_end <= size));
	uint8_t out[BX_DNS_MAX_PACKET];
	uint32_t ips[BX_DNS_MAX_ANSWERS] = {0x0a000001u};
	for (size_t cap = 0; cap <= sizeof(out); cap += 37) {
		size_t n = bx_dns_answer(data, &q, BX_DNS_NOERROR, ips, kind ? 0 : BX_DNS_MAX_ANSWERS, out, cap);
		FZ_CHECK(n <= cap);
		fz_touch(out, n);
	}
	return 0;
}
