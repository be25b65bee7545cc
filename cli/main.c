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

static const struct cli_command *const groups[] = {
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

static void usage(FILE *out)
{
	fprintf(out, "Usage: conformctl [SETTING]... GROUP COMMAND [ARG]...\n"
		     "Administer and verify conform (IoT security conformity certification).\n\n"
		     "Commands:\n");
	for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (const struct cli_command *c = groups[g]; c->group; c++) {
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
		     "deploy/local/run.sh starts under the data directory.\n");
}

static const char *os_user(void)
{
	struct passwd *pw = getpwuid(geteuid());
	return pw ? pw->pw_name : "unknown";
}

int main(int argc, char **argv)
{
	struct cli cli;
	struct cf_error err;
	int status = CLI_USAGE;
	config_defaults(&cli.cfg);
	cli.os_user = os_user();

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
	for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
		for (const struct cli_command *c = groups[g]; c->group; c++) {
			if (strcmp(c->group, group) != 0)
				continue;
			group_known = true;
			if (c->name[0] == '\0') {
				/* the group is the command: its arguments follow the group */
				config_use_log_level(&cli.cfg);
				status = c->handler(&cli, c, argc - i, argv + i);
				goto out;
			}
			if (name && strcmp(c->name, name) == 0) {
				config_use_log_level(&cli.cfg);
				status = c->handler(&cli, c, argc - i - 1, argv + i + 1);
				goto out;
			}
		}
	if (group_known && name && (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)) {
		printf("Usage: conformctl %s COMMAND [ARG]...  (each command takes --help)\n\n", group);
		for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
			for (const struct cli_command *c = groups[g]; c->group; c++)
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
		for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
			for (const struct cli_command *c = groups[g]; c->group; c++)
				if (strcmp(c->group, group) == 0)
					fprintf(stderr, " %s", c->name);
		fputc('\n', stderr);
	}
out:
	config_free(&cli.cfg);
	return status;
}
