/*
 * merkle: the Merkle hash tree of RFC 9162 section 2.1 (leaf and node hashes,
 * tree heads, inclusion and consistency proofs and their verification), as
 * the transparency log uses it. The tree object is append-only and keeps
 * every complete aligned subtree, so a root or a proof at any size costs
 * O(log n) hashes however large the log grows.
 */
#ifndef CONFORM_MERKLE_H
#define CONFORM_MERKLE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define MERKLE_HASH_LEN 32

/* Writes SHA-256(0x00 || entry) to out: the hash of a leaf (RFC 9162 2.1.1). */
void merkle_leaf_hash(const void *entry, size_t n, unsigned char out[32]);

/* Writes SHA-256(0x01 || left || right) to out: the hash of an interior node.
 * out may alias left or right. */
void merkle_node_hash(const unsigned char left[32], const unsigned char right[32],
		      unsigned char out[32]);

/*
 * An append-only tree of leaf hashes. For each level k it stores the hash of
 * every complete subtree of 2^k leaves that starts at a multiple of 2^k, so it
 * holds about 2n hashes for n leaves. Readers (size, root, proofs) take a
 * const tree and may run concurrently with each other, not with an append.
 */
struct merkle_tree;

/* Returns a new, empty tree; the caller frees it with merkle_tree_free. */
struct merkle_tree *merkle_tree_new(void);

/* Frees t and everything it holds (safe on NULL). */
void merkle_tree_free(struct merkle_tree *t);

/* Appends a leaf hash (of merkle_leaf_hash) as leaf number merkle_tree_size(t).
 * Costs at most log2(n) node hashes; aborts only when out of memory. */
void merkle_tree_append(struct merkle_tree *t, const unsigned char leaf_hash[32]);

/* Returns the number of leaves appended so far. */
size_t merkle_tree_size(const struct merkle_tree *t);

/*
 * Copies to out the hashes of count complete subtrees of 2^k leaves, number
 * first to first + count - 1 (subtree i covers leaves [i * 2^k, (i + 1) *
 * 2^k)): what a C2SP tile holds (tiles.c). CF_EINVAL when the tree does not
 * hold them all yet; out (count hashes) is then unchanged.
 */
cf_err merkle_tree_subtrees(const struct merkle_tree *t, unsigned k, size_t first, size_t count,
			    unsigned char (*out)[32], struct cf_error *err) CF_MUST_CHECK;

/*
 * Writes to out the tree head MTH of the first size leaves (SHA-256("") when
 * size is 0). size larger than the tree is CF_EINVAL; on error out is
 * unchanged.
 */
cf_err merkle_tree_root(const struct merkle_tree *t, size_t size, unsigned char out[32],
			struct cf_error *err) CF_MUST_CHECK;

/*
 * Computes the inclusion proof PATH(index, D[0:size]) of RFC 9162 2.1.3.1
 * (the sibling of the leaf first, the child of the root last). On success
 * *proof is a new array of *len hashes (never NULL, even when *len is 0) that
 * the caller frees with free(). index must be below size and size at most the
 * tree's size, else CF_EINVAL naming them; on error *proof is NULL, *len 0.
 */
cf_err merkle_tree_inclusion(const struct merkle_tree *t, size_t index, size_t size,
			     unsigned char (**proof)[32], size_t *len,
			     struct cf_error *err) CF_MUST_CHECK;

/*
 * Computes the consistency proof PROOF(first, D[0:second]) of RFC 9162
 * 2.1.4.1 in the order it defines. Ownership as merkle_tree_inclusion. first
 * equal to second gives an empty proof. first must be at least 1 (RFC 9162
 * defines no proof from the empty tree, which every tree trivially extends),
 * at most second, and second at most the tree's size, else CF_EINVAL.
 */
cf_err merkle_tree_consistency(const struct merkle_tree *t, size_t first, size_t second,
			       unsigned char (**proof)[32], size_t *len,
			       struct cf_error *err) CF_MUST_CHECK;

/*
 * RFC 9162 2.1.3.2: true when proof shows that leaf_hash is leaf number index
 * of the tree of size leaves whose head is root. Anything malformed (index
 * not below size, a proof of the wrong length) is simply false.
 */
bool merkle_verify_inclusion(const unsigned char leaf_hash[32], size_t index, size_t size,
			     const unsigned char (*proof)[32], size_t len,
			     const unsigned char root[32]);

/*
 * RFC 9162 2.1.4.2: true when proof shows that the tree of second leaves with
 * head second_root extends the tree of first leaves with head first_root.
 * When first equals second the proof must be empty and the roots equal;
 * first 0 (no proof is defined) and first > second are false.
 */
bool merkle_verify_consistency(size_t first, size_t second, const unsigned char first_root[32],
			       const unsigned char second_root[32],
			       const unsigned char (*proof)[32], size_t len);

#endif
