'use strict';
// Entry point: configuration from the environment, the DB client, indexes, seeding, graceful stop.
const { MongoClient } = require('mongodb');
const c = require('./common');
const { createApp, createIndexes } = require('./app');
const { seedCatalog } = require('./seed');

const SERVICE = 'product';

function main() {
  const logger = c.createLogger(SERVICE);
  let config;
  try {
    config = c.baseConfig(3001);
  } catch (err) {
    logger.error('bad configuration', { error: err.message });
    process.exit(2);
  }
  const seed = /^(1|true|yes)$/i.test(process.env.SEED_CATALOG || '');
  const mongo = new MongoClient(config.mongoUri, { ...c.mongoOptions(config.dbTimeoutMs), appName: SERVICE });
  const db = mongo.db();
  const metrics = c.createMetrics(SERVICE);
  const app = createApp({ db, logger, metrics });
  const stopIndexes = c.ensureIndexesForever(logger, mongo, async () => {
    await createIndexes(db);
    if (seed) {
      const n = await seedCatalog(db);
      if (n) logger.info('catalogue seeded', { products: n });
    }
  });
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
