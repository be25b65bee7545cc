/*
 * config: every setting of conformd, conformctl and conform-signer in one
 * declarative table. Each key "some-name" is read, in this order of
 * precedence (the first that gives it wins):
 *
 *   1. the flag --some-name VALUE, or --some-name-file PATH;
 *   2. the environment variable CONFORM_SOME_NAME, or CONFORM_SOME_NAME_FILE
 *      (both set: an error);
 *   3. a systemd credential: the file $CREDENTIALS_DIRECTORY/some-name;
 *   4. the configuration file: "some-name = VALUE" or "some-name-file = PATH"
 *      (both: an error);
 *   5. its default.
 *
 * Every *-file form takes the first line of that file (its line end
 * stripped) as the value; errors name the file and the setting, never the
 * value. The configuration file is --config FILE, else CONFORM_CONFIG (empty:
 * none), else, for an installed program only, /etc/conform/conform.conf
 * (missing is fine; a build tree's programs never read it, so that a
 * developer's build does not take a production setup). Its syntax is in
 * docs/operations.md, "The configuration file".
 */
#ifndef CONFORM_CONFIG_H
#define CONFORM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Which program a key belongs to (a key may belong to both). */
enum config_program { CONFIG_SERVER = 1, CONFIG_CLI = 2, CONFIG_SIGNER = 4 };

/* The longest public URL: http(s)://host[:port][/path], no trailing '/'. */
#define CONFIG_URL_MAX 200

struct config {
	char *data_dir;            /* embedded cluster, blobs, keys */
	char *database_url;        /* runtime role; "" = embedded cluster */
	char *database_owner_url;  /* schema owner, for migrations; "" = derived */
	char *database_read_url;   /* a hot standby for public reads; "" = none */
	char *migrations_dir;      /* "": the shipped ones (config_shipped_path) */
	char *listen;              /* host:port */
	char *public_url;          /* how buyers reach this service; see CONFIG_URL_MAX. "": not
				    * given. conformd and conformctl replace it with the stored
				    * identity (identity.h) before using it */
	char *url;                 /* conformctl: the API to work through; "": the database */
	char *token;               /* conformctl: the API token for url (a secret: never printed) */
	char *ca_file;             /* conformctl: CAs trusted for an https url; "": the system's */
	char *key_passphrase_file; /* of a PEM file conformctl key import reads */
	char *signer_socket;       /* conform-signer's socket; "": data_dir/signer/signer.sock */
	char *signer_dir;          /* conform-signer's own directory; "": data_dir/signer */
	char *pkcs11_module;       /* the PKCS#11 module conform-signer keeps keys in */
	char *log_level;
	char *log_format;          /* "text" or "json"; checked by conformd at start */
	long threads;              /* 0 = eight per CPU, at most 64 */
	long connection_limit;
	long per_address_connections; /* 0: no cap */
	long connection_timeout;   /* seconds idle */
	long head_timeout;         /* seconds for a whole request head */
	long body_timeout;         /* seconds for each 64 KiB of a body */
	long shutdown_timeout;     /* seconds */
	size_t max_body;           /* bytes of a JSON request body */
	size_t max_upload;         /* bytes of an evidence file */
	size_t evidence_quota;     /* bytes of evidence per organisation */
	long evidence_grace;       /* seconds an unreferenced blob is kept */
	long janitor_interval;     /* seconds between conformd's janitor runs; 0: none */
	size_t cert_cache;         /* bytes of cached certificate answers; 0: none */
	long max_json_depth;
	long auth_fail_limit;      /* failed authentications per address per minute */
	long complaint_limit;      /* complaints lodged per address per minute */
	char *trusted_proxies;     /* reverse proxies believed about X-Forwarded-For */
	char *metrics_allow;       /* who may read /metrics: addresses/CIDRs; "": everyone */
	char *witnesses_file;      /* the log's witnesses, "<vkey> <URL>" a line; "": none */
	long witness_quorum;       /* cosignatures that make a checkpoint witnessed; 0: all */
	long webhook_allow_private; /* 1: webhook targets may be non-public addresses */
	long webhook_retry_base;   /* seconds before a failed delivery's first retry */
	long webhook_retry_for;    /* seconds a delivery is retried before it fails */
	long webhook_timeout;      /* seconds per delivery attempt */
};

/* Fills cfg with the defaults. Free with config_free. */
void config_defaults(struct config *cfg);

/* Applies the CONFORM_* (and CONFORM_*_FILE) environment variables of the
 * program's keys. */
cf_err config_from_env(struct config *cfg, unsigned program, struct cf_error *err) CF_MUST_CHECK;

/* Applies the systemd credentials of the program's keys that exist
 * ($CREDENTIALS_DIRECTORY/<key name>); nothing when the variable is unset. */
cf_err config_from_credentials(struct config *cfg, unsigned program,
			       struct cf_error *err) CF_MUST_CHECK;

/*
 * Applies the configuration file at path: "name = value" lines, '#' comment
 * lines, blank lines. Keys of other programs are checked for their name
 * only. An unknown name, a name given twice or a bad value is an error that
 * names the file, the line and the setting. A missing file is an error only
 * when required.
 */
cf_err config_from_file(struct config *cfg, unsigned program, const char *path, bool required,
			struct cf_error *err) CF_MUST_CHECK;

/* The first line of the file path, without its line end, in *out (at most
 * 4096 bytes; the caller wipes and frees). Errors name the path only. */
cf_err config_read_secret(const char *path, char **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * The path of name among the shipped files (migrations, schemes), found from
 * the running program's own path: <exe dir>/share/conform in a build tree,
 * <exe dir>/../share/conform when installed. NULL when there is none. The
 * caller frees.
 */
char *config_shipped_path(const char *name);

/*
 * If argv[*i] is a flag of one of the program's keys, applies it (consuming
 * the next argument too for "--key value"), advances *i past it and sets
 * *matched. Errors name the flag and the problem.
 */
cf_err config_parse_flag(struct config *cfg, unsigned program, int argc, char **argv, int *i,
			 bool *matched, struct cf_error *err) CF_MUST_CHECK;

/*
 * A program's settings from its start: its configuration file (--config,
 * CONFORM_CONFIG or the default), systemd credentials, the CONFORM_*
 * environment of its keys, then its flags from argv[1] on (see the top of
 * this file). An empty migrations_dir becomes the shipped one. The parsing stops at the first of
 * own (the program's own flags such as "--help", NULL-terminated; may be
 * NULL), which is returned in *own_flag (NULL when none), and, when operand
 * is not NULL, at the first argument that is not a flag, whose index goes to
 * *operand (argc when there is none). Without operand such an argument is
 * an unknown option, as is a flag of none of the program's keys. Errors
 * name the flag and the problem.
 */
cf_err config_load(struct config *cfg, unsigned program, int argc, char **argv,
		   const char *const *own, const char **own_flag, int *operand,
		   struct cf_error *err) CF_MUST_CHECK;

/* Sets the process's log level to cfg's (checked when it was set; a level
 * that does not parse leaves the log level as it is). */
void config_use_log_level(const struct config *cfg);

/* One key of the settings table, for the tests that hold the docs to it. */
struct config_key_info {
	const char *name;     /* "data-dir" (the flag without its "--") */
	const char *def;      /* its default as text; "" when it has none */
	unsigned programs;    /* CONFIG_SERVER | CONFIG_CLI | CONFIG_SIGNER */
	char env[64];         /* "CONFORM_DATA_DIR" */
};

/* The i-th key of the table in *out (borrowed strings); false past the end. */
bool config_key_at(size_t i, struct config_key_info *out);

/* Returns the help text listing the program's keys (flag, variable, default,
 * meaning); the caller frees. */
char *config_help(unsigned program);

/*
 * Connection strings. With database_url set they return it (the owner URL
 * falls back to database_url when database_owner_url is unset); without, they
 * point at the embedded cluster's socket under data_dir. The caller frees.
 */
char *config_runtime_conninfo(const struct config *cfg);
char *config_owner_conninfo(const struct config *cfg);

/* The passphrase file of the signing keys (the setting, or data_dir/keys/passphrase). */
char *config_passphrase_file(const struct config *cfg);

/* The directory of key files (data_dir/keys). */
char *config_keys_dir(const struct config *cfg);

/* conform-signer's socket (the setting, or data_dir/signer/signer.sock) and
 * directory (the setting, or data_dir/signer). The caller frees. */
char *config_signer_socket(const struct config *cfg);
char *config_signer_dir(const struct config *cfg);

/* The embedded cluster's socket directory (data_dir/pg/sock, resolved). */
char *config_socket_dir(const struct config *cfg);

void config_free(struct config *cfg);

/* Parses "1048576", "64K", "1MiB", "2G" ... into bytes. */
cf_err config_parse_size(const char *s, size_t *out, struct cf_error *err) CF_MUST_CHECK;

#endif
