import { useEffect, useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { listProducts } from "../api";
import { ProductCard } from "../components/ProductCard";
import { ErrorMessage, Loading } from "../components/Status";
import { useAsync } from "../useAsync";

export const PAGE_SIZE = 8;
// The API has no categories endpoint: the filter offers the categories of the first 100
// products (the largest page the API serves), which covers the bundled catalogue.
const CATEGORY_SAMPLE = 100;

function positiveInt(value: string | null, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function Catalog() {
  const [params, setParams] = useSearchParams();
  const page = positiveInt(params.get("page"), 1);
  const category = params.get("category") ?? "";
  const q = params.get("q") ?? "";
  const [search, setSearch] = useState(q);
  useEffect(() => setSearch(q), [q]);

  const products = useAsync(
    (signal) => listProducts({ page, limit: PAGE_SIZE, category: category || undefined, q: q || undefined }, signal),
    [page, category, q],
  );
  const categories = useAsync(async (signal) => {
    const sample = await listProducts({ limit: CATEGORY_SAMPLE }, signal);
    return Array.from(new Set(sample.items.map((p) => p.category))).sort();
  }, []);

  function update(next: { page?: number; category?: string; q?: string }) {
    const merged = { page, category, q, ...next };
    const out = new URLSearchParams();
    if (merged.category) out.set("category", merged.category);
    if (merged.q) out.set("q", merged.q);
    if (merged.page > 1) out.set("page", String(merged.page));
    setParams(out);
  }

  function onSearch(event: FormEvent) {
    event.preventDefault();
    update({ q: search.trim(), page: 1 });
  }

  const data = products.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / (data.limit || PAGE_SIZE))) : 1;

  return (
    <section aria-labelledby="catalog-title">
      <h1 id="catalog-title">Product catalogue</h1>
      <div className="filters">
        <form role="search" onSubmit={onSearch} aria-label="Search products">
          <label htmlFor="search">Search by name</label>
          <input
            id="search"
            type="search"
            value={search}
            maxLength={100}
            onChange={(e) => setSearch(e.target.value)}
            data-testid="search-input"
          />
          <button type="submit">Search</button>
        </form>
        <div>
          <label htmlFor="category">Category</label>
          <select
            id="category"
            value={category}
            onChange={(e) => update({ category: e.target.value, page: 1 })}
            data-testid="category-select"
          >
            <option value="">All categories</option>
            {(categories.data ?? []).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
            {category && !(categories.data ?? []).includes(category) && <option value={category}>{category}</option>}
          </select>
        </div>
      </div>

      {products.loading && <Loading label="Loading products…" />}
      {products.error && <ErrorMessage message={products.error} onRetry={products.retry} />}
      {data && !products.loading && !products.error && (
        <>
          <p className="summary" aria-live="polite" data-testid="result-count">
            {data.total === 1 ? "1 product" : `${data.total} products`}
            {q && ` matching “${q}”`}
            {category && ` in ${category}`}
          </p>
          {data.items.length === 0 ? (
            <p data-testid="no-results">No products found. Try another search or category.</p>
          ) : (
            <div className="grid" data-testid="product-grid">
              {data.items.map((product) => (
                <ProductCard key={product.id} product={product} level={2} />
              ))}
            </div>
          )}
          {pages > 1 && (
            <nav className="pagination" aria-label="Pagination">
              <button type="button" onClick={() => update({ page: page - 1 })} disabled={page <= 1}>
                Previous page
              </button>
              <span aria-current="page" data-testid="page-indicator">
                Page {page} of {pages}
              </span>
              <button type="button" onClick={() => update({ page: page + 1 })} disabled={page >= pages}>
                Next page
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}
