/*
 * conformctl audit: check the hash chain of the audit trail (verify, on the
 * database), and read it (list; from the database, or through the API with
 * --url as the scheme owner's admin).
 */
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "buf.h"
#include "cli.h"
#include "jsonx.h"
#include "page.h"
#include "remote.h"

static int audit_verify_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	struct audit_check check;
	cf_err e = cli_db(cli, &db, &err);
	if (!e)
		e = audit_verify(db, &check, &err);
	db_close(db);
	if (e)
		return cli_fail(&err);
	if (cli->json) {
		json_t *o = json_pack("{s:b,s:I}", "intact", !check.first_broken, "records",
				      (json_int_t)check.records);
		if (check.first_broken) {
			json_object_set_new(o, "first_broken", json_integer(check.first_broken));
			json_object_set_new(o, "problem", json_string(check.problem));
		}
		cli_json_out(o);
		json_decref(o);
	}
	if (check.first_broken) {
		fprintf(stderr, "conformctl: the audit trail is broken at record %lld: %s\n",
			check.first_broken, check.problem);
		return CLI_FAIL;
	}
	if (!cli->json)
		printf("the audit trail is intact: %lld records, each chained to the one before\n",
		       check.records);
	return CLI_OK;
}

static cf_err audit_page(struct cli *cli, struct db *db, const struct audit_filter *f, json_t **out,
			 struct cf_error *err)
{
	if (!remote_on(cli))
		return audit_list(db, f, out, err);
	const char *query[] = { "action", f->action, "object_type", f->object_type, "object_id",
				f->object_id, "actor_id", f->actor_id, "since", f->since, "until", f->until,
				NULL };
	return remote_list_page(cli, "/v1/audit", f->limit, f->after, query, out, err);
}

static int audit_list_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	struct audit_filter f = { 0 };
	const char *limit_s = NULL;
	const struct cli_opt opts[] = {
		{ "action", &f.action, NULL, "an action, or a prefix ending in '.' (scheme.)" },
		{ "object-type", &f.object_type, NULL, "only records about this kind of object" },
		{ "object-id", &f.object_id, NULL, "only records about this object" },
		{ "actor", &f.actor_id, NULL, "only records of this actor (a user id, or the OS user)" },
		{ "since", &f.since, NULL, "from this date or RFC 3339 time" },
		{ "until", &f.until, NULL, "before this date or RFC 3339 time" },
		{ "limit", &limit_s, NULL, "at most this many records (default 100)" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	long long limit = 100;
	if (limit_s) {
		char *end = NULL;
		limit = strtoll(limit_s, &end, 10);
		if (*end || end == limit_s || limit < 1) {
			fprintf(stderr, "conformctl audit list: --limit must be a positive number\n");
			return CLI_USAGE;
		}
	}
	struct cf_error err;
	struct db *db = NULL;
	json_t *items = json_array(), *page = NULL;
	cf_err e = remote_on(cli) ? CF_OK : cli_db(cli, &db, &err);
	while (!e && (long long)json_array_size(items) < limit) {
		long long left = limit - (long long)json_array_size(items);
		/* the API's largest page of the audit trail */
		f.limit = left < page_audit.limit_max ? (int)left : (int)page_audit.limit_max;
		e = audit_page(cli, db, &f, &page, &err);
		if (e)
			break;
		json_t *got = json_object_get(page, "items"), *next = json_object_get(page, "next");
		json_array_extend(items, got);
		bool more = json_is_integer(next) && json_array_size(got) > 0 &&
			    json_integer_value(next) > f.after;
		if (more)
			f.after = json_integer_value(next);
		json_decref(page);
		page = NULL;
		if (!more)
			break;
	}
	db_close(db);
	if (e) {
		json_decref(items);
		return cli_fail(&err);
	}
	if (cli->json) {
		json_t *o = json_pack("{s:O}", "items", items);
		cli_json_out(o);
		json_decref(o);
	} else {
		printf("%-8s %-27s %-26s %-14s %-36s %s\n", "SEQ", "AT", "ACTION", "OBJECT", "ID", "ACTOR");
		size_t i;
		json_t *r;
		json_array_foreach(items, i, r) {
			json_t *actor = json_object_get(r, "actor"), *obj = json_object_get(r, "object");
			printf("%-8lld %-27s %-26s %-14s %-36s %s:%s\n",
			       (long long)json_integer_value(json_object_get(r, "seq")), jsonx_str(r, "at"),
			       jsonx_str(r, "action"), jsonx_str(obj, "type"), jsonx_str(obj, "id"),
			       jsonx_str(actor, "kind"), jsonx_str(actor, "id"));
		}
	}
	json_decref(items);
	return CLI_OK;
}

const struct cli_command cli_audit_commands[] = {
	{ "audit", "verify", "",
	  "Recompute the audit trail's hash chain; name the first broken record (exit 1)",
	  audit_verify_cmd, true },
	{ "audit", "list", "", "List audit records, oldest first (filters: --action, --object-type, ...)",
	  audit_list_cmd, true },
	{ NULL, NULL, NULL, NULL, NULL },
};
