/*
 * tsupport: helpers shared by the test suites: running a Check suite, test
 * data paths, a throwaway database per suite, a real conformd on a free
 * port, and an HTTP client.
 */
#ifndef CONFORM_TSUPPORT_H
#define CONFORM_TSUPPORT_H

#include <check.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Runs the suite (no fork, so sanitizers see everything) and returns the
 * process exit status: 0 when every test passed. */
int tsupport_run(Suite *s);

/* Seconds on the monotonic clock, for deadlines. */
double tsupport_now(void);

/* Returns a new path to a file under the source tree ("tests/data/x.json"). */
char *tsupport_source_path(const char *relative);

/* Reads a whole file into a new NUL-terminated buffer; aborts the test when
 * it cannot. */
char *tsupport_read_file(const char *path, size_t *len);

/* The JSON file at a path relative to the source tree (test vectors);
 * aborts the test, naming the file, when it does not parse. New reference. */
json_t *tsupport_load_json(const char *relative);

/* Runs node tests/js/script with the arguments a and b (b may be NULL):
 * its exit status (what it says of a bad start, anything but 0 or 1, goes to
 * stderr); its standard output in *out (new string) when out is not NULL. */
int tsupport_node(const char *script, const char *a, const char *b, char **out);

#endif
