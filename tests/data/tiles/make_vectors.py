#!/usr/bin/env python3
"""Makes tests/data/tiles/tlog-tiles.json: C2SP tlog-tiles vectors computed
from the spec's definitions with Python's hashlib alone (none of conform's
code), for tests/unit/test_tiles.c.

The log: entry i is the ASCII text "conform tile vector <i>". For the tree
of 70,000 entries (the spec's own example: 273 full level-0 tiles, a partial
one of width 112, a full level-1 tile, a partial one of width 17, a partial
level-2 tile of width 1), every tile and entry bundle: its path and the
SHA-256 of its bytes, each hash computed as the spec states it,
MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l]). Also index
encodings from the spec (the index as decimal text: 2^64 - 1 is beyond
JSON integers as jansson reads them).

    python3 tests/data/tiles/make_vectors.py > tests/data/tiles/tlog-tiles.json
"""
import hashlib
import json

SIZE = 70000


def h(b):
    return hashlib.sha256(b).digest()


entries = [("conform tile vector %d" % i).encode() for i in range(SIZE)]
leaves = [h(b"\x00" + e) for e in entries]


def mth(lo, hi):
    n = hi - lo
    if n == 1:
        return leaves[lo]
    k = 1
    while k * 2 < n:
        k *= 2
    return h(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi))


def index(n):
    groups = []
    while True:
        groups.append("%03d" % (n % 1000))
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def path(level, n, w):
    return ("tile/entries/" if level < 0 else "tile/%d/" % level) + index(n) + (
        "" if w == 256 else ".p/%d" % w)


tiles = []
for level in [-1, 0, 1, 2]:
    span = 256 ** max(level, 0)
    units = SIZE // span
    for n in range((units + 255) // 256):
        w = min(256, units - n * 256)
        if level < 0:
            body = b"".join(len(e).to_bytes(2, "big") + e
                            for e in entries[n * 256 : n * 256 + w])
        else:
            body = b"".join(mth((n * 256 + i) * span, (n * 256 + i + 1) * span) for i in range(w))
        tiles.append({"path": path(level, n, w), "length": len(body),
                      "sha256": hashlib.sha256(body).hexdigest()})

print(json.dumps({
    "entry_format": "conform tile vector %d",
    "size": SIZE,
    "tiles": tiles,
    "indexes": [{"index": str(i), "encoded": index(i)} for i in
                [0, 1, 999, 1000, 1234067, 999999, 1000000, 18446744073709551615]],
}, indent=1))
