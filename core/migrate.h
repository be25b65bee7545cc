/*
 * migrate: the schema migrations in migrations/NNNN_name.sql. Each pending
 * file is applied in its own transaction and recorded with its SHA-256 in
 * schema_migrations; an applied file that has since changed stops everything.
 * A PostgreSQL advisory lock keeps two migrators from racing.
 */
#ifndef CONFORM_MIGRATE_H
#define CONFORM_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "error.h"

struct migration {
	int version;
	char *name;         /* file name, e.g. "0001_foundation.sql" */
	char *path;
	char sha256[65];    /* of the file as it is now ("" if only in the database) */
	bool applied;
	char applied_sha256[65];
	char applied_at[40];
};

struct migration_set {
	struct migration *items; /* ordered by version */
	size_t count;
};

/* The schema version this build needs (the highest migration number). */
int migrate_required_version(void);

/*
 * Reads the migration files of dir and, when db is not NULL, what the
 * database records as applied. Errors name the offending file. Free the set
 * with migrate_set_free.
 */
cf_err migrate_load(struct db *db, const char *dir, struct migration_set *out,
		    struct cf_error *err) CF_MUST_CHECK;

void migrate_set_free(struct migration_set *set);

/* Called after each file is applied. */
typedef void (*migrate_progress_fn)(const struct migration *m, void *arg);

/*
 * Applies every pending migration of dir in order, as the schema owner. Holds
 * the advisory lock throughout; refuses (naming the file) when an applied
 * file has changed, or when the database has a migration this build lacks.
 * *applied counts the files applied now.
 */
cf_err migrate_apply(struct db *db, const char *dir, migrate_progress_fn progress, void *arg,
		     int *applied, struct cf_error *err) CF_MUST_CHECK;

/* The highest applied version (0 when none or no schema_migrations table). */
cf_err migrate_current_version(struct db *db, int *version, struct cf_error *err) CF_MUST_CHECK;

#endif
