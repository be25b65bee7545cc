/*
 * page: the rules of conform's lists and the parser of ?limit=&after= (see
 * page.h).
 */
#include "page.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

const struct page_rule page_keyed = { 100, 500, PAGE_AFTER_KEY, 0 };
const struct page_rule page_numbered = { 100, 500, PAGE_AFTER_NUMBER, 0 };
const struct page_rule page_audit = { 100, 1000, PAGE_AFTER_NUMBER, 0 };
const struct page_rule page_feed = { 100, 500, PAGE_AFTER_NUMBER, -1 };

cf_err page_parse_long(const char *v, const char *name, long min, long max, long *out,
		       struct cf_error *err)
{
	char *end = NULL;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return cf_error_set(err, CF_EINVAL, NULL, "%s must be a whole number from %ld to %ld", name,
				    min, max);
	*out = n;
	return CF_OK;
}

cf_err page_parse(const struct page_rule *rule, const char *limit, const char *after,
		  struct page *out, struct cf_error *err)
{
	long n = rule->limit_default, a = rule->after_first;
	cf_err e = limit ? page_parse_long(limit, "limit", 1, rule->limit_max, &n, err) : CF_OK;
	if (!e && after && rule->after == PAGE_AFTER_NUMBER)
		e = page_parse_long(after, "after", rule->after_first, LONG_MAX, &a, err);
	if (e)
		return e;
	out->limit = (int)n;
	out->after = rule->after == PAGE_AFTER_NUMBER ? a : 0;
	out->after_key = rule->after == PAGE_AFTER_KEY ? after : NULL;
	return CF_OK;
}
