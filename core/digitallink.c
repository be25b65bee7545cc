/*
 * digitallink: GS1 Digital Link URIs of GTINs (see digitallink.h).
 */
#include <string.h>

#include "digitallink.h"
#include "mem.h"

cf_err digitallink_gtin14(const char *gtin, char out[15], struct cf_error *err)
{
	out[0] = '\0';
	size_t n = gtin ? strlen(gtin) : 0;
	if (n != 8 && n != 12 && n != 13 && n != 14)
		return cf_error_set(err, CF_EINVAL, "/gtin",
				    "a GTIN has 8, 12, 13 or 14 digits; this one has %zu characters", n);
	if (strspn(gtin, "0123456789") != n)
		return cf_error_set(err, CF_EINVAL, "/gtin", "a GTIN has only digits");
	char g[15];
	memset(g, '0', 14 - n);
	memcpy(g + 14 - n, gtin, n + 1);
	/* GS1 mod-10: from the right, excluding the check digit, weights 3,1,3,… */
	int sum = 0;
	for (int i = 12; i >= 0; i--)
		sum += (g[i] - '0') * ((12 - i) % 2 == 0 ? 3 : 1);
	int check = (10 - sum % 10) % 10;
	if (g[13] - '0' != check)
		return cf_error_set(err, CF_EINVAL, "/gtin",
				    "the GTIN's check digit is %c, it should be %d", g[13], check);
	memcpy(out, g, 15);
	return CF_OK;
}

cf_err digitallink_uri(const char *public_url, const char *gtin, char **out, struct cf_error *err)
{
	*out = NULL;
	char g[15];
	cf_err e = digitallink_gtin14(gtin, g, err);
	if (e)
		return e;
	size_t n = strlen(public_url);
	while (n > 0 && public_url[n - 1] == '/')
		n--;
	*out = cf_asprintf("%.*s/01/%s", (int)n, public_url, g);
	return CF_OK;
}
