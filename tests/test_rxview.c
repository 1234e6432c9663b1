/*
 * test_rxview.c - the receive-side view against the kernel facts it
 * encodes (eth_type_trans, skb_vlan_untag, packet_rcv's SOCK_RAW/DGRAM
 * offsets, skb_get_poff).  The live suite checks the same against the
 * running kernel; these pin each rule down by name.
 */
#include "testutil.h"
#include "sim.h"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string.h>

static const uint8_t host[6] = { 0x02, 0, 0, 0, 0, 0x01 };

/* An Ethernet frame: dst, src 02:..:02, type, then @n payload bytes. */
static uint32_t frame(uint8_t *f, const uint8_t dst[6], uint16_t type, const uint8_t *pay,
		      uint32_t n)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x02 };

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	memcpy(f + 14, pay, n);
	return 14 + n;
}

static void view(const uint8_t *f, uint32_t len, enum sim_sock_type t, struct sim_rx_view *v,
		 uint8_t *buf)
{
	struct sim_rx_dev dev;

	sim_rx_dev_init(&dev);
	assert_int_equal(sim_rx_view(&dev, f, len, t, buf, v), 0);
}

static void test_pkt_type(void **state)
{
	static const uint8_t bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
			     mc[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 },
			     other[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	uint8_t f[64], buf[64], pay[46] = { 0 };
	struct sim_rx_view v;

	(void)state;
	view(f, frame(f, host, 0x0800, pay, 46), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pkt_type, PACKET_HOST);
	view(f, frame(f, bc, 0x0800, pay, 46), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pkt_type, PACKET_BROADCAST);
	view(f, frame(f, mc, 0x0800, pay, 46), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pkt_type, PACKET_MULTICAST);
	view(f, frame(f, other, 0x0800, pay, 46), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pkt_type, PACKET_OTHERHOST);
	assert_int_equal(v.drop, SIM_DROP_NONE);	/* OTHERHOST is dropped later, in ip_rcv */
}

static void test_protocol(void **state)
{
	uint8_t f[64], buf[64], pay[46] = { 0 };
	struct sim_rx_view v;

	(void)state;
	view(f, frame(f, host, 0x86dd, pay, 46), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.protocol, ETH_P_IPV6);
	/* A length field: 802.2 LLC, or "raw" 802.3 when the payload starts 0xffff. */
	view(f, frame(f, host, 46, pay, 46), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.protocol, ETH_P_802_2);
	pay[0] = pay[1] = 0xff;
	view(f, frame(f, host, 46, pay, 46), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.protocol, ETH_P_802_3);
	/* 0x0600 is the first EtherType (eth_proto_is_802_3). */
	view(f, frame(f, host, 0x0600, pay, 46), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.protocol, 0x0600);
	/* A bare header: no payload to look at, 802.2. */
	view(f, frame(f, host, 0x0010, pay, 0), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.protocol, ETH_P_802_2);
}

static void test_vlan_untag(void **state)
{
	uint8_t f[80], buf[80], pay[50] = { 0 };
	struct sim_rx_view v;
	uint32_t len;

	(void)state;
	/* 802.1Q, TCI 0x2005 (PCP 1, VID 5), carrying IPv4. */
	pay[0] = 0x20, pay[1] = 0x05, pay[2] = 0x08, pay[3] = 0x00, pay[4] = 0x45;
	len = frame(f, host, 0x8100, pay, 50);
	uint8_t before[80];
	memcpy(before, f, len);
	view(f, len, SIM_SOCK_RAW, &v, buf);
	assert_memory_equal(f, before, len);	/* the caller's frame is never changed */
	assert_int_equal(v.meta.vlan_present, 1);
	assert_int_equal(v.meta.vlan_tci, 0x2005);
	assert_int_equal(v.meta.vlan_tpid, ETH_P_8021Q);
	assert_int_equal(v.meta.protocol, ETH_P_IP);
	/* The tap sees the frame without the tag: MACs, then 0x0800. */
	assert_int_equal(v.pkt.caplen, len - 4);
	assert_memory_equal(v.pkt.bytes, f, 12);
	assert_int_equal(v.pkt.bytes[12], 0x08);
	assert_int_equal(v.pkt.bytes[14], 0x45);
	assert_int_equal(v.pkt.net_off, 14);

	/* QinQ: only the outer (802.1ad) tag moves; the inner stays in the data. */
	pay[0] = 0x00, pay[1] = 0x0a, pay[2] = 0x81, pay[3] = 0x00, pay[4] = 0x00, pay[5] = 0x14,
	pay[6] = 0x86, pay[7] = 0xdd;
	len = frame(f, host, 0x88a8, pay, 50);
	view(f, len, SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.vlan_tpid, ETH_P_8021AD);
	assert_int_equal(v.meta.vlan_tci, 10);
	assert_int_equal(v.meta.protocol, ETH_P_8021Q);
	assert_int_equal(v.pkt.bytes[12], 0x81);
	assert_int_equal(v.pkt.bytes[15], 0x14);

	/* Too short to untag: skb_vlan_untag() pulls the tag and the two bytes
	 * after it, or frees the frame unseen.  20 bytes pass (the live suite
	 * found the kernel so). */
	len = frame(f, host, 0x8100, pay, 5);
	view(f, len, SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.drop, SIM_DROP_PKT_TOO_SMALL);
	assert_string_equal(v.drop_func, "skb_vlan_untag");
	pay[2] = 0x00, pay[3] = 0x20;	/* a length field: 802.2 */
	len = frame(f, host, 0x88a8, pay, 6);
	view(f, len, SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.drop, SIM_DROP_NONE);
	assert_int_equal(v.pkt.caplen, 16);
	assert_int_equal(v.meta.protocol, ETH_P_802_2);
}

static void test_sizes(void **state)
{
	uint8_t f[1600] = { 0 }, buf[1600];
	struct sim_rx_view v;

	(void)state;
	view(f, 13, SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.drop, SIM_DROP_PKT_TOO_SMALL);
	view(f, 14, SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.drop, SIM_DROP_NONE);
	/* is_skb_forwardable(): mtu + ETH_HLEN + VLAN_HLEN */
	view(f, 1518, SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.drop, SIM_DROP_NONE);
	view(f, 1519, SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.drop, SIM_DROP_PKT_TOO_BIG);
}

static void test_dgram_offsets(void **state)
{
	uint8_t f[64], buf[64], pay[46] = { 0x45 };
	struct sim_rx_view v;

	(void)state;
	view(f, frame(f, host, 0x0800, pay, 46), SIM_SOCK_DGRAM, &v, buf);
	assert_int_equal(v.pkt.data_off, 14);
	assert_int_equal(v.pkt.net_off, 14);
	view(f, frame(f, host, 0x0800, pay, 46), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.pkt.data_off, 0);
}

/* skb_get_poff(): the offset of the payload from skb->data. */
static void test_pay_offset(void **state)
{
	uint8_t f[128], buf[128], pay[100] = { 0 };
	struct sim_rx_view v;

	(void)state;
	pay[0] = 0x45, pay[9] = 6, pay[20 + 12] = 0x80;	/* IPv4, TCP with doff 8 */
	view(f, frame(f, host, 0x0800, pay, 100), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pay_offset, 14 + 20 + 32);
	view(f, frame(f, host, 0x0800, pay, 100), SIM_SOCK_DGRAM, &v, buf);
	assert_int_equal(v.meta.pay_offset, 20 + 32);
	pay[20 + 12] = 0x10;	/* doff 1 < 5: at least a bare TCP header */
	view(f, frame(f, host, 0x0800, pay, 100), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pay_offset, 14 + 20 + 20);
	pay[9] = 17;	/* UDP */
	view(f, frame(f, host, 0x0800, pay, 100), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pay_offset, 14 + 20 + 8);
	pay[6] = 0x00, pay[7] = 0x10;	/* a later fragment: no transport header */
	view(f, frame(f, host, 0x0800, pay, 100), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pay_offset, 14 + 20);
	pay[0] = 0x44;	/* ihl 4: the dissector fails, poff 0 */
	view(f, frame(f, host, 0x0800, pay, 100), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pay_offset, 0);
	/* IPv6 with a hop-by-hop header, then UDP. */
	memset(pay, 0, sizeof(pay));
	pay[0] = 0x60, pay[6] = 0, pay[40] = 17, pay[41] = 0;
	view(f, frame(f, host, 0x86dd, pay, 100), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pay_offset, 14 + 40 + 8 + 8);
	/* ARP: the basic dissector stops at its header. */
	view(f, frame(f, host, 0x0806, pay, 28), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pay_offset, 14);
	/* An unknown EtherType: the dissector fails. */
	view(f, frame(f, host, 0x1234, pay, 28), SIM_SOCK_RAW, &v, buf);
	assert_int_equal(v.meta.pay_offset, 0);

	/* A caller whose program never loads the field may skip the work. */
	struct sim_rx_dev dev;

	sim_rx_dev_init(&dev);
	dev.want_poff = 0;
	memset(pay, 0, sizeof(pay));
	pay[0] = 0x45, pay[9] = 17;
	sim_rx_view(&dev, f, frame(f, host, 0x0800, pay, 100), SIM_SOCK_RAW, buf, &v);
	assert_int_equal(v.meta.pay_offset, 0);
	dev.want_poff = 1;
	sim_rx_view(&dev, f, frame(f, host, 0x0800, pay, 100), SIM_SOCK_RAW, buf, &v);
	assert_int_equal(v.meta.pay_offset, 14 + 20 + 8);
}

static void test_parse_mac(void **state)
{
	uint8_t mac[6];

	(void)state;
	assert_int_equal(sim_parse_mac("02:00:00:00:00:01", mac), 0);
	assert_memory_equal(mac, host, 6);
	assert_int_equal(sim_parse_mac("02:00:00:00:00", mac), -1);
	assert_int_equal(sim_parse_mac("02:00:00:00:00:01x", mac), -1);
	assert_int_equal(sim_parse_mac("", mac), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkt_type),      cmocka_unit_test(test_protocol),
		cmocka_unit_test(test_vlan_untag),    cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_dgram_offsets), cmocka_unit_test(test_pay_offset),
		cmocka_unit_test(test_parse_mac),
	};

	return cmocka_run_group_tests_name("rxview", tests, NULL, NULL);
}
