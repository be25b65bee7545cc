/*
 * throttle: failed authentications counted per client address (an IPv6
 * address per /64) in one-minute windows; an address over the limit is
 * refused (429) until its window ends.
 * Per process: behind a load balancer each conformd counts its own.
 */
#ifndef CONFORM_THROTTLE_H
#define CONFORM_THROTTLE_H

/* Sets the failures per address per minute after which it is blocked. */
void throttle_init(long limit);

/* Seconds until addr may try again, or 0 when it is not blocked. */
long throttle_blocked(const char *addr);

/* Counts a failed authentication from addr. */
void throttle_failure(const char *addr);

#endif
