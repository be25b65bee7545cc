#!/usr/bin/env node
// Independent JSON Schema check of a conform credential.
//
//   node schema-check.mjs SCHEMA_FILE CREDENTIAL_FILE
//       SCHEMA_FILE is the JSON Schema conform publishes
//       (/schemas/conformity-certificate/v1, draft 2020-12); CREDENTIAL_FILE
//       a compact JWS (its payload is the credential) or the credential as
//       JSON. Validates with `ajv` (2020-12 dialect) and `ajv-formats`
//       (uri, date, date-time checked, not ignored).
//       stdout: one JSON line {"valid":true}, exit 0; or {"valid":false,
//       "errors":[...]}, exit 1.

import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

function credentialFrom(text) {
  const t = text.trim();
  if (t.startsWith('{')) return JSON.parse(t);
  const parts = t.split('.');
  if (parts.length !== 3) throw new Error('neither a compact JWS nor a JSON credential');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

function main(argv) {
  if (argv.length !== 2) {
    process.stderr.write('usage: node schema-check.mjs SCHEMA_FILE CREDENTIAL_FILE\n');
    return 2;
  }
  try {
    const schema = JSON.parse(readFileSync(argv[0], 'utf8'));
    const vc = credentialFrom(readFileSync(argv[1], 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    if (validate(vc)) {
      process.stdout.write(JSON.stringify({ valid: true }) + '\n');
      return 0;
    }
    const errors = validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}`);
    process.stdout.write(JSON.stringify({ valid: false, errors }) + '\n');
    return 1;
  } catch (e) {
    process.stdout.write(JSON.stringify({ valid: false, errors: [String(e && e.message ? e.message : e)] }) + '\n');
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
