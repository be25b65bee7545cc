/*
 * conformctl scheme: lint, import, list, show and export scheme files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "jsonx.h"
#include "mem.h"
#include "oscal.h"
#include "remote.h"
#include "scheme.h"

/* Reads a whole file (at most SCHEME_MAX_BYTES + 1 bytes, so the linter can
 * say "too large"). */
static cf_err read_scheme_file(const char *path, char **out, size_t *len, struct cf_error *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return cf_error_set(err, CF_EIO, NULL, "%s: cannot open: %m", path);
	char *data = cf_malloc(SCHEME_MAX_BYTES + 2);
	size_t n = fread(data, 1, SCHEME_MAX_BYTES + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		free(data);
		return cf_error_set(err, CF_EIO, NULL, "%s: read error", path);
	}
	data[n] = '\0';
	*out = data;
	*len = n;
	return CF_OK;
}

static void print_findings(const char *path, const struct lint_report *r)
{
	for (size_t i = 0; i < r->count; i++)
		fprintf(stderr, "%s: %s: %s%s\n", path,
			r->items[i].pointer[0] ? r->items[i].pointer : "(document)",
			r->items[i].error ? "" : r->items[i].note ? "note: " : "warning: ",
			r->items[i].message);
	if (r->count < r->errors + r->warnings + r->notes)
		fprintf(stderr, "%s: ... and %zu more\n", path,
			r->errors + r->warnings + r->notes - r->count);
}

static int scheme_lint_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *files[256];
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, files, 256, &n, 1);
	if (rc >= 0)
		return rc;
	int status = CLI_OK;
	for (int i = 0; i < n; i++) {
		struct cf_error err;
		struct lint_report report = { 0 };
		char *text = NULL;
		size_t len = 0;
		json_t *doc = NULL;
		if (read_scheme_file(files[i], &text, &len, &err)) {
			status = cli_fail(&err);
			continue;
		}
		if (scheme_text_is_json_schema(text, len)) {
			printf("%s: skipped (the JSON Schema of the format, not a scheme)\n", files[i]);
			free(text);
			continue;
		}
		cf_err e = scheme_lint(text, len, files[i], &doc, &report, &err);
		print_findings(files[i], &report);
		if (e) {
			fprintf(stderr, "%s: %zu error%s\n", files[i], report.errors,
				report.errors == 1 ? "" : "s");
			status = CLI_FAIL;
		} else {
			printf("%s: ok, %s@%s, %zu requirements%s\n", files[i], jsonx_str(doc, "id"),
			       jsonx_str(doc, "version"),
			       json_array_size(json_object_get(doc, "requirements")),
			       report.warnings ? " (see the warnings)" : "");
		}
		json_decref(doc);
		lint_report_free(&report);
		free(text);
	}
	return status;
}

/* A file of an import batch: its text, and what it is and maps to. */
struct batch_file {
	const char *path;
	char *text;
	size_t len;
	json_t *doc;   /* parsed leniently, for ordering only; may be NULL */
	bool done;
};

/* Does f map to a scheme version that another pending file of the batch is? */
static bool waits_for_batch(const struct batch_file *f, const struct batch_file *all, int n)
{
	size_t i, k;
	json_t *r, *m;
	json_array_foreach(json_object_get(f->doc, "requirements"), i, r)
		json_array_foreach(json_object_get(r, "mappings"), k, m)
			for (int j = 0; j < n; j++) {
				if (all[j].done || &all[j] == f || !all[j].doc)
					continue;
				char self[160];
				snprintf(self, sizeof self, "%s@%s", jsonx_str(all[j].doc, "id"),
					 jsonx_str(all[j].doc, "version"));
				if (jsonx_str(m, "to") && strcmp(jsonx_str(m, "to"), self) == 0)
					return true;
			}
	return false;
}

static int import_one(struct db *db, const struct audit_actor *actor, struct batch_file *f)
{
	struct cf_error err;
	struct lint_report report = { 0 };
	struct catalog_import result;
	f->done = true;
	cf_err e = catalog_import(db, actor, f->text, f->len, f->path, &report, &result, &err);
	print_findings(f->path, &report);
	lint_report_free(&report);
	if (e) {
		if (err.code != CF_EINVAL || report.errors == 0)
			fprintf(stderr, "%s: %s%s%s\n", f->path, err.pointer[0] ? err.pointer : "",
				err.pointer[0] ? ": " : "", err.detail);
		fprintf(stderr, "%s: not imported; nothing was written\n", f->path);
		return CLI_FAIL;
	}
	if (result.crosswalk_kept)
		printf("%s: %s@%s is already imported (sha256 %s) with the same requirements and "
		       "another crosswalk: the imported version never changes, so its stored "
		       "crosswalk stays and this file's mappings are not imported (sha256 %s); a "
		       "corrected crosswalk needs a new version\n",
		       f->path, result.id, result.version, result.stored_digest, result.digest);
	else if (result.unchanged)
		printf("%s: %s@%s is already imported with this content (sha256 %s): nothing to do\n",
		       f->path, result.id, result.version, result.digest);
	else
		printf("%s: imported %s@%s, %zu requirements, sha256 %s\n", f->path, result.id,
		       result.version, result.requirements, result.digest);
	return CLI_OK;
}

static int scheme_import_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *files[256];
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, files, 256, &n, 1);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	if (cli_db(cli, &db, &err))
		return cli_fail(&err);
	struct audit_actor actor = cli_actor(cli);
	int status = CLI_OK;
	struct batch_file *batch = cf_calloc((size_t)n, sizeof *batch);
	for (int i = 0; i < n; i++) {
		batch[i].path = files[i];
		if (read_scheme_file(files[i], &batch[i].text, &batch[i].len, &err)) {
			status = cli_fail(&err);
			batch[i].done = true;
		} else if (scheme_text_is_json_schema(batch[i].text, batch[i].len)) {
			printf("%s: skipped (the JSON Schema of the format, not a scheme)\n", files[i]);
			batch[i].done = true;
		} else {
			batch[i].doc = json_loadb(batch[i].text, batch[i].len, 0, NULL);
		}
	}
	/* Schemes that others in the batch map to go first, so that the
	 * mappings can be checked against them. */
	for (bool progress = true; progress;) {
		progress = false;
		for (int i = 0; i < n; i++)
			if (!batch[i].done && !waits_for_batch(&batch[i], batch, n)) {
				if (import_one(db, &actor, &batch[i]))
					status = CLI_FAIL;
				progress = true;
			}
	}
	for (int i = 0; i < n; i++) {
		if (!batch[i].done && import_one(db, &actor, &batch[i])) /* a cycle of mappings */
			status = CLI_FAIL;
		json_decref(batch[i].doc);
		free(batch[i].text);
	}
	free(batch);
	db_close(db);
	return status;
}

static int scheme_list_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	json_t *list = NULL;
	cf_err e;
	if (remote_on(cli)) {
		e = remote_json(cli, "GET", "/v1/schemes", NULL, &list, &err);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = catalog_list(db, &list, &err);
		db_close(db);
	}
	if ((rc = cli_result(cli, e, &err, list)) >= 0)
		return rc;
	printf("%-18s %-8s %6s  %-12s %-20s %s\n", "SCHEME", "VERSION", "REQS", "SHA256", "IMPORTED",
	       "TITLE");
	size_t i, k;
	json_t *s, *v;
	json_array_foreach(json_object_get(list, "items"), i, s)
		json_array_foreach(json_object_get(s, "versions"), k, v)
			printf("%-18s %-8s %6lld  %.12s %-20s %s\n", jsonx_str(s, "id"),
			       jsonx_str(v, "version"),
			       (long long)json_integer_value(json_object_get(v, "requirements")),
			       jsonx_str(v, "digest"), jsonx_str(v, "imported_at"), jsonx_str(v, "title"));
	if (json_array_size(json_object_get(list, "items")) == 0) {
		char *shipped = config_shipped_path("schemes");
		printf("(no schemes imported: conformctl scheme import %s/*.json)\n", shipped ? shipped : "schemes");
		free(shipped);
	}
	json_decref(list);
	return CLI_OK;
}

/* GET /v1/schemes/ID/versions/VERSION and what follows it (suffix: "" or "/oscal"). */
static cf_err remote_scheme_version(struct cli *cli, const char *id, const char *version,
				    const char *suffix, json_t **out, struct cf_error *err)
{
	char *eid = remote_escape(id), *ever = remote_escape(version);
	char *path = cf_asprintf("/v1/schemes/%s/versions/%s%s", eid, ever, suffix);
	cf_err e = remote_json(cli, "GET", path, NULL, out, err);
	free(path);
	free(eid);
	free(ever);
	return e;
}

static int scheme_show_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	char id[64], version[40];
	bool has_version;
	if (catalog_split_ref(pos[0], id, version, &has_version, &err)) {
		cli_fail(&err);
		return CLI_USAGE;
	}
	struct db *db = NULL;
	json_t *v = NULL;
	cf_err e;
	if (remote_on(cli)) {
		e = remote_scheme_version(cli, id, has_version ? version : "latest", "", &v, &err);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = catalog_version(db, id, has_version ? version : NULL, &v, &err);
		db_close(db);
	}
	if ((rc = cli_result(cli, e, &err, v)) >= 0)
		return rc;
	json_t *src = json_object_get(v, "source");
	printf("%s@%s  %s\n", jsonx_str(v, "scheme"), jsonx_str(v, "version"), jsonx_str(v, "title"));
	printf("publisher:   %s\n", jsonx_str(v, "publisher"));
	printf("source:      %s (%s)\n", jsonx_str(src, "document"), jsonx_str(src, "date"));
	printf("sha256:      %s\n", jsonx_str(v, "digest"));
	printf("imported:    %s by %s\n", jsonx_str(v, "imported_at"), jsonx_str(v, "imported_by"));
	printf("validity:    %lld days\n",
	       (long long)json_integer_value(json_object_get(v, "certificate_validity_days")));
	json_t *classes = json_object_get(v, "classes");
	if (json_array_size(classes) == 0)
		printf("classes:     one (implicit class 0)\n");
	size_t i;
	json_t *c;
	json_array_foreach(classes, i, c)
		printf("class %lld:     C %-6s I %-6s A %-6s %s\n",
		       (long long)json_integer_value(json_object_get(c, "class")),
		       jsonx_str(c, "confidentiality"), jsonx_str(c, "integrity"),
		       jsonx_str(c, "availability"), jsonx_str(c, "description"));
	printf("requirements: %lld in %zu sections\n",
	       (long long)json_integer_value(json_object_get(json_object_get(v, "counts"), "requirements")),
	       json_array_size(json_object_get(v, "sections")));
	json_array_foreach(json_object_get(v, "sections"), i, c)
		printf("  %-10s %4lld  %s\n", jsonx_str(c, "id"),
		       (long long)json_integer_value(json_object_get(c, "requirements")),
		       jsonx_str(c, "title"));
	if (jsonx_str(v, "coverage"))
		printf("coverage:    %s\n", jsonx_str(v, "coverage"));
	json_decref(v);
	return CLI_OK;
}

static int scheme_export_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	const char *format = NULL, *output = NULL;
	const struct cli_opt opts[] = {
		{ "format", &format, NULL, "export format: oscal (an OSCAL 1.1 catalog in JSON)" },
		{ "output", &output, NULL, "write to this file instead of standard output" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	if (!format || strcmp(format, "oscal") != 0) {
		fprintf(stderr, "conformctl scheme export: --format oscal is required (the only format)\n");
		return CLI_USAGE;
	}
	struct cf_error err;
	char id[64], version[40];
	bool has_version;
	if (catalog_split_ref(pos[0], id, version, &has_version, &err) || !has_version) {
		fprintf(stderr, "conformctl scheme export: give the scheme as ID@VERSION\n");
		return CLI_USAGE;
	}
	struct db *db = NULL;
	json_t *doc = NULL, *catalog = NULL;
	char digest[65], imported_at[40];
	cf_err e;
	if (remote_on(cli)) {
		e = remote_scheme_version(cli, id, version, "/oscal", &catalog, &err);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = catalog_document(db, id, version, &doc, digest, imported_at, &err);
		if (!e)
			e = oscal_catalog(doc, digest, imported_at, &catalog, &err);
		db_close(db);
		json_decref(doc);
	}
	if (e)
		return cli_fail(&err);
	int status = CLI_OK;
	if (output) {
		if (json_dump_file(catalog, output, JSON_INDENT(2)) != 0) {
			fprintf(stderr, "conformctl: %s: cannot write\n", output);
			status = CLI_FAIL;
		}
	} else {
		json_dumpf(catalog, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(catalog);
	return status;
}

const struct cli_command cli_scheme_commands[] = {
	{ "scheme", "lint", "FILE...", "Check scheme files against the format (no database needed)",
	  scheme_lint_cmd },
	{ "scheme", "import", "FILE...",
	  "Import scheme files; the same content again changes nothing, other content under an "
	  "imported version is refused",
	  scheme_import_cmd },
	{ "scheme", "list", "", "List the imported schemes and versions", scheme_list_cmd, true },
	{ "scheme", "show", "ID[@VERSION]", "Show a scheme version (the latest import without @VERSION)",
	  scheme_show_cmd, true },
	{ "scheme", "export", "ID@VERSION", "Export a scheme version (--format oscal)", scheme_export_cmd,
	  true },
	{ NULL, NULL, NULL, NULL, NULL },
};
