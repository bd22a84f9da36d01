#!/usr/bin/env node
// sealhook receiver kit for Node (node:http, npm `standardwebhooks` and `jose`).
// Verify the Standard Webhooks signature, then decrypt the JWE with the key its
// kid names, dedupe by webhook-id, store the event, and only then answer 2xx.
//
//   node receiver.mjs --port N --host H --key FILE [--key FILE ...] \
//                     --secret-file PATH --out FILE.jsonl
//
// --key: a private key, JWK or PEM (`sealhook keygen` writes both); repeat it
//   while you rotate keys. --secret-file: one whsec_ secret a line, read on
//   every request (any of them may verify: secret rotation is a file edit).
// stdout: {"listening": PORT} once ready. FILE.jsonl: one line
//   {"webhook_id", "kid", "event"} per new event, fsynced before the 2xx.
// Status: 204 stored or duplicate; 401 bad or stale signature (nothing is
//   decrypted); 400 unknown kid or undecryptable body; 413 body too large;
//   500 not stored (the server retries).

import http from 'node:http';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  calculateJwkThumbprint, compactDecrypt, decodeProtectedHeader, exportJWK, importJWK, importPKCS8,
} from 'jose';
import { Webhook } from 'standardwebhooks';

const MAX_BODY = 4 * 1024 * 1024; // a 1 MiB payload is about 1.4 MiB of JWE

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    key: { type: 'string', multiple: true },
    'secret-file': { type: 'string' },
    out: { type: 'string' },
  },
});
if (!args.key || !args['secret-file'] || !args.out) {
  process.stderr.write('usage: receiver.mjs --port N --host H --key FILE [--key FILE ...] --secret-file PATH --out FILE.jsonl\n');
  process.exit(2);
}

// <doc:keys>
// kid -> { alg, key }. The kid is the RFC 7638 thumbprint of the public key, as
// the server computes it (whatever "kid" the file has); the key type alone
// decides the algorithm allowed.
async function loadKey(path) {
  const text = readFileSync(path, 'utf8');
  let jwk = text.trimStart().startsWith('{') ? JSON.parse(text) : null;
  const alg = (k) => (k.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW');
  if (!jwk) { // PEM (PKCS#8): the type is only known once it is imported
    const probe = await importPKCS8(text, 'ECDH-ES+A256KW', { extractable: true })
      .catch(() => importPKCS8(text, 'RSA-OAEP-256', { extractable: true }));
    jwk = await exportJWK(probe);
  }
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return [kid, { alg: alg(jwk), key: await importJWK(jwk, alg(jwk)) }];
}
const keys = new Map(await Promise.all(args.key.map(loadKey)));
// </doc:keys>

// <doc:store>
// The out file is the store: the dedupe set is rebuilt from it on start.
const seen = new Set();
if (existsSync(args.out)) {
  const text = readFileSync(args.out, 'utf8');
  for (const line of text.split('\n')) {
    try { seen.add(JSON.parse(line).webhook_id); } catch { /* a torn last line */ }
  }
  if (text && !text.endsWith('\n')) writeSync(openSync(args.out, 'a'), '\n');
}
const out = openSync(args.out, 'a');

function store(webhookId, kid, event) {
  if (seen.has(webhookId)) return; // a retry raced us here: stored once
  writeSync(out, JSON.stringify({ webhook_id: webhookId, kid, event }) + '\n');
  fsyncSync(out); // on disk before the 2xx
  seen.add(webhookId);
}
// </doc:store>

// <doc:receive>
async function receive(headers, body) {
  // 1. Authenticity first: anyone holding your public key can encrypt a forged
  //    event. jsonParse: false, because the body is a JWE, not JSON (by default
  //    verify() JSON-parses the body and throws on a JWE).
  const secrets = readFileSync(args['secret-file'], 'utf8').split('\n').map((s) => s.trim()).filter(Boolean);
  const verified = secrets.some((secret) => {
    try {
      new Webhook(secret).verify(body, headers, { jsonParse: false }); // also: ±5 min tolerance
      return true;
    } catch {
      return false;
    }
  });
  if (!verified) return 401;
  const webhookId = headers['webhook-id'];
  if (seen.has(webhookId)) return 204; // at-least-once delivery: a retry of something stored

  // 2. Then decrypt, with the key the JWE header names, allowing only its algorithm.
  let event, kid;
  try {
    const jwe = body.toString('ascii');
    kid = decodeProtectedHeader(jwe).kid;
    const k = keys.get(kid);
    if (!k) return 400; // unknown kid
    const { plaintext } = await compactDecrypt(jwe, k.key, {
      keyManagementAlgorithms: [k.alg],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    event = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    return 400;
  }
  store(webhookId, kid, event); // 3. Stored, then acknowledged.
  return 204;
}
// </doc:receive>

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on('end', async () => {
    let status = 405;
    if (size > MAX_BODY) status = 413;
    else if (req.method === 'POST') status = await receive(req.headers, Buffer.concat(chunks)).catch(() => 500);
    res.writeHead(status, { 'content-length': 0 }).end();
  });
});
server.requestTimeout = 30_000;
server.listen(Number(args.port), args.host, () => {
  process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\n');
});
function shutdown() { // finish the requests in flight, then exit
  server.close(() => {
    closeSync(out);
    process.exit(0);
  });
  server.closeIdleConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
