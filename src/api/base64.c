/* Base64 decoding and encoding for the API's headers (base64.h). */
#include "base64.h"

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

long api_base64_decode(const char *in, size_t len, char *out, size_t out_size)
{
	/* padding: up to two '=' at the end, and then the length must be whole quads */
	size_t pad = 0;
	while (len > 0 && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (pad && (len + pad) % 4)
		return -1;
	if (len % 4 == 1)
		return -1;
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = value(in[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= out_size)
				return -1;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (out_size == 0)
		return -1;
	out[n] = 0;
	return (long)n;
}

long api_base64_encode(const void *in, size_t len, char *out, size_t out_size)
{
	const unsigned char *p = in;
	size_t need = (len + 2) / 3 * 4 + 1, n = 0;
	if (need > out_size)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		out[n++] = std_alpha[(v >> 18) & 63];
		out[n++] = std_alpha[(v >> 12) & 63];
		out[n++] = i + 1 < len ? std_alpha[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < len ? std_alpha[v & 63] : '=';
	}
	out[n] = 0;
	return (long)n;
}
