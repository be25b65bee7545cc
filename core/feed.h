/*
 * feed: the change feed, every transparency log entry (issuance, status
 * change, key compromise) as an item naming its log index, in log order
 * (migration 0022 keeps feed_item beside tlog_entry). The position of an
 * item IS its log index: unfiltered, a page's indexes are contiguous.
 */
#ifndef CONFORM_FEED_H
#define CONFORM_FEED_H

#include <jansson.h>

#include "db.h"
#include "error.h"

/* What a page is narrowed to; NULL members: any. */
struct feed_filter {
	const char *body;         /* assessment body id (uuid) */
	const char *manufacturer; /* manufacturer id (uuid) */
	const char *scheme;       /* scheme id */
	const char *serial;       /* certificate serial */
};

/* Checks the filter's members (a uuid where one is due); the JSON pointer
 * of an error is the query parameter ("/body"). */
cf_err feed_filter_check(const struct feed_filter *f, struct cf_error *err) CF_MUST_CHECK;

/*
 * The items after log index after (-1: from the start), at most limit, in
 * log order: *out (new) is {"after", "filter", "items": [...], "next_after"
 * (the last item's index, or after when none), "log_size" (the log's size
 * at the time of the read)}.
 */
cf_err feed_page(struct db *db, const struct feed_filter *f, long long after, int limit,
		 json_t **out, struct cf_error *err) CF_MUST_CHECK;

#endif
