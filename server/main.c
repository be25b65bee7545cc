/*
 * conformd: the conform REST service. Reads its settings, checks that the
 * database schema is current, serves until SIGTERM or SIGINT, then stops
 * gracefully and exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "identity.h"
#include "log.h"
#include "migrate.h"
#include "server.h"

#include <systemd/sd-daemon.h>

static void usage(FILE *out)
{
	char *help = config_help(CONFIG_SERVER);
	fprintf(out,
		"Usage: conformd [OPTION]...\n"
		"Serve the conform REST API (IoT security conformity certification).\n\n"
		"Every option can also be set by its environment variable (NAME_FILE: from a\n"
		"file), a systemd credential or the configuration file (--config FILE,\n"
		"CONFORM_CONFIG, else /etc/conform/conform.conf when installed); a flag wins.\n"
		"  %-22s %s\n  %-22s %s\n%s\n"
		"With no database URL, conformd uses the embedded PostgreSQL cluster that\n"
		"deploy/local/run.sh starts under the data directory.\n",
		"--help", "show this help and exit", "--version", "show the version and exit", help);
	free(help);
}

/* Refuses to serve an old schema: every query would be a gamble. */
static int check_schema(const struct config *cfg)
{
	struct cf_error err;
	struct db *db = NULL;
	char *conninfo = config_runtime_conninfo(cfg);
	cf_err e = db_connect(conninfo, &db, &err);
	free(conninfo);
	int version = 0;
	if (!e)
		e = migrate_current_version(db, &version, &err);
	db_close(db);
	if (e) {
		log_error("cannot check the database schema: %s", err.detail);
		return -1;
	}
	int needed = migrate_required_version();
	if (version < needed) {
		log_error("the database schema is at version %d but this conformd needs version %d: "
			  "run `conformctl db migrate` first",
			  version, needed);
		return -1;
	}
	return 0;
}

/*
 * Takes the service's one public URL from the database, storing it at the
 * first start (the setting, or else the loopback listen address), and puts
 * it in cfg->public_url; refuses a setting that differs from the stored URL.
 */
static int establish_identity(struct config *cfg)
{
	struct cf_error err, derr = { 0 };
	struct db *db = NULL;
	char *derived = NULL, *url = NULL;
	bool given = cfg->public_url[0] != '\0', unresolvable = false, stored = false;
	if (!given && identity_from_listen(cfg->listen, &derived, &derr))
		derived = NULL;
	struct identity_request rq = {
		.explicit_url = given ? cfg->public_url : NULL,
		.setting = "CONFORM_PUBLIC_URL (--public-url)",
		.fallback = derived,
		.set_by = given ? "conformd (CONFORM_PUBLIC_URL)" : "conformd (listen address)",
		.may_store = true,
	};
	struct audit_actor actor = { "system", "conformd", NULL };
	char *conninfo = config_runtime_conninfo(cfg);
	cf_err e = db_connect(conninfo, &db, &err);
	free(conninfo);
	if (!e)
		e = identity_resolve(db, &actor, &rq, &url, &unresolvable, &stored, &err);
	db_close(db);
	free(derived);
	if (e) {
		/* nothing given and nothing to derive from: say why not */
		log_error("%s", e == CF_EINVAL && !given && !rq.fallback ? derr.detail : err.detail);
		return -1;
	}
	if (stored)
		log_info("public URL %s stored as this service's issuer identity", url);
	if (unresolvable)
		/* a trial on this machine, not a mistake: the identity check refuses
		 * plain http on anything but loopback */
		log_info("public URL %s: %s", url, identity_loopback_warning());
	free(cfg->public_url);
	cfg->public_url = url;
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct cf_error err;
	config_defaults(&cfg);
	int status = EXIT_FAILURE;

	const char *own = NULL;
	if (config_load(&cfg, CONFIG_SERVER, argc, argv, (const char *[]){ "--help", "-h", "--version", NULL },
			&own, NULL, &err)) {
		fprintf(stderr, "conformd: %s\n", err.detail);
		status = 2;
		goto out;
	}
	if (own && strcmp(own, "--version") == 0) {
		printf("conformd %s\n", CONFORM_VERSION);
		status = EXIT_SUCCESS;
		goto out;
	}
	if (own) {
		usage(stdout);
		status = EXIT_SUCCESS;
		goto out;
	}
	config_use_log_level(&cfg);
	enum log_format log_format;
	if (log_parse_format(cfg.log_format, &log_format, &err)) {
		fprintf(stderr, "conformd: log-format (CONFORM_LOG_FORMAT): %s\n", err.detail);
		status = 2;
		goto out;
	}
	log_set_format(log_format);

	if (check_schema(&cfg) || establish_identity(&cfg))
		goto out;

	/* Signals are taken by sigwait in this thread alone: block them before
	 * the worker threads start, so that they inherit the mask. */
	signal(SIGINT, SIG_DFL); /* a shell starts background jobs with SIGINT ignored */
	signal(SIGTERM, SIG_DFL);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit (LimitFSIZE=, ulimit -f) fails the one upload that
	 * reaches it (EFBIG, answered like a full disk), not the whole service. */
	signal(SIGXFSZ, SIG_IGN);

	struct server srv = { 0 };
	log_async_start();
	if (server_start(&srv, &cfg, &err)) {
		log_error("%s", err.detail);
		log_async_stop();
		goto out;
	}
	/* Type=notify: systemd starts what comes after conformd only now that
	 * it listens (a no-op without NOTIFY_SOCKET). */
	sd_notifyf(0, "READY=1\nSTATUS=listening on %s", cfg.listen);
	int sig = 0;
	sigwait(&stop, &sig);
	sd_notify(0, "STOPPING=1\nSTATUS=finishing in-flight requests");
	log_info("received %s: finishing in-flight requests", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	server_stop(&srv);
	log_async_stop();
	status = EXIT_SUCCESS;
out:
	config_free(&cfg);
	return status;
}
