/*
 * ticker: the sleeping, waking and stopping that conformd's background
 * threads share (the janitor, the log signer, the witness submitter, the
 * webhook deliverers). A thread does its work, then sleeps in ticker_sleep
 * until its pause is over, ticker_wake calls it early, or ticker_stop ends
 * it; ticker_stop joins every thread the ticker started.
 */
#ifndef CONFORM_TICKER_H
#define CONFORM_TICKER_H

#include <pthread.h>
#include <stdbool.h>

#define TICKER_MAX_THREADS 4

struct ticker {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping, woken;
	int nthreads;
	pthread_t threads[TICKER_MAX_THREADS];
};

#define TICKER_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, 0, { 0 } }

/* Starts n threads (at most TICKER_MAX_THREADS) running fn(arg); logs, naming
 * what, any that cannot start. Returns how many started. */
int ticker_start(struct ticker *t, int n, void *(*fn)(void *), void *arg, const char *what);

/* Sleeps up to ms, or until ticker_wake or ticker_stop. Returns false when
 * the thread is to end. A wake is used up by the sleep it ends. */
bool ticker_sleep(struct ticker *t, long ms);

/* Has ticker_stop begun? */
bool ticker_stopping(struct ticker *t);

/* Ends the current (or next) sleep of one thread at once. */
void ticker_wake(struct ticker *t);

/* Tells every thread to end, and waits until they have. No-op when none runs. */
void ticker_stop(struct ticker *t);

#endif
