'use strict';
// The cart API (docs/services-api.md). A cart belongs to the caller named by X-User-Id.
// Prices and names come from the product service, never from the client. Every change is a
// compare-and-set on the cart's `version`, so concurrent requests never lose an update and a
// failed request leaves the cart as it was.
const crypto = require('node:crypto');
const express = require('express');
const { ObjectId } = require('mongodb');
const c = require('./common');

const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
const MAX_QTY = 99;
const CAS_ATTEMPTS = 8;

function userOf(req) {
  const id = req.get('x-user-id');
  if (id === undefined) throw c.badInput('the X-User-Id header is required', 'X-User-Id');
  if (!USER_ID.test(id)) throw c.badInput('X-User-Id must be 1-64 characters [A-Za-z0-9_-]', 'X-User-Id');
  return id;
}

function quantityOf(body) {
  const q = body.quantity;
  if (q === undefined || q === null) throw c.badInput('quantity is required', 'quantity');
  if (typeof q !== 'number' || !Number.isInteger(q)) throw c.badInput('quantity must be an integer', 'quantity');
  if (q < 1 || q > MAX_QTY) throw c.badInput(`quantity must be between 1 and ${MAX_QTY}`, 'quantity');
  return q;
}

/** Cart document -> the contract's `Cart` (money from integer cents). */
function toCart(userId, doc) {
  const items = (doc?.items || []).map((i) => ({
    id: i.id,
    productId: i.productId,
    name: i.name,
    price: i.priceCents / 100,
    quantity: i.quantity,
    lineTotal: (i.priceCents * i.quantity) / 100,
  }));
  const totalCents = (doc?.items || []).reduce((sum, i) => sum + i.priceCents * i.quantity, 0);
  return { userId, items, total: totalCents / 100 };
}

/**
 * Ask the product service for one product: returns {name, priceCents, stock}, or throws
 * 404 (field productId) when it does not exist, 502 when the product service fails.
 */
async function fetchProduct(config, productId, requestId) {
  let res;
  try {
    res = await fetch(`${config.productServiceUrl}/products/${productId}`, {
      headers: { accept: 'application/json', 'x-request-id': requestId },
      signal: AbortSignal.timeout(config.upstreamTimeoutMs),
    });
  } catch (err) {
    throw new c.ApiError(502, 'upstream_failed', `product service unreachable (${err.name})`, null);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw c.notFound(`no product ${productId}`, 'productId');
  }
  if (res.status === 503) {
    await res.body?.cancel();
    throw new c.ApiError(503, 'unavailable', 'the product service has no database, try again later', null);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new c.ApiError(502, 'upstream_failed', `product service answered ${res.status}`, null);
  }
  let p;
  try {
    p = await res.json();
  } catch {
    throw new c.ApiError(502, 'upstream_failed', 'product service sent invalid JSON', null);
  }
  if (!p || typeof p.price !== 'number' || typeof p.name !== 'string' || !Number.isInteger(p.stock)) {
    throw new c.ApiError(502, 'upstream_failed', 'product service sent an unexpected product', null);
  }
  return { name: p.name, priceCents: Math.round(p.price * 100), stock: p.stock };
}

/**
 * The cart's `_id` is derived from the user id, so "one cart per user" rests on the `_id`
 * primary key, which every MongoDB (and the test stand-in, which ignores secondary unique
 * indexes) enforces; concurrent first requests cannot create two carts.
 */
function cartId(userId) {
  return new ObjectId(crypto.createHash('sha256').update(`cart:${userId}`).digest().subarray(0, 12));
}

async function createIndexes(db) {
  await db.collection('carts').createIndex({ userId: 1 }, { name: 'userId', unique: true });
  await db.collection('users').createIndex({ userId: 1 }, { name: 'userId', unique: true });
}

function createApp({ db, logger, metrics, config }) {
  const carts = db.collection('carts');
  const users = db.collection('users');
  const app = express();
  app.disable('x-powered-by');
  app.use(c.observe(logger, metrics));
  const root = express.Router();
  c.probes(root, { db, metrics });
  app.use(root);

  const load = (userId) => carts.findOne({ _id: cartId(userId) });

  /**
   * Apply `change(items) -> items` with compare-and-set on `version`. The cart document is
   * created first (an idempotent upsert of an empty cart) so the CAS always has a target.
   */
  async function mutate(userId, change) {
    const _id = cartId(userId);
    let doc = await load(userId);
    if (!doc) {
      // First change of this user's cart: record the user, then create the empty cart. A
      // concurrent first request may create it too; either way the CAS below decides.
      await users.updateOne(
        { userId },
        { $setOnInsert: { userId, createdAt: new Date() } },
        { upsert: true },
      );
      const fresh = { _id, userId, items: [], version: 0, createdAt: new Date() };
      try {
        await carts.insertOne(fresh);
        doc = fresh;
      } catch (err) {
        if (err.code !== 11000) throw err; // created by a concurrent request: fine
        doc = await load(userId);
      }
    }
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
      if (attempt > 0) doc = await load(userId);
      const items = await change(doc.items.map((i) => ({ ...i })));
      const result = await carts.updateOne(
        { _id, version: doc.version },
        { $set: { items, version: doc.version + 1, updatedAt: new Date() } },
      );
      if (result.matchedCount === 1) return { ...doc, items, version: doc.version + 1 };
    }
    throw new c.ApiError(409, 'conflict', 'the cart changed concurrently, retry', null);
  }

  const findItem = (items, itemId) => {
    const i = items.findIndex((x) => x.id === itemId);
    if (i < 0) throw c.notFound(`no item ${String(itemId).slice(0, 40)} in your cart`, 'itemId');
    return i;
  };

  const checkStock = (product, quantity) => {
    if (quantity > product.stock) {
      throw new c.ApiError(409, 'conflict', `only ${product.stock} in stock`, 'quantity');
    }
  };

  const api = express.Router();
  api.get(
    '/cart',
    c.wrap(async (req, res) => {
      const userId = userOf(req);
      res.json(toCart(userId, await load(userId)));
    }),
  );
  api.post(
    '/cart',
    c.jsonBody(),
    c.wrap(async (req, res) => {
      const userId = userOf(req);
      const body = c.requireObject(req);
      c.rejectUnknown(body, ['productId', 'quantity']);
      const { productId } = body;
      if (productId === undefined || productId === null) throw c.badInput('productId is required', 'productId');
      if (typeof productId !== 'string') throw c.badInput('productId must be a string', 'productId');
      if (!OBJECT_ID.test(productId)) throw c.badInput('productId must be a 24-hex id', 'productId');
      const quantity = quantityOf(body);
      // Ask the product service before touching the database: a failure there writes nothing.
      const product = await fetchProduct(config, productId.toLowerCase(), req.id);
      const doc = await mutate(userId, async (items) => {
        const existing = items.find((i) => i.productId === productId.toLowerCase());
        if (existing) {
          const total = existing.quantity + quantity;
          if (total > MAX_QTY) {
            throw c.badInput(`at most ${MAX_QTY} of one product per cart (${existing.quantity} already)`, 'quantity');
          }
          checkStock(product, total);
          Object.assign(existing, { quantity: total, name: product.name, priceCents: product.priceCents });
          return items;
        }
        checkStock(product, quantity);
        return [...items, {
          id: new ObjectId().toHexString(),
          productId: productId.toLowerCase(),
          name: product.name,
          priceCents: product.priceCents,
          quantity,
        }];
      });
      res.status(201).json(toCart(userId, doc));
    }),
  );
  api.patch(
    '/cart/:itemId',
    c.jsonBody(),
    c.wrap(async (req, res) => {
      const userId = userOf(req);
      const body = c.requireObject(req);
      c.rejectUnknown(body, ['quantity']);
      const quantity = quantityOf(body);
      const current = await load(userId);
      const item = current?.items.find((i) => i.id === req.params.itemId);
      if (!item) throw c.notFound(`no item ${req.params.itemId.slice(0, 40)} in your cart`, 'itemId');
      // The current price and stock, from the product service.
      const product = await fetchProduct(config, item.productId, req.id);
      checkStock(product, quantity);
      const doc = await mutate(userId, async (items) => {
        const i = findItem(items, req.params.itemId);
        Object.assign(items[i], { quantity, name: product.name, priceCents: product.priceCents });
        return items;
      });
      res.json(toCart(userId, doc));
    }),
  );
  api.delete(
    '/cart/:itemId',
    c.wrap(async (req, res) => {
      const userId = userOf(req);
      const current = await load(userId);
      if (!current) throw c.notFound(`no item ${req.params.itemId.slice(0, 40)} in your cart`, 'itemId');
      findItem(current.items, req.params.itemId);
      const doc = await mutate(userId, async (items) => {
        const i = findItem(items, req.params.itemId);
        items.splice(i, 1);
        return items;
      });
      res.json(toCart(userId, doc));
    }),
  );
  api.delete(
    '/cart',
    c.wrap(async (req, res) => {
      const userId = userOf(req);
      const current = await load(userId);
      if (current) {
        await carts.updateOne(
          { _id: current._id },
          { $set: { items: [], version: current.version + 1, updatedAt: new Date() } },
        );
      }
      res.status(204).end();
    }),
  );
  app.use(api);
  app.use('/api', api);
  app.use(c.notFoundHandler);
  app.use(c.errorHandler(logger));
  return app;
}

module.exports = { createApp, createIndexes, toCart };
