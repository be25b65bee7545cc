/*
 * conformctl log: the transparency log, checked from the database up.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "note.h"
#include "signer.h"
#include "tlog.h"

static int log_verify_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	struct tlog_check check;
	cf_err e = cli_db(cli, &db, &err);
	if (!e)
		e = tlog_verify(db, &check, &err);
	db_close(db);
	if (e)
		return cli_fail(&err);
	if (check.problem[0]) {
		fprintf(stderr, "conformctl: the log does not verify: %s\n", check.problem);
		return CLI_FAIL;
	}
	printf("the log verifies: %lld entries rebuilt into the RFC 9162 tree, %lld signed checkpoints "
	       "match it and their signatures hold\n", check.entries, check.checkpoints);
	return CLI_OK;
}

static int log_key_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	char kid[SIGNER_KID_LEN], origin[256];
	unsigned char pub[32];
	cf_err e = cli_db(cli, &db, &err);
	if (!e)
		e = cli_public_url(cli, db, &err);
	if (!e)
		e = signer_current(db, NULL, kid, pub, &err);
	db_close(db);
	if (e)
		return cli_fail(&err);
	tlog_origin(cli->cfg.public_url, origin, sizeof origin);
	char *vkey = note_vkey(origin, pub);
	printf("%s\n", vkey);
	free(vkey);
	return CLI_OK;
}

const struct cli_command cli_log_commands[] = {
	{ "log", "verify", "", "Rebuild the transparency log and check every signed checkpoint",
	  log_verify_cmd },
	{ "log", "key", "", "Print the log's verifier key (C2SP note form)", log_key_cmd },
	{ NULL, NULL, NULL, NULL, NULL },
};
