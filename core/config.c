/*
 * config: the declarative table of settings (see config.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "mem.h"

/* The configuration file an installed program reads when none is given
 * (see config_load). */
#ifndef CONFORM_CONFIG_FILE_DEFAULT
#define CONFORM_CONFIG_FILE_DEFAULT "/etc/conform/conform.conf"
#endif

/* The longest line of a configuration file, and the most of a secret file
 * that is read (its first line). */
#define CONFIG_LINE_MAX 4096

enum key_type { KEY_STRING, KEY_LONG, KEY_SIZE, KEY_LOGLEVEL, KEY_URL, KEY_ADDRS, KEY_NETS };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	const char *def;
	unsigned programs;
	long min, max;      /* for KEY_LONG */
	const char *help;
};

#define S CONFIG_SERVER
#define C CONFIG_CLI
#define G CONFIG_SIGNER
#define OFF(f) offsetof(struct config, f)

static const struct key keys[] = {
	{ "data-dir", KEY_STRING, OFF(data_dir), "./var", S | C | G, 0, 0,
	  "directory of the embedded PostgreSQL cluster, evidence files and keys" },
	{ "database-url", KEY_STRING, OFF(database_url), "", S | C, 0, 0,
	  "libpq connection string of the runtime role; empty: the embedded cluster" },
	{ "database-owner-url", KEY_STRING, OFF(database_owner_url), "", C, 0, 0,
	  "connection string of the schema owner, for migrations; empty: derived" },
	{ "database-read-url", KEY_STRING, OFF(database_read_url), "", S, 0, 0,
	  "libpq connection string of a streaming replica (hot standby) for public reads; empty: "
	  "every read from database-url" },
	{ "migrations-dir", KEY_STRING, OFF(migrations_dir), "", C, 0, 0,
	  "directory of the NNNN_name.sql migration files; empty: the shipped ones "
	  "(SHARE/migrations, see docs/operations.md, \"Installing the package\")" },
	{ "listen", KEY_STRING, OFF(listen), "127.0.0.1:8080", S, 0, 0,
	  "address and port conformd listens on" },
	{ "public-url", KEY_URL, OFF(public_url), "", S | C, 0, 0,
	  "the URL at which buyers reach this service (certificate ids, issuer DIDs); stored in the "
	  "database at conformd's first start and fixed from then on; empty: the stored one, or at "
	  "first start http://LISTEN for a loopback listen address" },
	{ "url", KEY_STRING, OFF(url), "", C, 0, 0,
	  "conformd's API (http(s)://host[:port]): conformctl works through it, with a token, and "
	  "needs no database; empty: the database directly" },
	{ "token", KEY_STRING, OFF(token), "", C, 0, 0,
	  "API token for --url (prefer CONFORM_TOKEN or --token-file FILE, its first line: a flag "
	  "is visible to other users)" },
	{ "ca-file", KEY_STRING, OFF(ca_file), "", C, 0, 0,
	  "PEM file of the CA certificates to trust for an https --url, instead of the system's "
	  "(a private CA)" },
	{ "key-passphrase-file", KEY_STRING, OFF(key_passphrase_file), "", C, 0, 0,
	  "file whose first line is the passphrase of a PEM file given to key import" },
	{ "signer-socket", KEY_STRING, OFF(signer_socket), "", S | C | G, 0, 0,
	  "Unix socket of conform-signer, which alone holds private keys; empty: DATA_DIR/signer/signer.sock" },
	{ "signer-dir", KEY_STRING, OFF(signer_dir), "", G, 0, 0,
	  "conform-signer's own directory (mode 0700): its tokens and their PINs; empty: DATA_DIR/signer" },
	{ "pkcs11-module", KEY_STRING, OFF(pkcs11_module), "/usr/lib/softhsm/libsofthsm2.so", G, 0, 0,
	  "the PKCS#11 module conform-signer keeps the keys in, one token per key owner" },
	{ "log-level", KEY_LOGLEVEL, OFF(log_level), "info", S | C | G, 0, 0,
	  "error, warn, info or debug" },
	{ "log-format", KEY_STRING, OFF(log_format), "text", S, 0, 0,
	  "text (a timestamp, the level, rid= and the message) or json (one JSON object per line: "
	  "timestamp, level, request_id, message, and for requests method, route, status, "
	  "duration_ms, client, user_id)" },
	{ "threads", KEY_LONG, OFF(threads), "0", S, 0, 1024,
	  "worker threads, each with its own database connection; 0: eight per CPU, at most 64" },
	{ "connection-limit", KEY_LONG, OFF(connection_limit), "4096", S, 1, 1000000,
	  "most concurrent client connections (lowered to what the open-files limit allows)" },
	{ "per-address-connections", KEY_LONG, OFF(per_address_connections), "64", S, 0, 1000000,
	  "most concurrent connections from one client address (a trusted proxy is one address); "
	  "0: no cap" },
	{ "connection-timeout", KEY_LONG, OFF(connection_timeout), "30", S, 1, 86400,
	  "seconds of inactivity after which a client connection is closed" },
	{ "head-timeout", KEY_LONG, OFF(head_timeout), "10", S, 1, 3600,
	  "seconds a connection has to send a whole request head (from its start, or the end of "
	  "its previous request)" },
	{ "body-timeout", KEY_LONG, OFF(body_timeout), "10", S, 1, 3600,
	  "seconds within which each 64 KiB of a request body (or the rest of it) must arrive" },
	{ "shutdown-timeout", KEY_LONG, OFF(shutdown_timeout), "30", S, 0, 3600,
	  "seconds to let in-flight requests finish on SIGTERM" },
	{ "max-body", KEY_SIZE, OFF(max_body), "1MiB", S, 0, 0,
	  "largest JSON request body (bytes, or with K/M/G suffix)" },
	{ "max-upload", KEY_SIZE, OFF(max_upload), "100MiB", S, 0, 0,
	  "largest evidence file (bytes, or with K/M/G suffix)" },
	{ "evidence-quota", KEY_SIZE, OFF(evidence_quota), "10GiB", S, 0, 0,
	  "bytes of evidence one organisation may hold, superseded files included (K/M/G suffix)" },
	{ "evidence-grace", KEY_LONG, OFF(evidence_grace), "86400", S | C, 0, 315360000,
	  "seconds an evidence file no evidence references is kept before the janitor removes it" },
	{ "janitor-interval", KEY_LONG, OFF(janitor_interval), "3600", S, 0, 31536000,
	  "seconds between conformd's janitor runs (one instance at a time); 0: none" },
	{ "cert-cache", KEY_SIZE, OFF(cert_cache), "256MiB", S, 0, 0,
	  "memory for cached certificate answers (0: none)" },
	{ "max-json-depth", KEY_LONG, OFF(max_json_depth), "32", S, 1, 1000,
	  "deepest nesting of a JSON request body" },
	{ "auth-fail-limit", KEY_LONG, OFF(auth_fail_limit), "10", S, 1, 1000000,
	  "failed authentications per client address (IPv6: per /64) per minute before 429" },
	{ "complaint-limit", KEY_LONG, OFF(complaint_limit), "5", S, 1, 1000000,
	  "complaints one client address (IPv6: per /64) may lodge per minute before 429" },
	{ "trusted-proxies", KEY_ADDRS, OFF(trusted_proxies), "", S, 0, 0,
	  "addresses of reverse proxies whose X-Forwarded-For names the client; empty: none" },
	{ "metrics-allow", KEY_NETS, OFF(metrics_allow), "", S, 0, 0,
	  "addresses or CIDR blocks (127.0.0.1, 10.0.0.0/8, ::1/128) that may read /metrics; "
	  "empty: everyone" },
	{ "witnesses-file", KEY_STRING, OFF(witnesses_file), "", S, 0, 0,
	  "the log's witnesses (C2SP tlog-witness), one a line: <vkey> <URL>; empty: none" },
	{ "witness-quorum", KEY_LONG, OFF(witness_quorum), "0", S, 0, 32,
	  "witness cosignatures that make a checkpoint witnessed; 0: every configured witness" },
	{ "webhook-allow-private", KEY_LONG, OFF(webhook_allow_private), "0", S, 0, 1,
	  "1: webhook targets may be loopback, link-local, private (RFC 1918, ULA), CGNAT or other "
	  "non-public addresses (SSRF protection off; for tests and closed networks); 0: refused" },
	{ "webhook-retry-base", KEY_LONG, OFF(webhook_retry_base), "30", S, 1, 3600,
	  "seconds before a failed webhook delivery's first retry; each next wait doubles (at most "
	  "an hour)" },
	{ "webhook-retry-for", KEY_LONG, OFF(webhook_retry_for), "86400", S, 1, 2592000,
	  "seconds a webhook delivery is retried before it is marked failed" },
	{ "webhook-timeout", KEY_LONG, OFF(webhook_timeout), "10", S, 1, 300,
	  "seconds a webhook delivery may take (connection and answer)" },
};

#undef S
#undef C
#undef G

static size_t key_count(void)
{
	return sizeof keys / sizeof keys[0];
}

cf_err config_parse_size(const char *s, size_t *out, struct cf_error *err)
{
	char *end = NULL;
	errno = 0;
	if (!isdigit((unsigned char)s[0]))
		return cf_error_set(err, CF_EINVAL, NULL, "'%.40s' is not a size", s);
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return cf_error_set(err, CF_EINVAL, NULL, "'%.40s' is out of range", s);
	static const struct {
		const char *suffix;
		unsigned long long mult;
	} units[] = {
		{ "", 1 }, { "B", 1 },
		{ "K", 1ULL << 10 }, { "KiB", 1ULL << 10 }, { "k", 1ULL << 10 },
		{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 },
		{ "G", 1ULL << 30 }, { "GiB", 1ULL << 30 },
	};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > SIZE_MAX / units[i].mult)
				return cf_error_set(err, CF_EINVAL, NULL, "'%.40s' is out of range", s);
			*out = (size_t)(v * units[i].mult);
			return CF_OK;
		}
	}
	return cf_error_set(err, CF_EINVAL, NULL,
			    "'%.40s' is not a size (a number with an optional K, M or G suffix)", s);
}

/*
 * A public URL: http(s)://host[:port][/path], host and path of the characters
 * a did:web identifier carries as they are (the issuer DIDs are made from
 * it), no query or fragment, at most CONFIG_URL_MAX characters. A trailing
 * '/' is dropped. Empty means not given. Which URLs may be an identity
 * (https on a host name, or loopback) is identity.c's to say.
 */
static cf_err url_check(const char *v, struct cf_error *err)
{
	if (!v[0])
		return CF_OK; /* not given: the stored one (see identity.h) */
	const char *h = strncmp(v, "https://", 8) == 0 ? v + 8 : strncmp(v, "http://", 7) == 0 ? v + 7 : NULL;
	if (!h)
		return cf_error_set(err, CF_EINVAL, NULL, "'%.60s' is not an http(s):// URL", v);
	if (strlen(v) > CONFIG_URL_MAX)
		return cf_error_set(err, CF_EINVAL, NULL, "the URL is longer than %d characters",
				    CONFIG_URL_MAX);
	size_t host = strcspn(h, ":/");
	if (host == 0)
		return cf_error_set(err, CF_EINVAL, NULL, "'%.60s' names no host", v);
	for (const char *c = h; *c; c++) {
		bool in_host = c < h + host;
		if (isalnum((unsigned char)*c) || *c == '.' || *c == '-')
			continue;
		if (!in_host && (*c == '/' || *c == '_' || *c == '~' ||
				 (*c == ':' && c == h + host && isdigit((unsigned char)c[1]))))
			continue;
		return cf_error_set(err, CF_EINVAL, NULL,
				    "'%c' in '%.60s': a public URL is a host, a port and a plain path",
				    *c, v);
	}
	return CF_OK;
}

/* IPv4 and IPv6 addresses separated by commas or spaces, or none. */
/* A list of addresses; with nets, each may end in /prefix (CIDR). */
static cf_err addrs_check(const char *v, bool nets, struct cf_error *err)
{
	const char *sep = ", \t";
	for (const char *p = v + strspn(v, sep); *p; p += strspn(p, sep)) {
		size_t n = strcspn(p, sep);
		char text[64];
		unsigned char bin[16];
		snprintf(text, sizeof text, "%.*s", (int)(n < sizeof text ? n : sizeof text - 1), p);
		char *slash = nets ? strchr(text, '/') : NULL;
		if (slash)
			*slash = '\0';
		bool v4 = inet_pton(AF_INET, text, bin) == 1;
		if (n >= sizeof text || (!v4 && inet_pton(AF_INET6, text, bin) != 1))
			return cf_error_set(err, CF_EINVAL, NULL, "'%.60s' is not an IP address", text);
		if (slash) {
			char *end = NULL;
			errno = 0;
			long bits = strtol(slash + 1, &end, 10);
			if (errno || end == slash + 1 || *end || bits < 0 || bits > (v4 ? 32 : 128))
				return cf_error_set(err, CF_EINVAL, NULL,
						    "'%.60s/%.8s' has no valid prefix length (0..%d)", text,
						    slash + 1, v4 ? 32 : 128);
		}
		p += n;
	}
	return CF_OK;
}

static cf_err key_apply(struct config *cfg, const struct key *k, const char *value,
			struct cf_error *err)
{
	char *base = (char *)cfg;
	switch (k->type) {
	case KEY_STRING:
	case KEY_URL:
	case KEY_ADDRS:
	case KEY_NETS:
	case KEY_LOGLEVEL: {
		enum log_level lvl;
		cf_err e = k->type == KEY_URL ? url_check(value, err) :
			   k->type == KEY_ADDRS || k->type == KEY_NETS ?
				   addrs_check(value, k->type == KEY_NETS, err) :
			   k->type == KEY_LOGLEVEL ? log_parse_level(value, &lvl, err) : CF_OK;
		if (e)
			return e;
		char **slot = (char **)(void *)(base + k->offset);
		free(*slot);
		*slot = cf_strdup(value);
		size_t n = strlen(*slot);
		if (k->type == KEY_URL && n && (*slot)[n - 1] == '/')
			(*slot)[n - 1] = '\0';
		return CF_OK;
	}
	case KEY_LONG: {
		char *end = NULL;
		errno = 0;
		long v = strtol(value, &end, 10);
		if (errno || end == value || *end)
			return cf_error_set(err, CF_EINVAL, NULL, "'%.40s' is not a whole number", value);
		if (v < k->min || v > k->max)
			return cf_error_set(err, CF_EINVAL, NULL, "%ld is outside %ld..%ld", v, k->min,
					    k->max);
		*(long *)(void *)(base + k->offset) = v;
		return CF_OK;
	}
	case KEY_SIZE:
		return config_parse_size(value, (size_t *)(void *)(base + k->offset), err);
	}
	return cf_error_set(err, CF_EINTERNAL, NULL, "bad key type");
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < key_count(); i++) {
		cf_err e = key_apply(cfg, &keys[i], keys[i].def, NULL);
		if (e)
			abort(); /* a default that does not parse is a bug */
	}
}

static void key_env_name(const struct key *k, char *out, size_t size)
{
	size_t o = (size_t)snprintf(out, size, "CONFORM_");
	for (const char *p = k->name; *p && o + 1 < size; p++)
		out[o++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	out[o] = '\0';
}

bool config_key_at(size_t i, struct config_key_info *out)
{
	if (i >= key_count())
		return false;
	out->name = keys[i].name;
	out->def = keys[i].def;
	out->programs = keys[i].programs;
	key_env_name(&keys[i], out->env, sizeof out->env);
	return true;
}

/*
 * The key named name[0, len), or NULL. Every key also has a "-file" form
 * (its value is the first line of that file): *file says which was named.
 * The key's own name wins, so "key-passphrase-file" is that key and
 * "key-passphrase-file-file" its file form.
 */
static const struct key *key_find(const char *name, size_t len, bool *file)
{
	*file = false;
	for (size_t i = 0; i < key_count(); i++)
		if (strlen(keys[i].name) == len && strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	if (len > 5 && strncmp(name + len - 5, "-file", 5) == 0) {
		for (size_t i = 0; i < key_count(); i++)
			if (strlen(keys[i].name) == len - 5 && strncmp(keys[i].name, name, len - 5) == 0) {
				*file = true;
				return &keys[i];
			}
	}
	return NULL;
}

cf_err config_read_secret(const char *path, char **out, struct cf_error *err)
{
	*out = NULL;
	FILE *f = fopen(path, "r");
	if (!f)
		return cf_error_set(err, CF_EIO, NULL, "cannot read %s: %s", path, strerror(errno));
	char *line = cf_malloc(CONFIG_LINE_MAX + 1);
	size_t n = fread(line, 1, CONFIG_LINE_MAX, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		cf_wipe(line, CONFIG_LINE_MAX + 1);
		free(line);
		return cf_error_set(err, CF_EIO, NULL, "cannot read %s", path);
	}
	line[n] = '\0';
	if (n == CONFIG_LINE_MAX && !memchr(line, '\n', n)) {
		cf_wipe(line, CONFIG_LINE_MAX + 1);
		free(line);
		return cf_error_set(err, CF_EINVAL, NULL, "the first line of %s is longer than %d bytes",
				    path, CONFIG_LINE_MAX);
	}
	line[strcspn(line, "\n")] = '\0';
	size_t len = strlen(line);
	if (len && line[len - 1] == '\r')
		line[len - 1] = '\0';
	*out = line;
	return CF_OK;
}

/*
 * Applies the first line of the file path as k's value. Errors start with
 * origin (where the path was given) and name the path and the setting, never
 * the value: a file is where secrets are kept.
 */
static cf_err key_apply_file(struct config *cfg, const struct key *k, const char *path,
			     const char *origin, struct cf_error *err)
{
	char *value = NULL;
	cf_err e = config_read_secret(path, &value, err);
	if (e) {
		cf_error_prefix(err, "%s", origin);
		return e;
	}
	struct cf_error inner;
	e = key_apply(cfg, k, value, &inner);
	cf_wipe(value, strlen(value));
	free(value);
	if (e)
		return cf_error_set(err, e, NULL,
				    "%s: the first line of %s is not a valid %s (the value is not shown)",
				    origin, path, k->name);
	return CF_OK;
}

cf_err config_from_env(struct config *cfg, unsigned program, struct cf_error *err)
{
	for (size_t i = 0; i < key_count(); i++) {
		if (!(keys[i].programs & program))
			continue;
		char name[64], fname[72];
		key_env_name(&keys[i], name, sizeof name);
		snprintf(fname, sizeof fname, "%s_FILE", name);
		const char *v = getenv(name), *fv = getenv(fname);
		if (v && fv)
			return cf_error_set(err, CF_EINVAL, NULL, "%s and %s are both set: give one",
					    name, fname);
		if (fv) {
			cf_err e = key_apply_file(cfg, &keys[i], fv, fname, err);
			if (e)
				return e;
			continue;
		}
		if (!v)
			continue;
		cf_err e = key_apply(cfg, &keys[i], v, err);
		if (e) {
			cf_error_prefix(err, "%s", name);
			return e;
		}
	}
	return CF_OK;
}

cf_err config_from_credentials(struct config *cfg, unsigned program, struct cf_error *err)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	if (!dir || !dir[0])
		return CF_OK;
	for (size_t i = 0; i < key_count(); i++) {
		if (!(keys[i].programs & program))
			continue;
		char *path = cf_asprintf("%s/%s", dir, keys[i].name);
		cf_err e = CF_OK;
		if (access(path, F_OK) == 0) {
			char *origin = cf_asprintf("credential %s", keys[i].name);
			e = key_apply_file(cfg, &keys[i], path, origin, err);
			free(origin);
		}
		free(path);
		if (e)
			return e;
	}
	return CF_OK;
}

/* s[0, *len) without its leading and trailing blanks. */
static const char *trim(const char *s, size_t *len)
{
	while (*len && (*s == ' ' || *s == '\t')) {
		s++;
		(*len)--;
	}
	while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		(*len)--;
	return s;
}

cf_err config_from_file(struct config *cfg, unsigned program, const char *path, bool required,
			struct cf_error *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		if (!required && errno == ENOENT)
			return CF_OK;
		return cf_error_set(err, CF_EIO, NULL, "configuration file %s: cannot read: %s", path,
				    strerror(errno));
	}
	cf_err e = CF_OK;
	int *seen = cf_calloc(key_count(), sizeof *seen); /* the line a key was set on */
	char *line = cf_malloc(CONFIG_LINE_MAX + 2);
	for (int lineno = 1; fgets(line, CONFIG_LINE_MAX + 2, f); lineno++) {
		size_t n = strlen(line);
		if (n > CONFIG_LINE_MAX && line[n - 1] != '\n') {
			e = cf_error_set(err, CF_EINVAL, NULL, "%s:%d: the line is longer than %d bytes",
					 path, lineno, CONFIG_LINE_MAX);
			break;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		const char *p = line + strspn(line, " \t");
		if (!*p || *p == '#')
			continue;
		const char *eq = strchr(p, '=');
		if (!eq) {
			e = cf_error_set(err, CF_EINVAL, NULL,
					 "%s:%d: not a setting (expected NAME = VALUE, or a # comment)",
					 path, lineno);
			break;
		}
		size_t nlen = (size_t)(eq - p), vlen = strlen(eq + 1);
		const char *name = trim(p, &nlen), *value = trim(eq + 1, &vlen);
		bool file = false;
		const struct key *k = key_find(name, nlen, &file);
		if (!k) {
			e = cf_error_set(err, CF_EINVAL, NULL, "%s:%d: unknown setting '%.*s'", path,
					 lineno, (int)(nlen > 64 ? 64 : nlen), name);
			break;
		}
		size_t ki = (size_t)(k - keys);
		if (seen[ki]) {
			e = cf_error_set(err, CF_EINVAL, NULL,
					 "%s:%d: %s is set again (first on line %d): give it once",
					 path, lineno, k->name, seen[ki]);
			break;
		}
		seen[ki] = lineno;
		if (!(k->programs & program))
			continue; /* the file is shared by conformd, conformctl and the signer */
		char *v = cf_strndup(value, vlen);
		if (file) {
			char *origin = cf_asprintf("%s:%d: %s-file", path, lineno, k->name);
			e = key_apply_file(cfg, k, v, origin, err);
			free(origin);
		} else {
			e = key_apply(cfg, k, v, err);
			if (e)
				cf_error_prefix(err, "%s:%d: %s", path, lineno, k->name);
		}
		cf_wipe(v, vlen);
		free(v);
		if (e)
			break;
	}
	if (!e && ferror(f))
		e = cf_error_set(err, CF_EIO, NULL, "configuration file %s: read error", path);
	cf_wipe(line, CONFIG_LINE_MAX + 2);
	free(line);
	free(seen);
	fclose(f);
	return e;
}

cf_err config_parse_flag(struct config *cfg, unsigned program, int argc, char **argv, int *i,
			 bool *matched, struct cf_error *err)
{
	const char *arg = argv[*i];
	*matched = false;
	if (strncmp(arg, "--", 2) != 0)
		return CF_OK;
	const char *name = arg + 2;
	const char *eq = strchr(name, '=');
	size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
	bool file = false;
	const struct key *k = key_find(name, nlen, &file);
	if (!k || !(k->programs & program))
		return CF_OK;
	const char *value;
	if (eq) {
		value = eq + 1;
	} else {
		if (*i + 1 >= argc)
			return cf_error_set(err, CF_EINVAL, NULL, "--%s%s needs a value", k->name,
					    file ? "-file" : "");
		value = argv[++*i];
	}
	cf_err e;
	if (file) {
		char *origin = cf_asprintf("--%s-file", k->name);
		e = key_apply_file(cfg, k, value, origin, err);
		free(origin);
	} else {
		e = key_apply(cfg, k, value, err);
		if (e)
			cf_error_prefix(err, "--%s", k->name);
	}
	if (e)
		return e;
	*matched = true;
	(*i)++;
	return CF_OK;
}

void config_use_log_level(const struct config *cfg)
{
	enum log_level level;
	if (log_parse_level(cfg->log_level, &level, NULL) == CF_OK)
		log_set_level(level);
}

static const char *program_name(unsigned program)
{
	switch (program) {
	case CONFIG_SERVER: return "conformd";
	case CONFIG_CLI: return "conformctl";
	default: return "conform-signer";
	}
}

/*
 * The directory of the shipped files (migrations, schemes) of the running
 * program, found from its own path: <exe dir>/share/conform (a build tree:
 * CMake makes it there) or <exe dir>/../share/conform (installed: bin/ and
 * share/ side by side under one prefix). NULL when neither exists. A build
 * tree's holds the file "build-tree".
 */
static char *share_dir(bool *build_tree)
{
	*build_tree = false;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	static const char *const where[] = { "/share/conform", "/../share/conform" };
	for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
		char *dir = cf_asprintf("%s%s", exe, where[i]);
		char resolved[PATH_MAX];
		struct stat st;
		bool found = realpath(dir, resolved) && stat(resolved, &st) == 0 && S_ISDIR(st.st_mode);
		free(dir);
		if (!found)
			continue;
		char *marker = cf_asprintf("%s/build-tree", resolved);
		*build_tree = access(marker, F_OK) == 0;
		free(marker);
		return cf_strdup(resolved);
	}
	return NULL;
}

char *config_shipped_path(const char *name)
{
	bool build_tree;
	char *dir = share_dir(&build_tree);
	char *path = dir ? cf_asprintf("%s/%s", dir, name) : NULL;
	free(dir);
	return path;
}

/*
 * The --config flag among argv[1..] (before a program's own flag or its
 * first operand), or NULL. A flag's separate value is skipped, so that it
 * is not taken for an operand.
 */
static cf_err config_flag_file(unsigned program, int argc, char **argv, const char *const *own,
			       bool operands, const char **file, struct cf_error *err)
{
	*file = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (operands && a[0] != '-')
			return CF_OK;
		for (const char *const *o = own; o && *o; o++)
			if (strcmp(a, *o) == 0)
				return CF_OK;
		if (strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0) {
			const char *v = a[8] == '=' ? a + 9 : i + 1 < argc ? argv[++i] : NULL;
			if (!v || !v[0])
				return cf_error_set(err, CF_EINVAL, NULL, "--config needs a file");
			*file = v;
			continue;
		}
		bool f;
		const struct key *k = strncmp(a, "--", 2) == 0 && !strchr(a, '=') ?
					      key_find(a + 2, strlen(a + 2), &f) : NULL;
		if (k && (k->programs & program))
			i++; /* "--key value" */
	}
	return CF_OK;
}

cf_err config_load(struct config *cfg, unsigned program, int argc, char **argv,
		   const char *const *own, const char **own_flag, int *operand,
		   struct cf_error *err)
{
	*own_flag = NULL;
	if (operand)
		*operand = argc;
	bool build_tree = false;
	char *share = share_dir(&build_tree);
	const char *file = NULL;
	cf_err e = config_flag_file(program, argc, argv, own, operand != NULL, &file, err);
	if (e)
		goto out;
	bool required = file != NULL;
	if (!file && getenv("CONFORM_CONFIG")) {
		file = getenv("CONFORM_CONFIG"); /* "": no file at all */
		required = file[0] != '\0';
	} else if (!file && share && !build_tree) {
		file = CONFORM_CONFIG_FILE_DEFAULT; /* may be missing */
	}
	if (file && file[0] && (e = config_from_file(cfg, program, file, required, err)))
		goto out;
	if ((e = config_from_credentials(cfg, program, err)) || (e = config_from_env(cfg, program, err)))
		goto out;
	for (int i = 1; i < argc;) {
		if (operand && argv[i][0] != '-') {
			*operand = i;
			break;
		}
		bool is_own = false;
		for (const char *const *o = own; o && *o && !is_own; o++)
			if (strcmp(argv[i], *o) == 0) {
				*own_flag = *o;
				is_own = true;
			}
		if (is_own)
			break;
		if (strcmp(argv[i], "--config") == 0 || strncmp(argv[i], "--config=", 9) == 0) {
			i += argv[i][8] == '=' ? 1 : 2; /* read above */
			continue;
		}
		bool matched = false;
		e = config_parse_flag(cfg, program, argc, argv, &i, &matched, err);
		if (e)
			goto out;
		if (!matched) {
			e = cf_error_set(err, CF_EINVAL, NULL, "unknown option '%s' (see %s --help)",
					 argv[i], program_name(program));
			goto out;
		}
	}
	/* No source path is compiled in: the shipped migrations are found
	 * beside the program (or named in the error when they are not). */
	if (!cfg->migrations_dir[0]) {
		free(cfg->migrations_dir);
		cfg->migrations_dir = share ? cf_asprintf("%s/migrations", share) :
					      cf_strdup("(not found: no share/conform beside the "
							"program; set --migrations-dir)");
	}
out:
	free(share);
	return e;
}

char *config_help(unsigned program)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < key_count(); i++) {
		if (!(keys[i].programs & program))
			continue;
		char env[64];
		key_env_name(&keys[i], env, sizeof env);
		char flag[64];
		snprintf(flag, sizeof flag, "--%s", keys[i].name);
		if (buf_printf(&b, NULL, "  %-22s %-30s %s\n  %-22s %-30s (default: %s)\n", flag, env,
			       keys[i].help, "", "", keys[i].def[0] ? keys[i].def : "none"))
			break;
	}
	cf_err e = buf_puts(&b,
		       "  Each also as --NAME-file PATH, CONFORM_NAME_FILE=PATH, NAME-file = PATH in\n"
		       "  the configuration file (--config FILE) or a systemd credential named NAME:\n"
		       "  the first line of that file is the value.\n",
		       NULL);
	(void)e; /* a help text cut short at the cap is still a help text */
	return buf_steal(&b, NULL);
}

/* Appends v quoted as a libpq conninfo value ('...' with \ and ' escaped). */
static cf_err conninfo_quote(struct buf *b, const char *v)
{
	cf_err e = buf_puts(b, "'", NULL);
	for (const char *p = v; *p && !e; p++) {
		if (*p == '\'' || *p == '\\')
			e = buf_append(b, "\\", 1, NULL);
		if (!e)
			e = buf_append(b, p, 1, NULL);
	}
	return e ? e : buf_puts(b, "'", NULL);
}

char *config_passphrase_file(const struct config *cfg)
{
	if (cfg->key_passphrase_file[0])
		return cf_strdup(cfg->key_passphrase_file);
	return cf_asprintf("%s/keys/passphrase", cfg->data_dir);
}

char *config_keys_dir(const struct config *cfg)
{
	return cf_asprintf("%s/keys", cfg->data_dir);
}

char *config_signer_socket(const struct config *cfg)
{
	if (cfg->signer_socket[0])
		return cf_strdup(cfg->signer_socket);
	return cf_asprintf("%s/signer/signer.sock", cfg->data_dir);
}

char *config_signer_dir(const struct config *cfg)
{
	if (cfg->signer_dir[0])
		return cf_strdup(cfg->signer_dir);
	return cf_asprintf("%s/signer", cfg->data_dir);
}

char *config_socket_dir(const struct config *cfg)
{
	char *dir = cf_asprintf("%s/pg/sock", cfg->data_dir);
	char resolved[PATH_MAX];
	if (realpath(dir, resolved)) {
		free(dir);
		return cf_strdup(resolved);
	}
	return dir;
}

static char *embedded_conninfo(const struct config *cfg, const char *user)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	char *dir = config_socket_dir(cfg);
	/* The cap only guards against an absurd data directory path: libpq
	 * then reports the bad host, which names the problem. */
	if (buf_puts(&b, "host=", NULL) || conninfo_quote(&b, dir) ||
	    buf_printf(&b, NULL, " dbname=conform user=%s connect_timeout=2", user))
		buf_reset(&b);
	free(dir);
	return buf_steal(&b, NULL);
}

char *config_runtime_conninfo(const struct config *cfg)
{
	if (cfg->database_url[0])
		return cf_strdup(cfg->database_url);
	return embedded_conninfo(cfg, "conform_app");
}

char *config_owner_conninfo(const struct config *cfg)
{
	if (cfg->database_owner_url[0])
		return cf_strdup(cfg->database_owner_url);
	if (cfg->database_url[0])
		return cf_strdup(cfg->database_url);
	return embedded_conninfo(cfg, "conform_owner");
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < key_count(); i++) {
		if (keys[i].type != KEY_LONG && keys[i].type != KEY_SIZE) {
			char **slot = (char **)(void *)((char *)cfg + keys[i].offset);
			CF_FREE(*slot);
		}
	}
}
