/*
 * cli: option parsing, errors and connections shared by the commands (see
 * cli.h).
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "identity.h"
#include "mem.h"

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
	printf("  %-24s %s\n\nSettings (flag, environment variable):\n", "--help", "show this help");
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

int cli_fail(const struct cf_error *err)
{
	if (err->pointer[0])
		fprintf(stderr, "conformctl: %s (at %s)\n", err->detail, err->pointer);
	else
		fprintf(stderr, "conformctl: %s\n", err->detail);
	return CLI_FAIL;
}

cf_err cli_db(struct cli *cli, struct db **out, struct cf_error *err)
{
	char *conninfo = config_runtime_conninfo(&cli->cfg);
	cf_err e = db_connect(conninfo, out, err);
	free(conninfo);
	return e;
}

cf_err cli_db_owner(struct cli *cli, struct db **out, struct cf_error *err)
{
	char *conninfo = config_owner_conninfo(&cli->cfg);
	cf_err e = db_connect(conninfo, out, err);
	free(conninfo);
	return e;
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
