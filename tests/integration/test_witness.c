/*
 * Witnesses (C2SP tlog-witness, tlog-cosignature; docs/operations.md
 * "Witnesses"): two test witnesses written from the specs
 * (tests/witness/witness.py, no conform code) cosign every checkpoint as
 * the log grows, and the served checkpoint carries both cosignatures, which
 * verify with the witness script's own checker; with a quorum of 2 of 2 and
 * one witness down, the checkpoint is signed but not witnessed, and becomes
 * witnessed when the witness comes back; a fork (a clone of the database
 * that issues another certificate, signed with the same log key) is refused
 * by both witnesses and reported by the forked conformd in its log (witness,
 * size, both roots) and its metrics.
 */
#include <check.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "proc.h"
#include "testsrv.h"
#include "tsupport.h"
#include "world.h"

struct twitness {
	const char *name;
	char dir[64];
	char *state, *ready;
	pid_t pid;
	char *out, *err;
	unsigned short port;
	char vkey[200];
};

static struct world w;
static struct twitness wa = { .name = "witness.test/a" }, wb = { .name = "witness.test/b" };
static char log_vkey[300];
static char *witnesses_file;
static char *script;

static void witness_start(struct twitness *t)
{
	if (!t->state) {
		snprintf(t->dir, sizeof t->dir, "/tmp/conform-witness.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(t->dir));
		t->state = cf_asprintf("%s/state.json", t->dir);
		t->ready = cf_asprintf("%s/ready", t->dir);
	}
	unlink(t->ready);
	char port[16];
	snprintf(port, sizeof port, "%u", t->port);
	const char *argv[] = { "/usr/bin/python3", script, "--name", t->name, "--log-vkey", log_vkey,
			       "--state", t->state, "--ready", t->ready, "--port", port, NULL };
	t->pid = proc_start(argv, NULL, &t->out, &t->err);
	double until = tsupport_now() + 20;
	while (access(t->ready, F_OK) != 0) {
		int st;
		if (waitpid(t->pid, &st, WNOHANG) != 0) {
			char *why = tsupport_read_file(t->err, NULL);
			ck_abort_msg("witness %s exited at start: %s", t->name, why);
		}
		ck_assert_msg(tsupport_now() < until, "witness %s did not start within 20 s", t->name);
		usleep(50000);
	}
	char *r = tsupport_read_file(t->ready, NULL);
	unsigned p = 0;
	ck_assert(sscanf(r, "%u %199s", &p, t->vkey) == 2);
	t->port = (unsigned short)p;
	free(r);
}

/* Stops the witness (SIGTERM); its state file stays. Returns what it said on
 * standard error (new). */
static char *witness_stop(struct twitness *t)
{
	if (t->pid <= 0)
		return cf_strdup("");
	kill(t->pid, SIGTERM);
	struct proc_result r;
	proc_wait(&r, t->pid, t->out, t->err);
	t->pid = 0;
	char *e = r.err;
	r.err = NULL;
	proc_result_free(&r);
	return e;
}

static void start_conformd(struct testsrv *s, const struct testdb *db)
{
	char *wf = cf_asprintf("CONFORM_WITNESSES_FILE=%s", witnesses_file);
	const char *env[] = { w.signer.env, wf, "CONFORM_WITNESS_QUORUM=2", NULL };
	testsrv_start(s, db, env);
	free(wf);
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	script = tsupport_source_path("tests/witness/witness.py");
	world_create(&w, "witness", NULL);
	char *vk = testsrv_get_text(&w.srv, "/v1/log/vkey", 200);
	ck_assert(sscanf(vk, "%299s", log_vkey) == 1);
	free(vk);
	witness_start(&wa);
	witness_start(&wb);
	witnesses_file = cf_asprintf("%s/witnesses", w.keys_dir);
	FILE *f = fopen(witnesses_file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "# the log's witnesses\n%s http://127.0.0.1:%u\n\n%s http://127.0.0.1:%u/\n",
		wa.vkey, wa.port, wb.vkey, wb.port);
	fclose(f);
	testsrv_stop(&w.srv);
	start_conformd(&w.srv, &w.db);
}

static void teardown(void)
{
	free(witness_stop(&wa));
	free(witness_stop(&wb));
	world_destroy(&w);
	for (int i = 0; i < 2; i++) {
		struct twitness *t = i ? &wb : &wa;
		char *cmd = cf_asprintf("rm -rf '%s'", t->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", t->dir);
		free(cmd);
	}
	CF_FREE(witnesses_file);
	CF_FREE(script);
}

static json_t *tree_head(const struct testsrv *s)
{
	return testsrv_api_ok(s, "GET", "/v1/log/tree-head", NULL, NULL, 200);
}

static long long head_size(const json_t *h)
{
	return json_integer_value(json_object_get(h, "size"));
}

static bool cosigned_by(const json_t *h, const char *name)
{
	json_t *c;
	size_t i;
	json_array_foreach(json_object_get(h, "cosigners"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			return true;
	return false;
}

/* Waits (up to limit s) for a tree head of at least size that is witnessed
 * (or, with witnessed false, cosigned by only) ; returns it. */
static json_t *wait_head(const struct testsrv *s, long long size, bool witnessed, const char *only,
			 double limit)
{
	double until = tsupport_now() + limit;
	for (;;) {
		long status = 0;
		json_t *h = testsrv_api(s, "GET", "/v1/log/tree-head", NULL, NULL, &status);
		if (status == 200 && head_size(h) >= size &&
		    (witnessed ? json_is_true(json_object_get(h, "witnessed"))
			       : (only && cosigned_by(h, only))))
			return h;
		ck_assert_msg(tsupport_now() < until, "no tree head of size %lld %s within %.0f s: %s",
			      size, witnessed ? "witnessed" : "cosigned", limit,
			      h ? json_dumps(h, 0) : "none");
		json_decref(h);
		usleep(100000);
	}
}

/* Checks note with the witness script's checker: the log's signature and a
 * cosignature by each of vkeys; returns the exit status and the size it read. */
static int check_note(const char *note, const char *const *vkeys, long long *size)
{
	char *path = cf_asprintf("%s/note.txt", w.keys_dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(note, f);
	fclose(f);
	const char *argv[8] = { "/usr/bin/python3", script, "check", path, log_vkey };
	int n = 5;
	for (; *vkeys; vkeys++)
		argv[n++] = *vkeys;
	argv[n] = NULL;
	struct proc_result r;
	proc_run(&r, argv, NULL);
	if (size)
		*size = atoll(r.out);
	int st = r.status;
	if (st)
		fprintf(stderr, "check: %s\n", r.err);
	proc_result_free(&r);
	free(path);
	return st;
}

/* The value of a metric line with labels (its exact text before the value),
 * -1 when absent. */
static double labelled_metric(const struct testsrv *s, const char *series)
{
	char *m = testsrv_get_text(s, "/metrics", 200);
	double v = -1;
	char *needle = cf_asprintf("\n%s ", series);
	char *at = strstr(m, needle);
	if (at)
		v = strtod(at + strlen(needle), NULL);
	free(needle);
	free(m);
	return v;
}

START_TEST(two_witnesses_cosign_every_checkpoint_as_the_log_grows)
{
	long long last = 0;
	for (int i = 0; i < 3; i++) {
		char serial[40];
		world_certificate(&w, serial);
		json_t *h = wait_head(&w.srv, last + 1, true, NULL, 30);
		long long size = head_size(h);
		ck_assert(cosigned_by(h, wa.name) && cosigned_by(h, wb.name));
		ck_assert_int_eq(json_integer_value(json_object_get(h, "quorum")), 2);
		/* the checkpoint served, and the one in the tree head, carry the
		 * log's signature and both cosignatures */
		char *note = testsrv_get_text(&w.srv, "/v1/log/checkpoint", 200);
		const char *both[] = { wa.vkey, wb.vkey, NULL };
		long long checked = 0;
		ck_assert_int_eq(check_note(note, both, &checked), 0);
		ck_assert_int_eq(checked, size);
		ck_assert_int_eq(check_note(json_string_value(json_object_get(h, "checkpoint")), both,
					    NULL), 0);
		ck_assert_int_eq(json_array_size(json_object_get(h, "cosigners")), 2);
		free(note);
		/* the witnessed checkpoint is this one */
		note = testsrv_get_text(&w.srv, "/v1/log/checkpoint?witnessed=1", 200);
		ck_assert_int_eq(check_note(note, both, &checked), 0);
		ck_assert_int_eq(checked, size);
		free(note);
		char series[160];
		snprintf(series, sizeof series, "conform_witness_cosigned_size{witness=\"%s\"}", wa.name);
		ck_assert_int_eq((long long)labelled_metric(&w.srv, series), size);
		ck_assert_int_gt(size, last);
		last = size;
		json_decref(h);
	}
	/* a cosignature that a witness did not make does not verify: the
	 * checker is no rubber stamp */
	char *note = testsrv_get_text(&w.srv, "/v1/log/checkpoint", 200);
	char *swapped = cf_strdup(note);
	char *p = strstr(swapped, "\n\xe2\x80\x94 witness.test/a ");
	ck_assert_ptr_nonnull(p);
	p += strlen("\n\xe2\x80\x94 witness.test/a ") + 10;
	*p = *p == 'A' ? 'B' : 'A';
	const char *both[] = { wa.vkey, wb.vkey, NULL };
	ck_assert_int_ne(check_note(swapped, both, NULL), 0);
	free(swapped);
	free(note);
}
END_TEST

START_TEST(with_a_witness_down_a_checkpoint_is_signed_but_not_witnessed_until_it_is_back)
{
	json_t *h = wait_head(&w.srv, 1, true, NULL, 30);
	long long witnessed = head_size(h);
	json_decref(h);
	free(witness_stop(&wb));
	char serial[40];
	world_certificate(&w, serial);
	/* signed, and cosigned by a, but 1 of 2 is not the quorum */
	h = wait_head(&w.srv, witnessed + 1, false, wa.name, 30);
	long long size = head_size(h);
	ck_assert(!json_is_true(json_object_get(h, "witnessed")));
	ck_assert(!cosigned_by(h, wb.name));
	json_decref(h);
	char *note = testsrv_get_text(&w.srv, "/v1/log/checkpoint", 200);
	const char *only_a[] = { wa.vkey, NULL }, *both[] = { wa.vkey, wb.vkey, NULL };
	long long checked = 0;
	ck_assert_int_eq(check_note(note, only_a, &checked), 0);
	ck_assert_int_eq(checked, size);
	ck_assert_int_ne(check_note(note, both, NULL), 0);
	free(note);
	/* the latest witnessed checkpoint is still the older one */
	note = testsrv_get_text(&w.srv, "/v1/log/checkpoint?witnessed=1", 200);
	ck_assert_int_eq(check_note(note, both, &checked), 0);
	ck_assert_int_eq(checked, witnessed);
	free(note);
	char series[160];
	snprintf(series, sizeof series, "conform_witness_failures_total{witness=\"%s\"}", wb.name);
	double until = tsupport_now() + 20;
	while (labelled_metric(&w.srv, series) < 1) {
		ck_assert_msg(tsupport_now() < until, "the failed submission is not counted");
		usleep(100000);
	}
	/* back on its port: the retry (backoff) gets its cosignature */
	witness_start(&wb);
	h = wait_head(&w.srv, size, true, NULL, 60);
	ck_assert_int_eq(head_size(h), size);
	json_decref(h);
	note = testsrv_get_text(&w.srv, "/v1/log/checkpoint?witnessed=1", 200);
	ck_assert_int_eq(check_note(note, both, &checked), 0);
	ck_assert_int_eq(checked, size);
	free(note);
}
END_TEST

/* The line of the log that names needle, or NULL. */
static char *log_line(const char *path, const char *needle)
{
	char *text = tsupport_read_file(path, NULL);
	char *at = strstr(text, needle), *line = NULL;
	if (at) {
		char *start = at;
		while (start > text && start[-1] != '\n')
			start--;
		line = cf_strndup(start, strcspn(start, "\n"));
	}
	free(text);
	return line;
}

START_TEST(a_forked_log_is_refused_by_both_witnesses_and_reported)
{
	json_t *h = wait_head(&w.srv, 1, true, NULL, 30);
	long long n = head_size(h);
	json_decref(h);
	/* a second database cloned from this state: the same log, the same key */
	testsrv_stop(&w.srv);
	struct testdb fork;
	char *tmpl = cf_strdup(getenv("CONFORM_TEST_TEMPLATE"));
	setenv("CONFORM_TEST_TEMPLATE", w.db.name, 1);
	testdb_create(&fork, "witnessfork");
	setenv("CONFORM_TEST_TEMPLATE", tmpl, 1);
	free(tmpl);
	start_conformd(&w.srv, &w.db);
	/* the true log grows and is witnessed */
	char serial[40];
	world_certificate(&w, serial);
	h = wait_head(&w.srv, n + 1, true, NULL, 30);
	long long size = head_size(h);
	char *true_root = cf_strdup(json_string_value(json_object_get(h, "root_hash")));
	json_decref(h);
	/* the fork issues another certificate: a different tree of that size */
	struct world fw = w;
	fw.db = fork;
	start_conformd(&fw.srv, &fork);
	world_certificate(&fw, serial);
	double until = tsupport_now() + 30;
	for (;;) {
		long st;
		h = testsrv_api(&fw.srv, "GET", "/v1/log/tree-head", NULL, NULL, &st);
		if (st == 200 && head_size(h) >= size)
			break;
		ck_assert_msg(tsupport_now() < until, "the fork signs no checkpoint");
		json_decref(h);
		usleep(100000);
	}
	ck_assert_int_eq(head_size(h), size);
	const char *fork_root = json_string_value(json_object_get(h, "root_hash"));
	ck_assert_str_ne(fork_root, true_root);
	/* both refuse; the forked conformd says so in its metrics and its log */
	for (int i = 0; i < 2; i++) {
		const struct twitness *t = i ? &wb : &wa;
		char series[200];
		snprintf(series, sizeof series,
			 "conform_witness_refusals_total{witness=\"%s\",reason=\"fork\"}", t->name);
		until = tsupport_now() + 30;
		while (labelled_metric(&fw.srv, series) < 1) {
			ck_assert_msg(tsupport_now() < until, "no fork refusal by %s counted", t->name);
			usleep(100000);
		}
		snprintf(series, sizeof series, "conform_witness_cosigned_size{witness=\"%s\"}", t->name);
		ck_assert_int_eq((long long)labelled_metric(&fw.srv, series), n);
		char needle[200];
		snprintf(needle, sizeof needle, "witness %s refused the checkpoint of size %lld as a fork",
			 t->name, size);
		char *line = log_line(fw.srv.log_path, needle);
		ck_assert_msg(line != NULL, "the fork is not in the log: %s", needle);
		ck_assert_msg(strstr(line, fork_root) && strstr(line, true_root),
			      "the log line does not name both roots: %s", line);
		free(line);
	}
	/* the fork grows on: its proof from the size the witnesses hold does not
	 * verify against the root they cosigned */
	world_certificate(&fw, serial);
	for (int i = 0; i < 2; i++) {
		const struct twitness *t = i ? &wb : &wa;
		char series[200];
		snprintf(series, sizeof series,
			 "conform_witness_refusals_total{witness=\"%s\",reason=\"inconsistent\"}",
			 t->name);
		until = tsupport_now() + 60;
		while (labelled_metric(&fw.srv, series) < 1) {
			ck_assert_msg(tsupport_now() < until, "no inconsistency by %s counted", t->name);
			usleep(200000);
		}
		char needle[200];
		snprintf(needle, sizeof needle, "witness %s refused the consistency of size", t->name);
		char *line = log_line(fw.srv.log_path, needle);
		ck_assert_msg(line != NULL, "the inconsistency is not in the log: %s", needle);
		free(line);
	}
	/* the fork is not witnessed; the witnesses kept the true tree */
	json_t *fh = tree_head(&fw.srv);
	ck_assert(!json_is_true(json_object_get(fh, "witnessed")));
	ck_assert_int_eq(json_array_size(json_object_get(fh, "cosigners")), 0);
	json_decref(fh);
	json_decref(h);
	for (int i = 0; i < 2; i++) {
		const struct twitness *t = i ? &wb : &wa;
		char *state = tsupport_read_file(t->state, NULL);
		ck_assert_msg(strstr(state, true_root), "witness %s moved off the true tree", t->name);
		free(state);
	}
	testsrv_stop(&fw.srv);
	testdb_drop(&fork);
	free(true_root);
}
END_TEST

/* conformd refuses a bad witness configuration at start, naming the
 * setting (and the file and line). */
static void refused_at_start(const char *file_content, const char *quorum, const char *expect)
{
	char *path = cf_asprintf("%s/bad-witnesses", w.keys_dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(file_content, f);
	fclose(f);
	char dir[] = "/tmp/conform-badwit.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *bin = testsrv_binary("conformd");
	char *db = cf_asprintf("CONFORM_DATABASE_URL=%s", w.db.app_url);
	char *listen = cf_asprintf("CONFORM_LISTEN=127.0.0.1:%u", testsrv_free_port());
	char *data = cf_asprintf("CONFORM_DATA_DIR=%s", dir);
	char *wf = cf_asprintf("CONFORM_WITNESSES_FILE=%s", path);
	char *q = cf_asprintf("CONFORM_WITNESS_QUORUM=%s", quorum);
	const char *argv[] = { bin, NULL };
	const char *env[] = { db, listen, data, wf, q, w.signer.env, "CONFORM_CONFIG=", NULL };
	struct proc_result r;
	proc_run(&r, argv, env);
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(strstr(r.err, expect), "conformd said: %s", r.err);
	proc_result_free(&r);
	char *cmd = cf_asprintf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(q);
	free(wf);
	free(data);
	free(listen);
	free(db);
	free(bin);
	free(path);
}

START_TEST(conformd_refuses_a_bad_witness_configuration_at_start)
{
	char *two = cf_asprintf("%s http://127.0.0.1:9\n%s http://127.0.0.1:10\n", wa.vkey, wb.vkey);
	refused_at_start(two, "3", "witness-quorum 3 is more than the 2 witnesses of witnesses-file");
	free(two);
	char *bad = cf_asprintf("# comment\n%s ftp://127.0.0.1:9\n", wa.vkey);
	refused_at_start(bad, "0", "bad-witnesses:2");
	free(bad);
	refused_at_start("witness.example+00000000+AAAA http://x\n", "0", "witnesses-file");
	/* a log key (type 0x01) is not a cosigner key */
	char *logkey = cf_asprintf("%s http://127.0.0.1:9\n", log_vkey);
	refused_at_start(logkey, "0", "0x04");
	free(logkey);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("witness");
	TCase *tc = tcase_create("witness");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, two_witnesses_cosign_every_checkpoint_as_the_log_grows);
	tcase_add_test(tc, with_a_witness_down_a_checkpoint_is_signed_but_not_witnessed_until_it_is_back);
	tcase_add_test(tc, a_forked_log_is_refused_by_both_witnesses_and_reported);
	tcase_add_test(tc, conformd_refuses_a_bad_witness_configuration_at_start);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
