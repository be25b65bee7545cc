/*
 * cli: what conformctl's command groups share: the command table type, the
 * option parser (every command has --help; an unknown option is a usage
 * error, exit 2), database connections, and turning a cf_error into a
 * message and an exit code.
 */
#ifndef CONFORM_CLI_H
#define CONFORM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "audit.h"
#include "config.h"
#include "db.h"
#include "error.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

struct cli {
	struct config cfg;
	const char *os_user;  /* for audit records of CLI actions */
	bool json;            /* --json: the result as one JSON value on stdout */
	const char *token_file; /* --token-file (borrowed from argv), or NULL */
	char *token;          /* the API token for cfg.url (owned, wiped on exit), or NULL */
	char command[64];     /* "db migrate": the command running, for messages */
};

struct cli_command;
typedef int (*cli_handler)(struct cli *cli, const struct cli_command *cmd, int argc, char **argv);

struct cli_command {
	const char *group;     /* "db" */
	const char *name;      /* "migrate"; "" when the group is the command */
	const char *args;      /* "FILE..." for the usage line, or "" */
	const char *summary;
	cli_handler handler;
	bool json;             /* prints its result as JSON with --json */
};

/* An option of a command: --name VALUE (value != NULL) or --name (flag). */
struct cli_opt {
	const char *name;
	const char **value;
	bool *flag;
	const char *help;
};

/*
 * Parses argv[1..] of a command (argv[0] is its name) against opts and the
 * CLI's configuration flags; collects positional arguments in pos (borrowed
 * from argv, at most maxpos). Returns -1 to go on, or an exit status: 0 after
 * printing --help, 2 after a usage error.
 */
int cli_parse(struct cli *cli, const struct cli_command *cmd, int argc, char **argv,
	      const struct cli_opt *opts, const char **pos, int maxpos, int *npos,
	      int minpos);

/* Prints "conformctl: <detail>" (and the JSON pointer when set) to stderr
 * and returns the exit status for err. */
int cli_fail(const struct cf_error *err);

/* Prints v (borrowed) as the one JSON value of the run on stdout (--json). */
void cli_json_out(const json_t *v);

/*
 * How a command that has its result in out ends, when it ends here: with e
 * set, err's message (cli_fail); with --json, out as the one JSON value.
 * Both take out (may be NULL) and return the exit status. Otherwise -1:
 * the command prints out its own way (out is still the caller's).
 */
int cli_result(struct cli *cli, cf_err e, const struct cf_error *err, json_t *out);

/*
 * The API token for --url, into cli->token: --token-file FILE (its first
 * line), else --token / CONFORM_TOKEN, else CONFORM_TOKEN_FILE (its first
 * line). None is no error (public reads need none). Errors name the file.
 */
cf_err cli_token_load(struct cli *cli, struct cf_error *err) CF_MUST_CHECK;

/* Connections as the runtime role, or as the schema owner (migrations).
 * With --url and no database setting, an error naming --url: the command
 * needs the database, not the API. */
cf_err cli_db(struct cli *cli, struct db **out, struct cf_error *err) CF_MUST_CHECK;
cf_err cli_db_owner(struct cli *cli, struct db **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * Replaces cli->cfg.public_url with the service's stored identity (see
 * identity.h): conformctl never signs or names anything under another URL.
 * A --public-url that differs from it is refused; so is a database with no
 * identity yet. Warns on stderr when the identity is not did:web-resolvable.
 */
cf_err cli_public_url(struct cli *cli, struct db *db, struct cf_error *err) CF_MUST_CHECK;

/* The audit actor of conformctl's changes: the operating-system user. */
struct audit_actor cli_actor(const struct cli *cli);

/* The command tables of each group (cmd_*.c). */
extern const struct cli_command cli_db_commands[];
extern const struct cli_command cli_scheme_commands[];
extern const struct cli_command cli_audit_commands[];
extern const struct cli_command cli_bootstrap_commands[];
extern const struct cli_command cli_token_commands[];
extern const struct cli_command cli_key_commands[];
extern const struct cli_command cli_log_commands[];
extern const struct cli_command cli_evidence_commands[];
extern const struct cli_command cli_cert_commands[];
extern const struct cli_command cli_demo_commands[];
extern const struct cli_command cli_identity_commands[];

/* The groups' tables, each ended by a row with a NULL group: what conformctl
 * dispatches on and lists in --help (and the tests hold the docs to). */
extern const struct cli_command *const cli_groups[];
extern const size_t cli_group_count;

#endif
