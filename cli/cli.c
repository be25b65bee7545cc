/*
 * cli: option parsing, errors and connections shared by the commands (see
 * cli.h).
 */
#include "cli.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "mem.h"
#include "remote.h"

/* Every group's table, in the order conformctl --help lists them. */
const struct cli_command *const cli_groups[] = {
	cli_db_commands,
	cli_scheme_commands,
	cli_audit_commands,
	cli_bootstrap_commands,
	cli_token_commands,
	cli_key_commands,
	cli_cert_commands,
	cli_log_commands,
	cli_evidence_commands,
	cli_demo_commands,
	cli_identity_commands,
};
const size_t cli_group_count = sizeof cli_groups / sizeof cli_groups[0];

/* "db migrate", or "bootstrap" for a group that is its own command. */
static const char *label(const struct cli_command *cmd, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", cmd->group, cmd->name[0] ? " " : "", cmd->name);
	return buf;
}

static void command_help(const struct cli_command *cmd, const struct cli_opt *opts)
{
	printf("Usage: conformctl %s%s%s [OPTION]...%s%s\n%s.\n\nOptions:\n", cmd->group,
	       cmd->name[0] ? " " : "", cmd->name, cmd->args[0] ? " " : "", cmd->args, cmd->summary);
	for (const struct cli_opt *o = opts; o && o->name; o++) {
		char flag[64];
		snprintf(flag, sizeof flag, "--%s%s", o->name, o->value ? " VALUE" : "");
		printf("  %-24s %s\n", flag, o->help);
	}
	printf("  %-24s %s\n", "--help", "show this help");
	if (cmd->json)
		printf("  %-24s %s\n", "--json", "print the result as one JSON value (messages go to stderr)");
	printf("  %-24s %s\n", "--token-file FILE", "the API token for --url: the file's first line "
	       "(also CONFORM_TOKEN_FILE)");
	printf("\nSettings (flag, environment variable):\n");
	char *help = config_help(CONFIG_CLI);
	fputs(help, stdout);
	free(help);
}

int cli_parse(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
	      const struct cli_opt *opts, const char **pos, int maxpos, int *npos, int minpos)
{
	char lb[64];
	*npos = 0;
	for (int i = 1; i < argc;) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			command_help(cmd, opts);
			return CLI_OK;
		}
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++) {
				if (*npos == maxpos)
					goto too_many;
				pos[(*npos)++] = argv[i];
			}
			break;
		}
		/* Options are long (--name); a word with one dash is an argument,
		 * such as a key id, whose base64url alphabet includes '-'. */
		if (a[0] == '-' && a[1] == '-') {
			const struct cli_opt *o = opts;
			const char *eq = strchr(a, '=');
			size_t nlen = eq ? (size_t)(eq - a) - 2 : strlen(a) - 2;
			while (o && o->name &&
			       !(a[1] == '-' && strlen(o->name) == nlen && strncmp(a + 2, o->name, nlen) == 0))
				o++;
			if (o && o->name) {
				if (o->flag) {
					if (eq) {
						fprintf(stderr, "conformctl %s: --%s takes no value\n",
							label(cmd, lb, sizeof lb), o->name);
						return CLI_USAGE;
					}
					*o->flag = true;
				} else if (eq) {
					*o->value = eq + 1;
				} else if (i + 1 < argc) {
					*o->value = argv[++i];
				} else {
					fprintf(stderr, "conformctl %s: --%s needs a value\n", label(cmd, lb, sizeof lb), o->name);
					return CLI_USAGE;
				}
				i++;
				continue;
			}
			bool matched = false;
			struct cf_error err;
			if (config_parse_flag(&cli->cfg, CONFIG_CLI, argc, argv, &i, &matched, &err)) {
				fprintf(stderr, "conformctl: %s\n", err.detail);
				return CLI_USAGE;
			}
			if (matched)
				continue;
			fprintf(stderr, "conformctl %s: unknown option '%s' (see --help; an argument that "
				"begins with -- goes after a lone --)\n", label(cmd, lb, sizeof lb), a);
			return CLI_USAGE;
		}
		if (*npos == maxpos)
			goto too_many;
		pos[(*npos)++] = a;
		i++;
	}
	if (*npos < minpos) {
		fprintf(stderr, "conformctl %s: missing %s (see --help)\n", label(cmd, lb, sizeof lb),
			cmd->args);
		return CLI_USAGE;
	}
	return -1;
too_many:
	fprintf(stderr, "conformctl %s: too many arguments (see --help)\n", label(cmd, lb, sizeof lb));
	return CLI_USAGE;
}

int cli_result(struct cli *cli, cf_err e, const struct cf_error *err, json_t *out)
{
	if (e) {
		json_decref(out);
		return cli_fail(err);
	}
	if (cli->json) {
		cli_json_out(out);
		json_decref(out);
		return CLI_OK;
	}
	return -1;
}

int cli_fail(const struct cf_error *err)
{
	if (err->pointer[0])
		fprintf(stderr, "conformctl: %s (at %s)\n", err->detail, err->pointer);
	else
		fprintf(stderr, "conformctl: %s\n", err->detail);
	return CLI_FAIL;
}

void cli_json_out(const json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2));
	putchar('\n');
}

/* The first line of path (at most 4 KiB) as a new string; setting names
 * where the path came from. */
static cf_err first_line(const char *path, const char *setting, char **out, struct cf_error *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return cf_error_set(err, CF_EIO, NULL, "%s %s: cannot open: %m", setting, path);
	char line[4096];
	bool got = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	size_t n = got ? strcspn(line, "\r\n") : 0;
	bool whole = got && (line[n] != '\0' || n < sizeof line - 1);
	line[n] = '\0';
	if (!whole || n == 0) {
		cf_wipe(line, sizeof line);
		return cf_error_set(err, CF_EINVAL, NULL, "%s %s: %s", setting, path,
				    n == 0 ? "its first line is empty: no token"
					   : "its first line is longer than 4 KiB");
	}
	*out = cf_strdup(line);
	cf_wipe(line, sizeof line);
	return CF_OK;
}

/* The file-based form is read here, in cli/, until the settings table reads
 * *_FILE for every setting; the order is the settings' own: flag, then
 * environment. */
cf_err cli_token_load(struct cli *cli, struct cf_error *err)
{
	if (cli->token_file)
		return first_line(cli->token_file, "--token-file", &cli->token, err);
	if (cli->cfg.token && cli->cfg.token[0]) {
		cli->token = cf_strdup(cli->cfg.token);
		return CF_OK;
	}
	const char *env = getenv("CONFORM_TOKEN_FILE");
	if (env && env[0])
		return first_line(env, "CONFORM_TOKEN_FILE", &cli->token, err);
	return CF_OK;
}

/* Does the embedded cluster's socket directory hold a PostgreSQL socket? */
static bool embedded_socket_present(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, ".s.PGSQL.", 9) == 0;
	closedir(d);
	return found;
}

/* A failed connection to the embedded cluster: when nothing listens there,
 * the message names the settings that say where the cluster is, instead of
 * libpq's view of a relative directory as a host name. */
static cf_err connect_db(struct cli *cli, char *conninfo, bool embedded, struct db **out,
			 struct cf_error *err)
{
	cf_err e = db_connect(conninfo, out, err);
	free(conninfo);
	if (!e || !embedded)
		return e;
	char *dir = config_socket_dir(&cli->cfg);
	if (!embedded_socket_present(dir))
		e = cf_error_set(err, CF_EUNAVAILABLE, NULL,
				 "no PostgreSQL at the embedded cluster's socket %s (data-dir %s, "
				 "CONFORM_DATA_DIR / --data-dir): start it with deploy/local/run.sh, or set "
				 "CONFORM_DATABASE_URL / --database-url, or work through the API with --url "
				 "(CONFORM_URL)",
				 dir, cli->cfg.data_dir);
	free(dir);
	return e;
}

/* A URL and no database setting: the operator means the API. */
static bool api_only(const struct cli *cli)
{
	return cli->cfg.url[0] && !cli->cfg.database_url[0] && !cli->cfg.database_owner_url[0];
}

cf_err cli_db(struct cli *cli, struct db **out, struct cf_error *err)
{
	*out = NULL;
	if (api_only(cli))
		return remote_needs_database(cli->command, err);
	return connect_db(cli, config_runtime_conninfo(&cli->cfg), !cli->cfg.database_url[0], out,
			  err);
}

cf_err cli_db_owner(struct cli *cli, struct db **out, struct cf_error *err)
{
	*out = NULL;
	if (api_only(cli))
		return remote_needs_database(cli->command, err);
	return connect_db(cli, config_owner_conninfo(&cli->cfg),
			  !cli->cfg.database_owner_url[0] && !cli->cfg.database_url[0], out, err);
}

cf_err cli_public_url(struct cli *cli, struct db *db, struct cf_error *err)
{
	struct identity_request rq = {
		.explicit_url = cli->cfg.public_url[0] ? cli->cfg.public_url : NULL,
		.setting = "--public-url (CONFORM_PUBLIC_URL)",
		.may_store = false,
	};
	struct audit_actor actor = cli_actor(cli);
	char *url = NULL;
	bool unresolvable = false, stored = false;
	cf_err e = identity_resolve(db, &actor, &rq, &url, &unresolvable, &stored, err);
	if (e)
		return e;
	if (unresolvable)
		fprintf(stderr, "conformctl: warning: public URL %s: %s\n", url, identity_loopback_warning());
	free(cli->cfg.public_url);
	cli->cfg.public_url = url;
	return CF_OK;
}

struct audit_actor cli_actor(const struct cli *cli)
{
	struct audit_actor a = { "cli", cli->os_user, NULL };
	return a;
}
