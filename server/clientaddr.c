/*
 * clientaddr: the client's address behind trusted proxies (see clientaddr.h).
 * Addresses are compared as IPv6, IPv4 ones in their mapped form.
 */
#include "clientaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static struct in6_addr proxies[CLIENTADDR_MAX_PROXIES];
static size_t nproxies;

/* Parses a v4 or v6 address of n characters into its IPv6 form. */
static bool parse(const char *s, size_t n, struct in6_addr *out)
{
	char text[CLIENTADDR_LEN];
	if (n == 0 || n >= sizeof text)
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	struct in_addr v4;
	if (inet_pton(AF_INET, text, &v4) == 1) {
		memset(out, 0, sizeof *out);
		out->s6_addr[10] = 0xff;
		out->s6_addr[11] = 0xff;
		memcpy(&out->s6_addr[12], &v4, 4);
		return true;
	}
	return inet_pton(AF_INET6, text, out) == 1;
}

static void format(const struct in6_addr *a, char out[CLIENTADDR_LEN])
{
	if (IN6_IS_ADDR_V4MAPPED(a))
		inet_ntop(AF_INET, &a->s6_addr[12], out, CLIENTADDR_LEN);
	else
		inet_ntop(AF_INET6, a, out, CLIENTADDR_LEN);
}

static bool trusted(const struct in6_addr *a)
{
	for (size_t i = 0; i < nproxies; i++)
		if (memcmp(&proxies[i], a, sizeof *a) == 0)
			return true;
	return false;
}

cf_err clientaddr_init(const char *list, struct cf_error *err)
{
	nproxies = 0;
	const char *sep = ", \t";
	for (const char *p = list + strspn(list, sep); *p; p += strspn(p, sep)) {
		size_t n = strcspn(p, sep);
		if (nproxies == CLIENTADDR_MAX_PROXIES)
			return cf_error_set(err, CF_EINVAL, NULL, "at most %d trusted proxies",
					    CLIENTADDR_MAX_PROXIES);
		if (!parse(p, n, &proxies[nproxies]))
			return cf_error_set(err, CF_EINVAL, NULL, "'%.*s' is not an IP address",
					    (int)(n > 60 ? 60 : n), p);
		nproxies++;
		p += n;
	}
	return CF_OK;
}

void clientaddr_of(const struct sockaddr *peer, const char *xff, char out[CLIENTADDR_LEN])
{
	struct in6_addr a;
	if (peer && peer->sa_family == AF_INET) {
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)peer)->sin_addr, text,
			  sizeof text);
		parse(text, strlen(text), &a);
	} else if (peer && peer->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr;
	} else {
		snprintf(out, CLIENTADDR_LEN, "unknown");
		return;
	}
	/* From the right: each trusted proxy vouches for the entry before it. */
	size_t end = xff ? strlen(xff) : 0;
	while (trusted(&a) && end > 0) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		const char *s = xff + start;
		size_t n = end - start;
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		struct in6_addr next;
		if (!parse(s, n, &next))
			break; /* not an address: the last one vouched for stands */
		a = next;
		end = start ? start - 1 : 0;
	}
	format(&a, out);
}
