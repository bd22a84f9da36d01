// Shared helpers for the interop self-tests: key pairs in the `sealhook keygen`
// layout, deliveries as PRODUCT.md §4 describes them (JWE from npm `jose`,
// signature from npm `standardwebhooks`), and a tiny HTTP client.

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';

export const here = dirname(fileURLToPath(import.meta.url));
export const interop = resolve(here, '..');
export const repo = resolve(interop, '../..');

// The libraries live in tests/interop/node/node_modules.
const nodeRequire = createRequire(join(interop, 'node', 'package.json'));
export const jose = await import(pathToFileURL(nodeRequire.resolve('jose')));
export const { Webhook } = nodeRequire('standardwebhooks');

export const work = mkdtempSync(join(tmpdir(), 'sealhook-interop-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// ---------------------------------------------------------------- keys
export async function writeKeyDir(dir, privateKey, alg, extra = {}) {
  mkdirSync(dir, { recursive: true });
  const priv = await jose.exportJWK(privateKey);
  const { d, p, q, dp, dq, qi, ...pub } = priv;
  const kid = await jose.calculateJwkThumbprint(pub, 'sha256'); // RFC 7638, as sealhook
  writeFileSync(join(dir, 'private.jwk'), JSON.stringify({ ...priv, kid, ...extra }), { mode: 0o600 });
  writeFileSync(join(dir, 'public.jwk'), JSON.stringify({ ...pub, kid, ...extra }));
  writeFileSync(join(dir, 'private.pem'), await jose.exportPKCS8(privateKey), { mode: 0o600 });
  const publicKey = await jose.importJWK(pub, alg);
  writeFileSync(join(dir, 'public.pem'), await jose.exportSPKI(publicKey));
  return { dir, alg, kid, publicKey, keyFile: join(dir, 'private.jwk') };
}

export async function opensslKey(name, alg, genpkeyArgs, dir = join(work, name)) {
  const pem = execFileSync('openssl', ['genpkey', ...genpkeyArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const privateKey = await jose.importPKCS8(pem, alg, { extractable: true });
  return { name, ...(await writeKeyDir(dir, privateKey, alg)) };
}

// ---------------------------------------------------------------- deliveries
export const newSecret = () => 'whsec_' + randomBytes(32).toString('base64');

export function makeEvent(size = 0) {
  return {
    id: 'evt_' + randomUUID(),
    type: 'order.created',
    tenant: 'ten_' + randomUUID(),
    timestamp: Date.now(),
    data: { order: 42, note: 'ünïcødé ✓ "quoted" \\ back', blob: 'x'.repeat(size) },
  };
}

export async function encrypt(event, { alg, kid, publicKey }) {
  return new jose.CompactEncrypt(new TextEncoder().encode(JSON.stringify(event)))
    .setProtectedHeader({ alg, enc: 'A256GCM', kid })
    .encrypt(publicKey);
}

export function sign(secret, msgId, body, at = new Date()) {
  const ts = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(ts),
    'webhook-signature': new Webhook(secret).sign(msgId, new Date(ts * 1000), body),
  };
}

export function post(port, body, headers, method = 'POST') {
  return new Promise((resolvePost, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path: '/webhooks/sealhook',
      headers: { 'Content-Type': 'application/jose', 'Content-Length': Buffer.byteLength(body), ...headers },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolvePost({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

