/*
 * routes/audit: the audit trail for admins (filters, keyset pagination).
 */
#include "audit.h"
#include "http.h"
#include "jsonx.h"
#include "page.h"
#include "routes.h"

void route_audit_list(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	struct page page = { 0 };
	cf_err e = request_page(rq, &page, &err);
	struct audit_filter f = {
		request_query(rq, "action"), request_query(rq, "object_type"),
		request_query(rq, "object_id"), request_query(rq, "actor_id"),
		request_query(rq, "since"), request_query(rq, "until"), page.after, page.limit,
	};
	if (!e && f.since && !jsonx_is_time(f.since))
		e = cf_error_set(&err, CF_EINVAL, NULL, "since must be a date or an RFC 3339 time");
	if (!e && f.until && !jsonx_is_time(f.until))
		e = cf_error_set(&err, CF_EINVAL, NULL, "until must be a date or an RFC 3339 time");
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = audit_list(db, &f, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}
