/*
 * Unit tests of server/ticker.c, the sleeping, waking and stopping of
 * conformd's background threads: a sleep lasts its time unless woken or
 * stopped, a wake is used up by one sleep, and a stop ends and joins every
 * thread, however long their sleeps.
 */
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "ticker.h"
#include "tsupport.h"

static struct ticker t = TICKER_INIT;
static atomic_int ended;
static atomic_int rounds;

static void *sleeper(void *arg)
{
	(void)arg;
	while (ticker_sleep(&t, 60000))
		atomic_fetch_add(&rounds, 1);
	atomic_fetch_add(&ended, 1);
	return NULL;
}

START_TEST(a_sleep_lasts_its_time_unless_woken)
{
	struct ticker one = TICKER_INIT;
	double t0 = tsupport_now();
	ck_assert(ticker_sleep(&one, 200));
	ck_assert_msg(tsupport_now() - t0 >= 0.19, "slept %.3f s of 0.2", tsupport_now() - t0);
	/* a wake given before the sleep ends the next sleep at once, and only it */
	ticker_wake(&one);
	t0 = tsupport_now();
	ck_assert(ticker_sleep(&one, 60000));
	ck_assert_msg(tsupport_now() - t0 < 30, "a pending wake did not end the sleep");
	t0 = tsupport_now();
	ck_assert(ticker_sleep(&one, 100));
	ck_assert_msg(tsupport_now() - t0 >= 0.09, "one wake ended two sleeps");
}
END_TEST

START_TEST(a_wake_ends_a_sleep_and_a_stop_ends_every_thread)
{
	atomic_store(&ended, 0);
	atomic_store(&rounds, 0);
	ck_assert_int_eq(ticker_start(&t, 3, sleeper, NULL, "test"), 3);
	ck_assert(!ticker_stopping(&t));
	/* each wake ends one minute-long sleep: a round is counted */
	for (int i = 1; i <= 3; i++) {
		ticker_wake(&t);
		double until = tsupport_now() + 30;
		while (atomic_load(&rounds) < i && tsupport_now() < until)
			usleep(1000);
		ck_assert_int_eq(atomic_load(&rounds), i);
	}
	ticker_stop(&t); /* joins: every thread has ended when it returns */
	ck_assert_int_eq(atomic_load(&ended), 3);
	ck_assert_int_eq(t.nthreads, 0);
	ticker_stop(&t); /* again: nothing runs, nothing to do */
	/* and the ticker starts again after a stop */
	ck_assert_int_eq(ticker_start(&t, 1, sleeper, NULL, "test"), 1);
	ck_assert(!ticker_stopping(&t));
	ticker_stop(&t);
	ck_assert_int_eq(atomic_load(&ended), 4);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ticker");
	TCase *tc = tcase_create("ticker");
	tcase_add_test(tc, a_sleep_lasts_its_time_unless_woken);
	tcase_add_test(tc, a_wake_ends_a_sleep_and_a_stop_ends_every_thread);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
