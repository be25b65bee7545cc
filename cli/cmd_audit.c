/*
 * conformctl audit: check the hash chain of the audit trail.
 */
#include <stdio.h>

#include "audit.h"
#include "cli.h"

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
	if (check.first_broken) {
		fprintf(stderr, "conformctl: the audit trail is broken at record %lld: %s\n",
			check.first_broken, check.problem);
		return CLI_FAIL;
	}
	printf("the audit trail is intact: %lld records, each chained to the one before\n",
	       check.records);
	return CLI_OK;
}

const struct cli_command cli_audit_commands[] = {
	{ "audit", "verify", "",
	  "Recompute the audit trail's hash chain; name the first broken record (exit 1)",
	  audit_verify_cmd },
	{ NULL, NULL, NULL, NULL, NULL },
};
