#!/usr/bin/env python3
"""A transparency-log witness for conform's tests, written from the C2SP specs
alone (tlog-witness, tlog-cosignature, signed-note, tlog-checkpoint; RFC 9162
for consistency proofs), with no conform code: it knows one log, by its
verifier key, and keeps the latest checkpoint it cosigned in a state file.

  witness.py --name NAME --log-vkey VKEY --state FILE --ready FILE [--port P]
  witness.py check NOTE_FILE LOG_VKEY [WITNESS_VKEY...]


It listens on a free loopback port and, once it does, writes "PORT VKEY\\n"
to the ready file (its own cosigner vkey, type 0x04). Its key is made at the
first start and kept in the state file, so that a restart is the same
witness. Routes: POST /add-checkpoint, and GET /<hex sha256(origin)>/checkpoint
(the monitoring endpoint: the latest cosigned checkpoint with its
signatures). It exits on SIGTERM. --port: that port (a restart keeps its
URL) instead of a free one.

"check" verifies a served checkpoint on its own: the log's signature and one
valid cosignature/v1 by each witness key given; exit status 0 when all hold,
and it prints the checkpoint's size.
"""
import argparse
import base64
import hashlib
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)
from cryptography.hazmat.primitives import serialization

DASH = "\u2014 "


def key_id(name, typ, pub):
    return hashlib.sha256(name.encode() + b"\n" + bytes([typ]) + pub).digest()[:4]


def parse_vkey(vkey, typ):
    name, hexid, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if raw[0] != typ or len(raw) != 33:
        raise ValueError("not a key of type %d" % typ)
    if key_id(name, typ, raw[1:]).hex() != hexid:
        raise ValueError("key id mismatch")
    return name, raw[1:]


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(first, second, first_hash, second_hash, proof):
    """RFC 9162 section 2.1.4.2."""
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0 or first > second or not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_hash] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


class Refusal(Exception):
    def __init__(self, status, why, body=None, ctype="text/plain; charset=utf-8"):
        super().__init__(why)
        self.status, self.why = status, why
        self.body = body if body is not None else why + "\n"
        self.ctype = ctype


class Witness:
    def __init__(self, name, log_vkey, state_path):
        self.name = name
        self.log_name, self.log_pub = parse_vkey(log_vkey, 0x01)
        self.log_id = key_id(self.log_name, 0x01, self.log_pub)
        self.path = state_path
        self.lock = threading.Lock()
        if os.path.exists(state_path):
            with open(state_path) as f:
                self.state = json.load(f)
        else:
            seed = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                serialization.NoEncryption())
            self.state = {"seed": seed.hex(), "size": 0,
                          "root": base64.b64encode(hashlib.sha256(b"").digest()).decode(),
                          "checkpoint": None}
            self.save()
        self.key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(self.state["seed"]))
        self.pub = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw)
        self.id = key_id(name, 0x04, self.pub)
        self.vkey = "%s+%s+%s" % (name, self.id.hex(),
                                  base64.b64encode(b"\x04" + self.pub).decode())

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def add_checkpoint(self, body):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refusal(400, "not UTF-8")
        lines = text.split("\n")
        if not lines[0].startswith("old "):
            raise Refusal(400, "no old size line")
        old_s = lines[0][4:]
        if not old_s.isdigit() or (old_s != "0" and old_s.startswith("0")):
            raise Refusal(400, "bad old size")
        old = int(old_s)
        proof, i = [], 1
        while i < len(lines) and lines[i] != "":
            try:
                h = base64.b64decode(lines[i], validate=True)
            except ValueError:
                raise Refusal(400, "bad proof line")
            if len(h) != 32:
                raise Refusal(400, "bad proof hash")
            proof.append(h)
            i += 1
        if i >= len(lines) or len(proof) > 63:
            raise Refusal(400, "no blank line after the proof, or too long a proof")
        note = "\n".join(lines[i + 1:])
        cut = note.find("\n\n")
        if cut < 0:
            raise Refusal(400, "the checkpoint is not a signed note")
        cp_text, sigs = note[:cut + 1], note[cut + 2:]
        cp = cp_text.split("\n")
        if len(cp) < 4:
            raise Refusal(400, "short checkpoint")
        origin, size_s, root_s = cp[0], cp[1], cp[2]
        if origin != self.log_name:
            raise Refusal(404, "unknown log")
        # the log's signature: lines of other keys are ignored
        good = False
        for line in sigs.split("\n"):
            if not line.startswith(DASH):
                continue
            try:
                lname, b64 = line[len(DASH):].split(" ")
                raw = base64.b64decode(b64, validate=True)
            except ValueError:
                raise Refusal(400, "malformed signature line")
            if lname != self.log_name or raw[:4] != self.log_id:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(self.log_pub).verify(raw[4:],
                                                                        cp_text.encode())
                good = True
            except InvalidSignature:
                raise Refusal(403, "a log signature does not verify")
        if not good:
            raise Refusal(403, "no signature by the log's key")
        if not size_s.isdigit() or (size_s != "0" and size_s.startswith("0")):
            raise Refusal(400, "bad size")
        size = int(size_s)
        root = base64.b64decode(root_s, validate=True)
        if len(root) != 32:
            raise Refusal(400, "bad root")
        if old > size:
            raise Refusal(400, "old size beyond the checkpoint's")
        with self.lock:  # check and persist atomically
            have = self.state["size"]
            have_root = base64.b64decode(self.state["root"])
            if old != have:
                raise Refusal(409, "old size mismatch", "%d\n" % have, "text/x.tlog.size")
            if size == 0 and root != hashlib.sha256(b"").digest():
                raise Refusal(422, "a tree of size 0 has the empty root")
            if old == 0 and proof:
                raise Refusal(422, "a proof from size 0 must be empty")
            if old == size and (root != have_root or proof):
                sys.stderr.write("witness %s: FORK of %s at size %d: %s cosigned, %s offered\n"
                                 % (self.name, origin, size, self.state["root"], root_s))
                raise Refusal(422, "another tree of this size was cosigned (a fork)")
            if 0 < old < size and not verify_consistency(old, size, have_root, root, proof):
                raise Refusal(422, "the consistency proof does not verify")
            ts = int(time.time())
            msg = ("cosignature/v1\ntime %d\n" % ts + cp_text).encode()
            sig = self.key.sign(msg)
            line = "%s%s %s\n" % (DASH, self.name, base64.b64encode(
                self.id + ts.to_bytes(8, "big") + sig).decode())
            self.state.update(size=size, root=root_s,
                              checkpoint=cp_text + "\n" + "".join(
                                  l + "\n" for l in sigs.split("\n")
                                  if l.startswith(DASH + self.log_name + " ")) + line)
            self.save()
            return line


def check(argv):
    with open(argv[0], encoding="utf-8") as f:
        note = f.read()
    argv = argv[1:]
    cut = note.find("\n\n")
    if cut < 0:
        sys.exit("not a signed note")
    text, sigs = note[:cut + 1], [l for l in note[cut + 2:].split("\n") if l]
    log_name, log_pub = parse_vkey(argv[0], 0x01)
    keys = [(log_name, key_id(log_name, 0x01, log_pub), log_pub, False)]
    for v in argv[1:]:
        n, pub = parse_vkey(v, 0x04)
        keys.append((n, key_id(n, 0x04, pub), pub, True))
    for name, kid, pub, cosig in keys:
        ok = False
        for line in sigs:
            if not line.startswith(DASH + name + " "):
                continue
            raw = base64.b64decode(line.split(" ")[2], validate=True)
            if raw[:4] != kid:
                continue
            if cosig:
                ts = int.from_bytes(raw[4:12], "big")
                msg, sig = ("cosignature/v1\ntime %d\n" % ts + text).encode(), raw[12:]
                if len(sig) != 64 or ts == 0:
                    sys.exit("%s: malformed cosignature" % name)
            else:
                msg, sig = text.encode(), raw[4:]
            try:
                Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
                ok = True
            except InvalidSignature:
                sys.exit("%s: the signature does not verify" % name)
        if not ok:
            sys.exit("%s: no signature" % name)
    print(text.split("\n")[1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        return check(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--log-vkey", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    w = Witness(a.name, a.log_vkey, a.state)
    origin_hash = hashlib.sha256(w.log_name.encode()).hexdigest()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def answer(self, status, body, ctype="text/plain; charset=utf-8"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            if self.path != "/add-checkpoint":
                return self.answer(404, "no such route\n")
            try:
                self.answer(200, w.add_checkpoint(body))
            except Refusal as r:
                self.answer(r.status, r.body, r.ctype)

        def do_GET(self):
            if self.path == "/%s/checkpoint" % origin_hash and w.state["checkpoint"]:
                return self.answer(200, w.state["checkpoint"])
            self.answer(404, "not found\n")

        def log_message(self, fmt, *args):
            sys.stderr.write("witness %s: %s\n" % (w.name, fmt % args))

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())

    # a test that dies must not leave its witnesses behind
    parent = os.getppid()

    def orphaned():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)
    threading.Thread(target=orphaned, daemon=True).start()
    tmp = a.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %s\n" % (srv.server_address[1], w.vkey))
    os.replace(tmp, a.ready)
    srv.serve_forever()


if __name__ == "__main__":
    main()
