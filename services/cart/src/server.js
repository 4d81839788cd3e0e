'use strict';
// Entry point: configuration from the environment, the DB client, indexes, graceful stop.
const { MongoClient } = require('mongodb');
const c = require('./common');
const { createApp, createIndexes } = require('./app');

const SERVICE = 'cart';

/** Cart settings on top of the shared ones (PRODUCT_SERVICE_URL is where prices come from). */
function cartConfig() {
  const base = c.baseConfig(3002);
  const productServiceUrl = (process.env.PRODUCT_SERVICE_URL || 'http://localhost:3001').replace(/\/+$/, '');
  try {
    const u = new URL(productServiceUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new Error(`PRODUCT_SERVICE_URL must be an http(s) URL, got "${productServiceUrl}"`);
  }
  // Longer than the product service's own database timeout (3 s), so a product service without
  // its database answers 503 before the cart gives up on it.
  const timeout = Number(process.env.UPSTREAM_TIMEOUT_MS || 5000);
  if (!Number.isInteger(timeout) || timeout <= 0) throw new Error('UPSTREAM_TIMEOUT_MS must be a positive integer');
  return { ...base, productServiceUrl, upstreamTimeoutMs: timeout };
}

function main() {
  const logger = c.createLogger(SERVICE);
  let config;
  try {
    config = cartConfig();
  } catch (err) {
    logger.error('bad configuration', { error: err.message });
    process.exit(2);
  }
  const mongo = new MongoClient(config.mongoUri, { ...c.mongoOptions(config.dbTimeoutMs), appName: SERVICE });
  const db = mongo.db();
  const metrics = c.createMetrics(SERVICE);
  const app = createApp({ db, logger, metrics, config });
  const stopIndexes = c.ensureIndexesForever(logger, mongo, () => createIndexes(db));
  c.serve(app, {
    ...config,
    logger,
    onClose: async () => {
      stopIndexes();
      await mongo.close();
    },
  });
}

main();
