/*
 * common.c - small things every part of bpfvm shares: semantics names,
 * the seeded random source, whole reads and writes on a pipe.
 */
#include "bpfvm.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

const char *bpfvm_semantics_name(enum bpfvm_semantics sem)
{
	return sem == BPFVM_LIBPCAP ? "libpcap" : "linux";
}

int bpfvm_semantics_from_name(const char *name, enum bpfvm_semantics *sem)
{
	if (strcmp(name, "linux") == 0)
		*sem = BPFVM_LINUX;
	else if (strcmp(name, "libpcap") == 0)
		*sem = BPFVM_LIBPCAP;
	else
		return -1;
	return 0;
}

/* splitmix64 (Steele, Lea, Flood 2014): tiny, seedable, good enough for
 * test generation, and the same sequence on every machine. */
uint64_t bpfvm_rand64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int bpfvm_write_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int bpfvm_read_full(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}
