'use strict';
// The cart API against the MongoDB stand-in over the wire. The product service is a small
// HTTP server in this test that answers exactly as the contract's product API does, so faults
// can be injected there (404, 500, a hang, the database dying while it answers). The real
// product service is exercised with the cart in tests/services/test_images.py.
const { test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { MongoClient, ObjectId } = require('mongodb');
const { createApp, createIndexes } = require('../src/app');
const c = require('../src/common');
const h = require('./helpers');

const SHOE = new ObjectId().toHexString();
const HAT = new ObjectId().toHexString();
const catalogue = new Map([
  [SHOE, { id: SHOE, name: 'Shoe', description: '', price: 19.99, stock: 150, category: 'shoes', imageUrl: '' }],
  [HAT, { id: HAT, name: 'Hat', description: '', price: 5.1, stock: 3, category: 'hats', imageUrl: '' }],
]);

let standin;
let proxy;
let mongo;
let db;
let app;
let upstream;
let upstreamUrl;
const logger = h.memoryLogger();
let fault = null; // 'error' | 'hang' | 'garbage' | function run before answering
const upstreamRequests = [];

async function startUpstream() {
  upstream = http.createServer(async (req, res) => {
    upstreamRequests.push({ url: req.url, requestId: req.headers['x-request-id'] });
    if (typeof fault === 'function') await fault();
    if (fault === 'hang') return; // never answers: the cart's timeout must fire
    if (fault === 'error') {
      res.writeHead(500, { 'content-type': 'application/json' });
      return res.end('{"error":{"code":"internal_error","message":"boom","field":null}}');
    }
    if (fault === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('{"price":');
    }
    const m = req.url.match(/^\/products\/([0-9a-f]{24})$/);
    const p = m && catalogue.get(m[1]);
    if (!p) {
      res.writeHead(404, { 'content-type': 'application/json' });
      return res.end('{"error":{"code":"not_found","message":"no product","field":"id"}}');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(p));
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
}

before(async () => {
  standin = await h.startStandin();
  proxy = await h.startProxy(standin.port);
  mongo = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/cart_test`, c.mongoOptions(1500));
  db = mongo.db();
  await createIndexes(db);
  await startUpstream();
  app = await h.listen(createApp({
    db,
    logger,
    metrics: c.createMetrics('cart'),
    config: { productServiceUrl: upstreamUrl, upstreamTimeoutMs: 500 },
  }));
});

after(async () => {
  await app?.close();
  upstream?.closeAllConnections();
  await new Promise((r) => (upstream ? upstream.close(r) : r()));
  await mongo?.close();
  await proxy?.close();
  await standin?.stop();
});

beforeEach(async () => {
  fault = null;
  proxy.heal();
  await db.collection('carts').deleteMany({});
});

const as = (user) => ({ 'x-user-id': user });
const add = (user, productId, quantity) => h.call(`${app.url}/cart`, { method: 'POST', body: { productId, quantity }, headers: as(user) });

test('an unknown caller has an empty cart', async () => {
  const r = await h.call(`${app.url}/api/cart`, { headers: as('alice') });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { userId: 'alice', items: [], total: 0 });
});

test('add, add again, update, remove: prices from the product service, totals in cents', async () => {
  const first = await add('alice', SHOE, 2);
  assert.equal(first.status, 201, first.text);
  assert.equal(first.json.items.length, 1);
  const [item] = first.json.items;
  assert.deepEqual({ ...item, id: undefined }, {
    id: undefined, productId: SHOE, name: 'Shoe', price: 19.99, quantity: 2, lineTotal: 39.98,
  });
  const again = await add('alice', SHOE, 1);
  assert.equal(again.json.items[0].quantity, 3);
  assert.equal(again.json.items[0].id, item.id);
  const hat = await h.call(`${app.url}/api/cart`, { method: 'POST', body: { productId: HAT, quantity: 3 }, headers: as('alice') });
  assert.equal(hat.status, 201);
  // 3 x 19.99 + 3 x 5.10 = 75.27 exactly (floating point would give 75.27000000000001).
  assert.equal(hat.json.total, 75.27);
  const patched = await h.call(`${app.url}/cart/${item.id}`, { method: 'PATCH', body: { quantity: 1 }, headers: as('alice') });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.total, 35.29);
  const removed = await h.call(`${app.url}/api/cart/${item.id}`, { method: 'DELETE', headers: as('alice') });
  assert.equal(removed.status, 200);
  assert.deepEqual(removed.json.items.map((i) => i.name), ['Hat']);
  const emptied = await h.call(`${app.url}/cart`, { method: 'DELETE', headers: as('alice') });
  assert.equal(emptied.status, 204);
  assert.deepEqual((await h.call(`${app.url}/cart`, { headers: as('alice') })).json.items, []);
});

test('the request id is passed to the product service', async () => {
  await h.call(`${app.url}/cart`, { method: 'POST', body: { productId: SHOE, quantity: 1 }, headers: { ...as('bob'), 'x-request-id': 'trace-42' } });
  assert.ok(upstreamRequests.some((r) => r.requestId === 'trace-42'));
});

test('a price sent by the client is refused, never used', async () => {
  const r = await h.call(`${app.url}/cart`, { method: 'POST', body: { productId: SHOE, quantity: 1, price: 0.01 }, headers: as('eve') });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.field, 'price');
  assert.equal(await db.collection('carts').countDocuments({ userId: 'eve' }), 0);
});

test('X-User-Id missing or invalid: 400 naming the header', async () => {
  for (const headers of [{}, as(''), as('a'.repeat(65)), as('bad id'), as('x/../y')]) {
    const r = await h.call(`${app.url}/cart`, { headers });
    assert.equal(r.status, 400, JSON.stringify(headers));
    assert.deepEqual([r.json.error.code, r.json.error.field], ['validation_failed', 'X-User-Id']);
  }
});

const badAdds = [
  ['quantity negative', { productId: SHOE, quantity: -1 }, 'quantity', 400],
  ['quantity zero', { productId: SHOE, quantity: 0 }, 'quantity', 400],
  ['quantity over 99', { productId: SHOE, quantity: 100 }, 'quantity', 400],
  ['quantity fractional', { productId: SHOE, quantity: 1.5 }, 'quantity', 400],
  ['quantity a string', { productId: SHOE, quantity: '2' }, 'quantity', 400],
  ['productId missing', { quantity: 1 }, 'productId', 400],
  ['productId a number', { productId: 7, quantity: 1 }, 'productId', 400],
  ['productId an operator object', { productId: { $ne: null }, quantity: 1 }, 'productId', 400],
  ['productId over-long', { productId: 'a'.repeat(5000), quantity: 1 }, 'productId', 400],
  ['productId unknown', { productId: new ObjectId().toHexString(), quantity: 1 }, 'productId', 404],
  ['more than in stock', { productId: HAT, quantity: 4 }, 'quantity', 409],
  ['a JSON array', [{ productId: SHOE, quantity: 1 }], 'body', 400],
];

for (const [label, body, field, status] of badAdds) {
  test(`POST /cart with ${label}: ${status} naming ${field}, nothing written`, async () => {
    const r = await h.call(`${app.url}/cart`, { method: 'POST', body, headers: as('mallory') });
    assert.equal(r.status, status, r.text);
    assert.equal(r.json.error.field, field);
    assert.equal(await db.collection('carts').countDocuments({ userId: 'mallory', 'items.0': { $exists: true } }), 0);
  });
}

test('invalid JSON: 400 invalid_json', async () => {
  const r = await h.call(`${app.url}/cart`, { method: 'POST', raw: '{"productId":', headers: as('alice') });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'invalid_json');
});

test('adding past 99 of one product is refused and keeps the cart', async () => {
  await add('carol', SHOE, 60);
  const r = await add('carol', SHOE, 40);
  assert.equal(r.status, 400);
  assert.equal(r.json.error.field, 'quantity');
  assert.equal((await h.call(`${app.url}/cart`, { headers: as('carol') })).json.items[0].quantity, 60);
});

test("another user's cart item: 404 naming the item, and their cart untouched", async () => {
  const alice = await add('alice', SHOE, 2);
  const itemId = alice.json.items[0].id;
  await add('bob', HAT, 1);
  const patch = await h.call(`${app.url}/cart/${itemId}`, { method: 'PATCH', body: { quantity: 5 }, headers: as('bob') });
  assert.equal(patch.status, 404);
  assert.equal(patch.json.error.field, 'itemId');
  const del = await h.call(`${app.url}/cart/${itemId}`, { method: 'DELETE', headers: as('bob') });
  assert.equal(del.status, 404);
  assert.equal(del.json.error.field, 'itemId');
  const stranger = await h.call(`${app.url}/cart/${itemId}`, { method: 'DELETE', headers: as('nobody') });
  assert.equal(stranger.status, 404);
  assert.equal((await h.call(`${app.url}/cart`, { headers: as('alice') })).json.items[0].quantity, 2);
});

test('malformed percent-encoding in an item id is a 400, not a 500', async () => {
  const r = await h.call(`${app.url}/cart/%FF`, { method: 'DELETE', headers: as('alice') });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.field, 'path');
});

test('PATCH validates the quantity', async () => {
  const alice = await add('alice', SHOE, 2);
  const itemId = alice.json.items[0].id;
  for (const quantity of [0, -2, 100, 'x', null]) {
    const r = await h.call(`${app.url}/cart/${itemId}`, { method: 'PATCH', body: { quantity }, headers: as('alice') });
    assert.equal(r.status, 400, String(quantity));
    assert.equal(r.json.error.field, 'quantity');
  }
});

test('the product service failing: 502 upstream_failed, nothing written', async () => {
  for (const f of ['error', 'hang', 'garbage']) {
    fault = f;
    const r = await add('dave', SHOE, 1);
    assert.equal(r.status, 502, `${f}: ${r.text}`);
    assert.equal(r.json.error.code, 'upstream_failed');
  }
  assert.equal(await db.collection('carts').countDocuments({ userId: 'dave' }), 0);
});

test('the database going away mid-request: 503, the cart as it was', async () => {
  await add('erin', SHOE, 1);
  // The product lookup succeeds, then the database connection dies before the cart is saved.
  fault = async () => proxy.cut();
  const r = await add('erin', HAT, 2);
  assert.equal(r.status, 503, r.text + JSON.stringify(logger.lines.filter((l) => l.level === 'error')));
  assert.equal(r.json.error.code, 'unavailable');
  const ready = await h.call(`${app.url}/ready`);
  assert.equal(ready.status, 503);
  fault = null;
  proxy.heal();
  const cart = await db.collection('carts').findOne({ userId: 'erin' });
  assert.deepEqual(cart.items.map((i) => [i.name, i.quantity]), [['Shoe', 1]]);
});

test('the connection cut as the cart update travels: 503, nothing half-written', async () => {
  await add('frank', SHOE, 1);
  proxy.cutOn('update');
  const r = await add('frank', HAT, 1);
  assert.equal(r.status, 503, r.text);
  proxy.heal();
  const cart = await db.collection('carts').findOne({ userId: 'frank' });
  assert.deepEqual(cart.items.map((i) => i.name), ['Shoe']);
});

// The stand-in does not enforce the unique index on carts.userId: one cart per user rests on
// the `_id` derived from the user id, and lost updates are prevented by the version CAS.
test('concurrent adds are all kept (compare-and-set on the cart version)', async () => {
  const results = await Promise.all(Array.from({ length: 8 }, () => add('grace', SHOE, 1)));
  assert.ok(results.every((r) => r.status === 201), results.map((r) => r.status).join(','));
  const cart = await h.call(`${app.url}/cart`, { headers: as('grace') });
  assert.equal(cart.json.items.length, 1);
  assert.equal(cart.json.items[0].quantity, 8);
});

test('metrics carry the route template and status', async () => {
  await h.call(`${app.url}/cart`, { headers: {} });
  const r = await h.call(`${app.url}/metrics`);
  assert.match(r.text, /http_requests_total\{method="GET",route="\/cart",status="400",service="cart"\} \d+/);
  assert.match(r.text, /process_resident_memory_bytes/);
});
