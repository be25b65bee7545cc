/*
 * conformctl: the admin and verification tool of conform. Commands come in
 * groups ("conformctl db migrate"); the tables of the groups are in cmd_*.c.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mem.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: conformctl [SETTING]... GROUP COMMAND [ARG]...\n"
		     "Administer and verify conform (IoT security conformity certification).\n\n"
		     "Commands:\n");
	for (size_t g = 0; g < cli_group_count; g++)
		for (const struct cli_command *c = cli_groups[g]; c->group; c++) {
			char name[64];
			snprintf(name, sizeof name, "%s%s%s %s", c->group, c->name[0] ? " " : "", c->name,
				 c->args);
			fprintf(out, "  %-34s %s\n", name, c->summary);
		}
	fprintf(out, "\nEvery command takes --help. Settings (flag, environment variable):\n");
	char *help = config_help(CONFIG_CLI);
	fputs(help, out);
	free(help);
	fprintf(out, "With no database URL, conformctl uses the embedded PostgreSQL cluster that\n"
		     "deploy/local/run.sh starts under the data directory. With --url (CONFORM_URL)\n"
		     "and a token (CONFORM_TOKEN, --token-file FILE), the commands that do not need\n"
		     "the database owner work through conformd's API from anywhere. --json prints\n"
		     "a command's result as one JSON value.\n");
}

/*
 * Takes conformctl's own options out of argv (up to a lone --), wherever
 * they stand, so that "conformctl --json cert list" and "conformctl cert
 * list --json" mean the same: --json and --token-file FILE. Returns the new
 * argc, or -1 after a usage error.
 */
static int global_options(struct cli *cli, int argc, char **argv)
{
	int n = 1;
	bool rest = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (rest || strcmp(a, "--") == 0) {
			rest = true;
		} else if (strcmp(a, "--json") == 0) {
			cli->json = true;
			continue;
		} else if (strncmp(a, "--token-file=", 13) == 0) {
			cli->token_file = a + 13;
			continue;
		} else if (strcmp(a, "--token-file") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "conformctl: --token-file needs a value\n");
				return -1;
			}
			cli->token_file = argv[++i];
			continue;
		}
		argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}

static const char *os_user(void)
{
	struct passwd *pw = getpwuid(geteuid());
	return pw ? pw->pw_name : "unknown";
}

/* Runs a command: the token is read first when it works through the API. */
static int run(struct cli *cli, const struct cli_command *c, int argc, char **argv)
{
	struct cf_error err;
	config_use_log_level(&cli->cfg);
	snprintf(cli->command, sizeof cli->command, "%s%s%s", c->group, c->name[0] ? " " : "", c->name);
	if (cli->json && !c->json) {
		fprintf(stderr, "conformctl %s: --json: this command prints no data to give as JSON\n",
			cli->command);
		return CLI_USAGE;
	}
	if (cli->cfg.url[0] && cli_token_load(cli, &err))
		return cli_fail(&err);
	return c->handler(cli, c, argc, argv);
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct cf_error err;
	int status = CLI_USAGE;
	config_defaults(&cli.cfg);
	cli.os_user = os_user();
	cli.json = false;
	cli.token_file = NULL;
	cli.token = NULL;
	cli.command[0] = '\0';
	argc = global_options(&cli, argc, argv);
	if (argc < 0)
		goto out;

	const char *own = NULL;
	int i;
	if (config_load(&cli.cfg, CONFIG_CLI, argc, argv, (const char *[]){ "--help", "-h", "--version", NULL },
			&own, &i, &err)) {
		fprintf(stderr, "conformctl: %s\n", err.detail);
		goto out;
	}
	if (own && strcmp(own, "--version") == 0) {
		printf("conformctl %s\n", CONFORM_VERSION);
		status = CLI_OK;
		goto out;
	}
	if (own) {
		usage(stdout);
		status = CLI_OK;
		goto out;
	}
	if (i >= argc) {
		usage(stderr);
		goto out;
	}
	const char *group = argv[i];
	const char *name = i + 1 < argc ? argv[i + 1] : NULL;
	bool group_known = false;
	for (size_t g = 0; g < cli_group_count; g++)
		for (const struct cli_command *c = cli_groups[g]; c->group; c++) {
			if (strcmp(c->group, group) != 0)
				continue;
			group_known = true;
			if (c->name[0] == '\0') {
				/* the group is the command: its arguments follow the group */
				status = run(&cli, c, argc - i, argv + i);
				goto out;
			}
			if (name && strcmp(c->name, name) == 0) {
				status = run(&cli, c, argc - i - 1, argv + i + 1);
				goto out;
			}
		}
	if (group_known && name && (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)) {
		printf("Usage: conformctl %s COMMAND [ARG]...  (each command takes --help)\n\n", group);
		for (size_t g = 0; g < cli_group_count; g++)
			for (const struct cli_command *c = cli_groups[g]; c->group; c++)
				if (strcmp(c->group, group) == 0) {
					char line[64];
					snprintf(line, sizeof line, "%s %s", c->name, c->args);
					printf("  %-26s %s\n", line, c->summary);
				}
		status = CLI_OK;
		goto out;
	}
	if (!group_known) {
		fprintf(stderr, "conformctl: unknown command '%s' (see conformctl --help)\n", group);
	} else {
		fprintf(stderr, "conformctl %s: %s '%s'; one of:", group,
			name ? "unknown command" : "missing command", name ? name : "");
		for (size_t g = 0; g < cli_group_count; g++)
			for (const struct cli_command *c = cli_groups[g]; c->group; c++)
				if (strcmp(c->group, group) == 0)
					fprintf(stderr, " %s", c->name);
		fputc('\n', stderr);
	}
out:
	if (cli.token) {
		cf_wipe(cli.token, strlen(cli.token));
		free(cli.token);
	}
	if (cli.cfg.token)
		cf_wipe(cli.cfg.token, strlen(cli.cfg.token));
	config_free(&cli.cfg);
	return status;
}
