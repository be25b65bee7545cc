/*
 * Unit tests of where settings come from (core/config.h): the configuration
 * file, its syntax and errors, *-file secrets, systemd credentials, and the
 * precedence of every level against every other (flag > environment >
 * credential > file > default), through config_load as the programs call it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "tsupport.h"

/* The ways of giving the setting "listen"; rank is the level (higher wins). */
enum form { F_FILE, F_FILE_FILE, F_CRED, F_ENV, F_ENV_FILE, F_FLAG, F_FLAG_FILE, F_COUNT };
static const int rank[F_COUNT] = { 1, 1, 2, 3, 3, 4, 4 };
static const char *const form_name[F_COUNT] = { "file", "file -file", "credential", "env",
						"env _FILE", "flag", "flag -file" };

static char *dir; /* this run's temporary directory */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* A path in the temporary directory (the caller frees). */
static char *tmp_path(const char *name)
{
	return cf_asprintf("%s/%s", dir, name);
}

static void clean_env(void)
{
	static const char *const vars[] = { "CONFORM_CONFIG", "CREDENTIALS_DIRECTORY", "CONFORM_LISTEN",
					    "CONFORM_LISTEN_FILE", "CONFORM_THREADS",
					    "CONFORM_THREADS_FILE" };
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
}

static void setup(void)
{
	char tmpl[] = "/tmp/conform-config.XXXXXX";
	ck_assert(mkdtemp(tmpl) != NULL);
	dir = cf_strdup(tmpl);
	clean_env();
}

static void teardown(void)
{
	clean_env();
	char *cmd = cf_asprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	CF_FREE(dir);
}

static const char *value_of(enum form f)
{
	static char v[F_COUNT][32];
	snprintf(v[f], sizeof v[f], "127.0.0.1:%d", 1000 + (int)f);
	return v[f];
}

/*
 * Gives "listen" in every form whose bit is set in forms, loads conformd's
 * settings as main() does (always with --config, so that no file of the
 * machine is read), and returns the result of config_load; *listen gets the
 * value (new string).
 */
static cf_err load_with(unsigned forms, char **listen, struct cf_error *err)
{
	char *conf = tmp_path("conform.conf"), *creds = tmp_path("creds");
	mkdir(creds, 0700);
	char *cred = cf_asprintf("%s/listen", creds);
	unlink(cred);
	char text[512] = "# a comment\n\n   # an indented comment\n";
	char *secret[F_COUNT] = { 0 };
	for (int f = 0; f < F_COUNT; f++) {
		secret[f] = cf_asprintf("%s/secret-%d", dir, f);
		/* the first line only, whatever line end it has */
		char *body = cf_asprintf("%s%s\nnot this line\n", value_of((enum form)f),
					 f == F_ENV_FILE ? "\r" : "");
		write_file(secret[f], body);
		free(body);
	}
	if (forms & (1u << F_FILE))
		snprintf(text + strlen(text), sizeof text - strlen(text), "  listen\t=  %s  \n",
			 value_of(F_FILE));
	if (forms & (1u << F_FILE_FILE))
		snprintf(text + strlen(text), sizeof text - strlen(text), "listen-file = %s\n",
			 secret[F_FILE_FILE]);
	write_file(conf, text);
	if (forms & (1u << F_CRED))
		write_file(cred, value_of(F_CRED)); /* no line end at all */
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	if (forms & (1u << F_ENV))
		setenv("CONFORM_LISTEN", value_of(F_ENV), 1);
	else
		unsetenv("CONFORM_LISTEN");
	if (forms & (1u << F_ENV_FILE))
		setenv("CONFORM_LISTEN_FILE", secret[F_ENV_FILE], 1);
	else
		unsetenv("CONFORM_LISTEN_FILE");
	char *argv[8] = { "conformd", "--config", conf };
	int argc = 3;
	char *flag = NULL, *flag_file = NULL;
	if (forms & (1u << F_FLAG)) {
		flag = cf_asprintf("--listen=%s", value_of(F_FLAG));
		argv[argc++] = flag;
	}
	if (forms & (1u << F_FLAG_FILE)) {
		flag_file = cf_strdup("--listen-file");
		argv[argc++] = flag_file;
		argv[argc++] = secret[F_FLAG_FILE];
	}
	struct config cfg;
	config_defaults(&cfg);
	const char *own = NULL;
	cf_err e = config_load(&cfg, CONFIG_SERVER, argc, argv, NULL, &own, NULL, err);
	*listen = cf_strdup(cfg.listen);
	config_free(&cfg);
	for (int f = 0; f < F_COUNT; f++)
		free(secret[f]);
	free(flag);
	free(flag_file);
	free(cred);
	free(creds);
	free(conf);
	return e;
}

START_TEST(every_level_against_every_other)
{
	struct cf_error err;
	char *v = NULL;
	/* nothing given: the default */
	ck_assert_int_eq(load_with(0, &v, &err), 0);
	ck_assert_str_eq(v, "127.0.0.1:8080");
	free(v);
	/* each form alone beats the default */
	for (int f = 0; f < F_COUNT; f++) {
		ck_assert_msg(load_with(1u << f, &v, &err) == 0, "%s: %s", form_name[f], err.detail);
		ck_assert_msg(strcmp(v, value_of((enum form)f)) == 0, "%s alone gave %s", form_name[f], v);
		free(v);
	}
	/* each form against each form of another level: the higher level wins */
	for (int a = 0; a < F_COUNT; a++)
		for (int b = 0; b < F_COUNT; b++) {
			if (rank[a] >= rank[b])
				continue;
			ck_assert_msg(load_with(1u << a | 1u << b, &v, &err) == 0, "%s + %s: %s",
				      form_name[a], form_name[b], err.detail);
			ck_assert_msg(strcmp(v, value_of((enum form)b)) == 0, "%s against %s gave %s",
				      form_name[b], form_name[a], v);
			free(v);
		}
	/* all of them at once: the flag */
	ck_assert_int_eq(load_with((1u << F_COUNT) - 1 - (1u << F_FILE_FILE) - (1u << F_ENV_FILE) -
				   (1u << F_FLAG_FILE), &v, &err), 0);
	ck_assert_str_eq(v, value_of(F_FLAG));
	free(v);
}
END_TEST

/* Within one level a setting is given once: a value and a file both is an error. */
START_TEST(one_form_per_level)
{
	struct cf_error err;
	char *v = NULL;
	ck_assert_int_eq(load_with(1u << F_ENV | 1u << F_ENV_FILE, &v, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "CONFORM_LISTEN and CONFORM_LISTEN_FILE are both set: give one");
	free(v);
	ck_assert_int_eq(load_with(1u << F_FILE | 1u << F_FILE_FILE, &v, &err), CF_EINVAL);
	ck_assert_msg(strstr(err.detail, "conform.conf:5: listen is set again (first on line 4)") != NULL,
		      "%s", err.detail);
	free(v);
}
END_TEST

static cf_err load_file(unsigned program, const char *text, struct config *cfg, struct cf_error *err)
{
	char *conf = tmp_path("c.conf");
	write_file(conf, text);
	char *argv[] = { "x", "--config", conf };
	const char *own = NULL;
	config_defaults(cfg);
	cf_err e = config_load(cfg, program, 3, argv, NULL, &own, NULL, err);
	free(conf);
	return e;
}

/* Errors name the file, the line and the setting. */
START_TEST(file_errors_name_file_line_and_setting)
{
	struct config cfg;
	struct cf_error err;
	char *conf = tmp_path("c.conf");
	char *want = NULL;

	ck_assert_int_eq(load_file(CONFIG_SERVER, "listen = 127.0.0.1:1\nbogus-name = 1\n", &cfg, &err),
			 CF_EINVAL);
	want = cf_asprintf("%s:2: unknown setting 'bogus-name'", conf);
	ck_assert_str_eq(err.detail, want);
	CF_FREE(want);
	config_free(&cfg);

	ck_assert_int_eq(load_file(CONFIG_SERVER, "# threads\n\nthreads = many\n", &cfg, &err), CF_EINVAL);
	want = cf_asprintf("%s:3: threads: 'many' is not a whole number", conf);
	ck_assert_str_eq(err.detail, want);
	CF_FREE(want);
	config_free(&cfg);

	ck_assert_int_eq(load_file(CONFIG_SERVER, "listen 127.0.0.1:1\n", &cfg, &err), CF_EINVAL);
	ck_assert(strstr(err.detail, ":1: not a setting (expected NAME = VALUE") != NULL);
	config_free(&cfg);

	/* the flags' names, not the environment's */
	ck_assert_int_eq(load_file(CONFIG_SERVER, "CONFORM_LISTEN = 127.0.0.1:1\n", &cfg, &err), CF_EINVAL);
	ck_assert(strstr(err.detail, ":1: unknown setting 'CONFORM_LISTEN'") != NULL);
	config_free(&cfg);

	/* the file is shared: another program's setting is not this one's
	 * business beyond its name (conformctl does not listen) */
	ck_assert_int_eq(load_file(CONFIG_CLI, "threads = many\nlisten = x\ndata-dir = /srv/c\n", &cfg, &err), 0);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:8080");
	ck_assert_str_eq(cfg.data_dir, "/srv/c");
	config_free(&cfg);
	free(conf);
}
END_TEST

/* A value read from a file (a *-file setting, a credential) never appears in an error. */
START_TEST(file_values_never_in_errors)
{
	struct config cfg;
	struct cf_error err;
	char *secret = tmp_path("secret");
	write_file(secret, "s3cret-Passw0rd\n");

	char *text = cf_asprintf("threads-file = %s\n", secret);
	ck_assert_int_eq(load_file(CONFIG_SERVER, text, &cfg, &err), CF_EINVAL);
	ck_assert_msg(strstr(err.detail, "s3cret") == NULL, "%s", err.detail);
	ck_assert(strstr(err.detail, ":1: threads-file: the first line of ") != NULL);
	ck_assert(strstr(err.detail, secret) != NULL);
	config_free(&cfg);
	free(text);

	setenv("CONFORM_THREADS_FILE", secret, 1);
	ck_assert_int_eq(load_file(CONFIG_SERVER, "", &cfg, &err), CF_EINVAL);
	ck_assert_msg(strstr(err.detail, "s3cret") == NULL, "%s", err.detail);
	ck_assert(strncmp(err.detail, "CONFORM_THREADS_FILE: ", 22) == 0);
	config_free(&cfg);
	unsetenv("CONFORM_THREADS_FILE");

	char *creds = tmp_path("creds");
	mkdir(creds, 0700);
	char *cred = cf_asprintf("%s/threads", creds);
	write_file(cred, "s3cret-Passw0rd");
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	ck_assert_int_eq(load_file(CONFIG_SERVER, "", &cfg, &err), CF_EINVAL);
	ck_assert_msg(strstr(err.detail, "s3cret") == NULL, "%s", err.detail);
	ck_assert(strncmp(err.detail, "credential threads: ", 20) == 0);
	config_free(&cfg);
	/* a credential of a setting that is not the program's is not read */
	ck_assert_int_eq(load_file(CONFIG_SIGNER, "", &cfg, &err), 0);
	config_free(&cfg);
	unsetenv("CREDENTIALS_DIRECTORY");

	/* a first line too long to be read whole is refused, not cut */
	char *long_secret = tmp_path("long");
	char *text2 = cf_malloc(5002);
	memset(text2, 'x', 5000);
	text2[5000] = '\n';
	text2[5001] = '\0';
	write_file(long_secret, text2);
	char *line = cf_asprintf("database-url-file = %s\n", long_secret);
	ck_assert_int_eq(load_file(CONFIG_SERVER, line, &cfg, &err), CF_EINVAL);
	ck_assert_msg(strstr(err.detail, "is longer than 4096 bytes") != NULL, "%s", err.detail);
	ck_assert(strstr(err.detail, "xxxx") == NULL);
	config_free(&cfg);
	free(line);
	free(text2);
	free(long_secret);

	/* a file that cannot be read is named, with why */
	char *argv[] = { "conformd", "--threads-file", "/nonexistent/threads" };
	const char *own = NULL;
	config_defaults(&cfg);
	setenv("CONFORM_CONFIG", "", 1); /* no configuration file at all */
	ck_assert_int_eq(config_load(&cfg, CONFIG_SERVER, 3, argv, NULL, &own, NULL, &err), CF_EIO);
	ck_assert_str_eq(err.detail,
			 "--threads-file: cannot read /nonexistent/threads: No such file or directory");
	config_free(&cfg);
	free(cred);
	free(creds);
	free(secret);
}
END_TEST

/* An explicitly given configuration file must exist; a default one may be missing. */
START_TEST(missing_files)
{
	struct config cfg;
	struct cf_error err;
	const char *own = NULL;
	char *argv[] = { "conformd", "--config", "/nonexistent/conform.conf" };
	config_defaults(&cfg);
	ck_assert_int_eq(config_load(&cfg, CONFIG_SERVER, 3, argv, NULL, &own, NULL, &err), CF_EIO);
	ck_assert_str_eq(err.detail,
			 "configuration file /nonexistent/conform.conf: cannot read: No such file or directory");
	config_free(&cfg);

	setenv("CONFORM_CONFIG", "/nonexistent/env.conf", 1);
	config_defaults(&cfg);
	ck_assert_int_eq(config_load(&cfg, CONFIG_SERVER, 1, argv, NULL, &own, NULL, &err), CF_EIO);
	ck_assert(strstr(err.detail, "/nonexistent/env.conf") != NULL);
	config_free(&cfg);
	/* --config beats CONFORM_CONFIG */
	char *conf = tmp_path("flag.conf");
	write_file(conf, "listen = 127.0.0.1:4242\n");
	char *argv2[] = { "conformd", "--config", conf };
	config_defaults(&cfg);
	ck_assert_int_eq(config_load(&cfg, CONFIG_SERVER, 3, argv2, NULL, &own, NULL, &err), 0);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:4242");
	config_free(&cfg);
	/* conformctl's --config comes before its command, like every setting */
	char *argv3[] = { "conformctl", "--config", conf, "db", "status" };
	int operand = 0;
	config_defaults(&cfg);
	ck_assert_int_eq(config_load(&cfg, CONFIG_SERVER | CONFIG_CLI, 5, argv3, NULL, &own, &operand, &err), 0);
	ck_assert_int_eq(operand, 3);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:4242");
	config_free(&cfg);
	unsetenv("CONFORM_CONFIG");

	/* how config_load reads the default file: a missing one is fine */
	config_defaults(&cfg);
	ck_assert_int_eq(config_from_file(&cfg, CONFIG_SERVER, "/nonexistent/conform.conf", false, &err), 0);
	ck_assert_int_eq(config_from_file(&cfg, CONFIG_SERVER, "/nonexistent/conform.conf", true, &err), CF_EIO);
	config_free(&cfg);
	free(conf);
}
END_TEST

/* No source path is compiled in: the migrations are found from the
 * program's own place (this test runs in build/tests/, whose ../share/conform
 * CMake made). */
START_TEST(migrations_found_beside_the_program)
{
	struct config cfg;
	struct cf_error err;
	const char *own = NULL;
	char *argv[] = { "conformctl" };
	setenv("CONFORM_CONFIG", "", 1);
	config_defaults(&cfg);
	ck_assert_str_eq(cfg.migrations_dir, "");
	ck_assert_int_eq(config_load(&cfg, CONFIG_CLI, 1, argv, NULL, &own, NULL, &err), 0);
	size_t n = strlen(cfg.migrations_dir), tail = strlen("/share/conform/migrations");
	ck_assert_msg(n > tail && strcmp(cfg.migrations_dir + n - tail, "/share/conform/migrations") == 0,
		      "%s", cfg.migrations_dir);
	char *first = cf_asprintf("%s/0001_foundation.sql", cfg.migrations_dir);
	ck_assert_msg(access(first, R_OK) == 0, "%s", first);
	free(first);
	char *schemes = config_shipped_path("schemes/scheme.schema.json");
	ck_assert_ptr_nonnull(schemes);
	ck_assert_msg(access(schemes, R_OK) == 0, "%s", schemes);
	free(schemes);
	config_free(&cfg);
	/* a setting still wins */
	char *argv2[] = { "conformctl", "--migrations-dir=/srv/m" };
	config_defaults(&cfg);
	ck_assert_int_eq(config_load(&cfg, CONFIG_CLI, 2, argv2, NULL, &own, NULL, &err), 0);
	ck_assert_str_eq(cfg.migrations_dir, "/srv/m");
	config_free(&cfg);
}
END_TEST

/* The syntax: blanks around names and values, values with '=' and '#'. */
START_TEST(file_syntax)
{
	struct config cfg;
	struct cf_error err;
	ck_assert_int_eq(load_file(CONFIG_SERVER | CONFIG_CLI,
				   "#!\n\t\n database-url =host=/run/pg password=a#b=c \r\n"
				   "max-body=2MiB\nlisten =\n",
				   &cfg, &err), 0);
	ck_assert_str_eq(cfg.database_url, "host=/run/pg password=a#b=c");
	ck_assert_uint_eq(cfg.max_body, 2u << 20);
	ck_assert_str_eq(cfg.listen, "");
	config_free(&cfg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_level_against_every_other);
	tcase_add_test(tc, one_form_per_level);
	tcase_add_test(tc, file_errors_name_file_line_and_setting);
	tcase_add_test(tc, file_values_never_in_errors);
	tcase_add_test(tc, missing_files);
	tcase_add_test(tc, migrations_found_beside_the_program);
	tcase_add_test(tc, file_syntax);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
