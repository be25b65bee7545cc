/*
 * conform-signer: the one process that holds private signing keys. conformd
 * and conformctl ask it, over a Unix socket in a directory only it can read,
 * to make a key for an owner (an assessment body, or "log" for the service's
 * transparency log), to sign bytes with one, to list and to destroy them;
 * its answers carry public keys and signatures, never a secret
 * (core/signerlink.h). The keys live in a PKCS#11 module (SoftHSM2 by
 * default, its tokens under the signer's directory), one token per owner,
 * each opened by that owner's own random PIN kept in a 0600 file: one
 * owner's PIN opens no other owner's key. core/keys.c does all the key work.
 *
 * Each connection has a thread of its own and may carry any number of
 * requests, one after the other: conformd keeps one connection per worker
 * thread, so signatures for several issuers are made at once and no
 * signature pays for a connection. Up to SIGNER_CONNECTIONS at a time; the
 * next waits to be accepted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "config.h"
#include "ids.h"
#include "keys.h"
#include "log.h"
#include "mem.h"
#include "party.h"
#include "rnd.h"
#include "signerlink.h"

/* The signer's directory, resolved: softhsm2.conf, tokens/, owners/<owner>/pin. */
static char *dir;

/* The PKCS#11 module, loaded once. */
static struct keys_p11 *p11;

static volatile sig_atomic_t stopping;

/* Connections served at once; each has a thread. conformd keeps one per
 * worker thread (eight per CPU by default), so the cap is far above that;
 * a thread's stack is small, the signing stacks of OpenSSL and SoftHSM2
 * are shallow. */
#define SIGNER_CONNECTIONS 1024
#define SIGNER_STACK (512u << 10)

/* The open connections, so that a stop can end them (their threads are
 * detached: the last one out signals conns_done). */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conns_done = PTHREAD_COND_INITIALIZER;
static int conns[SIGNER_CONNECTIONS];
static int nconns;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static bool valid_owner(const char *s)
{
	return s && (strcmp(s, "log") == 0 || ids_is_uuid(s));
}

/* A kid is an RFC 7638 thumbprint: 43 base64url characters. */
static bool valid_kid(const char *s)
{
	if (!s || strlen(s) != 43)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_'))
			return false;
	return true;
}

static cf_err need_owner(const json_t *req, const char **owner, struct cf_error *err)
{
	*owner = json_string_value(json_object_get(req, "owner"));
	if (!valid_owner(*owner))
		return cf_error_set(err, CF_EINVAL, "/owner",
				    "\"owner\" must be an organisation id or \"log\"");
	return CF_OK;
}

static cf_err need_kid(const json_t *req, const char **kid, struct cf_error *err)
{
	*kid = json_string_value(json_object_get(req, "kid"));
	if (!valid_kid(*kid))
		return cf_error_set(err, CF_EINVAL, "/kid", "\"kid\" must be a key thumbprint");
	return CF_OK;
}

/* The owner's token label: a body's id without its dashes (labels have 32
 * characters at most), or "log". */
static void token_label(const char *owner, char out[33])
{
	size_t n = 0;
	for (const char *p = owner; *p && n < 32; p++)
		if (*p != '-')
			out[n++] = *p;
	out[n] = '\0';
}

/*
 * The owner's PIN: the first line of dir/owners/<owner>/pin, made (256
 * random bits) with the owner's first key when create is set; without it a
 * missing PIN is CF_ENOTFOUND (the signer holds nothing of the owner).
 * *out is released with keys_passphrase_free.
 */
static cf_err owner_pin(const char *owner, bool create, char **out, struct cf_error *err)
{
	*out = NULL;
	cf_err e = CF_OK;
	char *owners = cf_asprintf("%s/owners", dir);
	char *home = cf_asprintf("%s/%s", owners, owner);
	char *path = cf_asprintf("%s/pin", home);
	if (create) {
		if ((mkdir(owners, 0700) != 0 && errno != EEXIST) ||
		    (mkdir(home, 0700) != 0 && errno != EEXIST)) {
			e = cf_error_set(err, CF_EIO, NULL, "cannot create %s: %s", home, strerror(errno));
			goto out;
		}
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			unsigned char raw[32];
			rnd_bytes(raw, sizeof raw);
			char *text = codec_b64url_encode(raw, sizeof raw);
			cf_wipe(raw, sizeof raw);
			size_t n = strlen(text);
			bool ok = write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
				  fsync(fd) == 0;
			cf_wipe(text, n);
			free(text);
			if (close(fd) != 0 || !ok) {
				unlink(path);
				e = cf_error_set(err, CF_EIO, NULL, "cannot write %s", path);
				goto out;
			}
		} else if (errno != EEXIST) {
			e = cf_error_set(err, CF_EIO, NULL, "cannot create %s: %s", path, strerror(errno));
			goto out;
		}
	} else if (access(path, F_OK) != 0) {
		e = cf_error_set(err, CF_ENOTFOUND, NULL, "the signer holds no key of %s", owner);
		goto out;
	}
	e = keys_read_passphrase_file(path, out, err);
out:
	free(path);
	free(home);
	free(owners);
	return e;
}

static json_t *made_json(const char *owner, const char *kid, const unsigned char pub[32])
{
	char *x = codec_b64url_encode(pub, 32);
	json_t *j = json_pack("{s:s,s:s,s:s}", "owner", owner, "kid", kid, "public_key", x);
	free(x);
	return j;
}

static cf_err op_generate(const json_t *req, json_t **ok, struct cf_error *err)
{
	const char *owner;
	char *pin = NULL, label[33], kid[KEYS_THUMBPRINT_LEN];
	unsigned char pub[32];
	cf_err e = need_owner(req, &owner, err);
	if (e)
		return e;
	token_label(owner, label);
	e = owner_pin(owner, true, &pin, err);
	if (!e)
		e = keys_p11_generate(p11, label, pin, pub, kid, err);
	keys_passphrase_free(pin);
	if (!e) {
		*ok = made_json(owner, kid, pub);
		log_info("made key %s for %s", kid, owner);
	}
	return e;
}

/* Takes in an existing key (a PEM file or OSSL_STORE URI this process can
 * read, with its passphrase) and stores it like a made one. */
static cf_err op_import(const json_t *req, json_t **ok, struct cf_error *err)
{
	const char *owner, *uri = json_string_value(json_object_get(req, "uri"));
	const char *passphrase = json_string_value(json_object_get(req, "passphrase"));
	struct keys_private *k = NULL;
	char *pin = NULL, label[33], kid[KEYS_THUMBPRINT_LEN];
	cf_err e = need_owner(req, &owner, err);
	if (e)
		return e;
	if (!uri || !uri[0])
		return cf_error_set(err, CF_EINVAL, "/uri", "\"uri\" must name the key to import");
	token_label(owner, label);
	e = keys_load(&k, uri, passphrase, err);
	if (!e)
		e = owner_pin(owner, true, &pin, err);
	if (!e)
		e = keys_p11_import(p11, label, pin, k, kid, err);
	if (!e) {
		unsigned char pub[32];
		keys_public_raw(k, pub);
		*ok = made_json(owner, kid, pub);
		log_info("took in key %s for %s", kid, owner);
	}
	keys_passphrase_free(pin);
	keys_free(k);
	return e;
}

static cf_err op_sign(const json_t *req, json_t **ok, struct cf_error *err)
{
	const char *owner, *kid;
	const char *data = json_string_value(json_object_get(req, "data"));
	char *pin = NULL, label[33];
	unsigned char *msg = NULL, sig[64];
	size_t n = 0;
	cf_err e = need_owner(req, &owner, err);
	if (!e)
		e = need_kid(req, &kid, err);
	if (e)
		return e;
	if (!data || codec_b64url_decode(data, strlen(data), &msg, &n, NULL))
		return cf_error_set(err, CF_EINVAL, "/data", "\"data\" must be base64url");
	token_label(owner, label);
	e = owner_pin(owner, false, &pin, err);
	if (!e)
		e = keys_p11_sign(p11, label, pin, kid, msg, n, sig, err);
	keys_passphrase_free(pin);
	if (!e) {
		char *s = codec_b64url_encode(sig, sizeof sig);
		*ok = json_pack("{s:s}", "signature", s);
		free(s);
		log_debug("signed %zu bytes for %s with %s", n, owner, kid);
	}
	free(msg);
	return e;
}

/* Destroys a retired key: nothing can sign with it again. */
static cf_err op_destroy(const json_t *req, json_t **ok, struct cf_error *err)
{
	const char *owner, *kid;
	char *pin = NULL, label[33];
	cf_err e = need_owner(req, &owner, err);
	if (!e)
		e = need_kid(req, &kid, err);
	if (e)
		return e;
	token_label(owner, label);
	e = owner_pin(owner, false, &pin, err);
	if (!e)
		e = keys_p11_destroy(p11, label, pin, kid, err);
	keys_passphrase_free(pin);
	if (!e) {
		*ok = json_pack("{s:s,s:s}", "owner", owner, "kid", kid);
		log_info("destroyed key %s of %s", kid, owner);
	}
	return e;
}

/* Every key the signer holds: {"keys": [{"owner", "kid"}...]}. */
static cf_err op_list(const json_t *req, json_t **ok, struct cf_error *err)
{
	(void)req;
	cf_err e = CF_OK;
	json_t *keys = json_array();
	char *owners = cf_asprintf("%s/owners", dir);
	DIR *d = opendir(owners);
	struct dirent *de;
	while (!e && d && (de = readdir(d))) {
		if (!valid_owner(de->d_name))
			continue;
		char *pin = NULL, label[33];
		json_t *kids = NULL;
		token_label(de->d_name, label);
		e = owner_pin(de->d_name, false, &pin, err);
		if (!e)
			e = keys_p11_list(p11, label, pin, &kids, err);
		keys_passphrase_free(pin);
		if (e == CF_ENOTFOUND) /* a PIN made, its token never: nothing held */
			e = CF_OK;
		size_t i;
		json_t *kid;
		json_array_foreach(kids, i, kid)
			json_array_append_new(keys, json_pack("{s:s,s:O}", "owner", de->d_name, "kid", kid));
		json_decref(kids);
	}
	if (d)
		closedir(d);
	free(owners);
	if (e) {
		json_decref(keys);
		return e;
	}
	*ok = json_pack("{s:o}", "keys", keys);
	return CF_OK;
}

static cf_err op_ping(const json_t *req, json_t **ok, struct cf_error *err)
{
	(void)req;
	(void)err;
	*ok = json_object();
	return CF_OK;
}

static const struct {
	const char *name;
	cf_err (*run)(const json_t *req, json_t **ok, struct cf_error *err);
} ops[] = {
	{ "ping", op_ping },	 { "generate", op_generate }, { "import", op_import },
	{ "sign", op_sign },	 { "destroy", op_destroy },   { "list", op_list },
};

/* Answers one request of fd; false when the connection is to end. */
static bool serve_one(int fd)
{
	struct cf_error err;
	json_t *req = NULL, *ok = NULL, *answer = NULL;
	bool more = false;
	cf_err e = signerlink_recv(fd, &req, &err);
	if (e) {
		log_warn("a request could not be read: %s", err.detail);
		goto out;
	}
	const char *op = json_string_value(json_object_get(req, "op"));
	e = cf_error_set(&err, CF_EINVAL, "/op", "unknown operation \"%.32s\"", op ? op : "");
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (op && strcmp(op, ops[i].name) == 0)
			e = ops[i].run(req, &ok, &err);
	if (e) {
		log_warn("%s: %s", op ? op : "(no op)", err.detail);
		answer = json_pack("{s:{s:i,s:s}}", "error", "code", (int)err.code, "detail", err.detail);
	} else {
		answer = json_pack("{s:O}", "ok", ok);
	}
	if (signerlink_send(fd, answer, &err))
		log_warn("an answer could not be sent: %s", err.detail);
	else
		more = true;
out:
	if (req) {
		/* an import request carried a passphrase */
		json_t *pass = json_object_get(req, "passphrase");
		if (json_is_string(pass))
			cf_wipe((char *)(uintptr_t)json_string_value(pass), json_string_length(pass));
	}
	json_decref(req);
	json_decref(ok);
	json_decref(answer);
	return more;
}

/* A connection's thread: its requests in turn until the client closes it,
 * stays idle for SIGNERLINK_TIMEOUT seconds, or the signer stops. */
static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct timeval tv = { .tv_sec = SIGNERLINK_TIMEOUT };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	for (;;) {
		char c;
		/* a clean end between requests is no error: peek before reading */
		ssize_t r = recv(fd, &c, 1, MSG_PEEK);
		if (r <= 0 || stopping || !serve_one(fd))
			break;
	}
	pthread_mutex_lock(&conns_lock);
	for (int i = 0; i < nconns; i++)
		if (conns[i] == fd) {
			conns[i] = conns[--nconns];
			break;
		}
	close(fd); /* under the lock: a stop never shuts a reused descriptor */
	pthread_cond_broadcast(&conns_done);
	pthread_mutex_unlock(&conns_lock);
	return NULL;
}

/* Serves connection c on a thread of its own, once fewer than
 * SIGNER_CONNECTIONS are open; closes it when the signer stops first. */
static void start_serving(int c)
{
	pthread_mutex_lock(&conns_lock);
	while (nconns == SIGNER_CONNECTIONS && !stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1; /* a stop is noticed within a second */
		pthread_cond_timedwait(&conns_done, &conns_lock, &until);
	}
	if (stopping) {
		pthread_mutex_unlock(&conns_lock);
		close(c);
		return;
	}
	conns[nconns++] = c;
	pthread_mutex_unlock(&conns_lock);
	/* the signals stay with the main thread, whose poll they wake */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, SIGNER_STACK);
	pthread_t t;
	int rc = pthread_create(&t, &attr, serve, (void *)(intptr_t)c);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warn("cannot start a thread for a connection: %s", strerror(rc));
		pthread_mutex_lock(&conns_lock);
		for (int i = 0; i < nconns; i++)
			if (conns[i] == c) {
				conns[i] = conns[--nconns];
				break;
			}
		close(c);
		pthread_mutex_unlock(&conns_lock);
	}
}

/* Ends every open connection and waits for their threads. */
static void stop_serving(void)
{
	pthread_mutex_lock(&conns_lock);
	for (int i = 0; i < nconns; i++)
		shutdown(conns[i], SHUT_RDWR);
	while (nconns > 0)
		pthread_cond_wait(&conns_done, &conns_lock);
	pthread_mutex_unlock(&conns_lock);
}

/* Makes path's directory (0700) when missing and binds a listening socket
 * there, mode 0660: the directory is the guard (0700 under the data
 * directory; under systemd /run/conform-signer, 0750 group conform, so that
 * conformd, another user of that group, may connect). Refuses when another
 * signer already listens. */
static int listen_on(const char *path, struct cf_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path) {
		cf_error_set(err, CF_EINVAL, NULL, "the socket path %s is longer than %zu bytes", path,
			     sizeof addr.sun_path - 1);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	char *parent = cf_strdup(path);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		mkdir(parent, 0700);
	}
	free(parent);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cf_error_set(err, CF_EIO, NULL, "cannot make a socket: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) ||
		    connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
			cf_error_set(err, CF_ECONFLICT, NULL,
				     "%s is in use (another conform-signer, or not a socket)", path);
			close(fd);
			return -1;
		}
		close(fd);
		unlink(path); /* left by a signer that died */
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	mode_t old = umask(0117); /* the socket is born 0660 */
	int b = bind(fd, (struct sockaddr *)&addr, sizeof addr);
	umask(old);
	if (b != 0 || listen(fd, 64) != 0) {
		cf_error_set(err, CF_EIO, NULL, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Makes the signer's directory, or checks an existing one: ours, and closed
 * to everyone else (made 0700 when it was not). */
static cf_err own_dir(const char *path, struct cf_error *err)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return cf_error_set(err, CF_EIO, NULL, "cannot create %s: %s", path, strerror(errno));
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return cf_error_set(err, CF_EIO, NULL, "%s is not a directory", path);
	if (st.st_uid != geteuid())
		return cf_error_set(err, CF_EIO, NULL,
				    "%s belongs to another user; the signer's directory must be its own",
				    path);
	if ((st.st_mode & 0777) != 0700 && chmod(path, 0700) != 0)
		return cf_error_set(err, CF_EIO, NULL, "cannot make %s mode 0700: %s", path,
				    strerror(errno));
	char resolved[PATH_MAX];
	if (!realpath(path, resolved))
		return cf_error_set(err, CF_EIO, NULL, "cannot resolve %s: %s", path, strerror(errno));
	dir = cf_strdup(resolved);
	return CF_OK;
}

/*
 * Points SoftHSM2 at a configuration of the signer's own (dir/softhsm2.conf,
 * tokens in dir/tokens, both made on first start), then loads the module.
 * Another module ignores SOFTHSM2_CONF.
 */
static cf_err pkcs11_setup(const char *module, struct cf_error *err)
{
	cf_err e = CF_OK;
	char *conf = cf_asprintf("%s/softhsm2.conf", dir);
	char *tokens = cf_asprintf("%s/tokens", dir);
	if (mkdir(tokens, 0700) != 0 && errno != EEXIST) {
		e = cf_error_set(err, CF_EIO, NULL, "cannot create %s: %s", tokens, strerror(errno));
		goto out;
	}
	int fd = open(conf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		char *text = cf_asprintf("# conform-signer's SoftHSM2: one token per key owner\n"
					 "directories.tokendir = %s\nobjectstore.backend = file\n"
					 "log.level = ERROR\nslots.removable = false\n",
					 tokens);
		bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
		free(text);
		if (close(fd) != 0 || !ok) {
			unlink(conf);
			e = cf_error_set(err, CF_EIO, NULL, "cannot write %s", conf);
			goto out;
		}
	} else if (errno != EEXIST) {
		e = cf_error_set(err, CF_EIO, NULL, "cannot create %s: %s", conf, strerror(errno));
		goto out;
	}
	setenv("SOFTHSM2_CONF", conf, 1);
	e = keys_p11_open(module, &p11, err);
out:
	free(tokens);
	free(conf);
	return e;
}

static void usage(FILE *out)
{
	char *help = config_help(CONFIG_SIGNER);
	fprintf(out,
		"Usage: conform-signer [OPTION]...\n"
		"Hold conform's private signing keys and sign for conformd and conformctl\n"
		"over a Unix socket. Runs in the foreground until SIGTERM or SIGINT.\n\n"
		"Every option can also be set by its environment variable, a systemd credential\n"
		"or the configuration file (--config FILE); a flag wins.\n"
		"  %-22s %s\n%s",
		"--help", "show this help and exit", help);
	free(help);
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct cf_error err;
	int status = EXIT_FAILURE, fd = -1;
	char *socket_path = NULL, *signer_dir = NULL;
	config_defaults(&cfg);
	umask(077);

	const char *help = NULL;
	if (config_load(&cfg, CONFIG_SIGNER, argc, argv, (const char *[]){ "--help", "-h", NULL }, &help,
			NULL, &err)) {
		fprintf(stderr, "conform-signer: %s\n", err.detail);
		status = 2;
		goto out;
	}
	if (help) {
		usage(stdout);
		status = EXIT_SUCCESS;
		goto out;
	}
	config_use_log_level(&cfg);
	mkdir(cfg.data_dir, 0700);
	signer_dir = config_signer_dir(&cfg);
	socket_path = config_signer_socket(&cfg);
	if (own_dir(signer_dir, &err)) {
		log_error("%s", err.detail);
		goto out;
	}
	if (pkcs11_setup(cfg.pkcs11_module, &err)) {
		log_error("%s", err.detail);
		goto out;
	}
	fd = listen_on(socket_path, &err);
	if (fd < 0) {
		log_error("%s", err.detail);
		goto out;
	}
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll wakes */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("conform-signer: keys in %s, listening on %s", dir, socket_path);
	while (!stopping) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, -1) <= 0)
			continue;
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		start_serving(c);
	}
	log_info("conform-signer: stopping");
	stop_serving();
	status = EXIT_SUCCESS;
out:
	if (fd >= 0) {
		close(fd);
		unlink(socket_path);
	}
	keys_p11_close(p11);
	free(dir);
	free(socket_path);
	free(signer_dir);
	config_free(&cfg);
	return status;
}
