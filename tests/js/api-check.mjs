#!/usr/bin/env node
// Independent check of conformd's answers against its OpenAPI description.
//
//   node api-check.mjs OPENAPI_FILE RESPONSES_FILE
//       OPENAPI_FILE is docs/openapi.json; RESPONSES_FILE a JSON array of
//       {case, method, path (no query), status, content_type, body (text,
//       absent when empty or binary), binary, length}, as
//       tests/integration/test_api.c writes it for one tests/api/*.json.
//       For each answer: the operation (method + path template), the status
//       (exact, else its "4XX" range, else "default"), the content type (its
//       media type, or a wildcard, listed for that status) must be in the
//       description, and the body must validate (ajv, JSON Schema 2020-12,
//       formats checked) against the schema given there. A JSON Lines body
//       validates line by line. A text body whose schema is a string schema
//       validates as that string. A method the description does not list for
//       a path it has must be 405, a path it has not 404, each as the
//       components' MethodNotAllowed / NotFound answers.
//       stdout: one line per fault, naming the case, the pointer and the
//       rule; exit 0 = every answer fits, 1 = not, 2 = bad start.
//
//   node api-check.mjs --selftest OPENAPI_FILE
//       judges made-up answers, each breaking one rule (or none): exit 0
//       when each gets the fault it should and the good ones none.

import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const DOC_ID = 'https://conform.invalid/openapi.json';

function esc(token) {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function deref(doc, node, pointer) {
  // follows a response's $ref (#/components/responses/X) to the object and
  // the pointer that names it in the document
  let seen = 0;
  while (node && node.$ref && seen++ < 8) {
    const ref = node.$ref;
    if (!ref.startsWith('#/')) throw new Error(`${pointer}: external $ref ${ref}`);
    pointer = ref.slice(1);
    node = ref.slice(2).split('/').reduce((o, t) => o && o[t.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return [node, pointer];
}

// Whether the last parameter of a path template spans the rest of the path
// (the router's rule for a final parameter whose documented pattern allows
// "/", as a C2SP tile index does): its RegExp, or null.
function restParam(item, name) {
  const params = [...(item.parameters || [])];
  for (const m of METHODS) if (item[m]) params.push(...(item[m].parameters || []));
  const p = params.find((x) => x.in === 'path' && x.name === name && x.schema && x.schema.pattern);
  return p && p.schema.pattern.includes('/') ? new RegExp(p.schema.pattern) : null;
}

// The path templates matching a concrete path, most literal segments first.
function matchPath(doc, path) {
  const hits = [];
  for (const tpl of Object.keys(doc.paths)) {
    let segs = path.split('/');
    const ts = tpl.split('/');
    const last = /^\{([^}]+)\}$/.exec(ts[ts.length - 1]);
    const rest = last && restParam(doc.paths[tpl], last[1]);
    if (rest && segs.length > ts.length) {
      const tail = segs.slice(ts.length - 1).join('/');
      if (!rest.test(tail)) continue;
      segs = [...segs.slice(0, ts.length - 1), tail];
    }
    if (ts.length !== segs.length) continue;
    let literal = 0;
    let ok = true;
    for (let i = 0; i < ts.length && ok; i++) {
      if (/^\{[^}]+\}$/.test(ts[i])) ok = segs[i].length > 0;
      else if (ts[i] === decodeURIComponent(segs[i])) literal++;
      else ok = false;
    }
    if (ok) hits.push([literal, tpl]);
  }
  hits.sort((a, b) => b[0] - a[0]);
  return hits.map((h) => h[1]);
}

function mediaType(v) {
  return (v || '').split(';')[0].trim().toLowerCase();
}

function contentFor(content, ct) {
  const mt = mediaType(ct);
  const keys = Object.keys(content || {});
  let key = keys.find((k) => mediaType(k) === mt);
  if (!key) key = keys.find((k) => mediaType(k).endsWith('/*') && mt.startsWith(mediaType(k).slice(0, -1)));
  if (!key) key = keys.find((k) => mediaType(k) === '*/*');
  return key;
}

function isJson(mt) {
  return mt === 'application/json' || mt.endsWith('+json');
}

// X-Request-Id on every answer (docs/openapi.json info); each header the
// response declares required present, and each declared header that is
// there valid against its schema (an integer header parsed as one).
const RID = /^[A-Za-z0-9._-]{1,64}$/;
function checkHeaders(doc, a, response, fault, ajv) {
  if (!a.headers) return; // made-up answers of the self-test may have none
  const rid = a.headers['x-request-id'];
  if (!rid || !RID.test(rid)) fault(a, `X-Request-Id is ${rid === undefined ? 'missing' : `'${rid}'`}: every answer names its request`);
  for (const [name, h0] of Object.entries(response.headers || {})) {
    const [h] = deref(doc, h0, '');
    const v = a.headers[name.toLowerCase()];
    if (v === undefined) {
      if (h && h.required) fault(a, `header ${name} is required and missing`);
      continue;
    }
    const schema = h && h.schema;
    if (!schema || schema.$ref) continue;
    const types = [].concat(schema.type || []);
    const value = types.includes('integer') && /^-?[0-9]+$/.test(v) ? Number(v) : v;
    const validate = ajv.compile(schema);
    if (!validate(value)) fault(a, `header ${name}: '${v}' ${validate.errors.map((e) => e.message).join(', ')}`);
  }
}

function check(doc, answers) {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const compiled = new Map();
  const validator = (pointer) => {
    if (!compiled.has(pointer)) compiled.set(pointer, ajv.getSchema(`${DOC_ID}#${pointer}`));
    return compiled.get(pointer);
  };

  const faults = [];
  const fault = (a, msg) => faults.push(`case '${a.case}' (${a.method} ${a.path} -> ${a.status}): ${msg}`);
  for (const a of answers) {
    // HEAD is answered as GET without the body (docs/openapi.json info)
    const head = a.method.toUpperCase() === 'HEAD';
    const method = head ? 'get' : a.method.toLowerCase();
    const tpls = matchPath(doc, a.path);
    let response, rpointer;
    if (tpls.length === 0) {
      if (a.status !== 404) {
        fault(a, 'no path of docs/openapi.json matches, and the answer is not 404');
        continue;
      }
      [response, rpointer] = deref(doc, { $ref: '#/components/responses/NotFound' }, '');
    } else {
      const tpl = tpls.find((t) => doc.paths[t][method]);
      if (!tpl) {
        if (a.status !== 405) {
          fault(a, `docs/openapi.json has no ${a.method} for ${tpls[0]}, and the answer is not 405`);
          continue;
        }
        [response, rpointer] = deref(doc, { $ref: '#/components/responses/MethodNotAllowed' }, '');
      } else {
        const op = doc.paths[tpl][method];
        const opPointer = `/paths/${esc(tpl)}/${method}/responses`;
        const statuses = op.responses || {};
        const code = String(a.status);
        const key = [code, `${code[0]}XX`, 'default'].find((k) => statuses[k]);
        if (!key) {
          fault(a, `status ${code} is not listed for ${a.method} ${tpl} (lists ${Object.keys(statuses).join(', ')})`);
          continue;
        }
        [response, rpointer] = deref(doc, statuses[key], `${opPointer}/${esc(key)}`);
      }
    }
    if (!response) {
      fault(a, `the response at ${rpointer} does not resolve`);
      continue;
    }
    checkHeaders(doc, a, response, fault, ajv);
    const content = response.content || {};
    const empty = !a.binary && (a.body === undefined || a.body === '');
    if (Object.keys(content).length === 0) {
      if (!empty) fault(a, `the description lists no body for this status, the answer has ${a.content_type} (${a.length} bytes)`);
      continue;
    }
    if (empty) {
      if (head && !(a.content_type && contentFor(content, a.content_type)))
        fault(a, `content type ${a.content_type} is not listed (lists ${Object.keys(content).join(', ')})`);
      else if (!head && a.status !== 304 && a.status !== 204)
        fault(a, `the description lists a body (${Object.keys(content).join(', ')}), the answer has none`);
      continue;
    }
    if (!a.content_type) {
      fault(a, 'the answer has a body and no Content-Type');
      continue;
    }
    const ckey = contentFor(content, a.content_type);
    if (!ckey) {
      fault(a, `content type ${a.content_type} is not listed (lists ${Object.keys(content).join(', ')})`);
      continue;
    }
    if (!content[ckey].schema) {
      fault(a, `${rpointer}/content/${ckey} has no schema`);
      continue;
    }
    if (a.binary) continue; // octet-stream tiles, images: the type was what could be checked
    const spointer = `${rpointer}/content/${esc(ckey)}/schema`;
    let validate;
    try {
      validate = validator(spointer);
    } catch (e) {
      fault(a, `the schema at ${spointer} does not compile: ${e.message}`);
      continue;
    }
    const mt = mediaType(a.content_type);
    let instances;
    try {
      if (isJson(mt)) instances = [['', JSON.parse(a.body)]];
      else if (mt === 'application/jsonl' || mt === 'application/x-ndjson')
        // a line that is not JSON is checked as a string: the line schema
        // says whether one may be (the register export's signature line)
        instances = a.body.split('\n').filter((l) => l.length > 0).map((l, i) => {
          let v;
          try { v = JSON.parse(l); } catch { v = l; }
          return [`(line ${i + 1})`, v];
        });
      else instances = [['', a.body]];
    } catch (e) {
      fault(a, `the body is not ${mt}: ${e.message}`);
      continue;
    }
    // RFC 9457 3.1.3: a problem's status is the answer's
    if (mt === 'application/problem+json' && instances[0][1] && typeof instances[0][1] === 'object' &&
        'status' in instances[0][1] && instances[0][1].status !== a.status)
      fault(a, `/status of the problem is ${instances[0][1].status}, the answer's is ${a.status}`);
    for (const [where, inst] of instances) {
      if (!validate(inst)) {
        for (const e of validate.errors) {
          const extra = e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '';
          fault(a, `${where}${e.instancePath || '/'} ${e.message}${extra} (rule ${e.schemaPath} of ${spointer})`);
        }
      }
    }
  }
  return faults;
}

// Answers made up to show that each rule can fail (and that good answers
// pass): --selftest OPENAPI_FILE. Each must give a fault containing its
// text, or none when the text is null.
const SELFTEST = [
  [{ method: 'GET', path: '/v1/health', status: 200, content_type: 'application/json', body: '{"status":"ok"}' }, null],
  [{ method: 'GET', path: '/v1/health', status: 200, content_type: 'application/json', body: '{"status":"nok"}' },
    '/status must be equal to constant'],
  [{ method: 'GET', path: '/v1/health', status: 201, content_type: 'application/json', body: '{}' },
    'status 201 is not listed'],
  [{ method: 'GET', path: '/v1/health', status: 200, content_type: 'text/html', body: '<p>' },
    'content type text/html is not listed'],
  [{ method: 'GET', path: '/v1/health', status: 200, content_type: 'application/json', body: '{"status":' },
    'the body is not application/json'],
  [{ method: 'GET', path: '/v1/health', status: 200, content_type: null, body: '' },
    'the answer has none'],
  [{ method: 'GET', path: '/v1/nowhere', status: 200, content_type: 'application/json', body: '{}' },
    'no path of docs/openapi.json matches'],
  [{ method: 'GET', path: '/v1/nowhere', status: 404, content_type: 'application/problem+json',
    body: '{"type":"urn:conform:problem:not-found","title":"Not Found","status":404,"detail":"x","instance":"/v1/nowhere","request_id":"r"}' }, null],
  [{ method: 'DELETE', path: '/v1/health', status: 200, content_type: 'application/json', body: '{}' },
    'has no DELETE for /v1/health'],
  [{ method: 'DELETE', path: '/v1/schemes', status: 405, content_type: 'application/problem+json',
    body: '{"type":"urn:conform:problem:method-not-allowed","title":"Method Not Allowed","status":405,"detail":"x","instance":"/v1/schemes","request_id":"r"}' }, null],
  [{ method: 'DELETE', path: '/v1/schemes', status: 405, content_type: 'application/problem+json',
    body: '{"type":"urn:conform:problem:method-not-allowed","title":"Method Not Allowed","status":404,"detail":"x","instance":"/v1/schemes","request_id":"r"}' },
    'the answer\'s is 405'],
  [{ method: 'DELETE', path: '/v1/schemes', status: 405, content_type: 'application/problem+json',
    body: '{"type":"urn:conform:problem:method-not-allowed","title":"Method Not Allowed","status":405,"detail":"x","instance":"/v1/schemes"}' },
    "must have required property 'request_id'"],
  [{ method: 'GET', path: '/v1/log/entries', status: 200, content_type: 'application/json',
    body: '{"entries":[{"index":"0","entry":"{}","leaf_hash":"x"}]}' }, '/entries/0/index must be integer'],
  [{ method: 'GET', path: '/v1/log/entries', status: 200, content_type: 'application/json', body: '{}' },
    "must have required property 'entries'"],
  [{ method: 'GET', path: '/log/tile/0/000.p/2', status: 200, content_type: 'application/octet-stream', binary: true, length: 64 }, null],
  [{ method: 'GET', path: '/log/tile/0/000.q/2', status: 200, content_type: 'application/octet-stream', binary: true, length: 64 },
    'no path of docs/openapi.json matches'],
  [{ method: 'POST', path: '/v1/shelf-check', status: 200, content_type: 'application/jsonl',
    body: '{"gtin":"96385074","gtin14":"00000096385074","status":"none","certificates":[]}\nnot json\n' },
    '(line 2)/ must be object'],
  [{ method: 'GET', path: '/v1/register/export', status: 200, content_type: 'application/jsonl',
    body: '{"serial":"CF-1","status":"valid","log_index":0,"jws":"a.b.c"}\naaa.bbb.ccc\n' }, null],
  [{ method: 'HEAD', path: '/v1/health', status: 200, content_type: 'application/json', body: '' }, null],
  [{ method: 'GET', path: '/v1/health', status: 200, content_type: 'application/json', body: '{"status":"ok"}',
    headers: {} }, 'X-Request-Id is missing'],
  [{ method: 'DELETE', path: '/v1/schemes', status: 405, content_type: 'application/problem+json',
    body: '{"type":"urn:conform:problem:method-not-allowed","title":"Method Not Allowed","status":405,"detail":"x","instance":"/v1/schemes","request_id":"r"}',
    headers: { 'x-request-id': 'r' } }, 'header Allow is required and missing'],
  [{ method: 'GET', path: '/v1/log/entries', status: 200, content_type: 'application/json', body: '{"entries":[]}',
    headers: { 'x-request-id': 'r', 'access-control-allow-origin': 'https://example.org' } }, 'header Access-Control-Allow-Origin'],
  [{ method: 'GET', path: '/v1/log/entries', status: 200, content_type: 'application/json', body: '{"entries":[]}',
    headers: { 'x-request-id': 'r', 'access-control-allow-origin': '*' } }, null],
  [{ method: 'HEAD', path: '/v1/health', status: 200, content_type: 'text/html', body: '' },
    'content type text/html is not listed'],
  [{ method: 'GET', path: '/v1/certificates/CF-1/qr.svg', status: 200, content_type: 'image/png', body: 'x' },
    'content type image/png is not listed'],
  [{ method: 'GET', path: '/v1/certificates', status: 200, content_type: 'application/json',
    body: '{"items":[{"serial":"CF-1","status":"revoked"}],"next":null}' }, '/items/0/status must be equal to one of the allowed values'],
];

function selftest(doc) {
  let wrong = 0;
  SELFTEST.forEach(([a0, want], i) => {
    const a = { case: `selftest ${i + 1}`, binary: false, length: (a0.body || '').length, ...a0 };
    const faults = check(doc, [a]);
    const ok = want === null ? faults.length === 0 : faults.some((f) => f.includes(want));
    if (!ok) {
      wrong++;
      process.stdout.write(`selftest ${i + 1} (${a.method} ${a.path} -> ${a.status}): expected ${want === null ? 'no fault' : `a fault with '${want}'`}, got ${JSON.stringify(faults)}\n`);
    }
  });
  if (wrong === 0) process.stdout.write(`selftest: ${SELFTEST.length} made-up answers judged as expected\n`);
  return wrong === 0 ? 0 : 1;
}

function main(argv) {
  const self = argv[0] === '--selftest';
  if (self) argv = argv.slice(1);
  if (argv.length !== (self ? 1 : 2)) {
    process.stderr.write('usage: node api-check.mjs OPENAPI_FILE RESPONSES_FILE | --selftest OPENAPI_FILE\n');
    return 2;
  }
  let doc, answers;
  try {
    doc = JSON.parse(readFileSync(argv[0], 'utf8'));
    answers = self ? [] : JSON.parse(readFileSync(argv[1], 'utf8'));
  } catch (e) {
    process.stderr.write(`api-check: ${e.message}\n`);
    return 2;
  }
  if (self) return selftest(doc);
  const faults = check(doc, answers);
  // the same fault on many lines of one answer (JSON Lines) is said thrice
  const said = new Map();
  for (const f of faults) {
    const key = f.replace(/\(line \d+\)/, '(line N)');
    const n = (said.get(key) || 0) + 1;
    said.set(key, n);
    if (n <= 3) process.stdout.write(f + '\n');
  }
  for (const [key, n] of said) if (n > 3) process.stdout.write(`... and ${n - 3} more: ${key}\n`);
  if (faults.length === 0) process.stdout.write(`${answers.length} answers fit docs/openapi.json\n`);
  return faults.length === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
