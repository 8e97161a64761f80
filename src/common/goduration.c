/* Go's time.ParseDuration and Duration.String (see goduration.h): Docker's
 * duration flags take Go's syntax and its messages print Go's form, so both
 * follow Go's source (time/format.go) rule for rule. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "goduration.h"
#include "err.h"

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{"ns", 1ULL},           {"us", 1000ULL},          {"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
	{"\xce\xbcs", 1000ULL}, /* U+03BC Greek mu */      {"ms", 1000000ULL},
	{"s", 1000000000ULL},   {"m", 60000000000ULL},    {"h", 3600000000000ULL},
};

int bx_goduration_parse(const char *s, long long *ns, struct bx_err *err)
{
	const char *orig = s;
	const uint64_t max = (uint64_t)INT64_MAX + 1; /* the magnitude of INT64_MIN */
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		goto invalid;
	uint64_t d = 0;
	while (*s) {
		uint64_t v = 0, f = 0, scale = 1;
		const char *p = s;
		/* the integer part */
		while (*s >= '0' && *s <= '9') {
			if (v > (max - 1) / 10)
				goto invalid;
			v = v * 10 + (uint64_t)(*s++ - '0');
			if (v > max)
				goto invalid;
		}
		bool pre = s != p, post = false;
		if (*s == '.') {
			s++;
			const char *q = s;
			bool overflow = false;
			while (*s >= '0' && *s <= '9') {
				if (!overflow) {
					if (f > (max - 1) / 10) {
						overflow = true; /* Go drops digits past precision */
					} else {
						uint64_t y = f * 10 + (uint64_t)(*s - '0');
						if (y > max)
							overflow = true;
						else {
							f = y;
							scale *= 10;
						}
					}
				}
				s++;
			}
			post = s != q;
		}
		if (!pre && !post)
			goto invalid;
		/* the unit: up to the next digit or '.' */
		const char *u = s;
		while (*s && *s != '.' && !(*s >= '0' && *s <= '9'))
			s++;
		size_t ulen = (size_t)(s - u);
		if (!ulen)
			return bx_fail(err, 0, "time: missing unit in duration \"%s\"", orig);
		uint64_t unit = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strlen(units[i].name) == ulen && !memcmp(units[i].name, u, ulen))
				unit = units[i].ns;
		if (!unit)
			return bx_fail(err, 0, "time: unknown unit \"%.*s\" in duration \"%s\"", (int)ulen, u, orig);
		if (v > max / unit)
			goto invalid;
		v *= unit;
		if (f > 0) {
			/* float64 as Go does: v += int64(float64(f) * (float64(unit) / scale)) */
			v += (uint64_t)((double)f * ((double)unit / (double)scale));
			if (v > max)
				goto invalid;
		}
		d += v;
		if (d > max)
			goto invalid;
	}
	if (neg) {
		*ns = d == max ? INT64_MIN : -(long long)d;
		return 0;
	}
	if (d > max - 1)
		goto invalid;
	*ns = (long long)d;
	return 0;
invalid:
	return bx_fail(err, 0, "time: invalid duration \"%s\"", orig);
}

/* Go's fmtFrac: the fraction of v below 10^prec into the end of buf (at w),
 * trailing zeros dropped, with a '.' if anything is left; v becomes v/10^prec. */
static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	bool print = false;
	for (int i = 0; i < prec; i++) {
		uint64_t digit = *v % 10;
		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
	if (v == 0) {
		buf[--w] = '0';
		return w;
	}
	while (v > 0) {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	}
	return w;
}

void bx_goduration_format(long long d, char *out, size_t size)
{
	char buf[32];
	size_t w = sizeof(buf);
	bool neg = d < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
	if (u < 1000000000ULL) {
		/* less than a second: ns, µs or ms with a fraction */
		int prec;
		w--;
		buf[w] = 's';
		w--;
		if (u == 0) {
			snprintf(out, size, "0s");
			return;
		} else if (u < 1000ULL) {
			prec = 0;
			buf[w] = 'n';
		} else if (u < 1000000ULL) {
			prec = 3;
			/* U+00B5 'µ' is two bytes */
			w--;
			memcpy(buf + w, "\xc2\xb5", 2);
		} else {
			prec = 6;
			buf[w] = 'm';
		}
		w = fmt_frac(buf, w, &u, prec);
		w = fmt_int(buf, w, u);
	} else {
		buf[--w] = 's';
		w = fmt_frac(buf, w, &u, 9);
		w = fmt_int(buf, w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			w = fmt_int(buf, w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				w = fmt_int(buf, w, u);
			}
		}
	}
	if (neg)
		buf[--w] = '-';
	snprintf(out, size, "%.*s", (int)(sizeof(buf) - w), buf + w);
}
