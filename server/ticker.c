#include "ticker.h"

#include <errno.h>
#include <time.h>

#include "log.h"

int ticker_start(struct ticker *t, int n, void *(*fn)(void *), void *arg, const char *what)
{
	pthread_mutex_lock(&t->lock);
	t->stopping = false;
	t->woken = false;
	pthread_mutex_unlock(&t->lock);
	t->nthreads = 0;
	for (int i = 0; i < n && i < TICKER_MAX_THREADS; i++) {
		if (pthread_create(&t->threads[t->nthreads], NULL, fn, arg) != 0) {
			log_error("cannot start the %s thread", what);
			break;
		}
		t->nthreads++;
	}
	return t->nthreads;
}

bool ticker_sleep(struct ticker *t, long ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&t->lock);
	/* a spurious wake-up sleeps on; only the time, a wake or a stop end it */
	while (!t->stopping && !t->woken)
		if (pthread_cond_timedwait(&t->wake, &t->lock, &until) == ETIMEDOUT)
			break;
	t->woken = false;
	bool go_on = !t->stopping;
	pthread_mutex_unlock(&t->lock);
	return go_on;
}

bool ticker_stopping(struct ticker *t)
{
	pthread_mutex_lock(&t->lock);
	bool stopping = t->stopping;
	pthread_mutex_unlock(&t->lock);
	return stopping;
}

void ticker_wake(struct ticker *t)
{
	pthread_mutex_lock(&t->lock);
	t->woken = true;
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->lock);
}

void ticker_stop(struct ticker *t)
{
	if (t->nthreads == 0)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_cond_broadcast(&t->wake);
	pthread_mutex_unlock(&t->lock);
	for (int i = 0; i < t->nthreads; i++)
		pthread_join(t->threads[i], NULL);
	t->nthreads = 0;
}
