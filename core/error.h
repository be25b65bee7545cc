/*
 * error: the one error convention of conform. Functions that can fail return
 * cf_err (0 = success, else a cf_code) and fill a struct cf_error with a
 * stable code, the JSON pointer at fault and a message a user can act on.
 * core/ never prints: server/ turns the error into problem+json, cli/ into a
 * message and an exit code.
 */
#ifndef CONFORM_ERROR_H
#define CONFORM_ERROR_H

#include <stddef.h>

#define CF_MUST_CHECK __attribute__((warn_unused_result))

enum cf_code {
	CF_OK = 0,
	CF_EINVAL,          /* malformed or invalid input (400) */
	CF_EUNPROCESSABLE,  /* well-formed but not acceptable now (422) */
	CF_ENOTFOUND,       /* no such resource (404) */
	CF_ECONFLICT,       /* conflicts with existing data (409) */
	CF_ESTATE,          /* action not allowed in the current state (409) */
	CF_EPRECONDITION,   /* If-Match did not match (412) */
	CF_EPRECOND_REQ,    /* If-Match required (428) */
	CF_ETOOLARGE,       /* a limit was exceeded (413) */
	CF_EUNAUTH,         /* no or bad credentials (401) */
	CF_EFORBIDDEN,      /* authenticated but not allowed (403) */
	CF_EMETHOD,         /* the resource does not support the method (405) */
	CF_ETHROTTLED,      /* too many attempts (429) */
	CF_EMEDIA,          /* unsupported media type (415) */
	CF_EUNAVAILABLE,    /* a dependency (the database) is down (503) */
	CF_EDB,             /* database error (500) */
	CF_EIO,             /* file system error (500) */
	CF_ECRYPTO,         /* cryptographic failure (500) */
	CF_EINTERNAL,       /* a bug (500) */
	CF_CODE_COUNT
};

typedef int cf_err;

struct cf_error {
	enum cf_code code;
	char pointer[256];  /* JSON pointer (RFC 6901) of the field at fault, or "" */
	char detail[768];   /* human message, never containing a secret */
	char extra[512];    /* optional JSON object text of problem extension members */
};

/*
 * Sets err (if not NULL) and returns code. pointer may be NULL. The message
 * is truncated to fit, never overflowed.
 */
cf_err cf_error_set(struct cf_error *err, enum cf_code code, const char *pointer,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Resets err to success. */
void cf_error_clear(struct cf_error *err);

/* Sets the extension members (a JSON object's text) of err. */
void cf_error_set_extra(struct cf_error *err, const char *json_object_text);

/* Prefixes err's detail with "prefix: " (for context such as a file name). */
void cf_error_prefix(struct cf_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The default HTTP status of a code. */
int cf_code_http_status(enum cf_code code);

/* The stable problem type slug of a code ("invalid-request", "not-found", ...). */
const char *cf_code_slug(enum cf_code code);

#endif
