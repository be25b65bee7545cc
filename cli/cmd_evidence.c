/*
 * conformctl evidence gc (also: conformctl janitor): the evidence janitor
 * run once, as conformd runs it every janitor-interval seconds. It removes
 * the evidence files no evidence references once their grace period
 * (evidence-grace) has passed; see evidence_gc in core/evidence.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "evidence.h"
#include "mem.h"

static int evidence_gc_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	struct evidence_gc_result r;
	struct audit_actor actor = cli_actor(cli);
	char *root = cf_asprintf("%s/blobs", cli->cfg.data_dir);
	cf_err e = cli_db(cli, &db, &err);
	if (!e)
		e = evidence_gc(db, &actor, root, cli->cfg.evidence_grace, &r, &err);
	db_close(db);
	free(root);
	if (e)
		return cli_fail(&err);
	if (cli->json) {
		json_t *o = json_pack("{s:b,s:I,s:I,s:i,s:I}", "skipped", r.skipped, "removed",
				      (json_int_t)r.removed, "bytes", (json_int_t)r.bytes, "abandoned_uploads",
				      r.tmp_removed, "kept", (json_int_t)r.kept);
		cli_json_out(o);
		json_decref(o);
		return CLI_OK;
	}
	if (r.skipped) {
		printf("another janitor is running: nothing done\n");
		return CLI_OK;
	}
	printf("removed %lld unreferenced evidence files (%llu bytes) and %d abandoned uploads; kept %lld\n",
	       r.removed, r.bytes, r.tmp_removed, r.kept);
	return CLI_OK;
}

const struct cli_command cli_evidence_commands[] = {
	{ "evidence", "gc", "",
	  "Remove evidence files no evidence references, once past their grace period (evidence-grace)",
	  evidence_gc_cmd, true },
	{ "janitor", "", "", "The same as evidence gc", evidence_gc_cmd, true },
	{ NULL, NULL, NULL, NULL, NULL },
};
