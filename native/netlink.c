/* netlink.c — the link, address and route ops of a network plan, as rtnetlink requests in the current
 * network namespace (a SETNS op before them picks which). Names, addresses and MACs come decided from
 * TypeScript (src/network/plan.ts); this file only turns each op into one request and checks its ack. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "helper.h"

struct req {
	uint8_t buf[1024];
	struct nlmsghdr *h;
};

static void *put(struct req *r, const void *data, size_t len)
{
	uint8_t *at = r->buf + NLMSG_ALIGN(r->h->nlmsg_len);
	if (NLMSG_ALIGN(r->h->nlmsg_len) + NLMSG_ALIGN(len) > sizeof r->buf)
		bail_errno(E2BIG, "netlink request too long");
	memset(at, 0, NLMSG_ALIGN(len));
	if (data)
		memcpy(at, data, len);
	r->h->nlmsg_len = NLMSG_ALIGN(r->h->nlmsg_len) + (uint32_t)len;
	return at;
}

/* An attribute; returns it so a nested one can be closed by end_nest. */
static struct rtattr *attr(struct req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = put(r, NULL, RTA_LENGTH(len));
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	return a;
}

static void end_nest(struct req *r, struct rtattr *a)
{
	a->rta_len = (unsigned short)(r->buf + r->h->nlmsg_len - (uint8_t *)a);
}

static void start(struct req *r, uint16_t type, uint16_t flags)
{
	memset(r->buf, 0, sizeof(struct nlmsghdr));
	r->h = (struct nlmsghdr *)r->buf;
	r->h->nlmsg_len = NLMSG_HDRLEN;
	r->h->nlmsg_type = type;
	r->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h->nlmsg_seq = 1;
}

/* Sends the request on a socket of the current namespace and waits for its ack: 0 or -errno. */
static int talk(struct req *r)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	uint8_t ack[4096];
	ssize_t n;
	if (fd < 0)
		bail("netlink socket");
	if (sendto(fd, r->buf, r->h->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
		bail("netlink send");
	do
		n = recv(fd, ack, sizeof ack, 0);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < (ssize_t)NLMSG_HDRLEN)
		bail("netlink receive");
	struct nlmsghdr *h = (struct nlmsghdr *)ack;
	if (h->nlmsg_type != NLMSG_ERROR)
		bail_errno(EPROTO, "netlink: unexpected answer %u", h->nlmsg_type);
	return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

static int ifindex(const char *name)
{
	unsigned idx = if_nametoindex(name);
	if (idx == 0)
		bail("no device %s", name);
	return (int)idx;
}

static void check(int err, const char *what, const char *name)
{
	if (err < 0)
		bail_errno(-err, "%s %s", what, name);
}

/* VETH: s:name s:peer s:master u:mtu u:nspid b:mac — the host end up on the bridge, the peer made
 * straight inside the container's namespace under its final name, with its MAC. The peer is set up by
 * a LINK_UP there: asking for it here fails with ENOTCONN (so does `ip link add … peer … netns P up`). */
static void veth(const struct op *op)
{
	const struct field *f = op->f;
	struct req r;
	struct ifinfomsg up = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	struct ifinfomsg down = {.ifi_family = AF_UNSPEC};
	uint32_t mtu = (uint32_t)f[3].n, pid = (uint32_t)f[4].n;
	int master = ifindex(f[2].s);
	start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	put(&r, &up, sizeof up);
	attr(&r, IFLA_IFNAME, f[0].s, strlen(f[0].s) + 1);
	attr(&r, IFLA_MTU, &mtu, 4);
	attr(&r, IFLA_MASTER, &master, 4);
	struct rtattr *info = attr(&r, IFLA_LINKINFO, NULL, 0);
	attr(&r, IFLA_INFO_KIND, "veth", 4);
	struct rtattr *data = attr(&r, IFLA_INFO_DATA, NULL, 0);
	struct rtattr *peer = attr(&r, VETH_INFO_PEER, NULL, 0);
	put(&r, &down, sizeof down);
	attr(&r, IFLA_IFNAME, f[1].s, strlen(f[1].s) + 1);
	attr(&r, IFLA_MTU, &mtu, 4);
	attr(&r, IFLA_NET_NS_PID, &pid, 4);
	if (f[5].n == 6)
		attr(&r, IFLA_ADDRESS, f[5].b, 6);
	end_nest(&r, peer);
	end_nest(&r, data);
	end_nest(&r, info);
	check(talk(&r), "create veth", f[0].s);
}

/* LINK_UP: s:name */
static void link_up(const struct op *op)
{
	struct req r;
	struct ifinfomsg m = {.ifi_family = AF_UNSPEC, .ifi_index = ifindex(op->f[0].s), .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	start(&r, RTM_NEWLINK, 0);
	put(&r, &m, sizeof m);
	check(talk(&r), "set up", op->f[0].s);
}

/* LINK_DEL: u:optional s:name — optional: a device already gone is fine */
static void link_del(const struct op *op)
{
	struct req r;
	unsigned idx = if_nametoindex(op->f[1].s);
	if (idx == 0 && op->f[0].n)
		return;
	struct ifinfomsg m = {.ifi_family = AF_UNSPEC, .ifi_index = (int)(idx ? idx : (unsigned)ifindex(op->f[1].s))};
	start(&r, RTM_DELLINK, 0);
	put(&r, &m, sizeof m);
	int err = talk(&r);
	if (err == -ENODEV && op->f[0].n)
		return;
	check(err, "delete", op->f[1].s);
}

/* ADDR_ADD: s:dev u:address u:prefix u:broadcast (IPv4 as numbers, host order) */
/* one IPv4 address on dev; flags: NLM_F_EXCL (add) or NLM_F_REPLACE (set again) */
static void put_addr(const char *dev, uint64_t addr, uint64_t prefix, uint64_t brd, int flags)
{
	struct req r;
	struct ifaddrmsg m = {.ifa_family = AF_INET, .ifa_prefixlen = (uint8_t)prefix, .ifa_index = (uint32_t)ifindex(dev)};
	uint32_t a = htonl((uint32_t)addr), b = htonl((uint32_t)brd);
	start(&r, RTM_NEWADDR, NLM_F_CREATE | flags);
	put(&r, &m, sizeof m);
	attr(&r, IFA_LOCAL, &a, 4);
	attr(&r, IFA_ADDRESS, &a, 4);
	attr(&r, IFA_BROADCAST, &b, 4);
	check(talk(&r), "add address on", dev);
}

static void addr_add(const struct op *op)
{
	const struct field *f = op->f;
	put_addr(f[0].s, f[1].n, f[2].n, f[3].n, NLM_F_EXCL);
}

/* ROUTE_ADD: s:dev u:dst u:prefix u:gateway (gateway 0: a link route) */
static void route_add(const struct op *op)
{
	const struct field *f = op->f;
	struct req r;
	struct rtmsg m = {.rtm_family = AF_INET, .rtm_dst_len = (uint8_t)f[2].n, .rtm_table = RT_TABLE_MAIN,
			  .rtm_protocol = RTPROT_BOOT, .rtm_type = RTN_UNICAST,
			  .rtm_scope = f[3].n ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK};
	uint32_t dst = htonl((uint32_t)f[1].n), gw = htonl((uint32_t)f[3].n);
	int oif = ifindex(f[0].s);
	start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	put(&r, &m, sizeof m);
	if (f[2].n)
		attr(&r, RTA_DST, &dst, 4);
	if (f[3].n)
		attr(&r, RTA_GATEWAY, &gw, 4);
	attr(&r, RTA_OIF, &oif, 4);
	check(talk(&r), "add route on", f[0].s);
}

/* BRIDGE: s:name u:mtu u:address u:prefix u:broadcast — `ip link add NAME type bridge` (or, when it
 * exists, the same request changes it: no NLM_F_EXCL), its MTU, up; then its address, replacing one
 * that is there (`ip addr replace`), so a restarted daemon re-applies the same op. */
static void bridge(const struct op *op)
{
	const struct field *f = op->f;
	struct req r;
	struct ifinfomsg up = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
	uint32_t mtu = (uint32_t)f[1].n;
	start(&r, RTM_NEWLINK, NLM_F_CREATE);
	put(&r, &up, sizeof up);
	attr(&r, IFLA_IFNAME, f[0].s, strlen(f[0].s) + 1);
	attr(&r, IFLA_MTU, &mtu, 4);
	struct rtattr *info = attr(&r, IFLA_LINKINFO, NULL, 0);
	attr(&r, IFLA_INFO_KIND, "bridge", 6);
	end_nest(&r, info);
	check(talk(&r), "create bridge", f[0].s);
	put_addr(f[0].s, f[2].n, f[3].n, f[4].n, NLM_F_REPLACE);
}

int run_net_op(const struct op *op)
{
	switch (op->tag) {
	case OP_VETH:
		veth(op);
		return 1;
	case OP_LINK_UP:
		link_up(op);
		return 1;
	case OP_LINK_DEL:
		link_del(op);
		return 1;
	case OP_ADDR_ADD:
		addr_add(op);
		return 1;
	case OP_ROUTE_ADD:
		route_add(op);
		return 1;
	case OP_BRIDGE:
		bridge(op);
		return 1;
	}
	return 0;
}
