#!/usr/bin/env node
// Self-test of the third-party interop receivers, without the sealhook server.
//
// It makes key pairs in the `sealhook keygen --out DIR` layout (RSA-2048 and
// X25519 with the openssl CLI, P-256 with jose itself), builds deliveries the
// way PRODUCT.md §4 describes them (JWE compact from npm `jose` CompactEncrypt,
// Standard Webhooks signature from npm `standardwebhooks`), POSTs them to each
// receiver and checks status codes and stdout/stderr lines.
//
//   node selftest.mjs [--receivers node,python] [--python PATH]
//
// (The Go receiver is now the kit examples/receivers/go, with a CLI of its own,
// tested in tests/e2e/test_receiver_kits.py.)
//
// run.sh installs what is needed and calls this. Prints "N passed, N failed".

import { spawn } from 'node:child_process';
import { writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import assert from 'node:assert/strict';
import {
  interop, repo, jose, work, writeKeyDir, opensslKey, newSecret, makeEvent, encrypt, sign, post,
} from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    receivers: { type: 'string', default: 'node,python' },
    python: { type: 'string', default: join(repo, '.venv', 'bin', 'python') },
  },
});

const keys = [
  await opensslKey('rsa2048', 'RSA-OAEP-256', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']),
  await opensslKey('x25519', 'ECDH-ES+A256KW', ['-algorithm', 'X25519']),
  await (async () => {
    const { privateKey } = await jose.generateKeyPair('ECDH-ES+A256KW', { crv: 'P-256', extractable: true });
    // This one also carries the optional "use" and "alg" members.
    const extra = { use: 'enc', alg: 'ECDH-ES+A256KW' };
    return { name: 'p256', ...(await writeKeyDir(join(work, 'p256'), privateKey, 'ECDH-ES+A256KW', extra)) };
  })(),
];
// A stranger's key of each kind: right kid in the header, wrong recipient.
const strangers = {};
for (const k of keys) {
  const { privateKey } = await jose.generateKeyPair(k.alg, k.alg.startsWith('RSA')
    ? { modulusLength: 2048, extractable: true } : { crv: k.name === 'p256' ? 'P-256' : 'X25519', extractable: true });
  strangers[k.name] = await writeKeyDir(join(work, `stranger-${k.name}`), privateKey, k.alg);
}

// ---------------------------------------------------------------- receivers
const receiverCmds = {
  node: (key, secretFile) => ['node', [join(interop, 'node', 'receiver.mjs'), '--port', '0', '--key', key, '--secret-file', secretFile]],
  python: (key, secretFile) => [opt.python, [join(interop, 'python', 'receiver.py'), '--port', '0', '--key', key, '--secret-file', secretFile]],
};

class Receiver {
  constructor(kind, key, secretFile) {
    const [cmd, args] = receiverCmds[kind](key, secretFile);
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.out = [];
    this.err = [];
    this.waiters = [];
    this.exited = new Promise((r) => this.proc.on('exit', (code, signal) => r({ code, signal })));
    const lines = (stream, sink) => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (c) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          sink.push(line);
          this.waiters.forEach((w) => w());
        }
      });
    };
    lines(this.proc.stdout, this.out);
    lines(this.proc.stderr, this.err);
  }

  async waitFor(sink, n, ms = 5000) {
    const deadline = Date.now() + ms;
    while (sink.length < n) {
      if (Date.now() > deadline) throw new Error(`timeout waiting for line ${n}; stderr: ${this.err.join(' | ')}`);
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 50); });
      this.waiters = [];
    }
    return sink[n - 1];
  }

  async start() {
    const first = JSON.parse(await this.waitFor(this.out, 1, 15000));
    assert.equal(typeof first.listening, 'number');
    assert.ok(first.listening > 0);
    this.port = first.listening;
    return this;
  }
}

// ---------------------------------------------------------------- cases
let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  }
}

async function suite(kind, key) {
  const tag = `${kind}/${key.name}`;
  const secretFile = join(work, `secret-${kind}-${key.name}`);
  const r = new Receiver(kind, key.keyFile, secretFile);
  try {
    await r.start();
  } catch (e) {
    await check(`${tag} starts`, () => { throw e; });
    r.proc.kill('SIGKILL');
    return;
  }
  let events = 1; // stdout lines so far (the listening line)
  let errors = 0;
  const secret = newSecret();

  async function expectAccepted(msgId, event, res) {
    assert.equal(res.status, 204, `status ${res.status} ${res.text}`);
    const line = JSON.parse(await r.waitFor(r.out, ++events));
    assert.deepEqual(line, { webhook_id: msgId, alg: key.alg, kid: key.kid, event });
  }
  async function expectRefused(res, status) {
    assert.equal(res.status, status, `status ${res.status} ${res.text}`);
    const err = JSON.parse(await r.waitFor(r.err, ++errors));
    assert.equal(typeof err.error, 'string');
    await new Promise((s) => setTimeout(s, 100));
    assert.equal(r.out.length, events, `unexpected stdout: ${r.out.slice(events).join(' | ')}`);
  }

  const event = makeEvent();
  const body = await encrypt(event, key);
  const msgId = 'msg_' + randomUUID();

  await check(`${tag} 503 while the secret file is missing`, async () => {
    await expectRefused(await post(r.port, body, sign(secret, msgId, body)), 503);
  });
  writeFileSync(secretFile, secret + '\n');

  await check(`${tag} valid delivery -> 204 and the decrypted event`, async () => {
    await expectAccepted(msgId, event, await post(r.port, body, sign(secret, msgId, body)));
  });
  await check(`${tag} retry (same webhook-id, new timestamp) is printed again`, async () => {
    await expectAccepted(msgId, event, await post(r.port, body, sign(secret, msgId, body)));
  });
  await check(`${tag} Capitalised header names`, async () => {
    const h = sign(secret, msgId, body);
    await expectAccepted(msgId, event, await post(r.port, body, {
      'Webhook-Id': h['webhook-id'], 'WEBHOOK-TIMESTAMP': h['webhook-timestamp'], 'Webhook-Signature': h['webhook-signature'],
    }));
  });
  await check(`${tag} several signatures, one valid (v1,bad v1,good)`, async () => {
    const h = sign(secret, msgId, body);
    const other = sign(newSecret(), msgId, body, new Date(Number(h['webhook-timestamp']) * 1000));
    h['webhook-signature'] = `${other['webhook-signature']} ${h['webhook-signature']}`;
    await expectAccepted(msgId, event, await post(r.port, body, h));
  });
  await check(`${tag} 256 KiB payload`, async () => {
    const big = makeEvent(256 * 1024);
    const b = await encrypt(big, key);
    const id = 'msg_' + randomUUID();
    await expectAccepted(id, big, await post(r.port, b, sign(secret, id, b)));
  });
  await check(`${tag} 40 concurrent deliveries -> 40 whole lines`, async () => {
    const batch = await Promise.all(Array.from({ length: 40 }, async () => {
      const ev = makeEvent(2000);
      const b = await encrypt(ev, key);
      return { id: 'msg_' + randomUUID(), ev, b };
    }));
    const results = await Promise.all(batch.map(({ id, b }) => post(r.port, b, sign(secret, id, b))));
    results.forEach((res) => assert.equal(res.status, 204, res.text));
    await r.waitFor(r.out, events + batch.length);
    const got = new Map(r.out.slice(events).map((l) => { const o = JSON.parse(l); return [o.webhook_id, o]; }));
    events += batch.length;
    assert.equal(got.size, batch.length);
    for (const { id, ev } of batch) assert.deepEqual(got.get(id).event, ev);
  });
  await check(`${tag} wrong secret -> 401, nothing decrypted`, async () => {
    await expectRefused(await post(r.port, body, sign(newSecret(), msgId, body)), 401);
  });
  await check(`${tag} forged event (encrypted to our public key, unsigned) -> 401`, async () => {
    const forged = await encrypt(makeEvent(), key);
    await expectRefused(await post(r.port, forged, {}), 401);
  });
  await check(`${tag} forged event with made-up signature -> 401`, async () => {
    const forged = await encrypt(makeEvent(), key);
    await expectRefused(await post(r.port, forged, {
      'webhook-id': 'msg_x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      'webhook-signature': 'v1,' + randomBytes(32).toString('base64'),
    }), 401);
  });
  await check(`${tag} body swapped after signing -> 401`, async () => {
    const other = await encrypt(makeEvent(), key);
    await expectRefused(await post(r.port, other, sign(secret, msgId, body)), 401);
  });
  await check(`${tag} timestamp 10 minutes old -> 401`, async () => {
    await expectRefused(await post(r.port, body, sign(secret, msgId, body, new Date(Date.now() - 600_000))), 401);
  });
  await check(`${tag} malformed signature header -> 401`, async () => {
    const h = sign(secret, msgId, body);
    h['webhook-signature'] = 'garbage';
    await expectRefused(await post(r.port, body, h), 401);
  });
  await check(`${tag} unknown kid -> 400`, async () => {
    const b = await encrypt(makeEvent(), { ...key, kid: 'not-my-kid' });
    await expectRefused(await post(r.port, b, sign(secret, 'msg_k', b)), 400);
  });
  await check(`${tag} encrypted to another key under our kid -> 400`, async () => {
    const b = await encrypt(makeEvent(), { ...strangers[key.name], kid: key.kid });
    await expectRefused(await post(r.port, b, sign(secret, 'msg_s', b)), 400);
  });
  await check(`${tag} signed non-JWE body -> 400`, async () => {
    const b = 'this is not a JWE';
    await expectRefused(await post(r.port, b, sign(secret, 'msg_g', b)), 400);
  });
  await check(`${tag} GET -> 405`, async () => {
    await expectRefused(await post(r.port, '', {}, 'GET'), 405);
  });
  await check(`${tag} secret rotated in the file: old 401, new 204`, async () => {
    const rotated = newSecret();
    writeFileSync(secretFile, rotated);
    await expectRefused(await post(r.port, body, sign(secret, msgId, body)), 401);
    await expectAccepted(msgId, event, await post(r.port, body, sign(rotated, msgId, body)));
  });
  await check(`${tag} secret file removed again -> 503`, async () => {
    unlinkSync(secretFile);
    await expectRefused(await post(r.port, body, sign(secret, msgId, body)), 503);
  });
  await check(`${tag} SIGTERM -> clean exit 0`, async () => {
    r.proc.kill('SIGTERM');
    const t = setTimeout(() => r.proc.kill('SIGKILL'), 5000);
    const { code, signal } = await r.exited;
    clearTimeout(t);
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
  });
}

const wanted = opt.receivers.split(',').map((s) => s.trim()).filter(Boolean);
for (const kind of wanted) {
  if (kind === 'python' && !existsSync(opt.python)) {
    await check('python interpreter present', () => { throw new Error(`${opt.python} missing`); });
    continue;
  }
  for (const key of keys) await suite(kind, key);
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
