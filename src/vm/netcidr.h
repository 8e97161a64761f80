/* IPv4 subnets of named networks (pure, unit-tested): CIDR parsing with
 * Docker's messages, overlap checks, Docker's default address pools, IP
 * assignment (IPAM) and the MAC address Docker derives from an IP. */
#ifndef BOXVM_NETCIDR_H
#define BOXVM_NETCIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

struct bx_cidr {
	uint32_t addr; /* host byte order, host bits cleared */
	int prefix;    /* 8..30: at least a gateway and one box */
};

/* "A.B.C.D" -> host order; -1 if malformed. */
int bx_ip_parse(const char *s, uint32_t *out);
/* host order -> "A.B.C.D" (size >= 16) */
void bx_ip_format(uint32_t ip, char *buf, size_t size);
/* "A.B.C.D/N": Docker's "Invalid subnet TEXT : invalid CIDR address: TEXT"
 * when malformed; host bits are cleared (10.1.2.3/16 -> 10.1.0.0/16). */
int bx_cidr_parse(const char *text, struct bx_cidr *out, struct bx_err *err);
void bx_cidr_format(const struct bx_cidr *c, char *buf, size_t size); /* size >= 19 */
bool bx_cidr_contains(const struct bx_cidr *c, uint32_t ip);
bool bx_cidr_overlap(const struct bx_cidr *a, const struct bx_cidr *b);
/* Docker's default pools for bridge networks, in order: 172.18.0.0/16 ..
 * 172.31.0.0/16 (172.17 is Docker's own default bridge), then
 * 192.168.0.0/20, 192.168.16.0/20 .. 192.168.240.0/20. 0 while i is a pool, -1 past the last. */
int bx_cidr_default_pool(int i, struct bx_cidr *out);
/* The first host address (Docker's default gateway). */
uint32_t bx_cidr_first_host(const struct bx_cidr *c);
/* The lowest address of c that is neither the network, the broadcast, the
 * gateway nor in used[]; -1 when the subnet is full. */
int bx_ipam_pick(const struct bx_cidr *c, uint32_t gateway, const uint32_t *used, size_t nused, uint32_t *out);
/* Docker's MAC for an IP: 02:42 and the address's four bytes ("02:42:ac:12:00:02"; size >= 18). */
void bx_mac_from_ip(uint32_t ip, char *buf, size_t size);

#endif
