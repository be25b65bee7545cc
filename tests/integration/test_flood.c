/*
 * A slow-connection flood (slowloris) against a real conformd: 2,000
 * connections from 127.0.0.2, each sending one header line every few
 * seconds and opened again whenever the server closes it, for 60 s. All the
 * while GET /v1/health from 127.0.0.3 must answer 200 within 1 s, every
 * time; and the flood's connections must be closed by the head deadline
 * (CONFORM_HEAD_TIMEOUT, default 10 s), none living much past it, although
 * each is never idle long enough for the idle timeout (30 s).
 * Then each limit alone, short, on a conformd of its own: the head
 * deadline, the body deadline, the per-address cap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#include "testdb.h"
#include "testsrv.h"
#include "tsupport.h"

#define FLOOD 2000
#define FLOOD_SECONDS 60.0
#define LINE_EVERY 3.0     /* seconds between the header lines of one connection */
#define HEAD_TIMEOUT 10.0  /* conformd's default head deadline */
#define SLACK 4.0          /* the reaper's period and a loaded machine */
#define PROBE_LIMIT 1.0    /* seconds a health check may take */

static struct testdb db;
static struct testsrv srv;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void setup(void)
{
	/* 2,000 sockets here, and conformd (our child) inherits the limit */
	struct rlimit rl;
	ck_assert(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	rlim_t want = 16384;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur < want) {
		rl.rlim_cur = want;
		ck_assert(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	}
	ck_assert_msg(want >= FLOOD + 256, "the open-files limit (%llu) is too low for the flood",
		      (unsigned long long)want);
	testdb_create(&db, "flood");
	testsrv_start(&srv, &db, NULL);
}

static void teardown(void)
{
	testsrv_stop(&srv);
	testdb_drop(&db);
}

static int connect_from(const char *source, int flags)
{
	int fd = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	/* the port is chosen at connect(): the 4-tuple, not the port, must be
	 * free, so tens of thousands of connections do not run out of ports */
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, source, &a.sin_addr);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(srv.port) };
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The health checker, from 127.0.0.3, in its own thread. */
struct probes {
	atomic_bool stop;
	int n, failed;
	double worst;
	char first_failure[160];
};

/* One GET /v1/health; returns the status (0: no answer) within limit s. */
static int probe(double limit, double *took)
{
	double t0 = now_s();
	int status = 0;
	int fd = connect_from("127.0.0.3", 0);
	if (fd < 0)
		goto out;
	static const char req[] = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1))
		goto out;
	char buf[1024];
	size_t got = 0;
	for (;;) {
		double left = limit - (now_s() - t0);
		if (left <= 0)
			break;
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			break;
		ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (got > 12 && strstr(buf, "\r\n")) {
			status = atoi(buf + 9);
			break;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	*took = now_s() - t0;
	return status;
}

static void *prober(void *arg)
{
	struct probes *p = arg;
	while (!atomic_load(&p->stop)) {
		double took;
		int status = probe(5.0, &took);
		p->n++;
		if (took > p->worst)
			p->worst = took;
		if (status != 200 || took > PROBE_LIMIT) {
			if (!p->failed++)
				snprintf(p->first_failure, sizeof p->first_failure,
					 "health check %d: status %d after %.3f s", p->n, status, took);
		}
		usleep(200000);
	}
	return NULL;
}

struct slot {
	int fd;
	double opened, next_line, reopen;
	int lines;
};

struct flood {
	int ep;
	struct slot s[FLOOD];
	long opened, refused, by_deadline, early;
	double longest;
};

static void slot_open(struct flood *f, int i, double t)
{
	struct slot *s = &f->s[i];
	s->fd = connect_from("127.0.0.2", SOCK_NONBLOCK);
	if (s->fd < 0) {
		s->reopen = t + 1.0;
		return;
	}
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)i };
	ck_assert(epoll_ctl(f->ep, EPOLL_CTL_ADD, s->fd, &ev) == 0);
	s->opened = t;
	s->next_line = t + 0.05; /* the request line once the handshake is done */
	s->lines = 0;
	f->opened++;
}

/* The server closed slot i (or refused it): classify by how long it lived. */
static void slot_closed(struct flood *f, int i, double t)
{
	struct slot *s = &f->s[i];
	double lived = t - s->opened;
	epoll_ctl(f->ep, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1;
	if (lived > f->longest)
		f->longest = lived;
	if (lived >= HEAD_TIMEOUT - 1.0)
		f->by_deadline++; /* accepted, kept sending, closed by the deadline */
	else if (lived < 1.0)
		f->refused++; /* over the per-address cap: closed at once */
	else
		f->early++;
	/* an attacker comes back */
	s->reopen = t + 1.0 + (double)(rand() % 2000) / 1000.0;
}

static void slot_send(struct flood *f, int i, double t)
{
	struct slot *s = &f->s[i];
	char line[96];
	int n = s->lines == 0 ? snprintf(line, sizeof line, "GET /v1/health HTTP/1.1\r\nHost: x\r\n")
			      : snprintf(line, sizeof line, "X-Slow-%d: %d\r\n", s->lines, i);
	ssize_t w = send(s->fd, line, (size_t)n, MSG_NOSIGNAL);
	if (w == n) {
		s->lines++;
		s->next_line = t + LINE_EVERY;
	} else if (w < 0 && (errno == EAGAIN || errno == ENOTCONN)) {
		s->next_line = t + 0.1; /* handshake still under way */
	} else {
		slot_closed(f, i, t);
	}
}

START_TEST(slow_flood_leaves_others_served)
{
	struct flood *f = calloc(1, sizeof *f);
	ck_assert_ptr_nonnull(f);
	f->ep = epoll_create1(0);
	ck_assert(f->ep >= 0);
	srand(11);
	double start = now_s();
	/* the flood starts spread over its first second */
	for (int i = 0; i < FLOOD; i++) {
		f->s[i].fd = -1;
		f->s[i].reopen = start + (double)i / FLOOD;
	}
	struct probes p = { 0 };
	pthread_t th;
	ck_assert(pthread_create(&th, NULL, prober, &p) == 0);

	double t;
	while ((t = now_s()) - start < FLOOD_SECONDS) {
		struct epoll_event evs[256];
		int n = epoll_wait(f->ep, evs, 256, 50);
		t = now_s();
		for (int k = 0; k < n; k++) {
			int i = (int)evs[k].data.u32;
			if (f->s[i].fd < 0)
				continue;
			char buf[4096];
			ssize_t r = recv(f->s[i].fd, buf, sizeof buf, 0);
			if (r == 0 || (r < 0 && errno != EAGAIN))
				slot_closed(f, i, t);
		}
		for (int i = 0; i < FLOOD; i++) {
			struct slot *s = &f->s[i];
			if (s->fd < 0 && t >= s->reopen)
				slot_open(f, i, t);
			else if (s->fd >= 0 && t >= s->next_line)
				slot_send(f, i, t);
		}
	}
	atomic_store(&p.stop, true);
	pthread_join(th, NULL);

	/* whatever is still open must be younger than the deadline */
	t = now_s();
	int outlived = 0;
	for (int i = 0; i < FLOOD; i++) {
		if (f->s[i].fd < 0)
			continue;
		if (t - f->s[i].opened > HEAD_TIMEOUT + SLACK)
			outlived++;
		close(f->s[i].fd);
	}
	close(f->ep);
	fprintf(stderr,
		"flood: %ld connections opened, %ld refused at once, %ld closed by the deadline, "
		"%ld closed early, longest %.1f s, %d outlived the deadline; health: %d checks, "
		"%d failed, slowest %.3f s\n",
		f->opened, f->refused, f->by_deadline, f->early, f->longest, outlived, p.n, p.failed,
		p.worst);
	ck_assert_msg(p.failed == 0, "%d of %d health checks failed; the first: %s", p.failed, p.n,
		      p.first_failure);
	ck_assert_int_ge(p.n, 100);
	ck_assert_msg(outlived == 0, "%d flood connections outlived the head deadline", outlived);
	ck_assert_msg(f->longest <= HEAD_TIMEOUT + SLACK,
		      "a flood connection lived %.1f s, past the head deadline", f->longest);
	/* at least one generation of the per-address cap was closed by the
	 * deadline, not by the idle timeout (never reached) */
	ck_assert_msg(f->by_deadline >= 64, "only %ld flood connections were closed by the deadline",
		      f->by_deadline);
	free(f);
}
END_TEST

/* The same limits, short, one at a time, on a conformd of their own. */
static void setup_short(void)
{
	static const char *const env[] = { "CONFORM_HEAD_TIMEOUT=2", "CONFORM_BODY_TIMEOUT=2",
					   "CONFORM_PER_ADDRESS_CONNECTIONS=4", "CONFORM_MAX_BODY=1K",
					   NULL };
	testdb_create(&db, "deadlines");
	testsrv_start(&srv, &db, env);
}

/* Sends line (may be NULL) every `every` seconds until the server closes fd
 * or `give_up` seconds pass; returns how long the connection lived. */
static double dribble(int fd, const char *first, const char *line, double every, double give_up)
{
	double t0 = now_s(), next = t0;
	bool sent_first = false;
	for (;;) {
		double t = now_s();
		if (t - t0 > give_up)
			return t - t0;
		if (t >= next) {
			const char *what = sent_first ? line : first;
			if (send(fd, what, strlen(what), MSG_NOSIGNAL) < 0)
				return now_s() - t0;
			sent_first = true;
			next = t + every;
		}
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 50) == 1) {
			char buf[512];
			ssize_t r = recv(fd, buf, sizeof buf, 0);
			if (r <= 0)
				return now_s() - t0;
		}
	}
}

START_TEST(a_head_sent_line_by_line_is_cut_at_its_deadline)
{
	int fd = connect_from("127.0.0.4", 0);
	ck_assert(fd >= 0);
	/* never idle for more than 0.3 s, so only the head deadline can end it */
	double lived = dribble(fd, "GET /v1/health HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n", 0.3,
			       30.0);
	close(fd);
	ck_assert_msg(lived >= 1.5 && lived < 2.0 + SLACK, "the connection lived %.2f s", lived);
}
END_TEST

START_TEST(a_body_sent_byte_by_byte_is_cut_at_its_deadline)
{
	int fd = connect_from("127.0.0.4", 0);
	ck_assert(fd >= 0);
	/* over CONFORM_MAX_BODY but near it: conformd reads the body to drop it
	 * before its 413, and the body must keep coming in time */
	double lived = dribble(fd,
			       "POST /v1/organisations HTTP/1.1\r\nHost: x\r\n"
			       "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
			       " ", 0.3, 30.0);
	close(fd);
	ck_assert_msg(lived >= 1.5 && lived < 2.0 + SLACK, "the connection lived %.2f s", lived);
}
END_TEST

START_TEST(one_address_gets_its_cap_and_others_are_served)
{
	int held[4];
	for (int i = 0; i < 4; i++) {
		held[i] = connect_from("127.0.0.5", 0);
		ck_assert(held[i] >= 0);
	}
	usleep(300000); /* accepted by now */
	int fifth = connect_from("127.0.0.5", 0);
	ck_assert(fifth >= 0);
	struct pollfd p = { fifth, POLLIN, 0 };
	ck_assert_msg(poll(&p, 1, 1500) == 1, "the fifth connection from one address was kept");
	char c;
	ck_assert(recv(fifth, &c, 1, 0) <= 0); /* closed, no answer */
	close(fifth);
	double took;
	ck_assert_int_eq(probe(5.0, &took), 200); /* 127.0.0.3 */
	for (int i = 0; i < 4; i++)
		close(held[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("flood");
	TCase *tc = tcase_create("slowloris");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, slow_flood_leaves_others_served);
	suite_add_tcase(s, tc);
	TCase *tc2 = tcase_create("deadlines");
	tcase_add_unchecked_fixture(tc2, setup_short, teardown);
	tcase_set_timeout(tc2, 120);
	tcase_add_test(tc2, a_head_sent_line_by_line_is_cut_at_its_deadline);
	tcase_add_test(tc2, a_body_sent_byte_by_byte_is_cut_at_its_deadline);
	tcase_add_test(tc2, one_address_gets_its_cap_and_others_are_served);
	suite_add_tcase(s, tc2);
	return tsupport_run(s);
}
