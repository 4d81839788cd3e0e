'use strict';
// The real entry point (src/server.js) started before its database: the first connection
// attempt fails, and the service must still become ready once the database arrives. The
// MongoDB driver (6.x) keeps a closed topology after a failed first auto-connect, so every
// later query would fail with "Topology is closed" unless the service reconnects itself.
const { test, after } = require('node:test');
const { spawn } = require('node:child_process');
const path = require('node:path');
const h = require('./helpers');

let standin;
let child;

after(async () => {
  child?.kill('SIGKILL');
  await standin?.stop();
});

async function waitFor(predicate, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

async function status(url) {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0; // not listening yet
  }
}

test('started before its database, it serves once the database arrives', async () => {
  const dbPort = await h.freePort(); // nothing listens here yet
  const port = await h.freePort();
  child = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'server.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      MONGODB_URI: `mongodb://127.0.0.1:${dbPort}/startup_test`,
      MONGODB_TIMEOUT_MS: '300',
      PRODUCT_SERVICE_URL: 'http://127.0.0.1:9',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logs = '';
  child.stdout.on('data', (c) => { logs += c; });
  child.stderr.on('data', (c) => { logs += c; });
  const url = `http://127.0.0.1:${port}`;
  // The first attempts must really have failed: /ready answers 503 and the retry was logged.
  await waitFor(async () => (await status(`${url}/ready`)) === 503, 10000, '/ready 503 without a database');
  await waitFor(() => logs.includes('index creation failed'), 10000, 'a failed first connection');
  standin = await h.startStandin({ port: dbPort });
  await waitFor(async () => (await status(`${url}/ready`)) === 200, 20000, `/ready 200 once the database is up\n${logs}`);
  await waitFor(() => logs.includes('indexes ensured'), 10000, `the indexes\n${logs}`);
});
