'use strict';
// The real entry point (src/server.js) as a process: SIGTERM lets an in-flight request
// finish, refuses new connections, closes the DB client and exits 0.
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const h = require('./helpers');

let standin;
let proxy;

before(async () => {
  standin = await h.startStandin();
  proxy = await h.startProxy(standin.port);
});

after(async () => {
  await proxy?.close();
  await standin?.stop();
});

async function startServer(env) {
  const port = await h.freePort();
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'server.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout.on('data', (c) => { logs += c; });
  child.stderr.on('data', (c) => { logs += c; });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    try {
      if ((await fetch(`${url}/ready`)).status === 200) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, url, exited, logs: () => logs };
}

test('SIGTERM: the in-flight request finishes, new ones are refused, exit 0', async () => {
  const server = await startServer({ MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}/shutdown_test`, SEED_CATALOG: 'true' });
  // Wait for the seed, then make the next query slow (held 1 s by the proxy).
  for (let i = 0; i < 50; i += 1) {
    const r = await (await fetch(`${server.url}/products?limit=1`)).json();
    if (r.total > 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  proxy.delayOn('find', 1000);
  const started = Date.now();
  const inFlight = fetch(`${server.url}/products?limit=3`);
  await new Promise((r) => setTimeout(r, 250));
  server.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 100));
  await assert.rejects(fetch(`${server.url}/health`), 'a new connection after SIGTERM must be refused');
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal((await res.json()).items.length, 3);
  assert.ok(Date.now() - started >= 900, 'the request was really held');
  const { code } = await server.exited;
  assert.equal(code, 0, server.logs());
  const lines = server.logs().trim().split('\n').map((l) => JSON.parse(l));
  const shutdownAt = lines.findIndex((l) => l.msg === 'shutting down');
  const servedAt = lines.findIndex((l) => l.msg === 'request' && l.path === '/products' && l.duration_ms >= 900);
  assert.ok(shutdownAt >= 0 && servedAt > shutdownAt, 'the held request was answered after SIGTERM');
  assert.ok(lines.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM'));
  assert.equal(lines.at(-1).msg, 'stopped');
});

test('a bad configuration exits 2 with one JSON line naming the variable', async () => {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'server.js')], {
    env: { ...process.env, PORT: 'eighty' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c) => { out += c; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  const line = JSON.parse(out.trim());
  assert.equal(line.level, 'error');
  assert.match(line.error, /PORT must be a non-negative integer, got "eighty"/);
});
