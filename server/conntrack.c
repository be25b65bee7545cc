/*
 * conntrack: head and body deadlines, enforced by a reaper thread (see
 * conntrack.h).
 *
 * Every tracked connection is on one list under one mutex. Entries are
 * made in libmicrohttpd's STARTED notification and removed in its CLOSED
 * one, which libmicrohttpd sends before it closes the socket: so while the
 * reaper holds the mutex, every descriptor on the list is still the
 * connection's own, and shutting it down cannot hit a reused descriptor.
 */
#include "conntrack.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

enum phase {
	PHASE_HEAD, /* waiting for a request head: deadline head_timeout */
	PHASE_BODY, /* receiving a body: deadline body_timeout per chunk */
	PHASE_BUSY, /* being handled or answered: no deadline */
	PHASE_REAPED,
};

struct tracked {
	struct tracked *prev, *next;
	int fd;
	enum phase phase;
	struct timespec since; /* the start of the current deadline */
	size_t chunk;          /* body bytes since `since` */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct tracked *head;
static pthread_t reaper;
static bool running, stopping;
static long head_secs, body_secs;
static atomic_ulong reaped;

static struct tracked *of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void now(struct timespec *t)
{
	clock_gettime(CLOCK_MONOTONIC, t);
}

static double since(const struct timespec *t, const struct timespec *at)
{
	return (double)(at->tv_sec - t->tv_sec) + (double)(at->tv_nsec - t->tv_nsec) / 1e9;
}

/* Moves t to phase with a fresh deadline, unless the reaper got it first. */
static void enter(struct MHD_Connection *conn, enum phase phase)
{
	struct tracked *t = of(conn);
	if (!t)
		return;
	pthread_mutex_lock(&mu);
	if (t->phase != PHASE_REAPED) {
		t->phase = phase;
		t->chunk = 0;
		now(&t->since);
	}
	pthread_mutex_unlock(&mu);
}

void conntrack_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		      enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct tracked *t = calloc(1, sizeof *t);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!t || !ci) {
			free(t); /* untracked: libmicrohttpd's idle timeout still holds */
			return;
		}
		t->fd = ci->connect_fd;
		t->phase = PHASE_HEAD;
		now(&t->since);
		pthread_mutex_lock(&mu);
		t->next = head;
		if (head)
			head->prev = t;
		head = t;
		pthread_mutex_unlock(&mu);
		*socket_context = t;
		return;
	}
	struct tracked *t = *socket_context;
	if (!t)
		return;
	pthread_mutex_lock(&mu);
	if (t->prev)
		t->prev->next = t->next;
	else
		head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&mu);
	free(t);
	*socket_context = NULL;
}

void conntrack_head_received(struct MHD_Connection *conn)
{
	enter(conn, PHASE_BODY);
}

void conntrack_body_received(struct MHD_Connection *conn, size_t n)
{
	struct tracked *t = of(conn);
	if (!t)
		return;
	pthread_mutex_lock(&mu);
	if (t->phase == PHASE_BODY) {
		t->chunk += n;
		if (t->chunk >= CONNTRACK_BODY_CHUNK) {
			t->chunk = 0;
			now(&t->since);
		}
	}
	pthread_mutex_unlock(&mu);
}

void conntrack_busy(struct MHD_Connection *conn)
{
	enter(conn, PHASE_BUSY);
}

void conntrack_request_done(struct MHD_Connection *conn)
{
	enter(conn, PHASE_HEAD);
}

unsigned long conntrack_reaped(void)
{
	return atomic_load(&reaped);
}

/* Shuts down every connection past its deadline; the caller holds mu. */
static unsigned reap_locked(void)
{
	struct timespec at;
	now(&at);
	unsigned n = 0;
	for (struct tracked *t = head; t; t = t->next) {
		long limit = t->phase == PHASE_HEAD ? head_secs : t->phase == PHASE_BODY ? body_secs : 0;
		if (!limit || since(&t->since, &at) < (double)limit)
			continue;
		/* both directions: libmicrohttpd's next read sees the end and
		 * closes the connection in its own thread */
		shutdown(t->fd, SHUT_RDWR);
		t->phase = PHASE_REAPED;
		n++;
	}
	return n;
}

static void *reaper_main(void *arg)
{
	(void)arg;
	unsigned long window = 0;
	struct timespec told;
	now(&told);
	pthread_mutex_lock(&mu);
	while (!stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&cv, &mu, &until);
		if (stopping)
			break;
		unsigned n = reap_locked();
		atomic_fetch_add(&reaped, n);
		window += n;
		/* one line per 10 s at most: a flood must not fill the log */
		struct timespec at;
		now(&at);
		if (window && since(&told, &at) >= 10.0) {
			log_warn("closed %lu connections that did not send their request in time "
				 "(head within %ld s, each %d KiB of a body within %ld s)",
				 window, head_secs, CONNTRACK_BODY_CHUNK / 1024, body_secs);
			window = 0;
			told = at;
		}
	}
	pthread_mutex_unlock(&mu);
	if (window)
		log_warn("closed %lu connections that did not send their request in time", window);
	return NULL;
}

void conntrack_start(long head_timeout, long body_timeout)
{
	head_secs = head_timeout;
	body_secs = body_timeout;
	atomic_store(&reaped, 0);
	stopping = false;
	running = pthread_create(&reaper, NULL, reaper_main, NULL) == 0;
	if (!running)
		log_error("cannot start the connection reaper: only the idle timeout holds");
}

void conntrack_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(reaper, NULL);
	running = false;
}
