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
  await h.waitFor(async () => (await h.httpStatus(`${url}/ready`)) === 503, 10000, '/ready 503 without a database');
  await h.waitFor(() => logs.includes('index creation failed'), 10000, 'a failed first connection');
  standin = await h.startStandin({ port: dbPort });
  await h.waitFor(async () => (await h.httpStatus(`${url}/ready`)) === 200, 20000, () => `/ready 200 once the database is up\n${logs}`);
  await h.waitFor(() => logs.includes('indexes ensured'), 10000, () => `the indexes\n${logs}`);
});
