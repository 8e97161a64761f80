/* The guest's numbers for `boxvm stats`, parsed from /proc text (procstats.h). */
#include "procstats.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* The value of "Key:   N kB" in meminfo, in bytes; false if absent. */
static bool meminfo_field(const char *text, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		char *end;
		unsigned long long v = strtoull(line + klen + 1, &end, 10);
		if (end == line + klen + 1)
			return false;
		while (*end == ' ')
			end++;
		/* every meminfo size is in kB (KiB); a field without a unit is a count */
		*out = !strncmp(end, "kB", 2) ? (uint64_t)v * 1024 : (uint64_t)v;
		return true;
	}
	return false;
}

int bx_meminfo_parse(const char *text, uint64_t *total, uint64_t *available)
{
	if (!meminfo_field(text, "MemTotal", total))
		return -1;
	if (meminfo_field(text, "MemAvailable", available))
		return 0;
	uint64_t fr = 0, bu = 0, ca = 0;
	meminfo_field(text, "MemFree", &fr);
	meminfo_field(text, "Buffers", &bu);
	meminfo_field(text, "Cached", &ca);
	*available = fr + bu + ca;
	if (*available > *total)
		*available = *total;
	return 0;
}

/* Parse up to n unsigned decimal fields separated by blanks from p. */
static int read_fields(const char *p, unsigned long long *v, int n)
{
	int got = 0;
	while (got < n) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		char *end;
		v[got++] = strtoull(p, &end, 10);
		p = end;
	}
	return got;
}

void bx_netdev_parse(const char *text, uint64_t *rx, uint64_t *tx)
{
	*rx = *tx = 0;
	/* two header lines, then "  name: rx_bytes packets errs drop fifo frame
	 * compressed multicast tx_bytes ..."; old kernels print "eth0:123" with
	 * no blank after the colon, so the colon delimits the name */
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *eol = strchr(line, '\n');
		const char *colon = memchr(line, ':', eol ? (size_t)(eol - line) : strlen(line));
		if (!colon)
			continue;
		const char *name = line;
		while (name < colon && *name == ' ')
			name++;
		if (colon - name == 2 && !strncmp(name, "lo", 2))
			continue;
		unsigned long long f[9];
		if (read_fields(colon + 1, f, 9) < 9)
			continue;
		*rx += f[0];
		*tx += f[8];
	}
}

struct disk {
	char name[64];
	unsigned long long rd, wr;
};

static bool partition_of(const char *name, const char *disk)
{
	size_t n = strlen(disk);
	if (strncmp(name, disk, n) || !name[n])
		return false;
	const char *rest = name + n;
	/* a disk whose name ends in a digit numbers its partitions after a "p"
	 * (nvme0n1p1, mmcblk0p1): nvme0n10 is another disk, not a partition */
	if (isdigit((unsigned char)disk[n - 1]) && *rest++ != 'p')
		return false;
	if (!*rest)
		return false;
	for (; *rest; rest++)
		if (!isdigit((unsigned char)*rest))
			return false;
	return true;
}

void bx_diskstats_parse(const char *text, uint64_t *read_bytes, uint64_t *write_bytes)
{
	*read_bytes = *write_bytes = 0;
	struct disk d[256];
	size_t n = 0;
	/* "major minor name reads merged sectors_read ms writes merged sectors_written ..." */
	for (const char *line = text; line && *line && n < 256;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned long long mm[2], f[7];
		const char *p = line;
		if (read_fields(p, mm, 2) < 2)
			continue;
		while (*p == ' ')
			p++;
		for (int k = 0; k < 2; k++) { /* past major and minor */
			while (isdigit((unsigned char)*p))
				p++;
			while (*p == ' ')
				p++;
		}
		size_t len = strcspn(p, " \t\n");
		if (!len || len >= sizeof(d[n].name))
			continue;
		memcpy(d[n].name, p, len);
		d[n].name[len] = '\0';
		if (read_fields(p + len, f, 7) < 7)
			continue;
		d[n].rd = f[2];
		d[n].wr = f[6];
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(d[i].name, "loop", 4) || !strncmp(d[i].name, "ram", 3))
			continue;
		bool part = false;
		for (size_t j = 0; j < n && !part; j++)
			part = j != i && partition_of(d[i].name, d[j].name);
		if (part)
			continue;
		*read_bytes += (uint64_t)d[i].rd * 512;
		*write_bytes += (uint64_t)d[i].wr * 512;
	}
}

int bx_stat_cpu_parse(const char *text, long ticks_per_s, uint64_t *busy_ns)
{
	const char *line = text;
	while (line && strncmp(line, "cpu ", 4)) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line || ticks_per_s <= 0)
		return -1;
	/* user nice system idle iowait irq softirq steal (guest time is already in user) */
	unsigned long long f[8] = {0};
	int got = read_fields(line + 4, f, 8);
	if (got < 4)
		return -1;
	unsigned long long busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
	*busy_ns = (uint64_t)(busy / (unsigned long long)ticks_per_s) * 1000000000ull +
		   (uint64_t)(busy % (unsigned long long)ticks_per_s) * 1000000000ull / (uint64_t)ticks_per_s;
	return 0;
}

int bx_pidstat_parse(const char *text, long *ppid, long *threads)
{
	const char *p = strrchr(text, ')');
	if (!p)
		return -1;
	p++;
	/* fields from 3 (state) on, blank separated */
	long v4 = -1, v20 = -1;
	for (int field = 3; field <= 20; field++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -1;
		if (field == 4 || field == 20) {
			char *end;
			long v = strtol(p, &end, 10);
			if (end == p)
				return -1;
			if (field == 4)
				v4 = v;
			else
				v20 = v;
		}
		p += strcspn(p, " \n");
	}
	*ppid = v4;
	*threads = v20;
	return 0;
}

int bx_interrupts_local_timer(const char *text, uint64_t *count)
{
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *p = line;
		while (*p == ' ')
			p++;
		if (strncmp(p, "LOC:", 4))
			continue;
		/* one decimal count per CPU, then the description */
		uint64_t sum = 0;
		p += 4;
		for (;;) {
			while (*p == ' ')
				p++;
			if (*p < '0' || *p > '9')
				break;
			char *end;
			unsigned long long v = strtoull(p, &end, 10);
			sum += v;
			p = end;
		}
		*count = sum;
		return 0;
	}
	return -1;
}

bool bx_proc_is_pid_name(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (!isdigit((unsigned char)*name))
			return false;
	return true;
}
