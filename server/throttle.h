/*
 * throttle: failed authentications counted per client address (an IPv6
 * address per /64) in one-minute windows. Only failures count, and only
 * failures are refused: once an address is over the limit its further bad
 * tokens draw 429 until its window ends, while a valid token or a request
 * without one from the same address goes through (a NAT or a proxy shares
 * an address between good clients and a bad one).
 * Complaints lodged (a public write) are counted the same way in a table of
 * their own, and all of them count.
 * Per process: behind a load balancer each conformd counts its own.
 */
#ifndef CONFORM_THROTTLE_H
#define CONFORM_THROTTLE_H

/* Sets the failures per address per minute beyond which its failures are
 * answered 429. */
void throttle_init(long limit);

/* Counts a failed authentication from addr. Returns 0 while addr is within
 * its limit, else the seconds until its window ends (for Retry-After). */
long throttle_failure(const char *addr);

/* Sets the complaints one address may lodge per minute (POST
 * /v1/complaints, which needs no account). */
void throttle_lodge_init(long limit);

/* Counts a complaint lodged from addr: 0 while within its limit, else the
 * seconds until its window ends (the complaint is refused with 429). */
long throttle_lodge(const char *addr);

#endif
