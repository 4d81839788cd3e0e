import { useState } from "react";
import { describeError } from "../api";
import { useCart } from "../cart-context";
import { formatPrice } from "../money";
import type { Product } from "../types";

/** A product with its "Add to cart" button; `level` keeps the page's heading outline intact. */
export function ProductCard({ product, level = 3 }: { product: Product; level?: 2 | 3 }) {
  const Heading = level === 2 ? "h2" : "h3";
  const { add } = useCart();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const [imageBroken, setImageBroken] = useState(false);
  const outOfStock = product.stock <= 0;
  const headingId = `product-${product.id}-name`;

  async function onAdd() {
    setBusy(true);
    setMessage(null);
    try {
      await add(product.id, 1);
      setFailed(false);
      setMessage("Added to cart");
    } catch (err) {
      setFailed(true);
      setMessage(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <article className="card" aria-labelledby={headingId} data-testid="product-card" data-product-id={product.id}>
      {product.imageUrl && !imageBroken ? (
        <img src={product.imageUrl} alt={product.name} loading="lazy" onError={() => setImageBroken(true)} />
      ) : (
        <div className="placeholder" aria-hidden="true">
          {product.name.slice(0, 1)}
        </div>
      )}
      <Heading id={headingId} className="product-name">
        {product.name}
      </Heading>
      <p className="category">{product.category}</p>
      <p className="description">{product.description}</p>
      <p className="price" data-testid="product-price">
        {formatPrice(product.price)}
      </p>
      <button
        type="button"
        onClick={onAdd}
        disabled={busy || outOfStock}
        aria-label={`Add ${product.name} to cart`}
        data-testid="add-to-cart"
      >
        {outOfStock ? "Out of stock" : busy ? "Adding…" : "Add to cart"}
      </button>
      <p className={failed ? "inline-error" : "inline-ok"} role={failed ? "alert" : "status"} aria-live="polite">
        {message}
      </p>
    </article>
  );
}
