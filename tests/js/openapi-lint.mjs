#!/usr/bin/env node
// The lint of conform's OpenAPI description (ctest docs/openapi_lint).
//
//   node openapi-lint.mjs OPENAPI_FILE
//       1. @redocly/cli lint with tests/js/redocly.yaml: any problem, of any
//          severity (error or warning), fails.
//       2. Every response is typed: each schema reachable from a response's
//          content says what it holds (a type, a $ref, const, enum or a
//          combination); an object lists its properties (or declares its
//          members with additionalProperties); an array its items. An empty
//          schema is allowed only as additionalProperties, where it says
//          on purpose "any member" (audit details, the JSON-LD context).
//       stdout: the problems, one a line; exit 0 = none, 1 = some, 2 = bad start.

import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function redocly(file) {
  const cli = join(here, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'lint', file, '--config', join(here, 'redocly.yaml'),
    '--format=json', '--max-problems', '10000'], { encoding: 'utf8', maxBuffer: 64 << 20,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch {
    return [`redocly lint did not answer JSON (exit ${r.status}): ${r.stderr.slice(0, 2000)}`];
  }
  return out.problems.map((p) => {
    const where = (p.location || []).map((l) => l.pointer).join(', ');
    return `redocly ${p.severity} ${p.ruleId}: ${p.message} (${where})`;
  }).concat(out.totals.errors + out.totals.warnings > 0 && out.problems.length === 0
    ? [`redocly counts ${out.totals.errors} errors and ${out.totals.warnings} warnings`] : []);
}

function typing(doc) {
  const problems = [];
  const seen = new Set();
  const resolve = (ref) => ref.slice(2).split('/')
    .reduce((o, t) => o && o[t.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  const walk = (s, where, freeForm) => {
    if (s && typeof s === 'object' && s.$ref) {
      if (seen.has(s.$ref)) return;
      seen.add(s.$ref);
      const target = resolve(s.$ref);
      if (!target) problems.push(`${where}: $ref ${s.$ref} does not resolve`);
      else walk(target, s.$ref, false);
      return;
    }
    if (!s || typeof s !== 'object') {
      problems.push(`${where}: not a schema`);
      return;
    }
    const comb = ['oneOf', 'anyOf', 'allOf'].filter((k) => s[k]);
    const types = s.type === undefined ? [] : [].concat(s.type);
    if (types.length === 0 && comb.length === 0 && !('const' in s) && !s.enum && !s.not) {
      if (!(freeForm && Object.keys(s).filter((k) => k !== 'description').length === 0))
        problems.push(`${where}: says nothing of what it holds (no type, $ref, const, enum or combination)`);
      return;
    }
    if (types.includes('object') && comb.length === 0 &&
        !s.properties && s.additionalProperties === undefined && !s.patternProperties)
      problems.push(`${where}: an object without properties`);
    if (types.includes('array') && !s.items && !s.prefixItems)
      problems.push(`${where}: an array without items`);
    for (const [k, v] of Object.entries(s.properties || {})) walk(v, `${where}/properties/${k}`, false);
    if (s.additionalProperties && typeof s.additionalProperties === 'object')
      walk(s.additionalProperties, `${where}/additionalProperties`, true);
    if (s.items && typeof s.items === 'object') walk(s.items, `${where}/items`, false);
    for (const k of comb) s[k].forEach((v, i) => walk(v, `${where}/${k}/${i}`, false));
  };
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      for (const [code, r0] of Object.entries(item[m].responses || {})) {
        const r = r0.$ref ? resolve(r0.$ref) : r0;
        for (const [ct, c] of Object.entries((r && r.content) || {})) {
          const where = `${m.toUpperCase()} ${path} ${code} ${ct}`;
          if (!c.schema) problems.push(`${where}: no schema`);
          else walk(c.schema, where, false);
        }
      }
    }
  }
  return problems.map((p) => `untyped: ${p}`);
}

function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node openapi-lint.mjs OPENAPI_FILE\n');
    return 2;
  }
  let doc;
  try {
    doc = JSON.parse(readFileSync(argv[0], 'utf8'));
  } catch (e) {
    process.stderr.write(`openapi-lint: ${argv[0]}: ${e.message}\n`);
    return 2;
  }
  const problems = [...redocly(argv[0]), ...typing(doc)];
  for (const p of problems) process.stdout.write(p + '\n');
  if (problems.length === 0) process.stdout.write(`${argv[0]}: no lint problem, every response typed\n`);
  return problems.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
