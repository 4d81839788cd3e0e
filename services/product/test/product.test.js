'use strict';
// The product API against the MongoDB stand-in over the wire (official `mongodb` driver).
const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { MongoClient } = require('mongodb');
const { createApp, createIndexes } = require('../src/app');
const { seedCatalog, CATALOG } = require('../src/seed');
const c = require('../src/common');
const h = require('./helpers');

let standin;
let proxy;
let mongo;
let db;
let app;
let logger;

const valid = () => ({
  name: 'Test Shoe',
  description: 'A shoe for tests',
  price: 19.99,
  stock: 5,
  category: 'shoes',
  imageUrl: 'https://example.com/shoe.jpg',
});

before(async () => {
  standin = await h.startStandin({ storagePath: 'tmp' });
  proxy = await h.startProxy(standin.port);
  mongo = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/product_test`, c.mongoOptions(1500));
  db = mongo.db();
  await createIndexes(db);
  logger = h.memoryLogger();
  app = await h.listen(createApp({ db, logger, metrics: c.createMetrics('product') }));
});

after(async () => {
  await app?.close();
  await mongo?.close();
  await proxy?.close();
  await standin?.stop();
});

test('health is ok without asking the database; ready pings it', async () => {
  assert.deepEqual((await h.call(`${app.url}/health`)).json, { status: 'ok' });
  const ready = await h.call(`${app.url}/ready`);
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json, { status: 'ready' });
});

test('indexes are created idempotently', async () => {
  await createIndexes(db);
  await createIndexes(db);
  const names = (await db.collection('products').listIndexes().toArray()).map((i) => i.name).sort();
  assert.deepEqual(names, ['_id_', 'category_name', 'name']);
});

test('seeding fills an empty catalogue once', async () => {
  await db.collection('products').deleteMany({});
  assert.equal(await seedCatalog(db), CATALOG.length);
  assert.equal(await seedCatalog(db), 0);
  const all = await h.call(`${app.url}/products?limit=100`);
  assert.equal(all.json.total, CATALOG.length);
  const categories = new Set(all.json.items.map((p) => p.category));
  assert.ok(categories.size >= 3 && categories.size <= 4);
});

test('create, then read back, at the root and under /api', async () => {
  const created = await h.call(`${app.url}/api/products`, { method: 'POST', body: valid() });
  assert.equal(created.status, 201, created.text);
  assert.match(created.json.id, /^[0-9a-f]{24}$/);
  assert.equal(created.json.price, 19.99);
  assert.equal(created.headers.get('location'), `/api/products/${created.json.id}`);
  const got = await h.call(`${app.url}/products/${created.json.id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, { ...valid(), id: created.json.id });
  const viaApi = await h.call(`${app.url}/api/products/${created.json.id}`);
  assert.deepEqual(viaApi.json, got.json);
});

test('money keeps two decimals exactly (integer cents)', async () => {
  for (const price of [0, 0.1, 0.29, 1.15, 999999.99]) {
    const r = await h.call(`${app.url}/products`, { method: 'POST', body: { ...valid(), price } });
    assert.equal(r.status, 201, `${price}: ${r.text}`);
    assert.equal(r.json.price, price);
  }
});

test('paging, category filter and name search', async () => {
  await db.collection('products').deleteMany({});
  await seedCatalog(db);
  const page1 = await h.call(`${app.url}/products?limit=5&page=1`);
  const page3 = await h.call(`${app.url}/products?limit=5&page=3`);
  assert.equal(page1.json.items.length, 5);
  assert.equal(page3.json.items.length, CATALOG.length - 10);
  assert.equal(page1.json.total, CATALOG.length);
  assert.deepEqual([page1.json.page, page1.json.limit], [1, 5]);
  const names = page1.json.items.map((p) => p.name);
  assert.deepEqual(names, [...names].sort());
  const shoes = await h.call(`${app.url}/api/products?category=shoes`);
  assert.equal(shoes.json.total, 3);
  assert.ok(shoes.json.items.every((p) => p.category === 'shoes'));
  const run = await h.call(`${app.url}/products?q=RUN`);
  assert.deepEqual(run.json.items.map((p) => p.name).sort(),
    ['Road Running Shoes', 'Running Belt', 'Running Cap', 'Running Shorts', 'Trail Running Shoes']);
  const both = await h.call(`${app.url}/products?q=run&category=shoes`);
  assert.equal(both.json.total, 2);
  // Regex metacharacters are searched literally, not interpreted.
  const meta = await h.call(`${app.url}/products?q=${encodeURIComponent('.*')}`);
  assert.equal(meta.json.total, 0);
});

const badBodies = [
  ['name missing', { ...valid(), name: undefined }, 'name'],
  ['name empty', { ...valid(), name: '   ' }, 'name'],
  ['name too long', { ...valid(), name: 'x'.repeat(201) }, 'name'],
  ['name wrong type', { ...valid(), name: 42 }, 'name'],
  ['description too long', { ...valid(), description: 'd'.repeat(2001) }, 'description'],
  ['price negative', { ...valid(), price: -1 }, 'price'],
  ['price three decimals', { ...valid(), price: 1.999 }, 'price'],
  ['price a string', { ...valid(), price: '19.99' }, 'price'],
  ['price missing', { ...valid(), price: undefined }, 'price'],
  ['stock negative', { ...valid(), stock: -3 }, 'stock'],
  ['stock fractional', { ...valid(), stock: 1.5 }, 'stock'],
  ['stock boolean', { ...valid(), stock: true }, 'stock'],
  ['category too long', { ...valid(), category: 'c'.repeat(51) }, 'category'],
  ['imageUrl not http', { ...valid(), imageUrl: 'javascript:alert(1)' }, 'imageUrl'],
  ['imageUrl not a URL', { ...valid(), imageUrl: 'not a url' }, 'imageUrl'],
  ['imageUrl too long', { ...valid(), imageUrl: `https://e.com/${'a'.repeat(500)}` }, 'imageUrl'],
  ['unknown field', { ...valid(), $where: 'sleep(1000)' }, '$where'],
  ['an array', [valid()], 'body'],
];

for (const [label, body, field] of badBodies) {
  test(`POST /products rejects ${label} with 400 naming ${field}, writing nothing`, async () => {
    const before = await db.collection('products').countDocuments();
    const r = await h.call(`${app.url}/products`, { method: 'POST', body });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'validation_failed');
    assert.equal(r.json.error.field, field);
    assert.equal(typeof r.json.error.message, 'string');
    assert.equal(await db.collection('products').countDocuments(), before);
  });
}

test('invalid JSON is 400 invalid_json, not 500', async () => {
  const r = await h.call(`${app.url}/products`, { method: 'POST', raw: '{"name": "x",' });
  assert.equal(r.status, 400);
  assert.deepEqual(r.json.error, { code: 'invalid_json', message: 'the body is not valid JSON', field: 'body' });
});

test('a body without a JSON content type is 400 naming the body', async () => {
  const r = await h.call(`${app.url}/products`, {
    method: 'POST', raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.field, 'body');
});

test('an oversized body is 413 in the JSON error shape', async () => {
  const r = await h.call(`${app.url}/products`, { method: 'POST', body: { ...valid(), description: 'x'.repeat(70000) } });
  assert.equal(r.status, 413);
  assert.equal(r.json.error.field, 'body');
});

test('unknown and malformed ids are 404 naming the id', async () => {
  for (const id of ['000000000000000000000000', 'nope', '%24ne']) {
    const r = await h.call(`${app.url}/products/${id}`);
    assert.equal(r.status, 404, id);
    assert.equal(r.json.error.code, 'not_found');
    assert.equal(r.json.error.field, 'id');
  }
});

test('bad query parameters are 400 naming the parameter', async () => {
  for (const [query, field] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['page=0', 'page'],
    ['page=abc', 'page'], ['limit=-5', 'limit'], [`q=${'q'.repeat(101)}`, 'q'], ['category=a&category=b', 'category']]) {
    const r = await h.call(`${app.url}/products?${query}`);
    assert.equal(r.status, 400, query);
    assert.equal(r.json.error.field, field, query);
  }
});

test('malformed percent-encoding in the path is a 400, not a 500', async () => {
  const r = await h.call(`${app.url}/products/%FF`);
  assert.equal(r.status, 400);
  assert.deepEqual([r.json.error.code, r.json.error.field], ['validation_failed', 'path']);
});

test('unknown routes are JSON 404s', async () => {
  const r = await h.call(`${app.url}/nope`);
  assert.equal(r.status, 404);
  assert.equal(r.json.error.code, 'not_found');
});

test('request id: echoed when given, generated otherwise, and logged as JSON fields', async () => {
  const given = await h.call(`${app.url}/products?limit=1`, { headers: { 'x-request-id': 'abc-123' } });
  assert.equal(given.headers.get('x-request-id'), 'abc-123');
  const generated = await h.call(`${app.url}/products?limit=1`);
  assert.match(generated.headers.get('x-request-id'), /^[0-9a-f-]{36}$/);
  const hostile = await h.call(`${app.url}/products?limit=1`, { headers: { 'x-request-id': 'a b;c' } });
  assert.notEqual(hostile.headers.get('x-request-id'), 'a b;c');
  const line = logger.lines.find((l) => l.request_id === 'abc-123');
  assert.deepEqual(
    { method: line.method, route: line.route, status: line.status },
    { method: 'GET', route: '/products', status: 200 },
  );
  assert.equal(typeof line.duration_ms, 'number');
});

test('metrics: request counts and latency by route template and status, plus process metrics', async () => {
  await h.call(`${app.url}/api/products/000000000000000000000000`);
  const r = await h.call(`${app.url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/plain/);
  assert.match(r.text, /http_requests_total\{method="GET",route="\/api\/products\/:id",status="404",service="product"\} \d+/);
  assert.match(r.text, /http_request_duration_seconds_bucket\{le="0.005",service="product",method="GET",route="\/products",status="200"\}/);
  assert.match(r.text, /process_cpu_user_seconds_total/);
  assert.match(r.text, /nodejs_heap_size_total_bytes/);
});

test('the database going away mid-request: 503, nothing written, ready turns 503, then recovers', async () => {
  const before = await db.collection('products').countDocuments();
  // The connection is cut exactly when the insert command travels to the database.
  proxy.cutOn('insert');
  const r = await h.call(`${app.url}/products`, { method: 'POST', body: { ...valid(), name: 'Half written?' } });
  assert.equal(r.status, 503, r.text);
  assert.equal(r.json.error.code, 'unavailable');
  const ready = await h.call(`${app.url}/ready`);
  assert.equal(ready.status, 503);
  assert.deepEqual(ready.json, { status: 'not ready' });
  const list = await h.call(`${app.url}/products`);
  assert.equal(list.status, 503);
  proxy.heal();
  let ok;
  for (let i = 0; i < 40; i += 1) {
    ok = await h.call(`${app.url}/ready`);
    if (ok.status === 200) break;
    await new Promise((r2) => setTimeout(r2, 250));
  }
  assert.equal(ok.status, 200);
  assert.equal(await db.collection('products').countDocuments(), before);
  assert.equal(await db.collection('products').countDocuments({ name: 'Half written?' }), 0);
});

test('the stand-in being killed: 503, and the data survives its restart', async () => {
  const before = await db.collection('products').countDocuments();
  await standin.kill();
  const r = await h.call(`${app.url}/products`, { method: 'POST', body: valid() });
  assert.equal(r.status, 503);
  standin = await h.startStandin({ port: standin.port, storagePath: standin.storagePath });
  assert.equal(await db.collection('products').countDocuments(), before);
});
