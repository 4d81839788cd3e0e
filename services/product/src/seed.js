'use strict';
// SEED_CATALOG=true: a small catalogue on an empty collection (4 categories, 12 products).
const { ObjectId } = require('mongodb');

const img = (slug) => `https://images.techitfactory.com/products/${slug}.jpg`;

const CATALOG = [
  ['Trail Running Shoes', 'Grippy outsole and a cushioned midsole for rough trails.', 8999, 40, 'shoes', 'trail-running-shoes'],
  ['Road Running Shoes', 'Light, breathable trainers for daily miles.', 7499, 55, 'shoes', 'road-running-shoes'],
  ['Leather Sneakers', 'Classic white sneakers in full-grain leather.', 6450, 30, 'shoes', 'leather-sneakers'],
  ['Merino T-Shirt', 'Soft merino wool tee that does not hold odours.', 3900, 80, 'clothing', 'merino-t-shirt'],
  ['Rain Jacket', 'Waterproof, windproof shell with taped seams.', 12900, 25, 'clothing', 'rain-jacket'],
  ['Running Shorts', 'Quick-dry shorts with a zipped pocket.', 2499, 60, 'clothing', 'running-shorts'],
  ['Daypack 20L', 'A 20 litre backpack with a padded laptop sleeve.', 5499, 35, 'bags', 'daypack-20l'],
  ['Duffel Bag 40L', 'Water-resistant duffel that packs flat.', 6999, 20, 'bags', 'duffel-bag-40l'],
  ['Running Belt', 'Bounce-free belt for phone and keys.', 1999, 90, 'bags', 'running-belt'],
  ['Insulated Bottle', 'Keeps drinks cold for 24 hours, 750 ml.', 2999, 100, 'accessories', 'insulated-bottle'],
  ['Sports Watch', 'GPS watch with heart-rate and 7-day battery.', 19999, 15, 'accessories', 'sports-watch'],
  ['Running Cap', 'Lightweight cap with a sweatband.', 1599, 70, 'accessories', 'running-cap'],
];

/** Insert the catalogue when the collection is empty; returns how many were inserted. */
async function seedCatalog(db) {
  const products = db.collection('products');
  if ((await products.estimatedDocumentCount()) > 0 || (await products.countDocuments({}, { limit: 1 })) > 0) return 0;
  const now = new Date();
  const docs = CATALOG.map(([name, description, priceCents, stock, category, slug]) => ({
    _id: new ObjectId(),
    name,
    description,
    priceCents,
    stock,
    category,
    imageUrl: img(slug),
    createdAt: now,
  }));
  await products.insertMany(docs, { ordered: true });
  return docs.length;
}

module.exports = { seedCatalog, CATALOG };
