#!/usr/bin/env node
// Third-party interop receiver for sealhook deliveries, written only with
// node's `http` module, the `jose` library and the `standardwebhooks` library,
// exactly as a customer would. It proves that sealhook's wire format
// (PRODUCT.md §4) is readable by mainstream libraries, not just by our code.
//
//   node receiver.mjs --port 0 --key DIR/private.jwk --secret-file PATH [--host 127.0.0.1]
//
// stdout: {"listening": <port>} once, then one line per accepted delivery:
//         {"webhook_id": ..., "alg": ..., "kid": ..., "event": <decrypted JSON>}
// stderr: {"error": "..."} for every refused request.
// Status: 204 accepted; 401 bad/missing signature (nothing is decrypted);
//         400 kid mismatch or undecryptable body; 503 secret file missing;
//         405 not a POST; 413 body too large.
// The secret file is read on every request (it may appear or change later).
// No dedupe: every accepted attempt (including retries) prints a line.

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compactDecrypt, decodeProtectedHeader, importJWK, calculateJwkThumbprint } from 'jose';
import { Webhook } from 'standardwebhooks';

const MAX_BODY = 16 * 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    key: { type: 'string' },
    'secret-file': { type: 'string' },
  },
});
if (!args.key || !args['secret-file']) {
  process.stderr.write('usage: node receiver.mjs --port 0 --key DIR/private.jwk --secret-file PATH [--host 127.0.0.1]\n');
  process.exit(2);
}

// The one private key. sealhook's kid is the RFC 7638 thumbprint of the public
// key; `sealhook keygen` writes it into private.jwk, else we compute it.
const jwk = JSON.parse(readFileSync(args.key, 'utf8'));
const keyKid = jwk.kid ?? (await calculateJwkThumbprint(jwk, 'sha256'));
// The key type decides the only acceptable algorithm: never let the message pick.
const keyAlg = jwk.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW';
const privateKey = await importJWK(jwk, keyAlg);

function fail(res, status, message) {
  process.stderr.write(JSON.stringify({ error: message, status }) + '\n');
  const body = JSON.stringify({ error: message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readSecret() {
  try {
    return readFileSync(args['secret-file'], 'utf8').trim() || null;
  } catch {
    return null;
  }
}

async function handle(req, res, body) {
  if (req.method !== 'POST') return fail(res, 405, 'method not allowed');

  const secret = readSecret();
  if (!secret) return fail(res, 503, 'secret file missing or empty');

  // 1. Authenticity first. jsonParse:false because the body is a JWE string,
  //    not JSON (the library's default would JSON.parse it and throw).
  try {
    new Webhook(secret).verify(body, req.headers, { jsonParse: false });
  } catch (e) {
    return fail(res, 401, `signature verification failed: ${e.message}`);
  }

  // 2. Only then decrypt.
  const token = body.toString('utf8').trim();
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch (e) {
    return fail(res, 400, `not a JWE: ${e.message}`);
  }
  if (header.kid !== keyKid) {
    return fail(res, 400, `unknown kid ${JSON.stringify(header.kid)} (have ${keyKid})`);
  }
  let event;
  try {
    const { plaintext } = await compactDecrypt(token, privateKey, {
      keyManagementAlgorithms: [keyAlg],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    event = JSON.parse(new TextDecoder().decode(plaintext));
  } catch (e) {
    return fail(res, 400, `decryption failed: ${e.message}`);
  }

  // Print before acknowledging, so "sealhook saw 2xx" implies "the line is out".
  process.stdout.write(JSON.stringify({
    webhook_id: req.headers['webhook-id'],
    alg: header.alg,
    kid: header.kid,
    event,
  }) + '\n');
  res.writeHead(204);
  res.end();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  let tooBig = false;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) tooBig = true;
    else chunks.push(c);
  });
  req.on('end', () => {
    if (tooBig) return fail(res, 413, 'body too large');
    handle(req, res, Buffer.concat(chunks)).catch((e) => fail(res, 500, `internal: ${e.message}`));
  });
  req.on('error', () => res.destroy());
});

server.listen(Number(args.port), args.host, () => {
  process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\n');
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeIdleConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
