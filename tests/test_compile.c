/*
 * test_compile.c - expressions through libpcap: offline and as for a live
 * Linux capture.  The live compile may skip its live handle only when the
 * expression cannot tell the difference; this checks that claim by
 * compiling every expression both ways.
 */
#include "testutil.h"
#include "bpfvm.h"

#include <pcap/pcap.h>
#include <string.h>

static const char *const exprs[] = {
	"", "tcp", "udp port 53", "host 127.0.0.1", "tcp port 80 or udp", "ip6 and tcp",
	"net 127.0.0.0/8 and not port 22", "arp or icmp", "portrange 1000-2000",
	"tcp[tcpflags] & tcp-syn != 0", "ether broadcast", "greater 100", "less 60",
	"ip[9] = 17", "ether[12:2] = 0x8100", "mpls", "pppoes", "ip proto \\tcp",
	"ip6 protochain 6", "inbound", "outbound and udp", "ifindex 2", "len > 100 and ip",
	"ether multicast or ip multicast", "icmp6", "ip6 and udp port 5353",
};

static int same(const struct bpfvm_prog *a, const struct bpfvm_prog *b)
{
	return a->len == b->len && memcmp(a->insns, b->insns, a->len * sizeof(*a->insns)) == 0;
}

/* Without the `vlan` keyword a live handle changes nothing (libpcap 1.10). */
static void test_live_handle_skipped_only_when_equal(void **state)
{
	struct bpfvm_compile_opts live, always;
	char err[BPFVM_ERRBUF_SIZE];

	(void)state;
	SKIP_UNLESS_ROOT();
	bpfvm_compile_opts_init(&live);
	live.linux_ext = 1;
	always = live;
	always.always_live = 1;
	for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
		struct bpfvm_prog a, b;

		if (bpfvm_compile(exprs[i], &live, &a, err) != 0)
			fail_msg("'%s': %s", exprs[i], err);
		if (bpfvm_compile(exprs[i], &always, &b, err) != 0)
			fail_msg("'%s' (live handle): %s", exprs[i], err);
		if (!same(&a, &b))
			fail_msg("'%s' compiles differently on a live handle", exprs[i]);
		bpfvm_prog_free(&a);
		bpfvm_prog_free(&b);
	}
}

/* With it, the live compile differs from the offline one: the kernel has
 * taken the tag out, so libpcap tests it with ancillary loads. */
static void test_vlan_needs_the_live_handle(void **state)
{
	struct bpfvm_compile_opts off, live;
	struct bpfvm_prog a, b;
	char err[BPFVM_ERRBUF_SIZE];

	(void)state;
	SKIP_UNLESS_ROOT();
	bpfvm_compile_opts_init(&off);
	live = off;
	live.linux_ext = 1;
	assert_int_equal(bpfvm_compile("vlan and ip", &off, &a, err), 0);
	assert_int_equal(bpfvm_compile("vlan and ip", &live, &b, err), 0);
	assert_false(same(&a, &b));
	assert_true(bpfvm_prog_uses_ancillary(&b, SKF_AD_VLAN_TAG_PRESENT));
	assert_false(bpfvm_prog_uses_ancillary(&a, SKF_AD_VLAN_TAG_PRESENT));
	bpfvm_prog_free(&a);
	bpfvm_prog_free(&b);
}

/* Number of live children of this process (all threads). */
static int children(void)
{
	char path[64], buf[4096];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "r");
	assert_non_null(f);
	if (fgets(buf, sizeof(buf), f))
		for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n"))
			n++;
	fclose(f);
	return n;
}

/* The compiling children are not waited for while they close their handle,
 * but they are not left to pile up either: many compiles in a row give the
 * same program each time and leave at most a handful of children. */
static void test_live_children_are_reaped(void **state)
{
	struct bpfvm_compile_opts o;
	struct bpfvm_prog first, p;
	char err[BPFVM_ERRBUF_SIZE];

	(void)state;
	SKIP_UNLESS_ROOT();
	bpfvm_compile_opts_init(&o);
	o.linux_ext = 1;
	assert_int_equal(bpfvm_compile("vlan 5", &o, &first, err), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(bpfvm_compile("vlan 5", &o, &p, err), 0);
		assert_true(same(&first, &p));
		bpfvm_prog_free(&p);
	}
	assert_in_range(children(), 0, 8);
	bpfvm_prog_free(&first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_handle_skipped_only_when_equal),
		cmocka_unit_test(test_vlan_needs_the_live_handle),
		cmocka_unit_test(test_live_children_are_reaped),
	};

	return cmocka_run_group_tests_name("compile", tests, NULL, NULL);
}
