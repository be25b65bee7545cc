#!/usr/bin/env node
// Independent JOSE cross-check for conform certificates.
//
//   node verify-jws.mjs JWKS_FILE JWS_FILE
//       Verifies a compact JWS (EdDSA / Ed25519, typ "vc+jwt") against a JWKS
//       using only the `jose` npm package (createLocalJWKSet + compactVerify).
//       stdout: one JSON line {"valid":true,"kid":...,"payload":{...}}, exit 0
//            or {"valid":false,"error":"..."}, exit 1.
//
//   node verify-jws.mjs --selftest
//       Signs with a fresh key, verifies, then proves every one-character and
//       one-decoded-byte change in header, payload and signature is rejected.
//       Exit 0 only if all of that holds.
//
// Besides jose, the only extra rule is strict base64url: every segment must be
// the canonical unpadded encoding (RFC 7515 s2 / RFC 4648 s5, no stray bits).
// jose (like most decoders) ignores the 4 unused low bits of the last signature
// character, so without this rule 15 of the 63 possible changes of that one
// character would still verify. --selftest shows that explicitly.

import { readFileSync, writeFileSync, mkdtempSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';

const EXPECTED_TYP = 'vc+jwt';
const ALGORITHMS = ['EdDSA'];
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

class VerifyError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function b64urlEncode(bytes) {
  return Buffer.from(bytes).toString('base64url');
}

// Reject anything that is not the unique canonical base64url encoding.
function checkCanonicalSegments(jws) {
  const parts = jws.split('.');
  if (parts.length !== 3) {
    throw new VerifyError('ERR_JWS_INVALID', 'compact JWS must have exactly three segments');
  }
  const names = ['protected header', 'payload', 'signature'];
  parts.forEach((seg, i) => {
    if (!B64URL_RE.test(seg) || seg.length % 4 === 1) {
      throw new VerifyError('ERR_NONCANONICAL_B64URL', `${names[i]} segment is not valid base64url`);
    }
    if (b64urlEncode(Buffer.from(seg, 'base64url')) !== seg) {
      throw new VerifyError('ERR_NONCANONICAL_B64URL', `${names[i]} segment is not canonical base64url`);
    }
  });
}

/**
 * Verify a compact JWS against a JWKS object.
 * @param {object} jwks  parsed JWKS ({"keys":[...]})
 * @param {string} jws   compact JWS text (already trimmed)
 * @param {{strictEncoding?: boolean}} [opts]  strictEncoding=false gives jose-only behaviour
 * @returns {Promise<{kid: string, protectedHeader: object, payload: object}>}
 */
export async function verifyCompactJws(jwks, jws, { strictEncoding = true } = {}) {
  if (typeof jws !== 'string' || jws.length === 0) {
    throw new VerifyError('ERR_JWS_INVALID', 'empty JWS');
  }
  const keySet = jose.createLocalJWKSet(jwks);
  const { payload, protectedHeader } = await jose.compactVerify(jws, keySet, { algorithms: ALGORITHMS });

  if (strictEncoding) checkCanonicalSegments(jws);
  if (protectedHeader.typ !== EXPECTED_TYP) {
    throw new VerifyError('ERR_TYP', `protected header typ is ${JSON.stringify(protectedHeader.typ)}, expected "${EXPECTED_TYP}"`);
  }
  if (typeof protectedHeader.kid !== 'string' || protectedHeader.kid.length === 0) {
    throw new VerifyError('ERR_KID', 'protected header has no kid');
  }
  let parsed;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (e) {
    throw new VerifyError('ERR_PAYLOAD', `payload is not UTF-8 JSON: ${e.message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new VerifyError('ERR_PAYLOAD', 'payload is not a JSON object');
  }
  return { kid: protectedHeader.kid, protectedHeader, payload: parsed };
}

function errorText(e) {
  const code = e && e.code ? `${e.code}: ` : '';
  return `${code}${e && e.message ? e.message : String(e)}`;
}

async function cliVerify(jwksFile, jwsFile) {
  try {
    let jwks;
    try {
      jwks = JSON.parse(readFileSync(jwksFile, 'utf8'));
    } catch (e) {
      throw new VerifyError('ERR_JWKS_FILE', `cannot read JWKS ${jwksFile}: ${e.message}`);
    }
    let jws;
    try {
      jws = readFileSync(jwsFile, 'utf8').trimEnd();
    } catch (e) {
      throw new VerifyError('ERR_JWS_FILE', `cannot read JWS ${jwsFile}: ${e.message}`);
    }
    const r = await verifyCompactJws(jwks, jws);
    process.stdout.write(JSON.stringify({ valid: true, kid: r.kid, payload: r.payload }) + '\n');
    return 0;
  } catch (e) {
    process.stdout.write(JSON.stringify({ valid: false, error: errorText(e) }) + '\n');
    return 1;
  }
}

// ---------------------------------------------------------------- selftest

async function selftest() {
  const failures = [];
  const fail = (msg) => { failures.push(msg); };
  let checks = 0;

  const enc = new TextEncoder();
  const issuer = 'did:web:selftest.conform.invalid';

  async function makeKey() {
    const { publicKey, privateKey } = await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await jose.exportJWK(publicKey);
    const thumb = await jose.calculateJwkThumbprint(jwk, 'sha256');
    const kid = `${issuer}#${thumb}`;
    return { privateKey, kid, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: 'EdDSA', use: 'sig' } };
  }

  const key = await makeKey();
  const other = await makeKey(); // decoy key, also published
  const jwks = { keys: [other.jwk, key.jwk] };

  const vc = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    type: ['VerifiableCredential', 'ConformityCertificate'],
    id: 'urn:uuid:6f1c1a54-2f7e-4c1e-9a51-0d7a4f0e2b11',
    issuer,
    validFrom: '2025-01-01T00:00:00Z',
    validUntil: '2028-01-01T00:00:00Z',
    credentialSubject: {
      id: 'urn:conform:product:selftest',
      scheme: 'selftest-scheme',
      level: 'substantial',
      note: 'non-ASCII check: Prüfbericht \u2013 \u00e9\u00e8',
    },
  };

  async function sign(payloadObj, header, privateKey) {
    const bytes = typeof payloadObj === 'string' ? enc.encode(payloadObj) : enc.encode(JSON.stringify(payloadObj));
    return new jose.CompactSign(bytes).setProtectedHeader(header).sign(privateKey);
  }
  const goodHeader = { alg: 'EdDSA', typ: 'vc+jwt', cty: 'vc', kid: key.kid };

  async function expectValid(label, jws) {
    checks++;
    try {
      const r = await verifyCompactJws(jwks, jws);
      if (r.kid !== key.kid) fail(`${label}: wrong kid ${r.kid}`);
      if (JSON.stringify(r.payload) !== JSON.stringify(vc)) fail(`${label}: payload mismatch`);
    } catch (e) {
      fail(`${label}: expected valid, got ${errorText(e)}`);
    }
  }
  async function expectInvalid(label, jws, opts) {
    checks++;
    try {
      await verifyCompactJws(jwks, jws, opts);
      fail(`${label}: expected failure but it verified`);
      return false;
    } catch {
      return true;
    }
  }

  // 1. the genuine article verifies
  const jws = await sign(vc, goodHeader, key.privateKey);
  await expectValid('genuine JWS', jws);
  await expectValid('genuine JWS with trailing newline trimmed', (jws + '\n').trimEnd());

  // 2. semantic negatives: each check in verifyCompactJws must be live
  await expectInvalid('typ "JWT"', await sign(vc, { ...goodHeader, typ: 'JWT' }, key.privateKey));
  await expectInvalid('typ missing', await sign(vc, { alg: 'EdDSA', cty: 'vc', kid: key.kid }, key.privateKey));
  await expectInvalid('kid missing', await sign(vc, { alg: 'EdDSA', typ: 'vc+jwt', cty: 'vc' }, key.privateKey));
  await expectInvalid('unknown kid', await sign(vc, { ...goodHeader, kid: `${issuer}#unknown` }, key.privateKey));
  await expectInvalid('signed by decoy key under genuine kid', await sign(vc, goodHeader, other.privateKey));
  await expectInvalid('payload is a JSON array', await sign('[1,2,3]', goodHeader, key.privateKey));
  await expectInvalid('payload is not JSON', await sign('not json', goodHeader, key.privateKey));
  {
    const [, p, s] = jws.split('.');
    const noneHdr = b64urlEncode(enc.encode(JSON.stringify({ ...goodHeader, alg: 'none' })));
    await expectInvalid('alg none (signature kept)', `${noneHdr}.${p}.${s}`);
    await expectInvalid('alg none (empty signature)', `${noneHdr}.${p}.`);
    const hsHdr = b64urlEncode(enc.encode(JSON.stringify({ ...goodHeader, alg: 'HS256' })));
    await expectInvalid('alg HS256', `${hsHdr}.${p}.${s}`);
    checks++;
    try {
      await verifyCompactJws({ keys: [] }, jws);
      fail('empty JWKS: expected failure but it verified');
    } catch { /* expected */ }
    checks++;
    try {
      await verifyCompactJws({ keys: [other.jwk] }, jws);
      fail('JWKS without the signing key: expected failure but it verified');
    } catch { /* expected */ }
  }

  // 3. tampering: every position of every segment, every other base64url
  //    character, plus a few non-alphabet characters.
  const parts = jws.split('.');
  const names = ['header', 'payload', 'signature'];
  const joseOnlyAccepted = []; // informational: what jose alone lets through
  let tamperChecks = 0;
  for (let pi = 0; pi < 3; pi++) {
    const seg = parts[pi];
    for (let i = 0; i < seg.length; i++) {
      const orig = seg[i];
      const repl = [...B64URL].filter((c) => c !== orig).concat(['=', '+', '/', ' ', '\u00e9']);
      for (const c of repl) {
        const t = [...parts];
        t[pi] = seg.slice(0, i) + c + seg.slice(i + 1);
        const tampered = t.join('.');
        tamperChecks++;
        // jose alone first (strict mode only adds rules, so a jose rejection is
        // a strict rejection); only what jose lets through is re-run strictly.
        checks++;
        try {
          await verifyCompactJws(jwks, tampered, { strictEncoding: false });
        } catch {
          continue; // rejected, as required
        }
        checks--; // counted again by expectInvalid
        joseOnlyAccepted.push({ part: names[pi], index: i, from: orig, to: c });
        await expectInvalid(`${names[pi]}[${i}] ${orig}->${c}`, tampered);
      }
    }
  }
  // the same idea at the decoded-byte level: flip each bit-0 of every decoded byte
  for (let pi = 0; pi < 3; pi++) {
    const bytes = Buffer.from(parts[pi], 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const b = Buffer.from(bytes);
        b[i] ^= mask;
        const t = [...parts];
        t[pi] = b64urlEncode(b);
        tamperChecks++;
        await expectInvalid(`${names[pi]} byte ${i} ^0x${mask.toString(16)}`, t.join('.'));
      }
    }
  }
  // structural damage
  for (const [label, t] of [
    ['dot removed', jws.replace('.', '')],
    ['extra segment', jws + '.AAAA'],
    ['signature truncated by one char', jws.slice(0, -1)],
    ['signature extended by one char', jws + 'A'],
    ['segments swapped', `${parts[1]}.${parts[0]}.${parts[2]}`],
    ['leading space', ' ' + jws],
    ['empty', ''],
  ]) {
    tamperChecks++;
    await expectInvalid(label, t);
  }

  // jose alone must only ever have let through the no-op bit changes of the
  // final signature character (4 unused bits → 15 alternative characters).
  const sigLast = parts[2].length - 1;
  const unexpected = joseOnlyAccepted.filter((a) => !(a.part === 'signature' && a.index === sigLast));
  if (unexpected.length) fail(`jose accepted unexpected tampering: ${JSON.stringify(unexpected.slice(0, 5))}`);

  // 4. the CLI end to end: files, stdout JSON, exit codes
  const dir = mkdtempSync(join(tmpdir(), 'conform-jws-selftest-'));
  try {
    const self = fileURLToPath(import.meta.url);
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const run = (content) => {
      const f = join(dir, 'cert.jws');
      writeFileSync(f, content);
      const r = spawnSync(process.execPath, [self, jwksFile, f], { encoding: 'utf8' });
      let out = null;
      try { out = JSON.parse(r.stdout.trim()); } catch { /* leave null */ }
      return { status: r.status, out, lines: r.stdout.trim().split('\n').length };
    };
    checks++;
    const ok = run(jws + '\n');
    if (!(ok.status === 0 && ok.out && ok.out.valid === true && ok.out.kid === key.kid
      && JSON.stringify(ok.out.payload) === JSON.stringify(vc) && ok.lines === 1)) {
      fail(`CLI on genuine JWS: status ${ok.status}, output ${JSON.stringify(ok.out)}`);
    }
    for (const [pi, name] of names.entries()) {
      checks++;
      const t = [...parts];
      const i = Math.floor(t[pi].length / 2);
      t[pi] = t[pi].slice(0, i) + (t[pi][i] === 'A' ? 'B' : 'A') + t[pi].slice(i + 1);
      const bad = run(t.join('.') + '\n');
      if (!(bad.status === 1 && bad.out && bad.out.valid === false && typeof bad.out.error === 'string')) {
        fail(`CLI on tampered ${name}: status ${bad.status}, output ${JSON.stringify(bad.out)}`);
      }
    }
    checks++;
    const last = parts[2].length - 1;
    const idx = B64URL.indexOf(parts[2][last]);
    const nonCanon = `${parts[0]}.${parts[1]}.${parts[2].slice(0, last)}${B64URL[idx ^ 1]}`;
    const nc = run(nonCanon);
    if (!(nc.status === 1 && nc.out && nc.out.valid === false)) {
      fail(`CLI on non-canonical signature: status ${nc.status}, output ${JSON.stringify(nc.out)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const require = createRequire(import.meta.url);
  const joseVersion = require('jose/package.json').version;
  const summary = {
    selftest: failures.length === 0 ? 'pass' : 'fail',
    jose: joseVersion,
    node: process.version,
    checks,
    tamper_checks: tamperChecks,
    jose_only_accepted_noncanonical: joseOnlyAccepted.length,
    failures: failures.slice(0, 20),
    failure_count: failures.length,
  };
  process.stdout.write(JSON.stringify(summary) + '\n');
  return failures.length === 0 ? 0 : 1;
}

// ---------------------------------------------------------------- main

async function main(argv) {
  if (argv.length === 1 && argv[0] === '--selftest') return selftest();
  if (argv.length === 2 && !argv[0].startsWith('--')) return cliVerify(argv[0], argv[1]);
  process.stderr.write('usage: node verify-jws.mjs JWKS_FILE JWS_FILE\n       node verify-jws.mjs --selftest\n');
  process.stdout.write(JSON.stringify({ valid: false, error: 'ERR_USAGE: expected JWKS_FILE JWS_FILE or --selftest' }) + '\n');
  return 1;
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
}

if (isMain()) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e) => {
      process.stdout.write(JSON.stringify({ valid: false, error: `internal error: ${errorText(e)}` }) + '\n');
      process.exitCode = 1;
    },
  );
}
