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
#include "log.h"

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

	if (config_from_env(&cli.cfg, CONFIG_CLI, &err)) {
		fprintf(stderr, "conformctl: %s\n", err.detail);
		goto out;
	}
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			status = CLI_OK;
			goto out;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("conformctl %s\n", CONFORM_VERSION);
			status = CLI_OK;
			goto out;
		}
		bool matched = false;
		if (config_parse_flag(&cli.cfg, CONFIG_CLI, argc, argv, &i, &matched, &err)) {
			fprintf(stderr, "conformctl: %s\n", err.detail);
			goto out;
		}
		if (!matched) {
			fprintf(stderr, "conformctl: unknown option '%s' (see conformctl --help)\n", argv[i]);
			goto out;
		}
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
				enum log_level level;
				if (log_parse_level(cli.cfg.log_level, &level, &err) == CF_OK)
					log_set_level(level);
				status = c->handler(&cli, c, argc - i, argv + i);
				goto out;
			}
			if (name && strcmp(c->name, name) == 0) {
				enum log_level level;
				if (log_parse_level(cli.cfg.log_level, &level, &err) == CF_OK)
					log_set_level(level);
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
