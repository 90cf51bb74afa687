// SPDX-License-Identifier: GPL-2.0
/*
 * Addresses: which IPv4/IPv6 addresses move to AF_TOY (loopback and the
 * wildcard, also as IPv4-mapped IPv6), and the translation between a TCP or
 * UDP port and the AF_TOY port of the same number.  No shared state.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "toywrap.h"

static bool v4_local(in_addr_t a)
{
	a = ntohl(a);
	return (a >> 24) == 127 || a == INADDR_ANY;
}

static bool v6_local(const struct in6_addr *a)
{
	if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a))
		return true;
	if (IN6_IS_ADDR_V4MAPPED(a)) {
		in_addr_t v4;

		memcpy(&v4, &a->s6_addr[12], sizeof(v4));
		return v4_local(v4);
	}
	return false;
}

/* A well-formed address of the socket's family that stays on this host. */
bool tw_addr_local(const struct sockaddr *a, socklen_t len, int family)
{
	if (!a || a->sa_family != family)
		return false;
	if (family == AF_INET && len >= sizeof(struct sockaddr_in))
		return v4_local(((const struct sockaddr_in *)a)->sin_addr.s_addr);
	if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
		return v6_local(&((const struct sockaddr_in6 *)a)->sin6_addr);
	return false;
}

bool tw_addr_wildcard(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)a)->sin6_addr);
	return false;
}

unsigned int tw_addr_port(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	if (a->sa_family == AF_TOY)
		return ((const struct sockaddr_toy *)a)->stoy_port;
	return 0;
}

void tw_addr_toy(struct sockaddr_toy *t, unsigned int port)
{
	memset(t, 0, sizeof(*t));
	t->stoy_family = AF_TOY;
	t->stoy_port = port;
}

/*
 * An address of family for port: like's address when given and not the
 * wildcard, else loopback (loopback true) or the wildcard.  Returns its
 * length.
 */
socklen_t tw_addr_make(struct sockaddr_storage *ss, int family,
		       const struct sockaddr_storage *like, bool loopback,
		       unsigned int port)
{
	memset(ss, 0, sizeof(*ss));
	if (like && like->ss_family == family &&
	    !tw_addr_wildcard((const struct sockaddr *)like)) {
		*ss = *like;
	} else if (family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_addr.s_addr =
			htonl(loopback ? INADDR_LOOPBACK : INADDR_ANY);
	} else if (loopback) {
		((struct sockaddr_in6 *)ss)->sin6_addr = in6addr_loopback;
	}
	ss->ss_family = family;
	if (family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		return sizeof(struct sockaddr_in);
	}
	((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	return sizeof(struct sockaddr_in6);
}

/* Hands an address back as the kernel does: truncated, full length told. */
void tw_addr_out(const struct sockaddr_storage *ss, socklen_t len,
		 struct sockaddr *addr, socklen_t *addrlen)
{
	if (!addr || !addrlen)
		return;
	memcpy(addr, ss, *addrlen < len ? *addrlen : len);
	*addrlen = len;
}

const char *tw_addr_str(const struct sockaddr *a, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, tw_addr_port(a));
	} else if (a->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, tw_addr_port(a));
	} else {
		snprintf(buf, size, "family %d", a->sa_family);
	}
	return buf;
}
