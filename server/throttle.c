/*
 * throttle: a fixed-size table of addresses (see throttle.h). Memory stays
 * bounded under a flood of addresses: a slot is found by hashing and a short
 * probe; when none is free, the slot with the oldest window is reused.
 */
#include "throttle.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SLOTS 8192
#define PROBE 16
#define WINDOW 60

struct slot {
	char addr[64];
	time_t window_start;
	long failures;
};

/* One count per address: failed authentications, or complaints lodged. */
struct table {
	struct slot slots[SLOTS];
	pthread_mutex_t lock;
	long limit;
};

static struct table failures = { .lock = PTHREAD_MUTEX_INITIALIZER, .limit = 10 };
static struct table lodged = { .lock = PTHREAD_MUTEX_INITIALIZER, .limit = 5 };

static void table_init(struct table *t, long n)
{
	pthread_mutex_lock(&t->lock);
	t->limit = n;
	memset(t->slots, 0, sizeof t->slots);
	pthread_mutex_unlock(&t->lock);
}

void throttle_init(long n)
{
	table_init(&failures, n);
}

void throttle_lodge_init(long n)
{
	table_init(&lodged, n);
}

static unsigned long hash(const char *s)
{
	unsigned long h = 5381;
	for (; *s; s++)
		h = h * 33 ^ (unsigned char)*s;
	return h;
}

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1; /* never 0: 0 marks an empty slot */
}

/* Is slot a better one to reuse than b? Empty, then expired, then oldest. */
static bool better_victim(const struct slot *a, const struct slot *b, time_t now)
{
	int ra = !a->window_start ? 0 : now - a->window_start >= WINDOW ? 1 : 2;
	int rb = !b->window_start ? 0 : now - b->window_start >= WINDOW ? 1 : 2;
	if (ra != rb)
		return ra < rb;
	return a->window_start < b->window_start;
}

/* The slot of addr, or NULL; with create, a slot is made for it. Caller
 * holds the lock. */
static struct slot *find(struct slot *slots, const char *addr, bool create, time_t now)
{
	unsigned long h = hash(addr);
	struct slot *victim = NULL;
	for (int i = 0; i < PROBE; i++) {
		struct slot *s = &slots[(h + (unsigned long)i) % SLOTS];
		if (s->window_start && strcmp(s->addr, addr) == 0)
			return s;
		if (!victim || better_victim(s, victim, now))
			victim = s;
	}
	if (!create)
		return NULL;
	snprintf(victim->addr, sizeof victim->addr, "%s", addr);
	victim->window_start = now;
	victim->failures = 0;
	return victim;
}

/* The key an address is counted under: itself, or for IPv6 its /64, the
 * block one subscriber is usually given (and can rotate within). */
static void key_of(const char *addr, char key[64])
{
	unsigned char a[16];
	if (strchr(addr, ':') && inet_pton(AF_INET6, addr, a) == 1) {
		memset(a + 8, 0, 8);
		char text[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, a, text, sizeof text);
		snprintf(key, 64, "%s/64", text);
	} else {
		snprintf(key, 64, "%s", addr);
	}
}

/* Counts one event of client in t: 0 while within t's limit, else the
 * seconds until its window ends. */
static long count(struct table *t, const char *client)
{
	char addr[64];
	key_of(client, addr);
	time_t now = now_s();
	long wait = 0;
	pthread_mutex_lock(&t->lock);
	struct slot *s = find(t->slots, addr, true, now);
	if (now - s->window_start >= WINDOW) {
		s->window_start = now;
		s->failures = 0;
	}
	s->failures++;
	if (s->failures > t->limit) {
		wait = WINDOW - (long)(now - s->window_start);
		if (wait < 1)
			wait = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return wait;
}

long throttle_failure(const char *client)
{
	return count(&failures, client);
}

long throttle_lodge(const char *client)
{
	return count(&lodged, client);
}
