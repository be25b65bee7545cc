/*
 * Unit tests of core/merkle: the RFC 9162 vectors, a property test against a
 * deliberately naive transcription of RFC 9162's recursive MTH, PATH and
 * PROOF (for every index, size, first and second up to 70 leaves), tampered
 * proofs, argument errors, and a log of more than 100,000 entries.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "digest.h"
#include "mem.h"
#include "merkle.h"
#include "tsupport.h"

typedef unsigned char hash[32];

static json_t *load_vectors(void)
{
	return tsupport_load_json("tests/data/vectors/rfc9162-merkle.json");
}

static void hex32(const json_t *s, hash out)
{
	ck_assert(json_is_string(s));
	ck_assert_int_eq(codec_hex_decode(json_string_value(s), out, 32, NULL), 0);
}

static bool eq(const hash a, const hash b)
{
	return memcmp(a, b, 32) == 0;
}

/* The vector file's 8 leaves, hashed. */
static size_t vector_leaves(const json_t *v, hash out[8])
{
	const json_t *leaves = json_object_get(v, "leaves_hex");
	size_t i;
	const json_t *l;
	json_array_foreach(leaves, i, l) {
		const char *hex = json_string_value(l);
		size_t n = strlen(hex) / 2;
		unsigned char buf[64];
		ck_assert_uint_le(n, sizeof buf);
		ck_assert_int_eq(codec_hex_decode(hex, buf, n, NULL), 0);
		merkle_leaf_hash(buf, n, out[i]);
	}
	return json_array_size(leaves);
}

static unsigned char (*proof_from_json(const json_t *a, size_t *len))[32]
{
	*len = json_array_size(a);
	unsigned char (*p)[32] = cf_calloc(*len ? *len : 1, 32);
	for (size_t i = 0; i < *len; i++)
		hex32(json_array_get(a, i), p[i]);
	return p;
}

/* --- The naive reference: RFC 9162 2.1.1, 2.1.3.1, 2.1.4.1 word for word. */

static size_t naive_k(size_t n)
{
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

static void naive_mth(const hash *d, size_t n, hash out)
{
	if (n == 0) {
		digest_sha256("", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], 32);
		return;
	}
	size_t k = naive_k(n);
	hash l, r;
	naive_mth(d, k, l);
	naive_mth(d + k, n - k, r);
	merkle_node_hash(l, r, out);
}

static size_t naive_path(size_t m, const hash *d, size_t n, hash *out)
{
	if (n == 1)
		return 0;
	size_t k = naive_k(n), c;
	if (m < k) {
		c = naive_path(m, d, k, out);
		naive_mth(d + k, n - k, out[c]);
	} else {
		c = naive_path(m - k, d + k, n - k, out);
		naive_mth(d, k, out[c]);
	}
	return c + 1;
}

static size_t naive_subproof(size_t m, const hash *d, size_t n, bool b, hash *out)
{
	if (m == n) {
		if (b)
			return 0;
		naive_mth(d, n, out[0]);
		return 1;
	}
	size_t k = naive_k(n), c;
	if (m <= k) {
		c = naive_subproof(m, d, k, b, out);
		naive_mth(d + k, n - k, out[c]);
	} else {
		c = naive_subproof(m - k, d + k, n - k, false, out);
		naive_mth(d, k, out[c]);
	}
	return c + 1;
}

static void leaves_for(size_t n, hash *out)
{
	for (size_t i = 0; i < n; i++) {
		char entry[32];
		int len = snprintf(entry, sizeof entry, "entry %zu", i);
		merkle_leaf_hash(entry, (size_t)len, out[i]);
	}
}

/* --- RFC 9162 vectors ------------------------------------------------- */

START_TEST(hash_prefixes)
{
	/* The CT reference's empty leaf and the empty tree head. */
	hash h, want;
	merkle_leaf_hash(NULL, 0, h);
	ck_assert_int_eq(codec_hex_decode("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", want, 32, NULL), 0);
	ck_assert(eq(h, want));
	unsigned char buf[65] = { 0x01 };
	memset(buf + 1, 0xaa, 32);
	memset(buf + 33, 0xbb, 32);
	hash l, r, node;
	memset(l, 0xaa, 32);
	memset(r, 0xbb, 32);
	merkle_node_hash(l, r, node);
	digest_sha256(buf, sizeof buf, want);
	ck_assert(eq(node, want));
	merkle_node_hash(l, r, l); /* out may alias an input */
	ck_assert(eq(l, want));
}
END_TEST

START_TEST(rfc9162_roots)
{
	json_t *v = load_vectors();
	hash leaves[8];
	size_t n = vector_leaves(v, leaves);
	ck_assert_uint_eq(n, 8);
	const json_t *roots = json_object_get(v, "roots");
	ck_assert_uint_eq(json_object_size(roots), 9);

	struct merkle_tree *t = merkle_tree_new();
	for (size_t size = 0; size <= 8; size++) {
		char key[4];
		snprintf(key, sizeof key, "%zu", size);
		hash want, got;
		hex32(json_object_get(roots, key), want);
		/* the root of the tree as it grows ... */
		ck_assert_uint_eq(merkle_tree_size(t), size);
		ck_assert_int_eq(merkle_tree_root(t, size, got, NULL), 0);
		ck_assert_msg(eq(got, want), "root of size %zu", size);
		naive_mth(leaves, size, got);
		ck_assert_msg(eq(got, want), "naive root of size %zu", size);
		if (size < 8)
			merkle_tree_append(t, leaves[size]);
	}
	/* ... and of every earlier size once it is complete */
	for (size_t size = 0; size <= 8; size++) {
		char key[4];
		snprintf(key, sizeof key, "%zu", size);
		hash want, got;
		hex32(json_object_get(roots, key), want);
		ck_assert_int_eq(merkle_tree_root(t, size, got, NULL), 0);
		ck_assert_msg(eq(got, want), "root of size %zu in the tree of 8", size);
	}
	merkle_tree_free(t);
	json_decref(v);
}
END_TEST

START_TEST(rfc9162_inclusion)
{
	json_t *v = load_vectors();
	hash leaves[8];
	vector_leaves(v, leaves);
	struct merkle_tree *t = merkle_tree_new();
	for (size_t i = 0; i < 8; i++)
		merkle_tree_append(t, leaves[i]);

	const json_t *cases = json_object_get(v, "inclusion");
	ck_assert_uint_eq(json_array_size(cases), 36); /* every (index, size) for 1..8 */
	size_t ci;
	const json_t *c;
	json_array_foreach(cases, ci, c) {
		size_t index = (size_t)json_integer_value(json_object_get(c, "index"));
		size_t size = (size_t)json_integer_value(json_object_get(c, "tree_size"));
		hash leaf, root;
		hex32(json_object_get(c, "leaf_hash"), leaf);
		ck_assert_msg(eq(leaf, leaves[index]), "leaf hash %zu", index);
		size_t want_len = 0;
		unsigned char (*want)[32] = proof_from_json(json_object_get(c, "path"), &want_len);

		unsigned char (*got)[32] = NULL;
		size_t got_len = 99;
		ck_assert_int_eq(merkle_tree_inclusion(t, index, size, &got, &got_len, NULL), 0);
		ck_assert_ptr_nonnull(got);
		ck_assert_uint_eq(got_len, want_len);
		ck_assert_msg(got_len == 0 || memcmp(got, want, got_len * 32) == 0,
			      "inclusion proof for %zu in %zu", index, size);

		ck_assert_int_eq(merkle_tree_root(t, size, root, NULL), 0);
		ck_assert(merkle_verify_inclusion(leaf, index, size,
						  (const unsigned char (*)[32])want, want_len, root));
		free(got);
		free(want);
	}
	merkle_tree_free(t);
	json_decref(v);
}
END_TEST

START_TEST(rfc9162_consistency)
{
	json_t *v = load_vectors();
	hash leaves[8];
	vector_leaves(v, leaves);
	struct merkle_tree *t = merkle_tree_new();
	for (size_t i = 0; i < 8; i++)
		merkle_tree_append(t, leaves[i]);

	const json_t *cases = json_object_get(v, "consistency");
	ck_assert_uint_eq(json_array_size(cases), 36); /* every 1 <= first <= second <= 8 */
	size_t ci;
	const json_t *c;
	json_array_foreach(cases, ci, c) {
		size_t first = (size_t)json_integer_value(json_object_get(c, "first"));
		size_t second = (size_t)json_integer_value(json_object_get(c, "second"));
		size_t want_len = 0;
		unsigned char (*want)[32] = proof_from_json(json_object_get(c, "proof"), &want_len);

		unsigned char (*got)[32] = NULL;
		size_t got_len = 99;
		ck_assert_int_eq(merkle_tree_consistency(t, first, second, &got, &got_len, NULL), 0);
		ck_assert_ptr_nonnull(got);
		ck_assert_uint_eq(got_len, want_len);
		ck_assert_msg(got_len == 0 || memcmp(got, want, got_len * 32) == 0,
			      "consistency proof %zu -> %zu", first, second);

		hash r1, r2;
		ck_assert_int_eq(merkle_tree_root(t, first, r1, NULL), 0);
		ck_assert_int_eq(merkle_tree_root(t, second, r2, NULL), 0);
		ck_assert(merkle_verify_consistency(first, second, r1, r2,
						    (const unsigned char (*)[32])want, want_len));
		free(got);
		free(want);
	}
	merkle_tree_free(t);
	json_decref(v);
}
END_TEST

/* --- The tree object against the naive reference ---------------------- */

#define PROP_MAX 70

static void flip_each_bit_fails_inclusion(const hash leaf, size_t index, size_t size,
					  unsigned char (*p)[32], size_t len, const hash root)
{
	for (size_t i = 0; i < len; i++) {
		unsigned bit = (unsigned)((index * 7 + i * 13) % 256); /* vary the bit */
		p[i][bit / 8] ^= (unsigned char)(1u << (bit % 8));
		ck_assert_msg(!merkle_verify_inclusion(leaf, index, size,
						       (const unsigned char (*)[32])p, len, root),
			      "flipped bit in element %zu accepted (%zu in %zu)", i, index, size);
		p[i][bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
}

START_TEST(inclusion_matches_naive)
{
	hash *leaves = cf_calloc(PROP_MAX, sizeof *leaves);
	leaves_for(PROP_MAX, leaves);
	struct merkle_tree *t = merkle_tree_new();
	hash roots[PROP_MAX + 1];
	for (size_t n = 0; n <= PROP_MAX; n++) {
		hash got;
		naive_mth(leaves, n, roots[n]);
		ck_assert_int_eq(merkle_tree_root(t, n, got, NULL), 0);
		ck_assert_msg(eq(got, roots[n]), "root of %zu while growing", n);
		if (n < PROP_MAX)
			merkle_tree_append(t, leaves[n]);
	}

	size_t checked = 0;
	for (size_t size = 1; size <= PROP_MAX; size++) {
		hash got_root;
		ck_assert_int_eq(merkle_tree_root(t, size, got_root, NULL), 0);
		ck_assert_msg(eq(got_root, roots[size]), "root of %zu in the full tree", size);
		for (size_t index = 0; index < size; index++) {
			hash want[64];
			size_t want_len = naive_path(index, leaves, size, want);
			unsigned char (*p)[32] = NULL;
			size_t len = 0;
			ck_assert_int_eq(merkle_tree_inclusion(t, index, size, &p, &len, NULL), 0);
			ck_assert_uint_eq(len, want_len);
			ck_assert_msg(len == 0 || memcmp(p, want, len * 32) == 0,
				      "PATH(%zu, D[%zu])", index, size);
			const unsigned char (*cp)[32] = (const unsigned char (*)[32])p;
			const hash *root = &roots[size];

			ck_assert(merkle_verify_inclusion(leaves[index], index, size, cp, len, *root));
			/* every other index, neighbouring sizes, another leaf, other root */
			for (size_t j = 0; j < size; j++)
				ck_assert_msg(j == index ||
					      !merkle_verify_inclusion(leaves[index], j, size, cp, len, *root),
					      "index %zu accepted for %zu in %zu", j, index, size);
			/* every other size, with the true root of that size (a root
			 * is only ever trusted together with its size) */
			for (size_t s2 = 1; s2 <= PROP_MAX; s2++)
				ck_assert_msg(s2 == size ||
					      !merkle_verify_inclusion(leaves[index], index, s2, cp, len, roots[s2]),
					      "size %zu accepted for %zu in %zu", s2, index, size);
			ck_assert(!merkle_verify_inclusion(leaves[index], index, 0, cp, len, *root));
			ck_assert(!merkle_verify_inclusion(leaves[index], index, index, cp, len, *root));
			ck_assert(!merkle_verify_inclusion(leaves[(index + 1) % PROP_MAX], index, size,
							   cp, len, *root));
			ck_assert(!merkle_verify_inclusion(leaves[index], index, size, cp, len,
							   roots[size - 1]));
			/* a proof one hash short or one hash long */
			if (len > 0)
				ck_assert(!merkle_verify_inclusion(leaves[index], index, size, cp, len - 1, *root));
			unsigned char (*longer)[32] = cf_calloc(len + 1, 32);
			if (len)
				memcpy(longer, p, len * 32);
			memcpy(longer[len], leaves[0], 32);
			ck_assert(!merkle_verify_inclusion(leaves[index], index, size,
							   (const unsigned char (*)[32])longer, len + 1, *root));
			free(longer);
			flip_each_bit_fails_inclusion(leaves[index], index, size, p, len, *root);
			free(p);
			checked++;
		}
	}
	ck_assert_uint_eq(checked, PROP_MAX * (PROP_MAX + 1) / 2);
	merkle_tree_free(t);
	free(leaves);
}
END_TEST

START_TEST(consistency_matches_naive)
{
	hash *leaves = cf_calloc(PROP_MAX, sizeof *leaves);
	leaves_for(PROP_MAX, leaves);
	struct merkle_tree *t = merkle_tree_new();
	for (size_t i = 0; i < PROP_MAX; i++)
		merkle_tree_append(t, leaves[i]);
	hash roots[PROP_MAX + 1];
	for (size_t n = 0; n <= PROP_MAX; n++)
		naive_mth(leaves, n, roots[n]);

	size_t checked = 0;
	for (size_t second = 1; second <= PROP_MAX; second++) {
		for (size_t first = 1; first <= second; first++) {
			hash want[128];
			size_t want_len = naive_subproof(first, leaves, second, true, want);
			unsigned char (*p)[32] = NULL;
			size_t len = 0;
			ck_assert_int_eq(merkle_tree_consistency(t, first, second, &p, &len, NULL), 0);
			ck_assert_uint_eq(len, want_len);
			ck_assert_msg(len == 0 || memcmp(p, want, len * 32) == 0,
				      "PROOF(%zu, D[%zu])", first, second);
			const unsigned char (*cp)[32] = (const unsigned char (*)[32])p;

			ck_assert_msg(merkle_verify_consistency(first, second, roots[first], roots[second],
								cp, len),
				      "verify %zu -> %zu", first, second);
			/* every other pair of sizes, with the true roots of those sizes */
			for (size_t f2 = 1; f2 <= second; f2++)
				ck_assert_msg(f2 == first ||
					      !merkle_verify_consistency(f2, second, roots[f2], roots[second],
									 cp, len),
					      "first %zu accepted for %zu -> %zu", f2, first, second);
			for (size_t s2 = first; s2 <= PROP_MAX; s2++)
				ck_assert_msg(s2 == second ||
					      !merkle_verify_consistency(first, s2, roots[first], roots[s2],
									 cp, len),
					      "second %zu accepted for %zu -> %zu", s2, first, second);
			/* wrong or swapped roots */
			if (first < second) {
				ck_assert(!merkle_verify_consistency(first, second, roots[first - 1],
								     roots[second], cp, len));
				ck_assert(!merkle_verify_consistency(first, second, roots[first],
								     roots[second - 1], cp, len));
				ck_assert(!merkle_verify_consistency(first, second, roots[second],
								     roots[first], cp, len));
				ck_assert(!merkle_verify_consistency(first, second, roots[first],
								     roots[second], cp, len - 1));
			}
			for (size_t i = 0; i < len; i++) {
				unsigned bit = (unsigned)((first * 5 + second * 3 + i * 11) % 256);
				p[i][bit / 8] ^= (unsigned char)(1u << (bit % 8));
				ck_assert_msg(!merkle_verify_consistency(first, second, roots[first],
									 roots[second], cp, len),
					      "flipped bit in element %zu accepted (%zu -> %zu)", i,
					      first, second);
				p[i][bit / 8] ^= (unsigned char)(1u << (bit % 8));
			}
			free(p);
			checked++;
		}
	}
	ck_assert_uint_eq(checked, PROP_MAX * (PROP_MAX + 1) / 2);
	merkle_tree_free(t);
	free(leaves);
}
END_TEST

/* --- Arguments ------------------------------------------------------- */

START_TEST(argument_errors)
{
	hash leaves[8];
	leaves_for(8, leaves);
	struct merkle_tree *t = merkle_tree_new();
	for (size_t i = 0; i < 8; i++)
		merkle_tree_append(t, leaves[i]);
	struct cf_error err;
	hash root;
	unsigned char (*p)[32] = (void *)leaves; /* must be reset to NULL on error */
	size_t len = 5;

	ck_assert_int_eq(merkle_tree_root(t, 9, root, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "size 9 is larger than tree size 8");

	ck_assert_int_eq(merkle_tree_inclusion(t, 9, 8, &p, &len, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "index 9 is not below tree size 8");
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(merkle_tree_inclusion(t, 3, 3, &p, &len, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "index 3 is not below tree size 3");
	ck_assert_int_eq(merkle_tree_inclusion(t, 0, 0, &p, &len, &err), CF_EINVAL);
	ck_assert_int_eq(merkle_tree_inclusion(t, 0, 9, &p, &len, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "size 9 is larger than tree size 8");

	ck_assert_int_eq(merkle_tree_consistency(t, 0, 4, &p, &len, &err), CF_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.detail, "first is 0"));
	ck_assert_int_eq(merkle_tree_consistency(t, 5, 4, &p, &len, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "first 5 is larger than second 4");
	ck_assert_int_eq(merkle_tree_consistency(t, 2, 9, &p, &len, &err), CF_EINVAL);
	ck_assert_str_eq(err.detail, "second 9 is larger than tree size 8");
	ck_assert_ptr_null(p);

	/* first == second: an empty proof, roots must be equal */
	ck_assert_int_eq(merkle_tree_consistency(t, 5, 5, &p, &len, NULL), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_nonnull(p);
	hash r5, r6;
	ck_assert_int_eq(merkle_tree_root(t, 5, r5, NULL), 0);
	ck_assert_int_eq(merkle_tree_root(t, 6, r6, NULL), 0);
	ck_assert(merkle_verify_consistency(5, 5, r5, r5, (const unsigned char (*)[32])p, 0));
	ck_assert(!merkle_verify_consistency(5, 5, r5, r6, (const unsigned char (*)[32])p, 0));
	ck_assert(!merkle_verify_consistency(5, 5, r5, r5, (const unsigned char (*)[32])leaves, 1));
	ck_assert(!merkle_verify_consistency(0, 5, r5, r5, (const unsigned char (*)[32])p, 0));
	ck_assert(!merkle_verify_consistency(0, 0, r5, r5, (const unsigned char (*)[32])p, 0));
	ck_assert(!merkle_verify_consistency(6, 5, r6, r5, (const unsigned char (*)[32])leaves, 1));
	ck_assert(!merkle_verify_consistency(4, 5, r5, r5, (const unsigned char (*)[32])p, 0));
	free(p);

	/* inclusion in size 1: empty proof, root is the leaf */
	ck_assert_int_eq(merkle_tree_inclusion(t, 0, 1, &p, &len, NULL), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert(merkle_verify_inclusion(leaves[0], 0, 1, (const unsigned char (*)[32])p, 0, leaves[0]));
	ck_assert(!merkle_verify_inclusion(leaves[0], 1, 1, (const unsigned char (*)[32])p, 0, leaves[0]));
	ck_assert(!merkle_verify_inclusion(leaves[0], 0, 0, (const unsigned char (*)[32])p, 0, leaves[0]));
	free(p);

	merkle_tree_free(t);
	merkle_tree_free(NULL);
}
END_TEST

/* --- A log of the size conform expects ------------------------------- */

#define BIG ((size_t)100003)

START_TEST(large_log)
{
	hash *leaves = cf_calloc(BIG, sizeof *leaves);
	leaves_for(BIG, leaves);
	struct merkle_tree *t = merkle_tree_new();
	for (size_t i = 0; i < BIG; i++)
		merkle_tree_append(t, leaves[i]);
	ck_assert_uint_eq(merkle_tree_size(t), BIG);

	static const size_t sizes[] = { 1, 65536, 65537, 99999, BIG };
	hash roots[5];
	for (size_t s = 0; s < 5; s++) {
		hash want;
		naive_mth(leaves, sizes[s], want);
		ck_assert_int_eq(merkle_tree_root(t, sizes[s], roots[s], NULL), 0);
		ck_assert_msg(eq(roots[s], want), "root of %zu", sizes[s]);
	}
	/* Many proofs: each costs O(log n), so this stays quick. */
	unsigned long x = 12345;
	for (int i = 0; i < 20000; i++) {
		x = x * 6364136223846793005UL + 1442695040888963407UL;
		size_t s = (size_t)(x >> 33) % 5;
		size_t index = (size_t)(x >> 7) % sizes[s];
		unsigned char (*p)[32] = NULL;
		size_t len = 0;
		ck_assert_int_eq(merkle_tree_inclusion(t, index, sizes[s], &p, &len, NULL), 0);
		ck_assert(merkle_verify_inclusion(leaves[index], index, sizes[s],
						  (const unsigned char (*)[32])p, len, roots[s]));
		free(p);
		size_t s2 = (size_t)(x >> 40) % 5;
		size_t a = sizes[s] < sizes[s2] ? s : s2, b = sizes[s] < sizes[s2] ? s2 : s;
		ck_assert_int_eq(merkle_tree_consistency(t, sizes[a], sizes[b], &p, &len, NULL), 0);
		ck_assert(merkle_verify_consistency(sizes[a], sizes[b], roots[a], roots[b],
						    (const unsigned char (*)[32])p, len));
		free(p);
	}
	merkle_tree_free(t);
	free(leaves);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("merkle");
	TCase *tc = tcase_create("merkle");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, hash_prefixes);
	tcase_add_test(tc, rfc9162_roots);
	tcase_add_test(tc, rfc9162_inclusion);
	tcase_add_test(tc, rfc9162_consistency);
	tcase_add_test(tc, inclusion_matches_naive);
	tcase_add_test(tc, consistency_matches_naive);
	tcase_add_test(tc, argument_errors);
	tcase_add_test(tc, large_log);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
