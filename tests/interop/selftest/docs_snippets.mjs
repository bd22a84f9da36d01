#!/usr/bin/env node
// Runs the three handlers printed in docs/receivers.md (the fenced blocks after
// `<!-- snippet: python|node|go -->`) exactly as written, and checks that they
// do what the guide says: verify first (401), dedupe by webhook-id, pick the key
// by kid among several (rotation), refuse an unknown kid.
//
//   node docs_snippets.mjs [--python PATH] [--snippets python,node,go]
//
// run.sh calls this after selftest.mjs. Prints "N passed, N failed".

import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import assert from 'node:assert/strict';
import {
  interop, repo, jose, work, writeKeyDir, opensslKey, newSecret, makeEvent, encrypt, sign, post,
} from './lib.mjs';

const { values: opt } = parseArgs({
  options: {
    python: { type: 'string', default: join(repo, '.venv', 'bin', 'python') },
    snippets: { type: 'string', default: 'python,node,go' },
  },
});

const md = readFileSync(join(repo, 'docs', 'receivers.md'), 'utf8');
const snippets = {};
for (const m of md.matchAll(/<!-- snippet: (\w+) -->\n```\w+\n([\s\S]*?)\n```/g)) snippets[m[1]] = m[2];

// Two keys per snippet, as during a rotation: an old RSA key and a new EC key
// (X25519; P-256 for Go, whose go-jose has no X25519).
async function keysFor(lang) {
  const dir = join(work, `keys-${lang}`);
  const old = await opensslKey('old', 'RSA-OAEP-256', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], join(dir, '2025-06'));
  const genArgs = lang === 'go'
    ? ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']
    : ['-algorithm', 'X25519'];
  const neu = await opensslKey('new', 'ECDH-ES+A256KW', genArgs, join(dir, '2025-12'));
  return { dir, keys: [old, neu] };
}

function freePort() {
  return new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function waitListening(port, proc, ms = 20000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}`);
    const ok = await new Promise((res) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); res(true); });
      c.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('not listening');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function prepare(lang, code) {
  const dir = join(work, `snippet-${lang}`);
  mkdirSync(dir, { recursive: true });
  if (lang === 'python') {
    writeFileSync(join(dir, 'receiver.py'), code);
    return [opt.python, [join(dir, 'receiver.py')]];
  }
  if (lang === 'node') {
    writeFileSync(join(dir, 'receiver.mjs'), code);
    symlinkSync(join(interop, 'node', 'node_modules'), join(dir, 'node_modules'));
    return ['node', [join(dir, 'receiver.mjs')]];
  }
  // go: the pinned go.mod/go.sum of examples/receivers/go cover go-jose and standardwebhooks.
  const goExample = join(repo, 'examples', 'receivers', 'go');
  cpSync(join(goExample, 'go.mod'), join(dir, 'go.mod'));
  cpSync(join(goExample, 'go.sum'), join(dir, 'go.sum'));
  writeFileSync(join(dir, 'main.go'), code);
  execFileSync('go', ['build', '-o', join(dir, 'receiver'), '.'], { cwd: dir, stdio: 'inherit' });
  return [join(dir, 'receiver'), []];
}

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

for (const lang of opt.snippets.split(',').filter(Boolean)) {
  const code = snippets[lang];
  await check(`docs ${lang}: snippet present`, () => assert.ok(code, `no <!-- snippet: ${lang} --> block`));
  if (!code) continue;

  const { dir: keysDir, keys } = await keysFor(lang);
  const secret = newSecret();
  const port = await freePort();
  let cmd;
  try {
    cmd = prepare(lang, code);
  } catch (e) {
    await check(`docs ${lang}: builds`, () => { throw e; });
    continue;
  }
  const proc = spawn(cmd[0], cmd[1], {
    env: { ...process.env, WEBHOOK_SECRET: secret, KEYS_DIR: keysDir, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = [];
  let buf = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => {
    buf += c;
    const parts = buf.split('\n');
    buf = parts.pop();
    out.push(...parts);
  });
  proc.stderr.setEncoding('utf8').on('data', (c) => { stderr += c; });
  const until = async (pred, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timeout; stdout ${JSON.stringify(out)} stderr ${stderr.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const noNewLine = async (n) => {
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(out.length, n, `unexpected stdout ${JSON.stringify(out.slice(n))}`);
  };

  try {
    await waitListening(port, proc);
  } catch (e) {
    await check(`docs ${lang}: starts`, () => { throw new Error(`${e.message}: ${stderr}`); });
    proc.kill('SIGKILL');
    continue;
  }

  for (const key of keys) {
    const tag = `docs ${lang}/${key.alg}`;
    const event = makeEvent();
    const body = await encrypt(event, key);
    const id = 'msg_' + randomUUID();
    await check(`${tag}: delivery decrypted with the key named by kid`, async () => {
      const n = out.length;
      const res = await post(port, body, sign(secret, id, body));
      assert.ok(res.status >= 200 && res.status < 300, `status ${res.status}`);
      await until(() => out.length > n);
      assert.deepEqual(JSON.parse(out[n]), event);
    });
    await check(`${tag}: retry with the same webhook-id is acknowledged, not re-handled`, async () => {
      const n = out.length;
      const res = await post(port, body, sign(secret, id, body));
      assert.ok(res.status >= 200 && res.status < 300, `status ${res.status}`);
      await noNewLine(n);
    });
  }
  const key = keys[1];
  await check(`docs ${lang}: wrong secret -> 401`, async () => {
    const n = out.length;
    const b = await encrypt(makeEvent(), key);
    const res = await post(port, b, sign(newSecret(), 'msg_' + randomUUID(), b));
    assert.equal(res.status, 401);
    await noNewLine(n);
  });
  await check(`docs ${lang}: forged (encrypted to our public key, unsigned) -> 401`, async () => {
    const n = out.length;
    const b = await encrypt(makeEvent(), key);
    const res = await post(port, b, {});
    assert.equal(res.status, 401);
    await noNewLine(n);
  });
  await check(`docs ${lang}: unknown kid -> 400`, async () => {
    const n = out.length;
    const b = await encrypt(makeEvent(), { ...key, kid: 'retired-kid' });
    const res = await post(port, b, sign(secret, 'msg_' + randomUUID(), b));
    assert.equal(res.status, 400);
    await noNewLine(n);
  });
  await check(`docs ${lang}: signed garbage -> 400`, async () => {
    const n = out.length;
    const b = 'not.a.jwe.at.all';
    const res = await post(port, b, sign(secret, 'msg_' + randomUUID(), b));
    assert.equal(res.status, 400);
    await noNewLine(n);
  });
  proc.kill('SIGTERM');
}

// jose is imported by lib.mjs; referenced here so a missing install fails loudly.
assert.ok(jose.CompactEncrypt);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
