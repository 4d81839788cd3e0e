'use strict';
// Test plumbing: the MongoDB stand-in as a real process (tests/services/mongo-standin), a TCP
// proxy in front of it that can cut the connection when a given command goes by (a real
// network fault, mid-request), and the app listening on a free loopback port.
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');

const STANDIN = process.env.MONGO_STANDIN_SCRIPT
  || path.resolve(__dirname, '..', '..', '..', 'tests', 'services', 'mongo-standin', 'standin.mjs');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start the stand-in; resolves to a handle. In memory by default. `storagePath: 'tmp'` (or a
 * folder) uses file storage, so a restart keeps the data; the stand-in's file storage is not
 * atomic under concurrent writes (updates interleave), so use it only where a test restarts it.
 */
async function startStandin({ port, storagePath } = {}) {
  if (!fs.existsSync(STANDIN)) throw new Error(`MongoDB stand-in not found at ${STANDIN} (run npm ci there)`);
  const p = port || (await freePort());
  const dir = storagePath === 'tmp' ? fs.mkdtempSync(path.join(os.tmpdir(), 'svc-mongo-')) : storagePath;
  const args = [STANDIN, '--port', String(p)];
  if (dir) args.push('--storage-path', dir);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const uri = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`stand-in did not start: ${out}`)), 20000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/^(mongodb:\/\/\S+)$/m);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', (code) => reject(new Error(`stand-in exited ${code}: ${out}`)));
  });
  child.stdout.resume();
  child.stderr.resume();
  return {
    uri,
    port: p,
    storagePath: dir,
    child,
    /** SIGKILL: the database disappears without a goodbye. */
    kill() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

/**
 * A TCP proxy to `target` port. `cutOn(marker)` arms it: the first client->server packet that
 * contains `marker` (a command name such as "insert") is dropped and every connection is
 * destroyed; new connections are refused until `heal()`.
 */
async function startProxy(targetPort) {
  let armed = null;
  let delay = null; // { marker, ms }
  let down = false;
  const sockets = new Set();
  const cut = () => {
    down = true;
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  const server = net.createServer((client) => {
    if (down) return client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (chunk) => {
      if (armed && chunk.includes(armed)) {
        armed = null;
        cut();
        return;
      }
      if (delay && chunk.includes(delay.marker)) {
        const { ms } = delay;
        delay = null;
        client.pause();
        setTimeout(() => {
          upstream.write(chunk);
          client.resume();
        }, ms);
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  const port = await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
  return {
    port,
    cutOn(marker) {
      armed = Buffer.from(marker);
    },
    /** Hold the first client packet containing `marker` for `ms` (a slow database). */
    delayOn(marker, ms) {
      delay = { marker: Buffer.from(marker), ms };
    },
    cut,
    heal() {
      down = false;
      armed = null;
    },
    close() {
      cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Listen on a free loopback port; resolves to {url, close}. */
function listen(app) {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        server,
        close: () => new Promise((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
      });
    });
  });
}

/** A logger that keeps its lines for assertions instead of printing them. */
function memoryLogger() {
  const lines = [];
  const log = (level) => (msg, fields = {}) => lines.push({ level, msg, ...fields });
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** Poll `predicate` (sync or async) every 100 ms; throw naming `what` after `ms` (a function
 * when the message should show what was known at the timeout, e.g. the logs by then). */
async function waitFor(predicate, ms, what) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`);
}

/** The HTTP status of a GET, 0 when nothing listens yet. */
async function httpStatus(url) {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

/** fetch + JSON helper. */
async function call(url, { method = 'GET', body, raw, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (raw !== undefined) {
    init.body = raw;
    init.headers['content-type'] = init.headers['content-type'] || 'application/json';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

module.exports = { freePort, startStandin, startProxy, listen, memoryLogger, call, waitFor, httpStatus };
