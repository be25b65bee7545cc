/*
 * page: keyset pagination of lists (?limit=&after=, DESIGN.md "API
 * conventions"): the rules a kind of list pages by, and the one parser of
 * the two values. conformd's route table names each list's rule (router.c,
 * read by request_page); conformctl pages through the same lists with the
 * same largest pages.
 */
#ifndef CONFORM_PAGE_H
#define CONFORM_PAGE_H

#include "error.h"

/* What a list's cursor (?after=) is. */
enum page_after {
	PAGE_AFTER_KEY,    /* an opaque text (an id, a requirement's ref): the
			    * domain checks it, the parser passes it on */
	PAGE_AFTER_NUMBER, /* a whole number from after_first on */
};

struct page_rule {
	long limit_default;     /* items in a page without ?limit= */
	long limit_max;         /* the most ?limit= may ask for (the least is 1) */
	enum page_after after;
	long after_first;       /* PAGE_AFTER_NUMBER: the value without ?after= (from
				 * the start), also the least accepted */
};

/* The rules of conform's lists. */
/* requirements, products, organisations, people: after an id or a ref */
extern const struct page_rule page_keyed;
/* applications, the certificate register: after a position (0: the start) */
extern const struct page_rule page_numbered;
/* the audit trail: after a record's seq, pages of up to 1000 */
extern const struct page_rule page_audit;
/* the change feed and a webhook's deliveries: after a log index (-1: the
 * start, since the log's first entry is 0) */
extern const struct page_rule page_feed;

/* One page asked for. */
struct page {
	int limit;
	long long after;       /* PAGE_AFTER_NUMBER */
	const char *after_key; /* PAGE_AFTER_KEY: NULL from the start; borrowed
				* from the text given to page_parse */
};

/*
 * Reads a page by rule from the query values limit and after (each NULL
 * when absent), limit first. A bad value is CF_EINVAL naming it ("limit must
 * be a whole number from 1 to 500"); *out is then unchanged.
 */
cf_err page_parse(const struct page_rule *rule, const char *limit, const char *after,
		  struct page *out, struct cf_error *err) CF_MUST_CHECK;

/*
 * The whole-number reader of every query number (?limit=, ?after=, and,
 * through conformd's request_query_int, ?start=, ?tree_size=...): the whole
 * of v, decimal, within min..max; else CF_EINVAL naming name, *out
 * unchanged. It takes outside bytes and has a fuzz target (fuzz_query).
 */
cf_err page_parse_long(const char *v, const char *name, long min, long max, long *out,
		       struct cf_error *err) CF_MUST_CHECK;

#endif
