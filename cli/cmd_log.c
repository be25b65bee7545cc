/*
 * conformctl log: the transparency log, checked from the database up, or,
 * with --url, as any monitor would: the signed checkpoint verified under the
 * log's verifier key, every entry fetched through the API, its leaf hash
 * recomputed and the RFC 9162 tree rebuilt to the checkpoint's root. And
 * `log publish`: the log as C2SP tlog-tiles files for a static host.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "codec.h"
#include "jsonx.h"
#include "mem.h"
#include "merkle.h"
#include "note.h"
#include "remote.h"
#include "signer.h"
#include "tiles.h"
#include "tlog.h"

/* The API's largest page of entries. */
#define ENTRIES_PAGE 1000

/*
 * The log through the API: the checkpoint under vkey (the given one, else
 * the service's own), the entries up to its size, the tree rebuilt. What does
 * not hold is put in check->problem; an API or network failure is an error.
 */
static cf_err remote_verify(struct cli *cli, const char *pinned, struct tlog_check *check,
			    char **vkey_out, struct cf_error *err)
{
	char *vkey = NULL, *note = NULL, *text = NULL, *origin = NULL;
	struct merkle_tree *t = merkle_tree_new();
	json_t *page = NULL;
	unsigned long long size = 0;
	unsigned char root[32], rebuilt[32];
	memset(check, 0, sizeof *check);
	cf_err e = CF_OK;
	if (pinned)
		vkey = cf_strdup(pinned);
	else
		e = remote_text(cli, "/v1/log/vkey", &vkey, err);
	if (e)
		goto out;
	vkey[strcspn(vkey, "\r\n")] = '\0';
	e = remote_text(cli, "/v1/log/checkpoint", &note, err);
	if (e)
		goto out;
	struct cf_error why;
	if (note_verify(note, vkey, &text, &why) || note_parse_checkpoint(text, &origin, &size, root, &why)) {
		snprintf(check->problem, sizeof check->problem, "the checkpoint does not verify under %s: %.200s",
			 pinned ? "the given --vkey" : "the service's verifier key", why.detail);
		goto out;
	}
	check->checkpoints = 1;
	for (unsigned long long start = 0; start < size && !check->problem[0];) {
		unsigned long long end = size - start > ENTRIES_PAGE ? start + ENTRIES_PAGE : size;
		char path[96];
		snprintf(path, sizeof path, "/v1/log/entries?start=%llu&end=%llu", start, end);
		e = remote_json(cli, "GET", path, NULL, &page, err);
		if (e)
			goto out;
		size_t i;
		json_t *it;
		json_t *entries = json_object_get(page, "entries");
		if (json_array_size(entries) == 0) {
			snprintf(check->problem, sizeof check->problem,
				 "the API gives no entry at %llu, below the checkpoint's size %llu", start, size);
			break;
		}
		json_array_foreach(entries, i, it) {
			const char *entry = jsonx_str(it, "entry"), *hash = jsonx_str(it, "leaf_hash");
			json_int_t index = json_integer_value(json_object_get(it, "index"));
			unsigned char leaf[32];
			if (!entry || index != (json_int_t)start) {
				snprintf(check->problem, sizeof check->problem,
					 "entry %llu: missing or out of order", start);
				break;
			}
			merkle_leaf_hash(entry, strlen(entry), leaf);
			char *b64 = codec_b64_encode(leaf, sizeof leaf); /* as the API writes hashes */
			bool same = hash && strcmp(hash, b64) == 0;
			free(b64);
			if (!same) {
				snprintf(check->problem, sizeof check->problem,
					 "entry %llu: its leaf hash is not the hash of its text", start);
				break;
			}
			merkle_tree_append(t, leaf);
			start++;
			if (start == size)
				break;
		}
		json_decref(page);
		page = NULL;
	}
	check->entries = (long long)merkle_tree_size(t);
	if (!check->problem[0]) {
		e = merkle_tree_root(t, size, rebuilt, err);
		if (e)
			goto out;
		if (memcmp(rebuilt, root, 32) != 0)
			snprintf(check->problem, sizeof check->problem,
				 "the %llu entries do not hash to the signed checkpoint's root", size);
	}
out:
	if (!e && vkey_out) {
		*vkey_out = vkey;
		vkey = NULL;
	}
	json_decref(page);
	merkle_tree_free(t);
	free(origin);
	free(text);
	free(note);
	free(vkey);
	return e;
}

static int log_verify_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pinned = NULL;
	const struct cli_opt opts[] = {
		{ "vkey", &pinned, NULL, "with --url: the log's verifier key as you know it (conformctl log "
		  "key), instead of trusting the one the service serves" },
		{ NULL, NULL, NULL, NULL },
	};
	int n, rc = cli_parse(cli, cmd, argc, argv, opts, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	struct tlog_check check;
	char *vkey = NULL;
	cf_err e;
	if (remote_on(cli)) {
		e = remote_verify(cli, pinned, &check, &vkey, &err);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = tlog_verify(db, &check, &err);
		db_close(db);
	}
	if (e)
		return cli_fail(&err);
	if (cli->json) {
		json_t *o = json_pack("{s:b,s:I,s:I,s:s}", "verified", !check.problem[0], "entries",
				      (json_int_t)check.entries, "checkpoints", (json_int_t)check.checkpoints,
				      "source", remote_on(cli) ? "api" : "database");
		if (check.problem[0])
			json_object_set_new(o, "problem", json_string(check.problem));
		if (vkey)
			json_object_set_new(o, "vkey", json_string(vkey));
		cli_json_out(o);
		json_decref(o);
	}
	free(vkey);
	if (check.problem[0]) {
		fprintf(stderr, "conformctl: the log does not verify: %s\n", check.problem);
		return CLI_FAIL;
	}
	if (cli->json)
		return CLI_OK;
	if (remote_on(cli))
		printf("the log verifies: the latest signed checkpoint holds under the log's key, and the "
		       "%lld entries fetched through the API rebuild its RFC 9162 root\n", check.entries);
	else
		printf("the log verifies: %lld entries rebuilt into the RFC 9162 tree, %lld signed "
		       "checkpoints match it and their signatures hold\n", check.entries, check.checkpoints);
	return CLI_OK;
}

static int log_key_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, NULL, 0, &n, 0);
	if (rc >= 0)
		return rc;
	struct cf_error err;
	struct db *db = NULL;
	char kid[SIGNER_KID_LEN], origin[256];
	unsigned char pub[32];
	char *vkey = NULL;
	cf_err e;
	if (remote_on(cli)) {
		e = remote_text(cli, "/v1/log/vkey", &vkey, &err);
		if (!e)
			vkey[strcspn(vkey, "\r\n")] = '\0';
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = cli_public_url(cli, db, &err);
		if (!e)
			e = signer_current(db, NULL, kid, pub, &err);
		db_close(db);
		if (!e) {
			tlog_origin(cli->cfg.public_url, origin, sizeof origin);
			vkey = note_vkey(origin, pub);
		}
	}
	if (e)
		return cli_fail(&err);
	if (cli->json) {
		json_t *o = json_pack("{s:s}", "vkey", vkey);
		cli_json_out(o);
		json_decref(o);
	} else {
		printf("%s\n", vkey);
	}
	free(vkey);
	return CLI_OK;
}

/* mkdir -p of the directories above path (relative to dir fd root). */
static cf_err make_parents(const char *path, struct cf_error *err)
{
	char *p = cf_strdup(path);
	cf_err e = CF_OK;
	for (char *s = strchr(p + 1, '/'); s && !e; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			e = cf_error_set(err, CF_EINVAL, NULL, "cannot make the directory %s: %s", p,
					 strerror(errno));
		*s = '/';
	}
	free(p);
	return e;
}

/* Writes len bytes to path atomically: a temporary file beside it, fsynced,
 * renamed over it, so that a static host serves the old file or the new one,
 * never a part. */
static cf_err write_atomic(const char *path, const void *data, size_t len, struct cf_error *err)
{
	cf_err e = make_parents(path, err);
	if (e)
		return e;
	char *tmp = cf_asprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = cf_error_set(err, CF_EINVAL, NULL, "cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		return e;
	}
	const unsigned char *p = data;
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, p + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	bool ok = done == len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		e = cf_error_set(err, CF_EINVAL, NULL, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return e;
}

/* Removes the directory of a full tile's partial versions ("<N>.p/<W>"):
 * the spec lets a log drop them once the full tile is there. */
static int remove_partials(const char *full_path)
{
	char *dir = cf_asprintf("%s.p", full_path);
	int removed = 0;
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			char *f = cf_asprintf("%s/%s", dir, de->d_name);
			removed += unlink(f) == 0;
			free(f);
		}
		closedir(d);
		rmdir(dir);
	}
	free(dir);
	return removed;
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

struct publish_count {
	size_t written, kept, removed;
};

/*
 * Writes the log of checkpoint note into dir: every tile and entry bundle
 * of its size (a full one only if it is not there yet: it never changes),
 * the partial versions of newly full tiles removed, and the checkpoint last,
 * so that a reader of dir never finds a checkpoint whose tiles are missing.
 * Tiles come from the database (db) or, without one, through the API.
 */
static cf_err publish(struct cli *cli, struct db *db, const char *dir, const char *note,
		      struct publish_count *count, unsigned long long *size_out, struct cf_error *err)
{
	const char *sep = strstr(note, "\n\n");
	if (!sep)
		return cf_error_set(err, CF_EINVAL, NULL, "the checkpoint is not a signed note");
	char *text = cf_strndup(note, (size_t)(sep - note) + 1), *origin = NULL;
	unsigned long long size = 0;
	unsigned char root[32];
	cf_err e = note_parse_checkpoint(text, &origin, &size, root, err);
	free(text);
	free(origin);
	if (e)
		return e;
	*size_out = size;
	struct tile *tiles = NULL;
	size_t n = 0;
	tiles_of_tree(size, &tiles, &n);
	for (size_t i = 0; i < n && !e; i++) {
		char rel[TILES_PATH_MAX];
		tiles_path(&tiles[i], rel, sizeof rel);
		char *path = cf_asprintf("%s/%s", dir, rel);
		bool full = tiles[i].width == TILES_WIDTH;
		if (full && file_exists(path)) {
			count->kept++;
		} else {
			unsigned char *data = NULL;
			size_t len = 0;
			if (db) {
				e = tlog_tile(db, &tiles[i], (long long)size, &data, &len, err);
			} else {
				char *url = cf_asprintf("/log/%s", rel);
				e = remote_bytes(cli, url, &data, &len, err);
				free(url);
			}
			if (!e)
				e = write_atomic(path, data, len, err);
			if (!e)
				count->written++;
			free(data);
		}
		if (!e && full)
			count->removed += (size_t)remove_partials(path);
		free(path);
	}
	free(tiles);
	if (!e) {
		char *path = cf_asprintf("%s/checkpoint", dir);
		e = write_atomic(path, note, strlen(note), err);
		free(path);
	}
	return e;
}

static int log_publish_cmd(struct cli *cli, const struct cli_command *cmd, int argc, char **argv)
{
	const char *pos[1];
	int n, rc = cli_parse(cli, cmd, argc, argv, NULL, pos, 1, &n, 1);
	if (rc >= 0)
		return rc;
	const char *dir = pos[0];
	struct cf_error err;
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "conformctl: %s is not a directory (make it first)\n", dir);
		return CLI_FAIL;
	}
	struct db *db = NULL;
	char *note = NULL;
	struct publish_count count = { 0, 0, 0 };
	unsigned long long size = 0;
	cf_err e;
	if (remote_on(cli)) {
		/* the checkpoint as the tiles' own route serves it */
		e = remote_text(cli, "/log/checkpoint", &note, &err);
	} else {
		e = cli_db(cli, &db, &err);
		if (!e)
			e = tlog_checkpoint_note(db, &note, &err);
	}
	if (!e)
		e = publish(cli, db, dir, note, &count, &size, &err);
	db_close(db);
	free(note);
	if (e)
		return cli_fail(&err);
	if (cli->json) {
		json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:s}", "size", (json_int_t)size, "written",
				      (json_int_t)count.written, "kept", (json_int_t)count.kept, "removed",
				      (json_int_t)count.removed, "source", remote_on(cli) ? "api" : "database");
		cli_json_out(o);
		json_decref(o);
	} else {
		printf("published the log of %llu entries to %s: %zu files written, %zu full tiles kept as "
		       "they were, %zu superseded partial tiles removed\n", size, dir, count.written,
		       count.kept, count.removed);
	}
	return CLI_OK;
}

const struct cli_command cli_log_commands[] = {
	{ "log", "verify", "", "Rebuild the transparency log and check its signed checkpoints (with --url: "
	  "the latest, through the API)", log_verify_cmd, true },
	{ "log", "key", "", "Print the log's verifier key (C2SP note form)", log_key_cmd, true },
	{ "log", "publish", "DIR", "Write the log as C2SP tlog-tiles (checkpoint, tiles, entry "
	  "bundles) into DIR for a static host (with --url: fetched through the API)", log_publish_cmd,
	  true },
	{ NULL, NULL, NULL, NULL, NULL },
};
