#!/usr/bin/env node
// Independent JSON-LD check of a conform credential.
//
//   node jsonld-check.mjs CONTEXT_FILE CREDENTIAL_FILE
//       CREDENTIAL_FILE holds a compact JWS (its payload is the credential;
//       the signature is verify-jws.mjs's business) or the credential as JSON.
//       CONTEXT_FILE is conform's context as the service serves it
//       (/contexts/conformity/v1). The W3C VC 2.0 context comes from the npm
//       package @digitalbazaar/credentials-context. A local document loader
//       serves those two and nothing else: no network.
//       Checks, with the `jsonld` package:
//         - every "id" in the credential is an absolute IRI (URL or URN);
//         - expansion in safe mode succeeds (safe mode fails on any term
//           that is undefined and would be dropped, and on relative IRIs);
//         - toRDF (safe mode) yields quads for the scheme node, its version
//           and its digest, and typed dates (xsd:dateTime, xsd:date).
//       stdout: one JSON line {"ok":true,...}, exit 0; or {"ok":false,
//       "error":"..."}, exit 1.

import { readFileSync } from 'node:fs';
import jsonld from 'jsonld';
import { contexts as vcContexts } from '@digitalbazaar/credentials-context';

const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const VOCAB = 'urn:conform:vocab:';
const XSD = 'http://www.w3.org/2001/XMLSchema#';

class CheckError extends Error {}

function credentialFrom(text) {
  const t = text.trim();
  if (t.startsWith('{')) return JSON.parse(t);
  const parts = t.split('.');
  if (parts.length !== 3) throw new CheckError('neither a compact JWS nor a JSON credential');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

// Every "id" anywhere in the credential: absolute (scheme ":" ...).
function checkIds(node, path, bad) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => checkIds(v, `${path}/${i}`, bad));
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'id' && !(typeof v === 'string' && /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/.test(v))) {
        bad.push(`${path}/id = ${JSON.stringify(v)}`);
      }
      if (k !== '@context') checkIds(v, `${path}/${k}`, bad);
    }
  }
}

function loaderFor(conformContextUrl, conformContext) {
  return async (url) => {
    if (url === VC_V2) {
      return { contextUrl: null, documentUrl: url, document: vcContexts.get(VC_V2) };
    }
    if (url === conformContextUrl) {
      return { contextUrl: null, documentUrl: url, document: conformContext };
    }
    throw new CheckError(`the local document loader has no ${url} (no network here)`);
  };
}

export async function checkCredential(conformContext, vc) {
  const ctx = vc['@context'];
  if (!Array.isArray(ctx) || ctx[0] !== VC_V2 || typeof ctx[1] !== 'string') {
    throw new CheckError(`@context must start with ${VC_V2} and name conform's context`);
  }
  if (JSON.stringify(conformContext).includes('@vocab')) {
    throw new CheckError("conform's context must not use @vocab");
  }
  const documentLoader = loaderFor(ctx[1], conformContext);
  const expanded = await jsonld.expand(vc, { safe: true, documentLoader });
  if (!Array.isArray(expanded) || expanded.length !== 1) {
    throw new CheckError('expansion did not give one node');
  }
  // safe mode refuses a relative id; a blank one would pass it
  const bad = [];
  checkIds(vc, '', bad);
  if (bad.length) throw new CheckError(`ids that are not URLs or URNs: ${bad.join(', ')}`);
  const nquads = await jsonld.toRDF(vc, { safe: true, documentLoader, format: 'application/n-quads' });
  const quads = nquads.split('\n').filter((l) => l.length);

  const subject = vc.credentialSubject || {};
  const scheme = subject.scheme || {};
  const has = (re) => quads.some((q) => re.test(q));
  const esc = (s) => String(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const need = [
    ['the subject names the scheme', new RegExp(`^_:\\S+ <${VOCAB}scheme> <${esc(scheme.id)}> \\.$`)],
    ['the scheme has its version', new RegExp(`^<${esc(scheme.id)}> <${VOCAB}version> "${esc(scheme.version)}" \\.$`)],
    ['the scheme has its digest', new RegExp(`^<${esc(scheme.id)}> <${VOCAB}digest> "${esc(scheme.digest)}" \\.$`)],
    ['validFrom is an xsd:dateTime', new RegExp(`<https://www.w3.org/2018/credentials#validFrom> "[^"]+"\\^\\^<${XSD}dateTime>`)],
    ['validUntil is an xsd:dateTime', new RegExp(`<https://www.w3.org/2018/credentials#validUntil> "[^"]+"\\^\\^<${XSD}dateTime>`)],
    ['the support end is an xsd:date', new RegExp(`<${VOCAB}securitySupportEnd> "[^"]+"\\^\\^<${XSD}date>`)],
    ['the decision date is an xsd:dateTime', new RegExp(`<${VOCAB}date> "[^"]+"\\^\\^<${XSD}dateTime>`)],
  ];
  const missing = need.filter(([, re]) => !has(re)).map(([what]) => what);
  if (missing.length) throw new CheckError(`toRDF lacks: ${missing.join('; ')}`);
  return { quads: quads.length, scheme: { id: scheme.id, version: scheme.version, digest: scheme.digest } };
}

async function main(argv) {
  if (argv.length !== 2) {
    process.stderr.write('usage: node jsonld-check.mjs CONTEXT_FILE CREDENTIAL_FILE\n');
    return 2;
  }
  try {
    const conformContext = JSON.parse(readFileSync(argv[0], 'utf8'));
    const vc = credentialFrom(readFileSync(argv[1], 'utf8'));
    const r = await checkCredential(conformContext, vc);
    process.stdout.write(JSON.stringify({ ok: true, ...r }) + '\n');
    return 0;
  } catch (e) {
    const name = e && e.name && e.name !== 'Error' && !(e instanceof CheckError) ? `${e.name}: ` : '';
    const ev = e && e.details && e.details.event;
    const detail = ev ? ` (${ev.code}${ev.details && ev.details.id !== undefined ? `: ${JSON.stringify(ev.details.id)}` : ''})` : '';
    process.stdout.write(JSON.stringify({ ok: false, error: `${name}${e && e.message ? e.message : e}${detail}` }) + '\n');
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
