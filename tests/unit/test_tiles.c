/*
 * Unit tests of core/tiles: the C2SP tlog-tiles path encoding (the spec's
 * own examples, every malformed form refused), which tiles a tree has, and
 * the bytes of every tile and entry bundle of a 70,000-entry tree (the
 * spec's example) against tests/data/tiles/tlog-tiles.json, computed from
 * the spec's definitions by tests/data/tiles/make_vectors.py with Python's
 * hashlib alone.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "digest.h"
#include "merkle.h"
#include "tiles.h"
#include "tsupport.h"

static json_t *load_vectors(void)
{
	return tsupport_load_json("tests/data/tiles/tlog-tiles.json");
}

static void check_path(int level, uint64_t index, unsigned width, const char *want)
{
	struct tile t = { level, index, width }, back;
	char path[TILES_PATH_MAX];
	tiles_path(&t, path, sizeof path);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(tiles_parse(path, &back, NULL), CF_OK);
	ck_assert_int_eq(back.level, level);
	ck_assert(back.index == index);
	ck_assert_uint_eq(back.width, width);
}

START_TEST(paths_as_the_spec_writes_them)
{
	check_path(0, 1234067, 256, "tile/0/x001/x234/067");
	check_path(0, 0, 256, "tile/0/000");
	check_path(3, 1000, 17, "tile/3/x001/000.p/17");
	check_path(TILES_LEVEL_ENTRIES, 273, 112, "tile/entries/273.p/112");
	check_path(63, UINT64_MAX, 255, "tile/63/x018/x446/x744/x073/x709/x551/615.p/255");
	json_t *v = load_vectors();
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(v, "indexes"), i, it) {
		char want[64];
		snprintf(want, sizeof want, "tile/0/%s", json_string_value(json_object_get(it, "encoded")));
		/* decimal text: 2^64 - 1 is beyond jansson's integers */
		uint64_t n = strtoull(json_string_value(json_object_get(it, "index")), NULL, 10);
		check_path(0, n, 256, want);
	}
	json_decref(v);
}
END_TEST

START_TEST(malformed_paths_are_not_found)
{
	static const char *const bad[] = {
		"", "tile/", "tile/0", "tile/0/", "tile/0/1", "tile/0/01", "tile/0/0000", "tile/00/000",
		"tile/01/000", "tile/64/000", "tile/-1/000", "tile/a/000", "tile/0/x000/001",
		"tile/0/x001", "tile/0/x01/000", "tile/0/001/002", "tile/0/000/", "tile/0/000.p",
		"tile/0/000.p/", "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/07", "tile/0/000.p/1/",
		"tile/0/000.q/1", "tile/0/000.p/1x", "tile/entries/", "tile/entries/1", "tile/entrie/000",
		"tiles/0/000", "/tile/0/000", "tile/0/x018/x446/x744/x073/x709/x551/616",
		"tile/0/x001/x000/x000/x000/x000/x000/x000/000",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tile t = { 7, 7, 7 };
		struct cf_error err;
		ck_assert_msg(tiles_parse(bad[i], &t, &err) == CF_ENOTFOUND, "%s was accepted", bad[i]);
		ck_assert_msg(strstr(err.detail, "no such tile") != NULL, "%s: %s", bad[i], err.detail);
		ck_assert_int_eq(t.level, 7);
	}
}
END_TEST

START_TEST(coverage)
{
	/* a tree of 256: one full level-0 tile and a level-1 tile of width 1 */
	struct tile full0 = { 0, 0, 256 }, p1 = { 1, 0, 1 }, p0 = { 0, 1, 1 }, e = { -1, 0, 256 };
	ck_assert(tiles_covered(&full0, 256));
	ck_assert(!tiles_covered(&full0, 255));
	ck_assert(tiles_covered(&p1, 256));
	ck_assert(!tiles_covered(&p1, 255));
	ck_assert(!tiles_covered(&p0, 256));
	ck_assert(tiles_covered(&p0, 257));
	ck_assert(tiles_covered(&e, 256));
	struct tile high = { 8, 0, 1 }, huge = { 0, UINT64_MAX, 1 };
	ck_assert(!tiles_covered(&high, UINT64_MAX));
	ck_assert(!tiles_covered(&huge, UINT64_MAX));
	struct tile *list = NULL;
	size_t n = 99;
	tiles_of_tree(0, &list, &n);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(list);
	tiles_of_tree(256, &list, &n);
	ck_assert_uint_eq(n, 3); /* entries/000, 0/000, 1/000.p/1 */
	free(list);
}
END_TEST

static void sha256_hex(const void *p, size_t n, char hex[65])
{
	unsigned char d[32];
	digest_sha256(p, n, d);
	codec_hex_encode(d, 32, hex);
}

START_TEST(tiles_of_the_spec_example)
{
	json_t *v = load_vectors();
	size_t size = (size_t)json_integer_value(json_object_get(v, "size"));
	const char *fmt = json_string_value(json_object_get(v, "entry_format"));
	ck_assert_str_eq(fmt, "conform tile vector %d");
	char **entries = calloc(size, sizeof *entries);
	struct merkle_tree *tree = merkle_tree_new();
	for (size_t i = 0; i < size; i++) {
		char text[64];
		snprintf(text, sizeof text, "conform tile vector %zu", i);
		entries[i] = strdup(text);
		unsigned char leaf[32];
		merkle_leaf_hash(text, strlen(text), leaf);
		merkle_tree_append(tree, leaf);
	}
	struct tile *list = NULL;
	size_t n = 0;
	tiles_of_tree(size, &list, &n);
	json_t *want = json_object_get(v, "tiles");
	ck_assert_uint_eq(n, json_array_size(want));
	for (size_t i = 0; i < n; i++) {
		char path[TILES_PATH_MAX], hex[65];
		tiles_path(&list[i], path, sizeof path);
		/* the same set: find the vector of this path */
		json_t *w = NULL;
		for (size_t j = 0; j < json_array_size(want) && !w; j++)
			if (strcmp(json_string_value(json_object_get(json_array_get(want, j), "path")),
				   path) == 0)
				w = json_array_get(want, j);
		ck_assert_msg(w != NULL, "%s is not a tile of the vectors", path);
		ck_assert(tiles_covered(&list[i], size));
		if (list[i].level == TILES_LEVEL_ENTRIES) {
			struct buf b;
			buf_init(&b, 1 << 20);
			for (unsigned k = 0; k < list[i].width; k++) {
				const char *e = entries[list[i].index * 256 + k];
				ck_assert_int_eq(tiles_bundle_add(&b, e, strlen(e), NULL), CF_OK);
			}
			ck_assert_uint_eq(b.len, (size_t)json_integer_value(json_object_get(w, "length")));
			sha256_hex(b.data, b.len, hex);
			buf_free(&b);
		} else {
			unsigned char *h = malloc((size_t)list[i].width * 32);
			ck_assert_int_eq(tiles_hashes(tree, &list[i], h, NULL), CF_OK);
			ck_assert_uint_eq((size_t)list[i].width * 32,
					  (size_t)json_integer_value(json_object_get(w, "length")));
			sha256_hex(h, (size_t)list[i].width * 32, hex);
			free(h);
		}
		ck_assert_msg(strcmp(hex, json_string_value(json_object_get(w, "sha256"))) == 0,
			      "%s: its bytes differ from the vector's", path);
	}
	/* a tile the tree does not hold yet */
	struct tile beyond = { 0, 273, 256 };
	unsigned char h[256 * 32];
	ck_assert_int_eq(tiles_hashes(tree, &beyond, h, NULL), CF_ENOTFOUND);
	free(list);
	for (size_t i = 0; i < size; i++)
		free(entries[i]);
	free(entries);
	merkle_tree_free(tree);
	json_decref(v);
}
END_TEST

START_TEST(bundle_lengths)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	static char big[0x10000];
	memset(big, 'a', sizeof big);
	ck_assert_int_eq(tiles_bundle_add(&b, big, 0xffff, NULL), CF_OK);
	ck_assert_uint_eq(b.len, 0x10001);
	ck_assert_uint_eq((unsigned char)b.data[0], 0xff);
	ck_assert_uint_eq((unsigned char)b.data[1], 0xff);
	struct cf_error err;
	ck_assert_int_eq(tiles_bundle_add(&b, big, 0x10000, &err), CF_ETOOLARGE);
	ck_assert_uint_eq(b.len, 0x10001);
	ck_assert_int_eq(tiles_bundle_add(&b, "", 0, NULL), CF_OK);
	ck_assert_uint_eq(b.len, 0x10003);
	buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tiles");
	TCase *tc = tcase_create("tiles");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, paths_as_the_spec_writes_them);
	tcase_add_test(tc, malformed_paths_are_not_found);
	tcase_add_test(tc, coverage);
	tcase_add_test(tc, tiles_of_the_spec_example);
	tcase_add_test(tc, bundle_lengths);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
