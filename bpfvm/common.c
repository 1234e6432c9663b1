/*
 * common.c - small things every part of bpfvm shares: semantics names and
 * the seeded random source.
 */
#include "bpfvm.h"

#include <string.h>

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
