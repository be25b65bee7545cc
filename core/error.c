/*
 * error: the one error convention (see error.h).
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	int status;
	const char *slug;
} code_table[CF_CODE_COUNT] = {
	[CF_OK] = { 200, "ok" },
	[CF_EINVAL] = { 400, "invalid-request" },
	[CF_EUNPROCESSABLE] = { 422, "unprocessable" },
	[CF_ENOTFOUND] = { 404, "not-found" },
	[CF_ECONFLICT] = { 409, "conflict" },
	[CF_ESTATE] = { 409, "invalid-state" },
	[CF_EPRECONDITION] = { 412, "precondition-failed" },
	[CF_EPRECOND_REQ] = { 428, "precondition-required" },
	[CF_ETOOLARGE] = { 413, "too-large" },
	[CF_EUNAUTH] = { 401, "unauthenticated" },
	[CF_EFORBIDDEN] = { 403, "forbidden" },
	[CF_EMETHOD] = { 405, "method-not-allowed" },
	[CF_ETHROTTLED] = { 429, "too-many-requests" },
	[CF_EMEDIA] = { 415, "unsupported-media-type" },
	[CF_EUNAVAILABLE] = { 503, "unavailable" },
	[CF_EDB] = { 500, "database-error" },
	[CF_EIO] = { 500, "io-error" },
	[CF_ECRYPTO] = { 500, "crypto-error" },
	[CF_EINTERNAL] = { 500, "internal-error" },
};

cf_err cf_error_set(struct cf_error *err, enum cf_code code, const char *pointer,
		    const char *fmt, ...)
{
	if (!err)
		return code;
	err->code = code;
	snprintf(err->pointer, sizeof err->pointer, "%s", pointer ? pointer : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof err->detail, fmt, ap);
	va_end(ap);
	err->extra[0] = '\0';
	return code;
}

void cf_error_clear(struct cf_error *err)
{
	if (!err)
		return;
	err->code = CF_OK;
	err->pointer[0] = '\0';
	err->detail[0] = '\0';
	err->extra[0] = '\0';
}

void cf_error_set_extra(struct cf_error *err, const char *json_object_text)
{
	if (err)
		snprintf(err->extra, sizeof err->extra, "%s", json_object_text ? json_object_text : "");
}

void cf_error_prefix(struct cf_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	char prefix[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	size_t plen = strlen(prefix);
	if (plen > sizeof err->detail - 3)
		plen = sizeof err->detail - 3;
	size_t dlen = strlen(err->detail);
	if (plen + 2 + dlen >= sizeof err->detail)
		dlen = sizeof err->detail - plen - 3; /* the message is cut, never overflowed */
	memmove(err->detail + plen + 2, err->detail, dlen);
	err->detail[plen + 2 + dlen] = '\0';
	memcpy(err->detail, prefix, plen);
	err->detail[plen] = ':';
	err->detail[plen + 1] = ' ';
}

int cf_code_http_status(enum cf_code code)
{
	if ((int)code < 0 || code >= CF_CODE_COUNT)
		return 500;
	return code_table[code].status;
}

const char *cf_code_slug(enum cf_code code)
{
	if ((int)code < 0 || code >= CF_CODE_COUNT)
		return "internal-error";
	return code_table[code].slug;
}
