/*
 * conformctl db: schema migrations (migrate, status).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "migrate.h"

/* Each migration as it is applied: a line, or (--json) an item of arg. */
static void print_applied(const struct migration *m, void *arg)
{
	if (arg) {
		json_array_append_new(arg, json_pack("{s:i,s:s}", "version", m->version, "name", m->name));
		return;
	}
	printf("applied %s\n", m->name);
	fflush(stdout);
}

static int db_migrate(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int npos, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &npos, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	int applied = 0, version = 0;
	json_t *list = cli->json ? json_array() : NULL;
	cf_err e = cli_db_owner(cli, &db, &err);
	if (!e)
		e = migrate_apply(db, cli->cfg.migrations_dir, print_applied, list, &applied, &err);
	if (!e)
		e = migrate_current_version(db, &version, &err);
	db_close(db);
	if (e) {
		json_decref(list);
		return cli_fail(&err);
	}
	if (list) {
		json_t *o = json_pack("{s:o,s:i}", "applied", list, "version", version);
		cli_json_out(o);
		json_decref(o);
		return CLI_OK;
	}
	printf("%s; the schema is at version %d\n",
	       applied ? "migrated" : "nothing to apply", version);
	return CLI_OK;
}

static int db_status(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int npos, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &npos, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	struct migration_set set = { 0 };
	cf_err e = cli_db_owner(cli, &db, &err);
	if (!e)
		e = migrate_load(db, cli->cfg.migrations_dir, &set, &err);
	db_close(db);
	if (e)
		return cli_fail(&err);
	int pending = 0, changed = 0;
	json_t *list = json_array();
	if (!cli->json)
		printf("%-7s %-40s %s\n", "VERSION", "FILE", "STATE");
	for (size_t i = 0; i < set.count; i++) {
		const struct migration *m = &set.items[i];
		const char *state;
		char buf[96];
		if (!m->applied) {
			state = "pending";
			pending++;
		} else if (!m->path) {
			state = "applied, but no such file in this build";
			changed++;
		} else if (strcmp(m->sha256, m->applied_sha256) != 0) {
			state = "CHANGED after it was applied";
			changed++;
		} else {
			snprintf(buf, sizeof buf, "applied %s", m->applied_at);
			state = buf;
		}
		json_t *row = json_pack("{s:i,s:s,s:s}", "version", m->version, "name", m->name, "state",
					!m->applied ? "pending" : !m->path || strcmp(m->sha256, m->applied_sha256) != 0
					? "changed" : "applied");
		if (m->applied)
			json_object_set_new(row, "applied_at", json_string(m->applied_at));
		json_array_append_new(list, row);
		if (!cli->json)
			printf("%04d    %-40s %s\n", m->version, m->name, state);
	}
	if (cli->json) {
		json_t *o = json_pack("{s:o,s:i,s:i,s:i}", "migrations", list, "pending", pending, "changed",
				      changed, "required_version", migrate_required_version());
		cli_json_out(o);
		json_decref(o);
	} else {
		json_decref(list);
		printf("%d pending, this build needs version %d\n", pending, migrate_required_version());
	}
	migrate_set_free(&set);
	return changed ? CLI_FAIL : CLI_OK;
}

const struct cli_command cli_db_commands[] = {
	{ "db", "migrate", "", "Apply the pending schema migrations, as the schema owner", db_migrate,
	  true },
	{ "db", "status", "", "List applied and pending migrations", db_status, true },
	{ NULL, NULL, NULL, NULL, NULL },
};
