/*
 * conformctl identity: the service's one public URL (its issuer identity),
 * shown, or stored before conformd's first start. It is never changed: see
 * identity.h and docs/operations.md.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "identity.h"
#include "jsonx.h"
#include "remote.h"
#include "signer.h"

/* Through the API: the service and who the token is (GET /v1/me). */
static int remote_identity(struct cli *cli, struct cf_error *err)
{
	json_t *me = NULL;
	if (remote_json(cli, "GET", "/v1/me", NULL, &me, err))
		return cli_fail(err);
	if (cli->json) {
		json_t *o = json_pack("{s:s,s:O}", "url", cli->cfg.url, "me", me);
		cli_json_out(o);
		json_decref(o);
	} else {
		const json_t *u = json_object_get(me, "user"), *o = json_object_get(me, "organisation");
		printf("service:      %s\n", cli->cfg.url);
		printf("user:         %s <%s> (%s)\n", jsonx_str(u, "name"), jsonx_str(u, "email"),
		       jsonx_str(u, "id"));
		printf("organisation: %s (%s)\n", jsonx_str(o, "name"), jsonx_str(o, "id"));
		printf("roles:       ");
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(me, "roles"), i, r)
			printf(" %s", json_string_value(r));
		printf("\ntoken:        %s\n", jsonx_str(json_object_get(me, "token"), "id"));
	}
	json_decref(me);
	return CLI_OK;
}

static int identity_show_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	if (remote_on(cli))
		return remote_identity(cli, &err);
	struct db *db = NULL;
	char *url = NULL, when[40] = "", by[200] = "";
	cf_err e = cli_db(cli, &db, &err);
	if (!e)
		e = identity_get(db, &url, when, by, &err);
	db_close(db);
	if (e)
		return cli_fail(&err);
	if (!url) {
		fprintf(cli->json ? stderr : stdout, "no public URL is stored yet: conformd stores it at "
			"its first start, or conformctl identity set URL\n");
		return CLI_FAIL;
	}
	char did[SIGNER_DID_LEN];
	signer_did(url, "<body id>", did);
	bool loopback = false;
	struct cf_error ignored;
	bool warn = identity_check(url, &loopback, &ignored) != CF_OK || loopback;
	if (cli->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b}", "public_url", url, "stored_at", when,
				      "stored_by", by, "issuer_did", did, "did_web_resolvable", !warn);
		cli_json_out(o);
		json_decref(o);
		free(url);
		return CLI_OK;
	}
	printf("public URL:  %s\nstored:      %s by %s\nissuer DIDs: %s\n", url, when, by, did);
	if (warn)
		printf("warning:     %s\n", identity_loopback_warning());
	free(url);
	return CLI_OK;
}

static int identity_set_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	/* the same syntax rules as the setting */
	struct config check;
	struct cf_error err;
	config_defaults(&check);
	char flag[CONFIG_URL_MAX + 32];
	snprintf(flag, sizeof flag, "--public-url=%s", pos[0]);
	char *fargv[] = { flag };
	int i = 0;
	bool matched = false;
	cf_err e = config_parse_flag(&check, CONFIG_CLI, 1, fargv, &i, &matched, &err);
	if (e) {
		config_free(&check);
		return cli_fail(&err);
	}
	struct identity_request rq = {
		.explicit_url = check.public_url,
		.setting = "the URL given",
		.set_by = "conformctl identity set",
		.may_store = true,
	};
	struct db *db = NULL;
	struct audit_actor actor = cli_actor(cli);
	char *url = NULL;
	bool unresolvable = false, stored = false;
	e = cli_db(cli, &db, &err);
	if (!e)
		e = identity_resolve(db, &actor, &rq, &url, &unresolvable, &stored, &err);
	db_close(db);
	config_free(&check);
	if (e)
		return cli_fail(&err);
	printf("%s %s\n", stored ? "stored the public URL" : "the public URL is already", url);
	if (unresolvable)
		fprintf(stderr, "conformctl: warning: public URL %s: %s\n", url, identity_loopback_warning());
	free(url);
	return CLI_OK;
}

const struct cli_command cli_identity_commands[] = {
	{ "identity", "show", "", "Show the service's public URL (its issuer identity); with --url: "
	  "who the token is",
	  identity_show_cmd, true },
	{ "identity", "set", "URL",
	  "Store the public URL before conformd's first start (it never changes after)",
	  identity_set_cmd },
	{ NULL, NULL, NULL, NULL, NULL },
};
