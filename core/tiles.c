/*
 * tiles: the C2SP tlog-tiles encoding (see tiles.h).
 */
#include "tiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void tiles_path(const struct tile *t, char *out, size_t size)
{
	/* the groups of three digits, most significant first: at most 7 for
	 * a 64-bit index (20 digits) */
	unsigned groups[8];
	int ng = 0;
	uint64_t n = t->index;
	do {
		groups[ng++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n && ng < 8);
	size_t used = 0;
	int w;
	if (t->level == TILES_LEVEL_ENTRIES)
		w = snprintf(out, size, "tile/entries/");
	else
		w = snprintf(out, size, "tile/%d/", t->level);
	used = w > 0 ? (size_t)w : 0;
	for (int i = ng - 1; i >= 0 && used < size; i--) {
		w = snprintf(out + used, size - used, "%s%03u%s", i ? "x" : "", groups[i], i ? "/" : "");
		used += w > 0 ? (size_t)w : 0;
	}
	if (t->width < TILES_WIDTH && used < size)
		snprintf(out + used, size - used, ".p/%u", t->width);
}

/* A decimal of 1..3 digits with no leading zero (but "0" itself), at most
 * max; *end is past it. */
static bool small_decimal(const char *s, unsigned max, unsigned *out, const char **end)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (v > max)
		return false;
	*out = v;
	*end = s + n;
	return true;
}

static bool three_digits(const char *s)
{
	return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
}

cf_err tiles_parse(const char *path, struct tile *t, struct cf_error *err)
{
	struct tile r = { 0, 0, TILES_WIDTH };
	const char *s = path;
	if (strncmp(s, "tile/", 5) != 0)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "no such tile: the path must start tile/");
	s += 5;
	if (strncmp(s, "entries/", 8) == 0) {
		r.level = TILES_LEVEL_ENTRIES;
		s += 8;
	} else {
		unsigned level = 0;
		if (!small_decimal(s, 63, &level, &s) || *s != '/')
			return cf_error_set(err, CF_ENOTFOUND, NULL,
					    "no such tile: the level must be 0 to 63 without leading zeroes");
		r.level = (int)level;
		s++;
	}
	/* N: "xDDD/" groups, then a last "DDD" */
	int groups = 0;
	for (;;) {
		bool more = *s == 'x';
		const char *d = more ? s + 1 : s;
		if (!three_digits(d) || (more && d[3] != '/'))
			return cf_error_set(err, CF_ENOTFOUND, NULL,
					    "no such tile: the index must be groups of three digits, "
					    "all but the last starting with x");
		unsigned g = (unsigned)((d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0'));
		/* one way to write an index: no leading group of zeroes */
		if (groups == 0 && more && g == 0)
			return cf_error_set(err, CF_ENOTFOUND, NULL,
					    "no such tile: the index has a leading group of zeroes");
		if (r.index > (UINT64_MAX - g) / 1000)
			return cf_error_set(err, CF_ENOTFOUND, NULL, "no such tile: the index is too large");
		r.index = r.index * 1000 + g;
		groups++;
		s = d + (more ? 4 : 3);
		if (!more)
			break;
	}
	if (*s == '.') {
		unsigned width = 0;
		if (strncmp(s, ".p/", 3) != 0 || !small_decimal(s + 3, TILES_WIDTH - 1, &width, &s) ||
		    width == 0)
			return cf_error_set(err, CF_ENOTFOUND, NULL,
					    "no such tile: a partial tile ends .p/<width>, 1 to 255 "
					    "without leading zeroes");
		r.width = width;
	}
	if (*s)
		return cf_error_set(err, CF_ENOTFOUND, NULL, "no such tile: the path goes on past the index");
	*t = r;
	return CF_OK;
}

/* The number of complete subtrees of 256^level leaves in a tree of size
 * leaves (0 when level is too high for any). */
static uint64_t units(int level, uint64_t size)
{
	unsigned shift = (unsigned)(level < 0 ? 0 : level) * TILES_HEIGHT;
	return shift >= 64 ? 0 : size >> shift;
}

bool tiles_covered(const struct tile *t, uint64_t size)
{
	if (t->width == 0 || t->width > TILES_WIDTH || t->index > (UINT64_MAX >> 8))
		return false;
	return t->index * TILES_WIDTH + t->width <= units(t->level, size);
}

void tiles_of_tree(uint64_t size, struct tile **out, size_t *count)
{
	size_t n = 0;
	/* first count, then fill: level -1 (entries) is level 0 again */
	for (int pass = 0; pass < 2; pass++) {
		size_t k = 0;
		for (int level = TILES_LEVEL_ENTRIES; level < 8 && units(level, size); level++) {
			uint64_t m = units(level, size);
			for (uint64_t i = 0; i < m / TILES_WIDTH; i++, k++)
				if (pass)
					(*out)[k] = (struct tile){ level, i, TILES_WIDTH };
			if (m % TILES_WIDTH) {
				if (pass)
					(*out)[k] = (struct tile){ level, m / TILES_WIDTH,
								   (unsigned)(m % TILES_WIDTH) };
				k++;
			}
		}
		if (!pass) {
			n = k;
			*out = n ? cf_calloc(n, sizeof **out) : NULL;
		}
	}
	*count = n;
}

cf_err tiles_hashes(const struct merkle_tree *tree, const struct tile *t, unsigned char *out,
		    struct cf_error *err)
{
	if (t->level < 0 || !tiles_covered(t, merkle_tree_size(tree)))
		return cf_error_set(err, CF_ENOTFOUND, NULL, "no such tile: the tree does not hold it yet");
	return merkle_tree_subtrees(tree, (unsigned)t->level * TILES_HEIGHT,
				    (size_t)t->index * TILES_WIDTH, t->width, (unsigned char (*)[32])out,
				    err);
}

cf_err tiles_bundle_add(struct buf *b, const void *entry, size_t n, struct cf_error *err)
{
	if (n > 0xffff)
		return cf_error_set(err, CF_ETOOLARGE, NULL,
				    "a log entry of %zu bytes does not fit an entry bundle (65535 at most)", n);
	unsigned char len[2] = { (unsigned char)(n >> 8), (unsigned char)(n & 0xff) };
	cf_err e = buf_append(b, len, 2, err);
	if (!e && n)
		e = buf_append(b, entry, n, err);
	return e;
}
