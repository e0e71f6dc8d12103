// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lab_net.c - the sockets and the namespace switch under lua/lab.lua, as the private
 * module ctlua.lab_net: moving ctlua's own thread into the lab's server namespace and
 * back, and real packets sent, connections made and listeners opened in a namespace by
 * name. A socket keeps the namespace it was created in, so each is made with the thread
 * inside that namespace for a moment (netns.h) and used from anywhere after.
 *
 * Not part of the ct API (doc/lab.md documents the lab that uses it). Addresses are the
 * caller's to check: lab.lua only ever gives its own 198.18.0.0/15 and 2001:db8::/32.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <lauxlib.h>
#include "lab_net.h"
#include "lua_ct.h"
#include "netns.h"

#define CONN_MT		"ctlua.lab_net.conn"
#define LISTENER_MT	"ctlua.lab_net.listener"
#define SEND_MAX_SIZE	65000	/* one UDP datagram's payload, under 65507 */
#define SEND_MAX_COUNT	100000
#define ACCEPT_MAX	1024	/* connections a listener keeps open */

/* The namespace ctlua's thread came from while it is in the lab's (-1: not in one). */
static int back_fd = -1;

/*
 * The lab's namespaces, deleted at exit if lab.down has not run (os.exit skips the Lua
 * state's closing): two names of at most NAME_MAX.
 */
static char doomed[2][NAME_MAX + 1];
static bool exit_handler;

/* What `ip netns del` does: the name's bind mount and file go; the namespace follows. */
static void delete_doomed(void)
{
	char path[PATH_MAX];

	for (int i = 0; i < 2; i++) {
		if (!doomed[i][0])
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", doomed[i]);
		umount2(path, MNT_DETACH);
		unlink(path);
		doomed[i][0] = '\0';
	}
}

/* A socket of the lab: a connection, or a listener and what it accepted. */
struct lab_sock {
	int fd;			/* -1 once closed */
	int type;		/* SOCK_STREAM or SOCK_DGRAM */
	int *accepted;		/* listener: connections kept open until it closes */
	int naccepted;
	unsigned long received;	/* listener: datagrams, or connections, taken in */
};

/* An address and port of either family, from text. Returns 0 or -EINVAL. */
static int make_addr(const char *text, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((unsigned short)port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

/*
 * A socket of @family and @type created inside namespace @ns, with SO_REUSEADDR and,
 * when @sport is not 0, bound to that port. Returns the descriptor or -errno; *@step
 * says what failed ("enter", "socket", "bind").
 */
static int socket_in(const char *ns, int family, int type, int sport, const char **step)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	int back, fd, err = 0, one = 1;

	*step = "enter";
	if ((err = ctl_netns_enter(ns, &back)))
		return err;
	*step = "socket";
	fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		err = -errno;
	ctl_netns_leave(back);	/* the socket stays in @ns */
	if (err)
		return err;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sport) {
		if (family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons((unsigned short)sport);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = htons((unsigned short)sport);
		*step = "bind";
		if (bind(fd, (struct sockaddr *)&ss, family == AF_INET ?
			 sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) < 0) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

/* nil, "ENAME: cannot STEP in namespace 'NS' ...", errno for socket_in's failure. */
static int fail_in(lua_State *L, int err, const char *what, const char *step, const char *ns)
{
	if (err == -ENOENT && !strcmp(step, "enter"))
		return ctl_fail(L, err, CTL_NETNS_MISSING, ns);
	return ctl_fail(L, err, "%s: %s failed in namespace '%s' (%s)", what, step, ns,
			strerror(-err));
}

/* The local port of socket @fd. */
static int local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int check_port(lua_State *L, int arg)
{
	lua_Integer p = luaL_checkinteger(L, arg);

	luaL_argcheck(L, p >= 0 && p <= 65535, arg, "port out of range 0 to 65535");
	return (int)p;
}

/*
 * enter(ns) → true | nil, msg, errno: move ctlua's calling thread into namespace @ns
 * until leave(); every request that acts in "ctlua's namespace" acts there meanwhile.
 */
static int l_enter(lua_State *L)
{
	const char *ns = luaL_checkstring(L, 1);
	int err;

	if (back_fd >= 0)
		return ctl_fail(L, -EBUSY, "ctlua is in a lab's namespace already");
	if ((err = ctl_netns_enter(ns, &back_fd))) {
		back_fd = -1;
		if (err == -ENOENT)
			return ctl_fail(L, err, CTL_NETNS_MISSING, ns);
		return ctl_fail(L, err, "cannot enter namespace '%s' (%s)", ns, strerror(-err));
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* leave() → whether the thread was in a lab's namespace; it is back where it was. */
static int l_leave(lua_State *L)
{
	bool was = back_fd >= 0;

	if (was)
		ctl_netns_leave(back_fd);
	back_fd = -1;
	lua_pushboolean(L, was);
	return 1;
}

/*
 * udp_send(ns, dst, dport, sport, count, size) → sent, sport | nil, msg, errno: @count
 * datagrams of @size bytes from one socket in @ns (@sport 0: one the kernel picks).
 */
static int l_udp_send(lua_State *L)
{
	const char *ns = luaL_checkstring(L, 1), *dst = luaL_checkstring(L, 2), *step;
	int dport = check_port(L, 3), sport = check_port(L, 4), fd, err = 0;
	lua_Integer count = luaL_checkinteger(L, 5), size = luaL_checkinteger(L, 6), sent;
	struct sockaddr_storage to;
	socklen_t len;
	char *buf;

	luaL_argcheck(L, count >= 1 && count <= SEND_MAX_COUNT, 5, "count out of range");
	luaL_argcheck(L, size >= 0 && size <= SEND_MAX_SIZE, 6, "size out of range");
	if (make_addr(dst, dport, &to, &len))
		return luaL_argerror(L, 2, "not an address");
	fd = socket_in(ns, to.ss_family, SOCK_DGRAM, sport, &step);
	if (fd < 0)
		return fail_in(L, fd, "lab.send", step, ns);
	buf = calloc(1, (size_t)size + 1);
	if (!buf) {
		close(fd);
		return ctl_fail(L, -ENOMEM, "lab.send: no memory for %d bytes", (int)size);
	}
	memset(buf, 'x', (size_t)size);
	for (sent = 0; sent < count; sent++)
		if (sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&to, len) < 0) {
			err = -errno;
			break;
		}
	sport = local_port(fd);
	free(buf);
	close(fd);
	if (err && !sent)
		return ctl_fail(L, err, "cannot send to %s port %d (%s)", dst, dport,
				strerror(-err));
	lua_pushinteger(L, sent);
	lua_pushinteger(L, sport);
	return 2;
}

static struct lab_sock *new_sock(lua_State *L, const char *mt, int fd, int type)
{
	struct lab_sock *s = lua_newuserdatauv(L, sizeof(*s), 0);

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->type = type;
	luaL_setmetatable(L, mt);
	return s;
}

/*
 * tcp_connect(ns, dst, dport, sport, timeout_ms) → conn, sport | nil, msg, errno: a TCP
 * connection made from @ns, open until conn:close() or its collection.
 */
static int l_tcp_connect(lua_State *L)
{
	const char *ns = luaL_checkstring(L, 1), *dst = luaL_checkstring(L, 2), *step;
	int dport = check_port(L, 3), sport = check_port(L, 4), fd, err = 0;
	lua_Integer ms = luaL_checkinteger(L, 5);
	struct sockaddr_storage to;
	struct pollfd pfd;
	socklen_t len, elen = sizeof(err);

	luaL_argcheck(L, ms >= 1 && ms <= 60000, 5, "timeout out of range 1 to 60000 ms");
	if (make_addr(dst, dport, &to, &len))
		return luaL_argerror(L, 2, "not an address");
	fd = socket_in(ns, to.ss_family, SOCK_STREAM | SOCK_NONBLOCK, sport, &step);
	if (fd < 0)
		return fail_in(L, fd, "lab.connect", step, ns);
	if (connect(fd, (struct sockaddr *)&to, len) < 0) {
		err = errno == EINPROGRESS ? 0 : -errno;
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (!err) {
			int n = poll(&pfd, 1, (int)ms);

			if (n == 0)
				err = -ETIMEDOUT;
			else if (n < 0)
				err = -errno;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
				err = -errno;
			else
				err = -err;
		}
	}
	if (err) {
		close(fd);
		return ctl_fail(L, err, "no TCP connection to %s port %d (%s)", dst,
				dport, strerror(-err));
	}
	new_sock(L, CONN_MT, fd, SOCK_STREAM);
	lua_pushinteger(L, local_port(fd));
	return 2;
}

/*
 * listen(ns, proto, port) → listener | nil, msg, errno: a TCP or UDP socket in @ns on
 * @port of every address, IPv4 and IPv6.
 */
static int l_listen(lua_State *L)
{
	static const char *const protos[] = { "tcp", "udp", NULL };
	const char *ns = luaL_checkstring(L, 1), *step;
	int type = luaL_checkoption(L, 2, NULL, protos) ? SOCK_DGRAM : SOCK_STREAM;
	int port = check_port(L, 3), fd, zero = 0, err = 0;

	fd = socket_in(ns, AF_INET6, type | SOCK_NONBLOCK, 0, &step);
	if (fd < 0)
		return fail_in(L, fd, "lab.listen", step, ns);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	{
		struct sockaddr_in6 a = { .sin6_family = AF_INET6,
					  .sin6_port = htons((unsigned short)port) };

		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			err = -errno;
	}
	if (!err && type == SOCK_STREAM && listen(fd, 4096) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return ctl_fail(L, err, "lab.listen: cannot listen on %s port %d (%s)",
				protos[type == SOCK_DGRAM], port, strerror(-err));
	}
	new_sock(L, LISTENER_MT, fd, type);
	return 1;
}

static struct lab_sock *check_sock(lua_State *L, const char *mt)
{
	struct lab_sock *s = ctl_checkobject(L, 1, mt, sizeof(struct lab_sock));

	if (s->fd < 0)
		luaL_error(L, "the lab's socket is closed");
	return s;
}

/* conn:send(text) → bytes | nil, msg, errno */
static int l_conn_send(lua_State *L)
{
	struct lab_sock *s = check_sock(L, CONN_MT);
	size_t len;
	const char *data = luaL_checklstring(L, 2, &len);
	ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);

	if (n < 0)
		return ctl_fail(L, -errno, "lab connection: cannot send (%s)", strerror(errno));
	lua_pushinteger(L, n);
	return 1;
}

/* conn:port() → the local (client) port */
static int l_conn_port(lua_State *L)
{
	lua_pushinteger(L, local_port(check_sock(L, CONN_MT)->fd));
	return 1;
}

/*
 * listener:received() → n: take in what waits (datagrams read and dropped, connections
 * accepted and kept open) and return how many have come since it opened.
 */
static int l_received(lua_State *L)
{
	struct lab_sock *s = check_sock(L, LISTENER_MT);
	char buf[2048];
	int fd;

	if (s->type == SOCK_DGRAM) {
		while (recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
			s->received++;
	} else {
		while ((fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
			s->received++;
			if (!s->accepted)
				s->accepted = calloc(ACCEPT_MAX, sizeof(int));
			if (s->accepted && s->naccepted < ACCEPT_MAX)
				s->accepted[s->naccepted++] = fd;
			else
				close(fd);
		}
	}
	lua_pushinteger(L, (lua_Integer)s->received);
	return 1;
}

/* close, __gc and __close of both kinds: closing twice is fine. */
static int l_close(lua_State *L)
{
	struct lab_sock *s = luaL_testudata(L, 1, CONN_MT);

	if (!s)
		s = ctl_checkobject(L, 1, LISTENER_MT, sizeof(struct lab_sock));
	if (s->fd >= 0)
		close(s->fd);
	for (int i = 0; i < s->naccepted; i++)
		close(s->accepted[i]);
	free(s->accepted);
	s->accepted = NULL;
	s->naccepted = 0;
	s->fd = -1;
	return 0;
}

static int l_closed(lua_State *L)
{
	struct lab_sock *s = luaL_testudata(L, 1, CONN_MT);

	if (!s)
		s = luaL_checkudata(L, 1, LISTENER_MT);
	lua_pushboolean(L, s->fd < 0);
	return 1;
}

/*
 * at_exit([server, client]) → true: the namespaces to delete if the process exits with
 * the lab up; with no names, none (lab.down deleted them).
 */
static int l_at_exit(lua_State *L)
{
	for (int i = 0; i < 2; i++) {
		const char *name = luaL_optstring(L, i + 1, "");

		luaL_argcheck(L, !*name || ctl_netns_name_ok(name), i + 1, "not a namespace name");
		luaL_argcheck(L, strlen(name) <= NAME_MAX, i + 1, "name too long");
		snprintf(doomed[i], sizeof(doomed[i]), "%s", name);
	}
	if (!exit_handler)
		exit_handler = atexit(delete_doomed) == 0;
	lua_pushboolean(L, 1);
	return 1;
}

static const luaL_Reg conn_methods[] = {
	{ "send", l_conn_send },
	{ "port", l_conn_port },
	{ "close", l_close },
	{ "closed", l_closed },
	{ NULL, NULL },
};

static const luaL_Reg listener_methods[] = {
	{ "received", l_received },
	{ "close", l_close },
	{ "closed", l_closed },
	{ NULL, NULL },
};

static const luaL_Reg funcs[] = {
	{ "enter", l_enter },
	{ "leave", l_leave },
	{ "udp_send", l_udp_send },
	{ "tcp_connect", l_tcp_connect },
	{ "listen", l_listen },
	{ "at_exit", l_at_exit },
	{ NULL, NULL },
};

static void new_mt(lua_State *L, const char *name, const luaL_Reg *methods)
{
	luaL_newmetatable(L, name);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, l_close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, l_close);
	lua_setfield(L, -2, "__close");
	lua_pop(L, 1);
}

/* package.preload's loader of ctlua.lab_net. */
static int open_lab_net(lua_State *L)
{
	new_mt(L, CONN_MT, conn_methods);
	new_mt(L, LISTENER_MT, listener_methods);
	luaL_newlib(L, funcs);
	return 1;
}

void ctl_open_lab_net(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, open_lab_net);
	lua_setfield(L, -2, "ctlua.lab_net");
	lua_pop(L, 1);
}
