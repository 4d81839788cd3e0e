'use strict';
// The product API (docs/services-api.md): catalogue listing with paging, category filter and
// name search; one product; creating a validated product. Prices are stored in integer cents.
const express = require('express');
const { ObjectId } = require('mongodb');
const c = require('./common');

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const FIELDS = ['name', 'description', 'price', 'stock', 'category', 'imageUrl'];

/** Product document -> the contract's `Product`. */
function toProduct(doc) {
  return {
    id: doc._id.toHexString(),
    name: doc.name,
    description: doc.description,
    price: doc.priceCents / 100,
    stock: doc.stock,
    category: doc.category,
    imageUrl: doc.imageUrl,
  };
}

function str(body, field, { min = 0, max, required = true, fallback = '' }) {
  const value = body[field];
  if (value === undefined || value === null) {
    if (required) throw c.badInput(`${field} is required`, field);
    return fallback;
  }
  if (typeof value !== 'string') throw c.badInput(`${field} must be a string`, field);
  const trimmed = value.trim();
  if (trimmed.length < min) throw c.badInput(`${field} must not be empty`, field);
  if (trimmed.length > max) throw c.badInput(`${field} must be at most ${max} characters`, field);
  return trimmed;
}

/** Validate a POST /products body; returns the document to insert (throws ApiError). */
function validateProduct(body) {
  c.rejectUnknown(body, FIELDS);
  const name = str(body, 'name', { min: 1, max: 200 });
  const description = str(body, 'description', { max: 2000, required: false });
  const { price } = body;
  if (price === undefined || price === null) throw c.badInput('price is required', 'price');
  if (typeof price !== 'number' || !Number.isFinite(price)) throw c.badInput('price must be a number', 'price');
  if (price < 0) throw c.badInput('price must be >= 0', 'price');
  if (price > 1000000) throw c.badInput('price must be <= 1000000', 'price');
  const cents = Math.round(price * 100);
  if (Math.abs(cents - price * 100) > 1e-6) throw c.badInput('price must have at most two decimals', 'price');
  const { stock } = body;
  if (stock === undefined || stock === null) throw c.badInput('stock is required', 'stock');
  if (typeof stock !== 'number' || !Number.isInteger(stock)) throw c.badInput('stock must be an integer', 'stock');
  if (stock < 0) throw c.badInput('stock must be >= 0', 'stock');
  if (stock > 1000000000) throw c.badInput('stock must be <= 1000000000', 'stock');
  const category = str(body, 'category', { min: 1, max: 50 });
  const imageUrl = str(body, 'imageUrl', { max: 500, required: false });
  if (imageUrl) {
    let url;
    try {
      url = new URL(imageUrl);
    } catch {
      throw c.badInput('imageUrl must be an http(s) URL', 'imageUrl');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw c.badInput('imageUrl must be an http(s) URL', 'imageUrl');
    }
  }
  return { name, description, priceCents: cents, stock, category, imageUrl };
}

function intParam(query, field, fallback, min, max) {
  const raw = query[field];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^\d{1,6}$/.test(raw)) throw c.badInput(`${field} must be an integer`, field);
  const n = Number(raw);
  if (n < min || n > max) throw c.badInput(`${field} must be between ${min} and ${max}`, field);
  return n;
}

function strParam(query, field, max) {
  const raw = query[field];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw c.badInput(`${field} must be given once`, field);
  if (raw.length > max) throw c.badInput(`${field} must be at most ${max} characters`, field);
  return raw;
}

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Indexes the queries use; createIndex is idempotent, so this runs at every start. */
async function createIndexes(db) {
  const products = db.collection('products');
  await products.createIndex({ category: 1, name: 1, _id: 1 }, { name: 'category_name' });
  await products.createIndex({ name: 1, _id: 1 }, { name: 'name' });
}

/**
 * Build the Express app. `db` is a connected-or-lazy `Db` of the official driver.
 */
function createApp({ db, logger, metrics }) {
  const products = db.collection('products');
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(c.observe(logger, metrics));

  const root = express.Router();
  c.probes(root, { db, metrics });
  app.use(root);

  const api = express.Router();
  api.get(
    '/products',
    c.wrap(async (req, res) => {
      const page = intParam(req.query, 'page', 1, 1, 100000);
      const limit = intParam(req.query, 'limit', 20, 1, 100);
      const category = strParam(req.query, 'category', 50);
      const q = strParam(req.query, 'q', 100);
      const filter = {};
      if (category) filter.category = category;
      if (q) filter.name = { $regex: escapeRegex(q.trim()), $options: 'i' };
      const [docs, total] = await Promise.all([
        products.find(filter).sort({ name: 1, _id: 1 }).skip((page - 1) * limit).limit(limit).toArray(),
        products.countDocuments(filter),
      ]);
      res.json({ items: docs.map(toProduct), page, limit, total });
    }),
  );
  api.get(
    '/products/:id',
    c.wrap(async (req, res) => {
      const { id } = req.params;
      // A malformed id cannot name a product: 404 as the contract says, naming the field.
      if (!OBJECT_ID.test(id)) throw c.notFound(`no product ${id.slice(0, 40)}`, 'id');
      const doc = await products.findOne({ _id: new ObjectId(id) });
      if (!doc) throw c.notFound(`no product ${id}`, 'id');
      res.json(toProduct(doc));
    }),
  );
  api.post(
    '/products',
    c.jsonBody(),
    c.wrap(async (req, res) => {
      const doc = validateProduct(c.requireObject(req));
      doc._id = new ObjectId();
      doc.createdAt = new Date();
      await products.insertOne(doc);
      res.status(201).location(`${req.baseUrl}/products/${doc._id.toHexString()}`).json(toProduct(doc));
    }),
  );
  app.use(api);
  app.use('/api', api);
  app.use(c.notFoundHandler);
  app.use(c.errorHandler(logger));
  return app;
}

module.exports = { createApp, createIndexes, validateProduct, toProduct };
