/*
 * conformctl bootstrap and token: the first admin, and API tokens. The
 * command line is the operator beside the database and acts as the scheme
 * owner's admin: tokens for the scheme owner's people, and first tokens for
 * other organisations' administrators; never for a body's staff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ids.h"
#include "jsonx.h"
#include "mem.h"
#include "party.h"
#include "remote.h"

static int bootstrap_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *org_name = NULL, *country = NULL, *email = NULL, *website = NULL;
	const char *admin_name = NULL, *admin_email = NULL;
	const struct cli_opt opts[] = {
		{ "org-name", &org_name, NULL, "the scheme owner's name (required)" },
		{ "country", &country, NULL, "its ISO 3166-1 alpha-2 country code (required)" },
		{ "email", &email, NULL, "its contact e-mail address (required)" },
		{ "website", &website, NULL, "its website" },
		{ "admin-name", &admin_name, NULL, "the first admin's name (required)" },
		{ "admin-email", &admin_email, NULL, "the first admin's e-mail address (required)" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	if (!org_name || !country || !email || !admin_name || !admin_email) {
		fprintf(stderr, "conformctl bootstrap: --org-name, --country, --email, --admin-name and "
				"--admin-email are required (see --help)\n");
		return CLI_USAGE;
	}
	json_t *org = json_pack("{s:s,s:s,s:{s:s}}", "name", org_name, "country", country, "contact",
				"email", email);
	if (website)
		json_object_set_new(org, "website", json_string(website));
	json_t *admin = json_pack("{s:s,s:s}", "name", admin_name, "email", admin_email);
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	struct audit_actor actor = cli_actor(cli);
	cf_err e = cli_db(cli, &db, &err);
	if (!e)
		e = party_bootstrap(db, &actor, org, admin, &out, &err);
	db_close(db);
	json_decref(org);
	json_decref(admin);
	if ((rc = cli_result(cli, e, &err, out)) >= 0)
		return rc;
	json_t *user = json_object_get(out, "user"), *token = json_object_get(out, "token");
	printf("scheme owner: %s (%s)\n", jsonx_str(json_object_get(out, "organisation"), "name"),
	       jsonx_str(json_object_get(out, "organisation"), "id"));
	printf("admin:        %s <%s> (%s)\n", jsonx_str(user, "name"), jsonx_str(user, "email"),
	       jsonx_str(user, "id"));
	printf("token:        %s\n", jsonx_str(token, "token"));
	printf("              expires %s; shown this once, never stored: keep it safe.\n",
	       jsonx_str(token, "expires_at"));
	json_decref(out);
	return CLI_OK;
}

/* The user a token command is about, through the API: an id as given (the
 * API finds no one by e-mail address), or the token's own holder. */
static cf_err remote_user(struct cli *cli, const char *user, char uid[37], struct cf_error *err)
{
	char org[37];
	if (!user)
		return remote_me(cli, uid, org, err);
	if (!ids_is_uuid(user))
		return cf_error_set(err, CF_EINVAL, NULL, "--user: through the API, give the user's id "
				    "(GET /v1/users lists them), not %.80s", user);
	snprintf(uid, 37, "%s", user);
	return CF_OK;
}

static int token_create_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *user = NULL, *name = NULL, *days = NULL;
	const struct cli_opt opts[] = {
		{ "user", &user, NULL,
		  "the user, by id or e-mail address: a person of the scheme owner, or another "
		  "organisation's administrator with no active token (required; with --url: an id, "
		  "default the token's holder)" },
		{ "name", &name, NULL, "what the token is for" },
		{ "days", &days, NULL, "days until it expires (default 90, at most 730)" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	if (!user && !remote_on(cli)) {
		fprintf(stderr, "conformctl token create: --user is required\n");
		return CLI_USAGE;
	}
	char *end = NULL;
	long d = days ? strtol(days, &end, 10) : TOKEN_DAYS_DEFAULT;
	if (days && (*end || d < 1 || d > TOKEN_DAYS_MAX)) {
		fprintf(stderr, "conformctl token create: --days must be 1 to %d\n", TOKEN_DAYS_MAX);
		return CLI_USAGE;
	}
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	char uid[37];
	struct audit_actor actor = cli_actor(cli);
	cf_err e;
	if (remote_on(cli)) {
		e = remote_user(cli, user, uid, &err);
		if (!e) {
			json_t *body = json_pack("{s:I}", "expires_in_days", (json_int_t)d);
			if (name)
				json_object_set_new(body, "name", json_string(name));
			e = remote_json_on(cli, "POST", "/v1/users/%s/tokens", uid, body, &out, &err);
			json_decref(body);
		}
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = party_user_find(db, user, uid, &err);
		if (!e)
			e = party_token_create(db, &actor, NULL, uid, name, (int)d, &out, &err);
		db_close(db);
	}
	if ((rc = cli_result(cli, e, &err, out)) >= 0)
		return rc;
	printf("token %s for user %s, expires %s:\n%s\n(shown this once, never stored)\n",
	       jsonx_str(out, "id"), uid, jsonx_str(out, "expires_at"), jsonx_str(out, "token"));
	json_decref(out);
	return CLI_OK;
}

static int token_list_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *user = NULL;
	const struct cli_opt opts[] = {
		{ "user", &user, NULL, "only this user's tokens (id or e-mail address; with --url: an "
		  "id, default the token's holder)" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	char uid[37];
	cf_err e;
	if (remote_on(cli)) {
		e = remote_user(cli, user, uid, &err);
		if (!e)
			e = remote_json_on(cli, "GET", "/v1/users/%s/tokens", uid, NULL, &out, &err);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e && user)
			e = party_user_find(db, user, uid, &err);
		if (!e)
			e = party_token_list(db, user ? uid : NULL, &out, &err);
		db_close(db);
	}
	if ((rc = cli_result(cli, e, &err, out)) >= 0)
		return rc;
	printf("%-36s %-36s %-8s %-12s %-20s %s\n", "TOKEN", "USER", "STATE", "ENDS WITH", "EXPIRES",
	       "NAME");
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(out, "items"), i, t)
		printf("%-36s %-36s %-8s ...%-9s %-20s %s\n", jsonx_str(t, "id"), jsonx_str(t, "user_id"),
		       jsonx_str(t, "state"), jsonx_str(t, "hint"), jsonx_str(t, "expires_at"),
		       jsonx_str(t, "name"));
	json_decref(out);
	return CLI_OK;
}

static int token_revoke_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	bool compromised = false;
	const struct cli_opt opts[] = {
		{ "compromised", NULL, &compromised,
		  "it was stolen: also revoke every token made with it for the same person" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	struct audit_actor actor = cli_actor(cli);
	cf_err e;
	if (remote_on(cli)) {
		json_t *body = json_pack("{s:b}", "compromised", compromised);
		e = remote_json_on(cli, "POST", "/v1/tokens/%s/revoke", pos[0], body, &out, &err);
		json_decref(body);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = party_token_revoke(db, &actor, pos[0], compromised, &out, &err);
		db_close(db);
	}
	if ((rc = cli_result(cli, e, &err, out)) >= 0)
		return rc;
	printf("token %s revoked at %s\n", jsonx_str(out, "id"), jsonx_str(out, "revoked_at"));
	size_t i;
	json_t *id;
	json_array_foreach(json_object_get(out, "also_revoked"), i, id)
		printf("also revoked %s (made with it for the same person)\n", json_string_value(id));
	json_array_foreach(json_object_get(out, "handed_out"), i, id)
		printf("left live %s: made with it for someone else; their administrator may revoke it\n",
		       json_string_value(id));
	json_decref(out);
	return CLI_OK;
}

const struct cli_command cli_bootstrap_commands[] = {
	{ "bootstrap", "", "",
	  "Make the scheme owner, its first admin and the admin's token (once; prints the token)",
	  bootstrap_cmd, true },
	{ NULL, NULL, NULL, NULL, NULL },
};

const struct cli_command cli_token_commands[] = {
	{ "token", "create", "", "Make an API token for a user (printed once)", token_create_cmd, true },
	{ "token", "list", "", "List tokens (never their secrets)", token_list_cmd, true },
	{ "token", "revoke", "TOKEN-ID",
	  "Revoke a token (--compromised: and what it made for the same person)", token_revoke_cmd, true },
	{ NULL, NULL, NULL, NULL, NULL },
};
