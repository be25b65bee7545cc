/*
 * conformctl key: signing keys. conform-signer (CONFORM_SIGNER_SOCKET) makes
 * and holds the private keys; the database keeps the public halves. Acting
 * locally as the operator; a body's administrator does the same through the
 * API (POST /v1/organisations/{id}/keys).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ids.h"
#include "jsonx.h"
#include "keys.h"
#include "mem.h"
#include "party.h"
#include "remote.h"
#include "signer.h"

static void print_key(const json_t *k)
{
	printf("%-44s %-11s %-36s %-20s %s\n", jsonx_str(k, "kid"), jsonx_str(k, "purpose"),
	       jsonx_str(k, "org_id") ? jsonx_str(k, "org_id") : "(the service)",
	       jsonx_str(k, "compromised_since") ? "COMPROMISED" : jsonx_str(k, "retired_at") ? "retired" : "active",
	       jsonx_str(k, "private_key_ref"));
}

/* The body a key command is about, through the API: --org as given, or the
 * token's holder's organisation. */
static cf_err remote_org(struct cli *cli, const char *org, char out[37], struct cf_error *err)
{
	char user[37];
	if (!org)
		return remote_me(cli, user, out, err);
	if (!ids_is_uuid(org))
		return cf_error_set(err, CF_EINVAL, NULL, "--org: %.40s is not an organisation id", org);
	snprintf(out, 37, "%s", org);
	return CF_OK;
}

static int key_generate_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *org = NULL;
	bool log_key = false;
	const struct cli_opt opts[] = {
		{ "org", &org, NULL, "the assessment body whose certificates the key signs (with --url: "
		  "default the token holder's)" },
		{ "log", NULL, &log_key, "a key for the service's transparency log instead (not with --url)" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	char *sock = NULL;
	json_t *out = NULL;
	struct audit_actor actor = cli_actor(cli);
	cf_err e;
	if (remote_on(cli) && !log_key) {
		/* the body's own administrator, through the API: its body by default */
		char org_id[37];
		e = remote_org(cli, org, org_id, &err);
		if (!e) {
			json_t *body = json_object();
			e = remote_json_on(cli, "POST", "/v1/organisations/%s/keys", org_id, body, &out, &err);
			json_decref(body);
		}
	} else {
		if ((org != NULL) == log_key) {
			fprintf(stderr, "conformctl key generate: give --org BODY-ID or --log\n");
			return CLI_USAGE;
		}
		sock = config_signer_socket(&cli->cfg);
		e = cli_db(cli, &db, &err);
		if (!e)
			e = signer_generate(db, &actor, org, sock, &out, &err);
		db_close(db);
		free(sock);
	}
	if ((rc = cli_result(cli, e, &err, out)) >= 0)
		return rc;
	printf("made key %s\n", jsonx_str(out, "kid"));
	print_key(out);
	json_decref(out);
	return CLI_OK;
}

static int key_import_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *org = NULL;
	bool log_key = false;
	const char *pos[1];
	const struct cli_opt opts[] = {
		{ "org", &org, NULL, "the assessment body whose certificates the key signs" },
		{ "log", NULL, &log_key, "the service's transparency log key instead" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	if ((org != NULL) == log_key) {
		fprintf(stderr, "conformctl key import: give --org BODY-ID or --log\n");
		return CLI_USAGE;
	}
	struct cf_error err;
	struct db *db = NULL;
	char *passphrase = NULL, *sock = config_signer_socket(&cli->cfg);
	json_t *out = NULL;
	struct audit_actor actor = cli_actor(cli);
	cf_err e = CF_OK;
	/* the file's own passphrase, if it has one: conform-signer seals the key
	 * again under the owner's */
	if (cli->cfg.key_passphrase_file[0])
		e = keys_read_passphrase_file(cli->cfg.key_passphrase_file, &passphrase, &err);
	if (!e)
		e = cli_db(cli, &db, &err);
	if (!e)
		e = signer_import(db, &actor, org, sock, pos[0], passphrase, &out, &err);
	keys_passphrase_free(passphrase);
	db_close(db);
	free(sock);
	if (e)
		return cli_fail(&err);
	if (cli->json)
		cli_json_out(out);
	else
		printf("registered key %s\n", jsonx_str(out, "kid"));
	json_decref(out);
	return CLI_OK;
}

static int key_list_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *org = NULL;
	const struct cli_opt opts[] = {
		{ "org", &org, NULL, "only the keys of this assessment body (with --url: default the token "
		  "holder's)" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	cf_err e = CF_OK;
	if (org && !ids_is_uuid(org))
		e = cf_error_set(&err, CF_EINVAL, NULL, "--org: %.40s is not an organisation id", org);
	if (!e && remote_on(cli)) {
		char org_id[37];
		e = remote_org(cli, org, org_id, &err);
		if (!e)
			e = remote_json_on(cli, "GET", "/v1/organisations/%s/keys", org_id, NULL, &out, &err);
	} else {
		if (!e)
			e = cli_db(cli, &db, &err);
		if (!e)
			e = signer_list(db, org, &out, &err);
		db_close(db);
	}
	if ((rc = cli_result(cli, e, &err, out)) >= 0)
		return rc;
	printf("%-44s %-11s %-36s %-20s %s\n", "KID", "PURPOSE", "ORGANISATION", "STATE", "PRIVATE KEY");
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(out, "items"), i, k)
		print_key(k);
	json_decref(out);
	return CLI_OK;
}

static int key_retire_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	char *sock = config_signer_socket(&cli->cfg);
	json_t *out = NULL;
	struct audit_actor actor = cli_actor(cli);
	cf_err e;
	if (remote_on(cli)) {
		json_t *body = json_object();
		e = remote_json_on(cli, "POST", "/v1/keys/%s/retire", pos[0], body, &out, &err);
		json_decref(body);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = signer_retire(db, &actor, pos[0], NULL, sock, &out, &err);
		db_close(db);
	}
	free(sock);
	if ((rc = cli_result(cli, e, &err, out)) >= 0)
		return rc;
	printf("retired key %s: it signs nothing more and stays published\n", jsonx_str(out, "kid"));
	if (!json_is_true(json_object_get(out, "private_key_destroyed")))
		fprintf(stderr, "conformctl: conform-signer could not be told to destroy the private "
				"key; it is unused, and `key retire %s` again destroys it\n",
			jsonx_str(out, "kid"));
	json_decref(out);
	return CLI_OK;
}

static int key_revoke_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *since = NULL, *reason = NULL;
	bool compromised = false;
	const char *pos[1];
	const struct cli_opt opts[] = {
		{ "compromised", NULL, &compromised, "the key is compromised (required: an ordinary end of use "
		  "is conformctl key retire)" },
		{ "since", &since, NULL, "RFC 3339 time from which the key is not to be trusted: what it "
		  "signed at or after it verifies as key compromised" },
		{ "reason", &reason, NULL, "what happened, for the audit trail (optional)" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	if (!compromised || !since) {
		fprintf(stderr, "conformctl key revoke: give --compromised --since TIME (a key that is "
				"simply no longer used: conformctl key retire KID)\n");
		return CLI_USAGE;
	}
	struct cf_error err;
	struct db *db = NULL;
	char *sock = config_signer_socket(&cli->cfg);
	json_t *out = NULL;
	struct audit_actor actor = cli_actor(cli);
	cf_err e;
	if (remote_on(cli)) {
		json_t *body = json_pack("{s:b,s:s,s:s}", "compromised", 1, "since", since, "reason",
					 reason ? reason : "declared compromised with conformctl");
		e = remote_json_on(cli, "POST", "/v1/keys/%s/revoke", pos[0], body, &out, &err);
		json_decref(body);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = cli_public_url(cli, db, &err);
		if (!e)
			e = signer_compromise(db, &actor, cli->cfg.public_url, sock, pos[0], NULL, since,
					      reason, &out, &err);
		db_close(db);
	}
	free(sock);
	if ((rc = cli_result(cli, e, &err, out)) >= 0)
		return rc;
	printf("revoked key %s as compromised since %s: it left the DID document's assertion methods; "
	       "%lld certificate(s) it signed since then now verify as key compromised; log entry %lld\n",
	       jsonx_str(out, "kid"), jsonx_str(out, "compromised_since"),
	       (long long)json_integer_value(json_object_get(out, "certificates_signed_since")),
	       (long long)json_integer_value(json_object_get(out, "log_index")));
	json_decref(out);
	return CLI_OK;
}

const struct cli_command cli_key_commands[] = {
	{ "key", "generate", "", "Have conform-signer make a key for a body (--org) or the log (--log)",
	  key_generate_cmd, true },
	{ "key", "import", "PATH-OR-URI", "Hand an existing key (PEM file or OSSL_STORE URI) to conform-signer",
	  key_import_cmd, true },
	{ "key", "list", "", "List the signing keys", key_list_cmd, true },
	{ "key", "retire", "KID", "Retire a key: the signer destroys it, its signatures stay verifiable",
	  key_retire_cmd, true },
	{ "key", "revoke", "KID", "Revoke a compromised key (--compromised --since TIME): what it "
	  "signed since then fails verification", key_revoke_cmd, true },
	{ NULL, NULL, NULL, NULL, NULL },
};
