/*
 * tsupport: running suites and reading test data (see tsupport.h).
 */
#include "tsupport.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mem.h"
#include "proc.h"

int tsupport_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

char *tsupport_source_path(const char *relative)
{
	const char *top = getenv("CONFORM_SOURCE_DIR");
	return cf_asprintf("%s/%s", top ? top : CONFORM_SOURCE_DIR, relative);
}

char *tsupport_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	ck_assert(n >= 0);
	char *data = cf_malloc((size_t)n + 1);
	ck_assert(fread(data, 1, (size_t)n, f) == (size_t)n);
	data[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return data;
}

int tsupport_node(const char *script, const char *a, const char *b, char **out)
{
	char *rel = cf_asprintf("tests/js/%s", script);
	char *path = tsupport_source_path(rel);
	const char *argv[] = { "/usr/bin/env", "node", path, a, b, NULL };
	struct proc_result r;
	proc_run(&r, argv, NULL);
	int status = r.status;
	if (status != 0 && status != 1)
		fprintf(stderr, "node %s: %s %s\n", script, r.out, r.err);
	if (out)
		*out = cf_strdup(r.out ? r.out : "");
	proc_result_free(&r);
	free(path);
	free(rel);
	return status;
}

double tsupport_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

json_t *tsupport_load_json(const char *relative)
{
	char *path = tsupport_source_path(relative);
	size_t len = 0;
	char *text = tsupport_read_file(path, &len);
	json_error_t jerr;
	json_t *v = json_loadb(text, len, 0, &jerr);
	ck_assert_msg(v != NULL, "%s: %s", path, jerr.text);
	free(text);
	free(path);
	return v;
}
