import { Link } from "react-router";
import { listProducts } from "../api";
import { ProductCard } from "../components/ProductCard";
import { ErrorMessage, Loading } from "../components/Status";
import { useAsync } from "../useAsync";

const FEATURED = 4;

export function Home() {
  const featured = useAsync((signal) => listProducts({ limit: FEATURED }, signal), []);
  return (
    <>
      <section className="hero" aria-labelledby="hero-title">
        <h1 id="hero-title">Welcome to the techitfactory shop</h1>
        <p>Everything you need, delivered fast.</p>
        <Link className="button" to="/products" data-testid="shop-now">
          Browse the catalogue
        </Link>
      </section>
      <section aria-labelledby="featured-title">
        <h2 id="featured-title">Featured products</h2>
        {featured.loading && <Loading label="Loading featured products…" />}
        {featured.error && <ErrorMessage message={featured.error} onRetry={featured.retry} />}
        {featured.data && !featured.loading && (
          <div className="grid">
            {featured.data.items.map((product) => (
              <ProductCard key={product.id} product={product} />
            ))}
          </div>
        )}
      </section>
    </>
  );
}
