/*
 * tiles: the C2SP tlog-tiles encoding of the transparency log
 * (https://c2sp.org/tlog-tiles): tile and entry bundle paths (the index in
 * zero-padded groups of three digits, all but the last prefixed with "x",
 * and ".p/<W>" for a partial tile), which tiles a tree of a given size has,
 * and the bytes of a tile (the Merkle Tree Hashes of height-8 subtrees)
 * and of an entry bundle (big-endian uint16 length-prefixed entries). Pure
 * functions: the database side is tlog_tile.
 */
#ifndef CONFORM_TILES_H
#define CONFORM_TILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"
#include "merkle.h"

#define TILES_HEIGHT 8
#define TILES_WIDTH 256 /* hashes in a full tile, entries in a full bundle */
#define TILES_LEVEL_ENTRIES (-1)
/* "tile/entries/" + 7 groups of "x000/" + ".p/255" and a margin */
#define TILES_PATH_MAX 64

struct tile {
	int level;      /* 0..63, or TILES_LEVEL_ENTRIES for an entry bundle */
	uint64_t index; /* N */
	unsigned width; /* 1..256; 256 is a full tile (no .p/ suffix) */
};

/* The tile's path relative to the log's prefix ("tile/0/x001/x234/067.p/12",
 * "tile/entries/000"), into out (TILES_PATH_MAX bytes suffice). */
void tiles_path(const struct tile *t, char *out, size_t size);

/*
 * Parses a path relative to the log's prefix, exactly as the spec writes
 * it (no leading zeroes on L or W, every group three digits, "x" on all but
 * the last, W between 1 and 255). Anything else is CF_ENOTFOUND naming what
 * is wrong (it names no tile), *t unchanged.
 */
cf_err tiles_parse(const char *path, struct tile *t, struct cf_error *err) CF_MUST_CHECK;

/* True when the tree of size leaves holds every hash (or entry) of t:
 * a tile is served only once a checkpoint covers it. */
bool tiles_covered(const struct tile *t, uint64_t size);

/*
 * Every tile and entry bundle of the tree of size leaves: for each level,
 * its full tiles and its partial tile (if any), entry bundles as level 0.
 * *out is a new array of *count tiles (NULL when count is 0) the caller
 * frees with free().
 */
void tiles_of_tree(uint64_t size, struct tile **out, size_t *count);

/*
 * The bytes of the Merkle tree tile t (not an entry bundle) from tree:
 * width hashes of 32 bytes, hash i the MTH of the complete subtree of
 * 256^level leaves number index * 256 + i. CF_ENOTFOUND when tree does not
 * hold them all. out must hold width * 32 bytes.
 */
cf_err tiles_hashes(const struct merkle_tree *tree, const struct tile *t, unsigned char *out,
		    struct cf_error *err) CF_MUST_CHECK;

/* Appends one entry of an entry bundle to b: its length (big-endian
 * uint16) and its n bytes. CF_ETOOLARGE for an entry above 65535 bytes. */
cf_err tiles_bundle_add(struct buf *b, const void *entry, size_t n,
			struct cf_error *err) CF_MUST_CHECK;

#endif
