/*
 * merkle: RFC 9162 section 2.1 Merkle trees (see merkle.h). The recursive
 * definitions of MTH, PATH and PROOF are walked top-down; every subtree they
 * name is either complete and aligned (one lookup) or a right edge that
 * decomposes into O(log n) complete ones.
 */
#include "merkle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "mem.h"

/* 2^64 leaves cannot be appended, so 64 levels above the leaves suffice;
 * a proof has at most one hash per level (a consistency proof one more). */
#define LEVELS 65
#define MAX_PROOF (LEVELS + 1)

struct level {
	unsigned char (*h)[32]; /* h[i] = MTH of leaves [i * 2^k, (i + 1) * 2^k) */
	size_t len;
	size_t alloc;
};

struct merkle_tree {
	size_t size;
	struct level levels[LEVELS];
};

void merkle_leaf_hash(const void *entry, size_t n, unsigned char out[32])
{
	static const unsigned char prefix = 0x00;
	struct digest_ctx *ctx = digest_sha256_new();
	digest_update(ctx, &prefix, 1);
	if (n)
		digest_update(ctx, entry, n);
	digest_final(ctx, out);
}

void merkle_node_hash(const unsigned char left[32], const unsigned char right[32],
		      unsigned char out[32])
{
	unsigned char in[1 + 2 * 32];
	in[0] = 0x01;
	memcpy(in + 1, left, 32);
	memcpy(in + 33, right, 32);
	digest_sha256(in, sizeof in, out); /* in is a copy, so out may alias */
}

static bool is_pow2(size_t n)
{
	return n && (n & (n - 1)) == 0;
}

static unsigned floor_log2(size_t n)
{
	unsigned k = 0;
	while (n >>= 1)
		k++;
	return k;
}

/* The k of RFC 9162: the largest power of two smaller than n (n >= 2). */
static size_t split(size_t n)
{
	return (size_t)1 << floor_log2(n - 1);
}

struct merkle_tree *merkle_tree_new(void)
{
	return cf_calloc(1, sizeof(struct merkle_tree));
}

void merkle_tree_free(struct merkle_tree *t)
{
	if (!t)
		return;
	for (size_t k = 0; k < LEVELS; k++)
		free(t->levels[k].h);
	free(t);
}

static void level_push(struct level *l, const unsigned char h[32])
{
	if (l->len == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		l->h = cf_reallocarray(l->h, l->alloc, sizeof l->h[0]);
	}
	memcpy(l->h[l->len++], h, 32);
}

void merkle_tree_append(struct merkle_tree *t, const unsigned char leaf_hash[32])
{
	level_push(&t->levels[0], leaf_hash);
	t->size++;
	/* Each time a level gets an even count, its last two subtrees complete
	 * one twice their size, like a carry in binary addition. */
	for (size_t k = 0; k + 1 < LEVELS && t->levels[k].len % 2 == 0; k++) {
		const struct level *l = &t->levels[k];
		unsigned char h[32];
		merkle_node_hash(l->h[l->len - 2], l->h[l->len - 1], h);
		level_push(&t->levels[k + 1], h);
	}
}

size_t merkle_tree_size(const struct merkle_tree *t)
{
	return t->size;
}

cf_err merkle_tree_subtrees(const struct merkle_tree *t, unsigned k, size_t first, size_t count,
			    unsigned char (*out)[32], struct cf_error *err)
{
	if (k >= LEVELS || first > t->levels[k].len || count > t->levels[k].len - first)
		return cf_error_set(err, CF_EINVAL, NULL, "the tree holds no subtrees %zu to %zu of 2^%u "
				    "leaves", first, first + count, k);
	if (count)
		memcpy(out, t->levels[k].h + first, count * 32);
	return CF_OK;
}

/*
 * MTH(D[start:start + n]) for a range the RFC recursion can name: start is a
 * multiple of the smallest power of two that is at least n. The left part of
 * each split is then a stored subtree, and the right part again such a range.
 */
static void range_hash(const struct merkle_tree *t, size_t start, size_t n, unsigned char out[32])
{
	if (n == 0) {
		digest_sha256("", 0, out);
		return;
	}
	if (is_pow2(n)) {
		unsigned k = floor_log2(n);
		memcpy(out, t->levels[k].h[start >> k], 32);
		return;
	}
	size_t k = split(n);
	unsigned char right[32];
	range_hash(t, start + k, n - k, right);
	merkle_node_hash(t->levels[floor_log2(k)].h[start >> floor_log2(k)], right, out);
}

cf_err merkle_tree_root(const struct merkle_tree *t, size_t size, unsigned char out[32],
			struct cf_error *err)
{
	if (size > t->size)
		return cf_error_set(err, CF_EINVAL, NULL, "size %zu is larger than tree size %zu",
				    size, t->size);
	range_hash(t, 0, size, out);
	return CF_OK;
}

/* Hands the first n hashes of path, reversed (bottom-up), to the caller. */
static void proof_out(unsigned char (*path)[32], size_t n, unsigned char (**proof)[32],
		      size_t *len)
{
	unsigned char (*p)[32] = cf_calloc(n ? n : 1, sizeof p[0]);
	for (size_t i = 0; i < n; i++)
		memcpy(p[i], path[n - 1 - i], 32);
	*proof = p;
	*len = n;
}

cf_err merkle_tree_inclusion(const struct merkle_tree *t, size_t index, size_t size,
			     unsigned char (**proof)[32], size_t *len, struct cf_error *err)
{
	*proof = NULL;
	*len = 0;
	if (size > t->size)
		return cf_error_set(err, CF_EINVAL, NULL, "size %zu is larger than tree size %zu",
				    size, t->size);
	if (index >= size)
		return cf_error_set(err, CF_EINVAL, NULL, "index %zu is not below tree size %zu",
				    index, size);
	/* PATH(m, D[n]) top-down: the sibling of each subtree the leaf is in,
	 * collected from the root down and handed out reversed. */
	unsigned char path[MAX_PROOF][32];
	size_t n = 0, start = 0, m = index, sz = size;
	while (sz > 1) {
		size_t k = split(sz);
		if (m < k) {
			range_hash(t, start + k, sz - k, path[n++]);
			sz = k;
		} else {
			range_hash(t, start, k, path[n++]);
			start += k;
			m -= k;
			sz -= k;
		}
	}
	proof_out(path, n, proof, len);
	return CF_OK;
}

cf_err merkle_tree_consistency(const struct merkle_tree *t, size_t first, size_t second,
			       unsigned char (**proof)[32], size_t *len, struct cf_error *err)
{
	*proof = NULL;
	*len = 0;
	if (second > t->size)
		return cf_error_set(err, CF_EINVAL, NULL, "second %zu is larger than tree size %zu",
				    second, t->size);
	if (first == 0)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "first is 0: RFC 9162 defines no consistency proof from the empty tree");
	if (first > second)
		return cf_error_set(err, CF_EINVAL, NULL, "first %zu is larger than second %zu",
				    first, second);
	/* SUBPROOF(m, D[n], b) top-down; b turns false once the walk leaves the
	 * left edge, and then the subtree equal to the old tree is sent too. */
	unsigned char path[MAX_PROOF][32];
	size_t n = 0, start = 0, m = first, sz = second;
	bool b = true;
	while (m != sz) {
		size_t k = split(sz);
		if (m <= k) {
			range_hash(t, start + k, sz - k, path[n++]);
			sz = k;
		} else {
			range_hash(t, start, k, path[n++]);
			start += k;
			m -= k;
			sz -= k;
			b = false;
		}
	}
	if (!b)
		range_hash(t, start, sz, path[n++]); /* last here, first once reversed */
	proof_out(path, n, proof, len);
	return CF_OK;
}

/* Right-shifts fn and sn until the lowest bit of fn is set or fn is 0. */
static void shift_to_odd(size_t *fn, size_t *sn)
{
	while (*fn && !(*fn & 1)) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

bool merkle_verify_inclusion(const unsigned char leaf_hash[32], size_t index, size_t size,
			     const unsigned char (*proof)[32], size_t len,
			     const unsigned char root[32])
{
	if (index >= size)
		return false;
	size_t fn = index, sn = size - 1;
	unsigned char r[32];
	memcpy(r, leaf_hash, 32);
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], r, r);
			shift_to_odd(&fn, &sn);
		} else {
			merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, 32) == 0;
}

bool merkle_verify_consistency(size_t first, size_t second, const unsigned char first_root[32],
			       const unsigned char second_root[32],
			       const unsigned char (*proof)[32], size_t len)
{
	if (first == 0 || first > second)
		return false;
	if (first == second)
		return len == 0 && memcmp(first_root, second_root, 32) == 0;
	if (len == 0)
		return false;
	/* When first is a power of two its tree is a node of the new one and
	 * the proof omits it: the RFC prepends first_root. */
	size_t i = 0;
	const unsigned char *seed = is_pow2(first) ? first_root : proof[i++];
	size_t fn = first - 1, sn = second - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	unsigned char fr[32], sr[32];
	memcpy(fr, seed, 32);
	memcpy(sr, seed, 32);
	for (; i < len; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[i], fr, fr);
			merkle_node_hash(proof[i], sr, sr);
			shift_to_odd(&fn, &sn);
		} else {
			merkle_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, first_root, 32) == 0 && memcmp(sr, second_root, 32) == 0;
}
