/*
 * Unit tests of the NOTIFY channels (core/channels.h): every channel the
 * database's own functions notify is one of the header's, and each sender,
 * the trigger of migration 0018 and core's own, is heard by a listener
 * that listens on exactly the header's list, as conformd's cache does.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accreditation.h"
#include "certificate.h"
#include "channels.h"
#include "coreworld.h"
#include "keys.h"
#include "mem.h"
#include "signer.h"
#include "tlog.h"
#include "tsupport.h"

static struct coreworld f;
static struct db *listener;

static const char *const channels[] = CHANNELS_ALL;

static void setup(void)
{
	coreworld_open(&f, "channels");
	coreworld_demo(&f);
	struct cf_error err;
	ck_assert(db_connect(f.tdb.app_url, &listener, &err) == CF_OK);
	ck_assert_msg(db_listen(listener, channels, &err) == CF_OK, "%s", err.detail);
}

static void teardown(void)
{
	db_close(listener);
	listener = NULL;
	coreworld_destroy(&f);
}

/* Everything heard so far, "channel payload", in order. */
static char heard[64][96];
static int nheard;

static void on_notify(const char *channel, const char *payload, void *arg)
{
	(void)arg;
	if (nheard < 64)
		snprintf(heard[nheard++], sizeof heard[0], "%s %s", channel, payload);
}

/* Waits up to 20 s for the notification (channel, payload). */
static void hears(const char *channel, const char *payload)
{
	char want[96];
	snprintf(want, sizeof want, "%s %s", channel, payload);
	struct cf_error err;
	double deadline = tsupport_now() + 20;
	for (;;) {
		for (int i = 0; i < nheard; i++)
			if (strcmp(heard[i], want) == 0)
				return;
		ck_assert_msg(tsupport_now() < deadline, "nothing on %s with payload %s (%d heard)", channel,
			      payload, nheard);
		ck_assert_msg(db_wait_notifications(listener, 200, on_notify, NULL, &err) == CF_OK, "%s",
			      err.detail);
	}
}

START_TEST(the_header_lists_three_distinct_channels)
{
	int n = 0;
	for (const char *const *c = channels; *c; c++, n++) {
		ck_assert_msg(strncmp(*c, "conform_", 8) == 0, "%s: not conform's", *c);
		for (const char *const *d = channels; d < c; d++)
			ck_assert_str_ne(*c, *d);
	}
	ck_assert_int_eq(n, 3);
}
END_TEST

START_TEST(every_channel_the_database_notifies_is_in_the_header)
{
	PGresult *r = testdb_super_exec(&f.tdb,
		"SELECT p.proname, m[1] FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace,"
		" regexp_matches(p.prosrc, 'pg_notify\\(\\s*''([^'']*)''', 'g') m"
		" WHERE s.nspname = 'public'");
	ck_assert_int_ge(PQntuples(r), 1);
	for (int i = 0; i < PQntuples(r); i++) {
		bool known = false;
		for (const char *const *c = channels; *c; c++)
			known = known || strcmp(*c, PQgetvalue(r, i, 1)) == 0;
		ck_assert_msg(known, "%s notifies %s, which core/channels.h does not name",
			      PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	}
	PQclear(r);
	/* and no function notifies a channel computed at run time, which the
	 * scan above could not see */
	r = testdb_super_exec(&f.tdb,
		"SELECT p.proname FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace"
		" WHERE s.nspname = 'public' AND p.prosrc ~ 'pg_notify\\(\\s*[^''\\s]'");
	ck_assert_msg(PQntuples(r) == 0, "%s notifies a computed channel", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
}
END_TEST

START_TEST(the_flush_trigger_is_heard_for_a_key)
{
	/* a key written by hand (a restore, say): the trigger tells conformd */
	PQclear(testdb_super_exec(&f.tdb,
		"INSERT INTO signing_key (kid, purpose, public_key, private_key_ref) VALUES"
		" (repeat('k', 43), 'log', repeat('p', 43), 'unit-test:none')"));
	hears(CHANNEL_FLUSH, "signing_key");
}
END_TEST

START_TEST(an_accreditation_change_is_heard_from_core_and_from_the_trigger)
{
	json_t *body = coreworld_json("{\"reason\":\"a surveillance visit found a gap\"}"), *out = NULL;
	struct audit_actor by = party_actor(&f.accreditor);
	struct cf_error err;
	cf_err e = accreditation_change(f.db, &by, f.accreditation, "suspend", body, &out, &err);
	coreworld_expect("suspend", e, &err, CF_OK, NULL, NULL);
	json_decref(body);
	json_decref(out);
	hears(CHANNEL_FLUSH, "accreditation");
	hears(CHANNEL_FLUSH, "accreditation_event");
	body = coreworld_json("{\"reason\":\"the gap was closed\"}");
	e = accreditation_change(f.db, &by, f.accreditation, "reinstate", body, &out, &err);
	coreworld_expect("reinstate", e, &err, CF_OK, NULL, NULL);
	json_decref(body);
	json_decref(out);
}
END_TEST

START_TEST(a_certificate_change_and_the_next_checkpoint_are_heard)
{
	json_t *body = coreworld_json("{\"reason_code\":\"nonconformity\",\"reason\":\"a complaint\"}");
	json_t *out = NULL;
	struct cf_error err;
	cf_err e = certificate_change(f.db, &f.certifier, f.public_url, f.serial, "suspend", body, &out,
				      &err);
	coreworld_expect("suspend", e, &err, CF_OK, NULL, NULL);
	json_decref(body);
	json_decref(out);
	hears(CHANNEL_CERTIFICATE, f.serial);

	/* the log grew: a checkpoint of it is news for every process */
	char kid[48], size[24];
	coreworld_value(&f, kid, sizeof kid,
			"SELECT kid FROM signing_key WHERE purpose = 'log' AND private_key_ref LIKE"
		      " 'conform-signer:%' ORDER BY created_at LIMIT 1", 0, NULL);
	coreworld_value(&f, size, sizeof size, "SELECT count(*) FROM tlog_entry", 0, NULL);
	struct keys_private *k = NULL;
	ck_assert(keys_generate(&k, &err) == CF_OK);
	bool made = false;
	e = tlog_sign_checkpoint(f.db, k, kid, "127.0.0.1:7/log", &made, &err);
	keys_free(k);
	coreworld_expect("checkpoint", e, &err, CF_OK, NULL, NULL);
	ck_assert(made);
	hears(CHANNEL_CHECKPOINT, size);
}
END_TEST

START_TEST(no_c_source_spells_a_channel_name_but_the_header)
{
	/* a literal name elsewhere is a sender or listener the header does not
	 * govern: renaming a channel would leave it behind */
	static const char *const dirs[] = { "core", "server", "server/routes", "cli", "signer", NULL };
	int files = 0;
	for (const char *const *d = dirs; *d; d++) {
		char *path = tsupport_source_path(*d);
		DIR *dir = opendir(path);
		ck_assert_msg(dir != NULL, "%s", path);
		struct dirent *ent;
		while ((ent = readdir(dir))) {
			size_t n = strlen(ent->d_name);
			if (n < 3 || (strcmp(ent->d_name + n - 2, ".c") != 0 && strcmp(ent->d_name + n - 2, ".h") != 0) ||
			    (strcmp(*d, "core") == 0 && strcmp(ent->d_name, "channels.h") == 0))
				continue;
			char *file = cf_asprintf("%s/%s", path, ent->d_name);
			size_t len;
			char *text = tsupport_read_file(file, &len);
			for (const char *const *c = channels; *c; c++) {
				char dq[64], sq[64];
				snprintf(dq, sizeof dq, "\"%s\"", *c);
				snprintf(sq, sizeof sq, "'%s'", *c);
				ck_assert_msg(!strstr(text, dq) && !strstr(text, sq),
					      "%s names the channel %s: use core/channels.h", file, *c);
			}
			files++;
			free(text);
			free(file);
		}
		closedir(dir);
		free(path);
	}
	ck_assert_int_gt(files, 100);
}
END_TEST

START_TEST(a_compromised_key_is_heard_on_flush)
{
	json_t *out = NULL;
	struct cf_error err;
	struct audit_actor by = party_actor(&f.body_admin);
	char since[32];
	coreworld_value(&f, since, sizeof since,
			"SELECT to_char((now() - interval '1 hour') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
			0, NULL);
	cf_err e = signer_compromise(f.db, &by, f.public_url, f.signer.socket, f.kid, f.body_admin.org_id,
				     since, "a laptop was stolen", &out, &err);
	coreworld_expect("compromise", e, &err, CF_OK, NULL, NULL);
	json_decref(out);
	hears(CHANNEL_FLUSH, "key");
	hears(CHANNEL_FLUSH, "signing_key");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("channels");
	TCase *tc = tcase_create("channels");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, the_header_lists_three_distinct_channels);
	tcase_add_test(tc, every_channel_the_database_notifies_is_in_the_header);
	tcase_add_test(tc, the_flush_trigger_is_heard_for_a_key);
	tcase_add_test(tc, an_accreditation_change_is_heard_from_core_and_from_the_trigger);
	tcase_add_test(tc, a_certificate_change_and_the_next_checkpoint_are_heard);
	tcase_add_test(tc, no_c_source_spells_a_channel_name_but_the_header);
	tcase_add_test(tc, a_compromised_key_is_heard_on_flush);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
