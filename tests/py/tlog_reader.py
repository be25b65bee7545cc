#!/usr/bin/env python3
"""An independent reader of a C2SP tiled transparency log (tlog-tiles).

Written from the specs alone (c2sp.org/tlog-tiles, tlog-checkpoint,
signed-note; RFC 6962/9162 section 2.1) with the Python standard library and
`cryptography`: it shares no code with conform. Given the log's prefix URL
and its verifier key, it

  1. fetches <prefix>/checkpoint and verifies its Ed25519 signature by the
     key (the origin line must be the key's name);
  2. fetches every tile and entry bundle the checkpoint's size implies,
     checks each entry hashes to its level-0 tile hash and each hash of a
     level-l tile is the tree hash of the full tile below it;
  3. rebuilds the tree head from the tiles and checks it is the checkpoint's;
  4. for every entry, computes its inclusion proof from the tiles (RFC 6962
     PATH) and verifies it against the root (RFC 9162 2.1.3.2).

It prints one JSON line: size, root (hex), the entries' SHA-256, the
number of proofs checked, and the SHA-256 of every resource fetched, so a
caller can compare two servers of the same log. Exit 0 when everything
holds, 1 (with a message on stderr) when anything does not.

    tlog_reader.py PREFIX-URL VKEY
"""
import base64
import hashlib
import json
import sys
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HEIGHT = 8
WIDTH = 1 << HEIGHT


class Fail(Exception):
    pass


def sha256(b):
    return hashlib.sha256(b).digest()


def leaf_hash(entry):
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


# --- signed note and checkpoint ---------------------------------------------

def parse_vkey(vkey):
    # the name holds no "+" (signed-note), the base64 of the key may
    name, keyid_hex, key_b64 = vkey.strip().split("+", 2)
    key = base64.b64decode(key_b64, validate=True)
    if len(key) != 33 or key[0] != 0x01:
        raise Fail("the verifier key is not an Ed25519 note key")
    keyid = sha256(name.encode() + b"\n" + key)[:4]
    if keyid.hex() != keyid_hex:
        raise Fail("the verifier key's id does not match its name and key")
    return name, keyid, key[1:]


def verify_note(note, vkey):
    """The signed text of note, when it carries a valid signature by vkey."""
    name, keyid, pub = parse_vkey(vkey)
    sep = note.rfind("\n\n")
    if sep < 0 or not note.endswith("\n"):
        raise Fail("the checkpoint is not a signed note")
    text, sigs = note[: sep + 1], note[sep + 2 :]
    good = False
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            raise Fail("malformed signature line: %r" % line)
        sname, sig_b64 = line[2:].split(" ")
        sig = base64.b64decode(sig_b64, validate=True)
        if sname != name or sig[:4] != keyid:
            continue  # another key's (a witness's): not ours to judge
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(sig[4:], text.encode())
        except InvalidSignature:
            raise Fail("the log's signature on the checkpoint does not verify")
        good = True
    if not good:
        raise Fail("the checkpoint carries no signature by the log's key")
    lines = text.split("\n")
    if lines[0] != name:
        raise Fail("the checkpoint's origin %r is not the key's name %r" % (lines[0], name))
    size = int(lines[1])
    if str(size) != lines[1]:
        raise Fail("the checkpoint's size line is not a plain decimal")
    root = base64.b64decode(lines[2], validate=True)
    if len(root) != 32:
        raise Fail("the checkpoint's root is not 32 bytes")
    return size, root


# --- tile paths (tlog-tiles "<N>": groups of three digits, x on all but the last)

def encode_index(n):
    groups = []
    while True:
        groups.append("%03d" % (n % 1000))
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def tile_path(level, n, width):
    head = "tile/entries/" if level == "entries" else "tile/%d/" % level
    tail = "" if width == WIDTH else ".p/%d" % width
    return head + encode_index(n) + tail


# --- the reader ---------------------------------------------------------------

class Reader:
    def __init__(self, prefix, size):
        self.prefix = prefix.rstrip("/")
        self.size = size
        self.tiles = {}
        self.fetched = {}
        self.memo = {}

    def get(self, path):
        url = self.prefix + "/" + path
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                body = r.read()
        except urllib.error.HTTPError as e:
            raise Fail("GET %s: HTTP %d" % (url, e.code))
        self.fetched[path] = hashlib.sha256(body).hexdigest()
        return body

    def width(self, level, n):
        """The width of tile n at level (0 when the tree has none)."""
        units = self.size >> (HEIGHT * (0 if level == "entries" else level))
        if (n + 1) * WIDTH <= units:
            return WIDTH
        return units - n * WIDTH if units > n * WIDTH else 0

    def tile(self, level, n):
        key = (level, n)
        if key not in self.tiles:
            w = self.width(level, n)
            if w == 0:
                raise Fail("tile %s/%d is beyond the checkpoint" % (level, n))
            body = self.get(tile_path(level, n, w))
            if level == "entries":
                entries, i = [], 0
                while i < len(body):
                    if i + 2 > len(body):
                        raise Fail("entry bundle %d: a truncated length" % n)
                    ln = int.from_bytes(body[i : i + 2], "big")
                    if i + 2 + ln > len(body):
                        raise Fail("entry bundle %d: a truncated entry" % n)
                    entries.append(body[i + 2 : i + 2 + ln])
                    i += 2 + ln
                if len(entries) != w:
                    raise Fail("entry bundle %d has %d entries, not %d" % (n, len(entries), w))
                self.tiles[key] = entries
            else:
                if len(body) != 32 * w:
                    raise Fail("tile %d/%d is %d bytes, not %d" % (level, n, len(body), 32 * w))
                self.tiles[key] = [body[i : i + 32] for i in range(0, len(body), 32)]
        return self.tiles[key]

    def subtree(self, k, i):
        """MTH of the complete subtree of 2^k leaves number i, from tiles:
        the hashes of a tile at level k // 8 spanning it, hashed up."""
        level, r = divmod(k, HEIGHT)
        first = i << r
        hashes = self.tile(level, first // WIDTH)[first % WIDTH : first % WIDTH + (1 << r)]
        if len(hashes) != 1 << r:
            raise Fail("subtree 2^%d #%d is not in the tiles" % (k, i))
        while len(hashes) > 1:
            hashes = [node_hash(hashes[j], hashes[j + 1]) for j in range(0, len(hashes), 2)]
        return hashes[0]

    def mth(self, start, n):
        """MTH(D[start:start+n]) (RFC 6962 2.1) for the ranges its recursion names."""
        key = (start, n)
        if key in self.memo:
            return self.memo[key]
        if n == 0:
            h = sha256(b"")
        elif n & (n - 1) == 0:
            h = self.subtree(n.bit_length() - 1, start // n)
        else:
            k = 1 << ((n - 1).bit_length() - 1)
            h = node_hash(self.mth(start, k), self.mth(start + k, n - k))
        self.memo[key] = h
        return h

    def path(self, m, start, n):
        """PATH(m, D[start:start+n]) of RFC 6962 2.1.1."""
        if n <= 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return self.path(m, start, k) + [self.mth(start + k, n - k)]
        return self.path(m - k, start + k, n - k) + [self.mth(start, k)]


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def main():
    if len(sys.argv) != 3:
        print("usage: tlog_reader.py PREFIX-URL VKEY", file=sys.stderr)
        return 2
    prefix, vkey = sys.argv[1], sys.argv[2]
    try:
        with urllib.request.urlopen(prefix.rstrip("/") + "/checkpoint", timeout=30) as r:
            note_bytes = r.read()
        size, root = verify_note(note_bytes.decode("utf-8"), vkey)
        if size == 0:
            raise Fail("the checkpoint is of the empty tree")
        rd = Reader(prefix, size)
        rd.fetched["checkpoint"] = hashlib.sha256(note_bytes).hexdigest()
        # every entry hashes to its level-0 tile hash
        entries_digest = hashlib.sha256()
        leaves = []
        for n in range((size + WIDTH - 1) // WIDTH):
            bundle, tile = rd.tile("entries", n), rd.tile(0, n)
            for i, (e, h) in enumerate(zip(bundle, tile)):
                if leaf_hash(e) != h:
                    raise Fail("entry %d does not hash to its tile's leaf hash" % (n * WIDTH + i))
                entries_digest.update(len(e).to_bytes(2, "big") + e)
                leaves.append(h)
        # each hash of a tile above level 0 is the tree hash of a full tile below
        level = 1
        while size >> (HEIGHT * level):
            units = size >> (HEIGHT * level)
            for u in range(units):
                below = rd.tile(level - 1, u)
                hashes = list(below)
                while len(hashes) > 1:
                    hashes = [node_hash(hashes[j], hashes[j + 1]) for j in range(0, len(hashes), 2)]
                if rd.tile(level, u // WIDTH)[u % WIDTH] != hashes[0]:
                    raise Fail("tile %d/%d hash %d is not the hash of tile %d/%d"
                               % (level, u // WIDTH, u % WIDTH, level - 1, u))
            level += 1
        if rd.mth(0, size) != root:
            raise Fail("the tree rebuilt from the tiles has another root than the checkpoint")
        for m in range(size):
            if not verify_inclusion(leaves[m], m, size, rd.path(m, 0, size), root):
                raise Fail("entry %d: its inclusion proof from the tiles does not verify" % m)
    except Fail as e:
        print("tlog_reader: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps({"size": size, "root": root.hex(), "entries_sha256": entries_digest.hexdigest(),
                      "proofs": size, "fetched": dict(sorted(rd.fetched.items()))}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
