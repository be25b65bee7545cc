/*
 * fuzz_ics: the ETSI EN 303 645 Annex B readers (core/ics.c), which take a
 * manufacturer's file. A CSV table that parses is written and parsed again:
 * the writer's output always parses, to the same rows, and writing it again
 * gives the same bytes (what the round trip of an application's table
 * rests on). The same bytes as JSON go through the JSON reader, whose
 * tables also survive being written and read back.
 */
#include <jansson.h>

#include "buf.h"
#include "fuzz.h"
#include "ics.h"

static char *write_csv(const struct ics_table *t, size_t *len)
{
	struct buf b;
	struct cf_error err;
	buf_init(&b, 64u << 20);
	FUZZ_ASSERT(ics_write_csv(t, &b, &err) == CF_OK);
	char *s = buf_steal(&b, len);
	buf_free(&b);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ics_table t, again;
	struct cf_error err;
	if (ics_parse_csv((const char *)data, size, &t, &err) == CF_OK) {
		size_t n1, n2;
		char *w1 = write_csv(&t, &n1);
		FUZZ_ASSERT(ics_parse_csv(w1, n1, &again, &err) == CF_OK);
		FUZZ_ASSERT(again.n == t.n);
		for (size_t i = 0; i < t.n; i++) {
			FUZZ_ASSERT(strcmp(again.rows[i].reference, t.rows[i].reference) == 0);
			FUZZ_ASSERT(strcmp(again.rows[i].support, t.rows[i].support) == 0);
			FUZZ_ASSERT(strcmp(again.rows[i].detail, t.rows[i].detail) == 0);
		}
		char *w2 = write_csv(&again, &n2);
		FUZZ_ASSERT(n1 == n2 && memcmp(w1, w2, n1) == 0);
		free(w1);
		free(w2);
		ics_table_free(&again);
	}
	ics_table_free(&t);

	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (doc && ics_parse_json(doc, &t, &err) == CF_OK) {
		json_t *back = ics_write_json(&t, "2.1.1");
		FUZZ_ASSERT(ics_parse_json(back, &again, &err) == CF_OK);
		FUZZ_ASSERT(again.n == t.n);
		ics_table_free(&again);
		json_decref(back);
	}
	ics_table_free(&t);
	json_decref(doc);
	return 0;
}
