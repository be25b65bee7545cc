/*
 * migrate: applying migrations/NNNN_name.sql in order (see migrate.h).
 */
#include "migrate.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "log.h"
#include "mem.h"

#ifndef CONFORM_SCHEMA_VERSION
#error "CONFORM_SCHEMA_VERSION must be defined by the build"
#endif

/* The advisory lock key: "conform" as ASCII, arbitrary but fixed. */
static const char MIGRATE_LOCK_KEY[] = "27988542650020461";

#define MIGRATION_MAX_BYTES (16u << 20)

int migrate_required_version(void)
{
	return CONFORM_SCHEMA_VERSION;
}

static int migration_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	return (x->version > y->version) - (x->version < y->version);
}

static bool migration_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n < 10 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
		return false;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)name[i]))
			return false;
	return true;
}

static cf_err read_whole(const char *path, char **out, struct cf_error *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return cf_error_set(err, CF_EIO, NULL, "%s: cannot open: %m", path);
	char *data = cf_malloc(MIGRATION_MAX_BYTES + 1);
	size_t n = fread(data, 1, MIGRATION_MAX_BYTES + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		free(data);
		return cf_error_set(err, CF_EIO, NULL, "%s: read error", path);
	}
	if (n > MIGRATION_MAX_BYTES) {
		free(data);
		return cf_error_set(err, CF_ETOOLARGE, NULL, "%s: larger than %u bytes", path,
				    MIGRATION_MAX_BYTES);
	}
	data[n] = '\0';
	*out = data;
	return CF_OK;
}

static struct migration *set_add(struct migration_set *set, size_t *alloc)
{
	if (set->count == *alloc) {
		*alloc = *alloc ? *alloc * 2 : 16;
		set->items = cf_reallocarray(set->items, *alloc, sizeof *set->items);
	}
	struct migration *m = &set->items[set->count++];
	memset(m, 0, sizeof *m);
	return m;
}

static struct migration *set_find(struct migration_set *set, int version)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->items[i].version == version)
			return &set->items[i];
	return NULL;
}

static cf_err load_files(const char *dir, struct migration_set *set, size_t *alloc,
			 struct cf_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return cf_error_set(err, CF_EIO, NULL, "%s: cannot open the migrations directory: %m",
				    dir);
	cf_err e = CF_OK;
	struct dirent *ent;
	while ((ent = readdir(d))) {
		if (!strstr(ent->d_name, ".sql"))
			continue;
		if (!migration_name_ok(ent->d_name)) {
			e = cf_error_set(err, CF_EINVAL, NULL,
					 "%s/%s: a migration must be named NNNN_name.sql", dir,
					 ent->d_name);
			break;
		}
		int version = atoi(ent->d_name);
		if (set_find(set, version)) {
			e = cf_error_set(err, CF_EINVAL, NULL,
					 "%s/%s: another file already has version %04d", dir,
					 ent->d_name, version);
			break;
		}
		struct migration *m = set_add(set, alloc);
		m->version = version;
		m->name = cf_strdup(ent->d_name);
		m->path = cf_asprintf("%s/%s", dir, ent->d_name);
		char *sql = NULL;
		e = read_whole(m->path, &sql, err);
		if (e)
			break;
		digest_sha256_hex(sql, strlen(sql), m->sha256);
		free(sql);
	}
	closedir(d);
	return e;
}

static cf_err ensure_table(struct db *db, struct cf_error *err)
{
	return db_exec_script(db,
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		" version integer PRIMARY KEY,"
		" name text NOT NULL,"
		" sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),"
		" applied_at timestamptz NOT NULL DEFAULT now());"
		"COMMENT ON TABLE schema_migrations IS"
		" 'Applied migration files (migrations/NNNN_name.sql) and their SHA-256;"
		" written only by conformctl db migrate.'", err);
}

static cf_err load_applied(struct db *db, struct migration_set *set, size_t *alloc,
			   struct cf_error *err)
{
	PGresult *res = NULL;
	cf_err e = db_query(db, &res, err,
			    "SELECT version, name, sha256,"
			    " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
			    " FROM schema_migrations ORDER BY version",
			    0, NULL);
	if (e) {
		/* No table yet: nothing is applied. */
		if (strcmp(db_last_sqlstate(db), "42P01") == 0) {
			cf_error_clear(err);
			return CF_OK;
		}
		return e;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		int version = (int)db_value_ll(res, i, 0);
		struct migration *m = set_find(set, version);
		if (!m) {
			m = set_add(set, alloc);
			m->version = version;
			m->name = cf_strdup(db_value(res, i, 1));
		}
		m->applied = true;
		snprintf(m->applied_sha256, sizeof m->applied_sha256, "%s", db_value(res, i, 2));
		snprintf(m->applied_at, sizeof m->applied_at, "%s", db_value(res, i, 3));
	}
	PQclear(res);
	return CF_OK;
}

cf_err migrate_load(struct db *db, const char *dir, struct migration_set *out,
		    struct cf_error *err)
{
	memset(out, 0, sizeof *out);
	size_t alloc = 0;
	cf_err e = load_files(dir, out, &alloc, err);
	if (!e && db)
		e = load_applied(db, out, &alloc, err);
	if (e) {
		migrate_set_free(out);
		return e;
	}
	if (out->count)
		qsort(out->items, out->count, sizeof *out->items, migration_cmp);
	return CF_OK;
}

void migrate_set_free(struct migration_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		free(set->items[i].name);
		free(set->items[i].path);
	}
	CF_FREE(set->items);
	set->count = 0;
}

/* Checks that what is applied is what the files say. */
static cf_err check_applied(const struct migration_set *set, struct cf_error *err)
{
	for (size_t i = 0; i < set->count; i++) {
		const struct migration *m = &set->items[i];
		if (!m->applied)
			continue;
		if (!m->path)
			return cf_error_set(err, CF_ECONFLICT, NULL,
					    "the database has migration %04d (%s), which this build "
					    "does not have: it is newer than this conform",
					    m->version, m->name);
		if (strcmp(m->sha256, m->applied_sha256) != 0)
			return cf_error_set(err, CF_ECONFLICT, NULL,
					    "%s was changed after it was applied (sha256 was %.12s..., "
					    "is now %.12s...): add a new migration instead of editing "
					    "an applied one",
					    m->path, m->applied_sha256, m->sha256);
	}
	return CF_OK;
}

static cf_err apply_one(struct db *db, struct migration *m, struct cf_error *err)
{
	char *sql = NULL;
	cf_err e = read_whole(m->path, &sql, err);
	if (e)
		return e;
	char sha[65];
	digest_sha256_hex(sql, strlen(sql), sha);
	if (strcmp(sha, m->sha256) != 0) {
		free(sql);
		return cf_error_set(err, CF_ECONFLICT, NULL, "%s changed while migrating", m->path);
	}
	char version[16];
	snprintf(version, sizeof version, "%d", m->version);
	const char *params[] = { version, m->name, m->sha256 };
	e = db_begin(db, DB_READ_COMMITTED, err);
	if (!e)
		e = db_exec_script(db, sql, err);
	if (!e)
		e = db_query(db, NULL, err,
			     "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)",
			     3, params);
	if (!e)
		e = db_commit(db, err);
	if (e) {
		db_rollback(db);
		cf_error_prefix(err, "%s", m->path);
	} else {
		m->applied = true;
		snprintf(m->applied_sha256, sizeof m->applied_sha256, "%s", m->sha256);
	}
	free(sql);
	return e;
}

cf_err migrate_apply(struct db *db, const char *dir, migrate_progress_fn progress, void *arg,
		     int *applied, struct cf_error *err)
{
	struct migration_set set = { 0 };
	const char *lock[] = { MIGRATE_LOCK_KEY };
	bool locked = false;
	*applied = 0;

	cf_err e = db_query(db, NULL, err, "SELECT pg_advisory_lock($1::bigint)", 1, lock);
	if (e)
		goto out;
	locked = true;
	e = ensure_table(db, err);
	if (e)
		goto out;
	e = migrate_load(db, dir, &set, err);
	if (e)
		goto out;
	e = check_applied(&set, err);
	if (e)
		goto out;
	for (size_t i = 0; i < set.count; i++) {
		struct migration *m = &set.items[i];
		if (m->applied)
			continue;
		e = apply_one(db, m, err);
		if (e)
			goto out;
		(*applied)++;
		if (progress)
			progress(m, arg);
	}
out:
	if (locked) {
		struct cf_error ignored;
		if (db_query(db, NULL, &ignored, "SELECT pg_advisory_unlock($1::bigint)", 1, lock))
			log_warn("could not release the migration lock: %s", ignored.detail);
	}
	migrate_set_free(&set);
	return e;
}

cf_err migrate_current_version(struct db *db, int *version, struct cf_error *err)
{
	*version = 0;
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
				"SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL);
	if (e) {
		if (strcmp(db_last_sqlstate(db), "42P01") == 0) {
			cf_error_clear(err);
			return CF_OK;
		}
		return e;
	}
	*version = (int)db_value_ll(res, 0, 0);
	PQclear(res);
	return CF_OK;
}
