/*
 * tsupport: helpers shared by the test suites: running a Check suite, test
 * data paths, a throwaway database per suite, a real conformd on a free
 * port, and an HTTP client.
 */
#ifndef CONFORM_TSUPPORT_H
#define CONFORM_TSUPPORT_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

/* Runs the suite (no fork, so sanitizers see everything) and returns the
 * process exit status: 0 when every test passed. */
int tsupport_run(Suite *s);

/* Returns a new path to a file under the source tree ("tests/data/x.json"). */
char *tsupport_source_path(const char *relative);

/* Reads a whole file into a new NUL-terminated buffer; aborts the test when
 * it cannot. */
char *tsupport_read_file(const char *path, size_t *len);

#endif
