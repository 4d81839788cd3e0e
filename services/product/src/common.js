'use strict';
// Plumbing shared by the Node services (kept as a copy in each service: every service is its
// own build context and release unit, so no cross-folder imports).
// JSON logs with a request id, Prometheus metrics, the contract's error bodies, DB fault mapping.
const crypto = require('node:crypto');
const express = require('express');
const client = require('prom-client');

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger writing one JSON object per line to stdout. */
function createLogger(service, level = process.env.LOG_LEVEL || 'info') {
  const threshold = LEVELS[String(level).toLowerCase()] ?? LEVELS.info;
  const write = (lvl, msg, fields = {}) => {
    if (LEVELS[lvl] < threshold) return;
    process.stdout.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: lvl, service, msg, ...fields })}\n`,
    );
  };
  return {
    debug: (msg, f) => write('debug', msg, f),
    info: (msg, f) => write('info', msg, f),
    warn: (msg, f) => write('warn', msg, f),
    error: (msg, f) => write('error', msg, f),
  };
}

/** An error that becomes `{"error": {code, message, field}}` with its HTTP status. */
class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const badInput = (message, field) => new ApiError(400, 'validation_failed', message, field);
const notFound = (message, field = null) => new ApiError(404, 'not_found', message, field);

// Driver errors that mean "the database is not there": answer 503, never 500.
const DB_DOWN = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoOperationTimeoutError',
]);

// Socket errors the driver sometimes lets through unwrapped (a write after the server hung
// up). Calls to other services catch their own errors, so these come from the database.
const SOCKET_DOWN = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN', 'ERR_STREAM_DESTROYED']);

function isDbDown(err) {
  if (!err) return false;
  if (DB_DOWN.has(err.name) || DB_DOWN.has(err.constructor?.name)) return true;
  if (SOCKET_DOWN.has(err.code)) return true;
  return /socket has been ended|socket hang up/i.test(String(err.message));
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Metrics registry with the process metrics and the per-route request metrics. */
function createMetrics(service) {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status code',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, requests, duration };
}

/**
 * First middleware: request id (taken from X-Request-Id when sane, else generated), then one
 * JSON log line and the metrics when the response is finished. The route label is the route
 * template (`/products/:id`), or `unmatched`, so the label set stays bounded.
 */
function observe(logger, metrics) {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const incoming = req.get('x-request-id');
    req.id = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    res.set('X-Request-Id', req.id);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = res.locals.route || (req.route ? `${req.baseUrl}${req.route.path}` : 'unmatched');
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, seconds);
      const fields = {
        request_id: req.id,
        method: req.method,
        route,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        duration_ms: Math.round(seconds * 100000) / 100,
      };
      if (res.locals.errorDetail) fields.error = res.locals.errorDetail;
      if (res.statusCode >= 500) logger.error('request', fields);
      else if (route === '/health' || route === '/metrics' || route === '/ready') logger.debug('request', fields);
      else logger.info('request', fields);
    });
    next();
  };
}

/** JSON body parser whose failures become the contract's error bodies. */
function jsonBody() {
  return express.json({ limit: '64kb', strict: false, type: ['application/json', 'application/*+json'] });
}

/** Require a JSON object body (a POST without JSON, or an array, is a validation error). */
function requireObject(req) {
  const body = req.body;
  if (body === undefined) {
    throw badInput('send a JSON object with Content-Type: application/json', 'body');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badInput('the body must be a JSON object', 'body');
  }
  return body;
}

/** Reject keys the endpoint does not know (names the first one). */
function rejectUnknown(body, allowed) {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badInput(`unknown field "${key.slice(0, 50)}"`, key.slice(0, 50));
  }
}

/** The last middleware: every failure becomes `{"error": {...}}`, never an HTML page. */
function errorHandler(logger) {
  // eslint-disable-next-line no-unused-vars
  return (err, req, res, _next) => {
    let status = 500;
    let body = { code: 'internal_error', message: 'internal error', field: null };
    if (err instanceof ApiError) {
      status = err.status;
      body = { code: err.code, message: err.message, field: err.field };
    } else if (err && err.type === 'entity.parse.failed') {
      status = 400;
      body = { code: 'invalid_json', message: 'the body is not valid JSON', field: 'body' };
    } else if (err && err.type === 'entity.too.large') {
      status = 413;
      body = { code: 'validation_failed', message: 'the body is larger than 64 kB', field: 'body' };
    } else if (err && (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported')) {
      status = 415;
      body = { code: 'validation_failed', message: 'send UTF-8 JSON', field: 'body' };
    } else if (err instanceof URIError) {
      // A path parameter that is not valid percent-encoding (`/cart/%FF`).
      status = 400;
      body = { code: 'validation_failed', message: 'the URL has malformed percent-encoding', field: 'path' };
    } else if (err && Number.isInteger(err.status) && err.status >= 400 && err.status < 500) {
      // Other client errors raised by Express and body-parser (http-errors).
      status = err.status;
      body = { code: 'validation_failed', message: err.expose ? String(err.message) : 'bad request', field: null };
    } else if (isDbDown(err)) {
      status = 503;
      body = { code: 'unavailable', message: 'the database is unavailable, try again later', field: null };
      res.set('Retry-After', '5');
    } else {
      logger.error('unhandled error', { request_id: req.id, error: String(err && err.stack ? err.stack : err) });
    }
    if (status >= 500) res.locals.errorDetail = String(err && err.message ? err.message : err).slice(0, 300);
    if (res.headersSent) return res.end();
    res.status(status).json({ error: body });
  };
}

/** 404 for unknown paths, in the contract's shape. */
function notFoundHandler(req, res) {
  res.status(404).json({ error: { code: 'not_found', message: `no route ${req.method} ${req.path}`, field: null } });
}

/** Wrap an async handler so its rejection reaches the error handler. */
// It also records the route template now: when an error leaves the router, Express has
// already reset req.baseUrl, and the metrics would lose the /api prefix.
const wrap = (fn) => (req, res, next) => {
  if (req.route) res.locals.route = `${req.baseUrl}${req.route.path}`;
  return Promise.resolve()
    .then(() => fn(req, res, next))
    .catch(next);
};

/** /health, /ready (DB ping with a deadline) and /metrics, at the root only. */
function probes(router, { db, metrics, readyTimeoutMs = 2000 }) {
  router.get('/health', wrap((req, res) => res.json({ status: 'ok' })));
  router.get(
    '/ready',
    wrap(async (req, res) => {
      let timer;
      try {
        await Promise.race([
          db.command({ ping: 1 }),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('ping timed out')), readyTimeoutMs);
          }),
        ]);
        res.json({ status: 'ready' });
      } catch (err) {
        res.locals.errorDetail = String(err.message || err).slice(0, 200);
        res.status(503).json({ status: 'not ready' });
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  router.get(
    '/metrics',
    wrap(async (req, res) => {
      res.set('Content-Type', metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    }),
  );
}

/** Environment configuration shared by the Node services. */
function baseConfig(defaultPort) {
  const int = (name, fallback) => {
    const raw = process.env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
    return n;
  };
  return {
    port: int('PORT', defaultPort),
    host: process.env.HOST || '0.0.0.0',
    mongoUri: process.env.MONGODB_URI || 'mongodb://localhost:27017/shop',
    dbTimeoutMs: int('MONGODB_TIMEOUT_MS', 3000),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10000),
    logLevel: process.env.LOG_LEVEL || 'info',
  };
}

/** Driver options: fail fast (503) instead of hanging when the database is gone. */
function mongoOptions(timeoutMs) {
  return {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
    maxPoolSize: 20,
    appName: process.env.SERVICE_NAME || undefined,
  };
}

/**
 * Connect, then create indexes (idempotent: createIndex with the same spec is a no-op),
 * retrying in the background until the database answers, so the service starts without its
 * database. The explicit connect() matters: when the driver's first (automatic) connection
 * fails, the client keeps a closed topology and every later query fails with "Topology is
 * closed" for ever; connect() replaces a topology that is not connected.
 */
function ensureIndexesForever(logger, mongo, create, retryMs = 2000) {
  let stopped = false;
  let timer;
  const attempt = async () => {
    try {
      await mongo.connect();
      await create();
      logger.info('indexes ensured');
    } catch (err) {
      if (stopped) return;
      logger.warn('index creation failed, retrying', { error: String(err.message || err) });
      timer = setTimeout(attempt, retryMs);
      timer.unref();
    }
  };
  attempt();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Listen, and on SIGTERM/SIGINT stop accepting, let in-flight requests finish (bounded by
 * shutdownTimeoutMs), then close the DB client and exit 0.
 */
function serve(app, { port, host, shutdownTimeoutMs, logger, onClose }) {
  const server = app.listen(port, host, () => logger.info('listening', { port, host }));
  server.keepAliveTimeout = 65000; // longer than the ALB's 60 s idle timeout
  let closing = false;
  // While draining, every response tells the client to close its keep-alive connection, and
  // idle connections are closed as they appear, so server.close() completes promptly.
  server.prependListener('request', (req, res) => {
    if (closing) res.setHeader('Connection', 'close');
  });
  const shutdown = (signal) => {
    if (closing) return;
    closing = true;
    logger.info('shutting down', { signal });
    const force = setTimeout(() => {
      logger.warn('in-flight requests did not finish in time, exiting');
      process.exit(1);
    }, shutdownTimeoutMs);
    force.unref();
    server.close(async () => {
      try {
        await onClose();
      } finally {
        logger.info('stopped');
        process.exit(0);
      }
    });
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 200).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return server;
}

module.exports = {
  ApiError,
  badInput,
  notFound,
  isDbDown,
  createLogger,
  createMetrics,
  observe,
  jsonBody,
  requireObject,
  rejectUnknown,
  errorHandler,
  notFoundHandler,
  wrap,
  probes,
  baseConfig,
  mongoOptions,
  ensureIndexesForever,
  serve,
};
