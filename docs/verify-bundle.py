#!/usr/bin/env python3
"""Verify a conform offline proof bundle with no network (docs/certificates.md,
"The offline proof bundle"), the checks of `conformctl cert verify --bundle`.

usage: verify-bundle.py BUNDLE [--log-key VKEY] [--witness-key VKEY]...
Prints the verdict (valid, suspended, withdrawn, superseded, expired, or invalid: why);
exits 0 only for valid. Needs Python 3 and `cryptography` (python3-cryptography).
"""
import base64, calendar, gzip, hashlib, json, sys, time
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

class Invalid(Exception):
    pass

def need(ok, why):
    if not ok:
        raise Invalid(why)

def sha256(b):
    return hashlib.sha256(b).digest()

def canonical(v):  # RFC 8785 for what bundles hold (strings, integers, objects, arrays)
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

def strict_json(text):  # JSON that is exactly its own canonical form
    def no_dups(pairs):
        need(len({k for k, _ in pairs}) == len(pairs), "duplicate JSON member")
        return dict(pairs)
    try:
        v = json.loads(text, object_pairs_hook=no_dups)
    except ValueError:
        raise Invalid("not JSON")
    need(canonical(v) == text, "not canonical JSON")
    return v

def b64(s, url=True):  # one spelling only: re-encoding must give s back
    need(isinstance(s, str), "not base64")
    try:
        raw = (base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)) if url else base64.b64decode(s, validate=True))
    except ValueError:
        raise Invalid("bad base64")
    again = base64.urlsafe_b64encode(raw).decode().rstrip("=") if url else base64.b64encode(raw).decode()
    need(again == s, "bad base64")
    return raw

def time_of(t):  # RFC 3339 UTC, fraction allowed
    need(isinstance(t, str) and t.endswith("Z"), "not an RFC 3339 UTC time")
    return calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S"))

def jws(compact, keys, did, what):  # verify a vc+jwt by one of keys (of issuer did): its payload
    need(isinstance(compact, str) and compact.count(".") == 2, what + ": not a compact JWS")
    h, p, s = compact.split(".")
    header = json.loads(b64(h))
    need(header.get("alg") == "EdDSA" and header.get("typ") == "vc+jwt" and "crit" not in header, what + ": header")
    key = keys.get(header.get("kid"))
    need(key and header["kid"].rsplit("#", 1)[0] == did, what + ": its key is not the issuer's key in the bundle")
    try:
        key["pub"].verify(b64(s), (h + "." + p).encode())
    except Exception:
        raise Invalid(what + ": the signature does not verify")
    key["used"] = True
    return key, json.loads(b64(p))

def included(proof, size, root, what):  # RFC 9162 2.1.3.2; returns the entry
    need(set(proof) == {"audit_path", "entry", "index"}, what + ": malformed proof")
    entry, fn, sn = strict_json(proof["entry"]), proof["index"], size - 1
    need(isinstance(fn, int) and 0 <= fn < size, what + ": index outside the tree")
    r = sha256(b"\0" + proof["entry"].encode())
    for p in map(lambda x: b64(x, url=False), proof["audit_path"]):
        need(sn > 0 and len(p) == 32, what + ": proof too long")
        if fn & 1 or fn == sn:
            r = sha256(b"\1" + p + r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = sha256(b"\1" + r + p)
        fn, sn = fn >> 1, sn >> 1
    need(sn == 0 and r == root, what + ": the inclusion proof does not lead to the checkpoint's root")
    return entry

def vkey(v, kind):  # "<name>+<key id>+<base64(kind || pub)>" (C2SP signed-note): name, key id, key
    name, key_id, raw = v.split("+", 2)
    raw, key_id = b64(raw, url=False), bytes.fromhex(key_id)
    need(len(raw) == 33 and raw[0] == kind and sha256(name.encode() + b"\n" + raw)[:4] == key_id, "bad key " + v)
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])

def cosigned(line, body, witnesses):  # a cosignature/v1 line (C2SP tlog-cosignature): verified or not
    _, name, sig = line.split(" ")
    sig = b64(sig, url=False)
    for wname, wid, wkey in witnesses:
        if wname == name and sig[:4] == wid:
            try:
                msg = "cosignature/v1\ntime %d\n%s" % (int.from_bytes(sig[4:12], "big"), body)
                need(len(sig) == 76, "bad cosignature")
                wkey.verify(sig[12:], msg.encode())
                return "cosigned by %s (verified)" % name
            except Exception:
                raise Invalid("the cosignature of witness %s does not verify" % name)
    return "cosigned by %s (not verified: give --witness-key)" % name

def verify(text, log_key, witnesses, now):
    need(text.endswith("\n"), "not a bundle: no final newline")
    b = strict_json(text[:-1])
    need(set(b) - {"superseded"} == {"checkpoint", "credential", "format", "inclusion", "keys", "log_vkey",
                                     "made_at", "serial", "status_lists"} and b["format"] == "conform-bundle/v1",
         "not a conform-bundle/v1")
    # 1. the checkpoint, signed by the log key (C2SP signed note, Ed25519 key type 0x01)
    need(log_key is None or log_key == b["log_vkey"], "the bundle's log key is not the trusted one")
    name, key_id, log_pub = vkey(b["log_vkey"], 1)
    note = b["checkpoint"]
    body, sigs = note[:note.rfind("\n\n") + 1], note[note.rfind("\n\n") + 2:]
    ours = [b64(l.split(" ")[2], url=False) for l in sigs.splitlines() if l.split(" ")[1:2] == [name]]
    try:
        need(ours and all(s[:4] == key_id for s in ours), "the checkpoint has no signature by the log key")
        for s in ours:
            log_pub.verify(s[4:], body.encode())
    except Invalid:
        raise
    except Exception:
        raise Invalid("the checkpoint's signature does not verify")
    origin, size, root = body.split("\n")[:3]
    need(origin == name and size == str(int(size)), "the checkpoint is not the log's")
    size, root = int(size), b64(root, url=False)
    cosigners = [cosigned(l, body, witnesses) for l in sigs.splitlines() if l.split(" ")[1:2] != [name]]
    for w in witnesses:  # each witness given must have cosigned
        need("cosigned by %s (verified)" % w[0] in cosigners, "not cosigned by witness " + w[0])
    # 2. the keys: each its own RFC 7638 thumbprint; a compromise proven in the log
    keys = {}
    for k in b["keys"]:
        need(set(k) - {"compromised"} == {"crv", "kid", "kty", "x"} and k["kty"] == "OKP" and k["crv"] == "Ed25519",
             "a key is not an Ed25519 JWK")
        thumb = base64.urlsafe_b64encode(sha256(('{"crv":"Ed25519","kty":"OKP","x":"%s"}' % k["x"]).encode()))
        need(k["kid"].rsplit("#", 1)[-1] == thumb.decode().rstrip("=") and len(b64(k["x"])) == 32, "bad kid")
        need(k["kid"] not in keys, "a key is there twice")
        keys[k["kid"]] = {"pub": Ed25519PublicKey.from_public_bytes(b64(k["x"])), "since": None}
        if "compromised" in k:
            e = included(k["compromised"], size, root, "the key's revocation")
            need(e.get("kind") == "key-compromised" and e.get("kid") == k["kid"], "not the key's revocation")
            keys[k["kid"]]["since"] = time_of(e["compromised_since"])
    # 3. the credential, signed by its issuer
    cred = json.loads(b64(b["credential"].split(".")[1]))
    did = cred["issuer"]["id"]
    key, cred = jws(b["credential"], keys, did, "the credential")
    need(cred["credentialSubject"]["serial"] == b["serial"], "the credential is not that certificate")
    start, end = time_of(cred["validFrom"]), time_of(cred["validUntil"])
    need(key["since"] is None or start < key["since"], "signed by a key compromised before it")
    # 4. its issuance entry, under the checkpoint
    e = included(b["inclusion"], size, root, "the issuance")
    need(e.get("kind") == "issuance" and e.get("serial") == b["serial"] and e.get("issuer") == did and
         e.get("jws_sha256") == hashlib.sha256(b["credential"].encode()).hexdigest(), "the entry is not its issuance")
    # 5. the status lists of made_at, signed by the issuer
    bits = {}
    need(set(b["status_lists"]) == {"revocation", "suspension"}, "status lists")
    for purpose, compact in b["status_lists"].items():
        k, lst = jws(compact, keys, did, "the %s list" % purpose)
        st = [s for s in cred["credentialStatus"] if s["statusPurpose"] == purpose][0]
        sub = lst["credentialSubject"]
        need(lst["id"] == st["statusListCredential"] and lst["issuer"] == did and sub["statusPurpose"] == purpose and
             lst["validFrom"] == b["made_at"], "the %s list is not the credential's, of made_at" % purpose)
        need(k["since"] is None or time_of(b["made_at"]) < k["since"], "list signed by a compromised key")
        need(sub["encodedList"][0] == "u", "encodedList")
        i, data = int(st["statusListIndex"]), gzip.decompress(b64(sub["encodedList"][1:]))
        need(len(data) == 16384 and 0 <= i < 131072, "encodedList")
        bits[purpose] = data[i // 8] >> (7 - i % 8) & 1
    need(all(k.get("used") for k in keys.values()), "a key in the bundle signs nothing")
    need(now >= start, "not valid yet")
    # 6. a supersession proven in the log: the revocation bit is then its
    successor = None
    if "superseded" in b:
        e = included(b["superseded"], size, root, "the supersession")
        need(e.get("kind") == "status" and e.get("serial") == b["serial"] and e.get("status") == "superseded" and
             isinstance(e.get("superseded_by"), str), "the supersession entry is not this certificate's")
        need(bits["revocation"], "superseded in the log and not in its revocation list")
        successor = e["superseded_by"]
    verdict = (("superseded by " + successor if successor else "withdrawn") if bits["revocation"] else
               "expired" if now >= end else "suspended" if bits["suspension"] else "valid")
    return verdict, b, cosigners

if __name__ == "__main__":
    args = sys.argv[1:]
    log_key = args[args.index("--log-key") + 1] if "--log-key" in args else None
    try:
        witnesses = [vkey(args[i + 1], 4) for i, a in enumerate(args) if a == "--witness-key"]
        with open(args[0], "rb") as f:
            verdict, b, cosigners = verify(f.read().decode("utf-8"), log_key, witnesses, time.time())
    except (Invalid, ValueError, KeyError, IndexError, TypeError, AttributeError, OSError) as e:
        print("invalid: %s" % (e if isinstance(e, Invalid) else "malformed bundle (%s)" % type(e).__name__))
        sys.exit(1)
    if log_key is None:
        print("warning: checked with the bundle's own log key; give --log-key", file=sys.stderr)
    for c in cosigners:
        print(c)
    print("%s %s (status as of %s)" % (b["serial"], verdict, b["made_at"]))
    sys.exit(0 if verdict == "valid" else 1)
