import { useEffect, useState, type KeyboardEvent } from "react";
import { Link } from "react-router";
import { describeError, MAX_QUANTITY } from "../api";
import { useCart } from "../cart-context";
import { ErrorMessage, Loading } from "../components/Status";
import { formatPrice } from "../money";
import type { CartItem } from "../types";

function CartRow({ item }: { item: CartItem }) {
  const { update, remove } = useCart();
  const [draft, setDraft] = useState(String(item.quantity));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setDraft(String(item.quantity)), [item.quantity]);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(describeError(err));
      setDraft(String(item.quantity));
    } finally {
      setBusy(false);
    }
  }

  function commit(quantity: number) {
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
      setError(`Quantity must be a whole number from 1 to ${MAX_QUANTITY}.`);
      setDraft(String(item.quantity));
      return;
    }
    if (quantity === item.quantity) return;
    void run(() => update(item.id, quantity));
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "Enter") commit(Number(draft));
  }

  const inputId = `qty-${item.id}`;
  return (
    <tr data-testid="cart-item" data-product-id={item.productId}>
      <th scope="row">{item.name}</th>
      <td>{formatPrice(item.price)}</td>
      <td>
        <div className="quantity">
          <button
            type="button"
            aria-label={`Decrease quantity of ${item.name}`}
            disabled={busy || item.quantity <= 1}
            onClick={() => commit(item.quantity - 1)}
          >
            −
          </button>
          <label htmlFor={inputId} className="visually-hidden">
            Quantity of {item.name}
          </label>
          <input
            id={inputId}
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_QUANTITY}
            value={draft}
            disabled={busy}
            onChange={(e) => setDraft(e.target.value)}
            onBlur={() => commit(Number(draft))}
            onKeyDown={onKeyDown}
            data-testid="quantity-input"
          />
          <button
            type="button"
            aria-label={`Increase quantity of ${item.name}`}
            disabled={busy || item.quantity >= MAX_QUANTITY}
            onClick={() => commit(item.quantity + 1)}
            data-testid="increase-quantity"
          >
            +
          </button>
        </div>
        {error && (
          <p className="inline-error" role="alert">
            {error}
          </p>
        )}
      </td>
      <td data-testid="line-total">{formatPrice(item.lineTotal)}</td>
      <td>
        <button
          type="button"
          className="link-button"
          aria-label={`Remove ${item.name} from cart`}
          disabled={busy}
          onClick={() => void run(() => remove(item.id))}
          data-testid="remove-item"
        >
          Remove
        </button>
      </td>
    </tr>
  );
}

export function CartPage() {
  const { cart, loading, error, reload } = useCart();

  return (
    <section aria-labelledby="cart-title">
      <h1 id="cart-title">Your cart</h1>
      {loading && !cart && <Loading label="Loading your cart…" />}
      {error && <ErrorMessage message={error} onRetry={() => void reload()} />}
      {cart && cart.items.length === 0 && (
        <p data-testid="cart-empty">
          Your cart is empty. <Link to="/products">Browse the catalogue</Link>.
        </p>
      )}
      {cart && cart.items.length > 0 && (
        <>
          <table className="cart-table">
            <caption className="visually-hidden">Items in your cart</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Price</th>
                <th scope="col">Quantity</th>
                <th scope="col">Total</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {cart.items.map((item) => (
                <CartRow key={item.id} item={item} />
              ))}
            </tbody>
          </table>
          <p className="cart-total">
            Total: <strong data-testid="cart-total">{formatPrice(cart.total)}</strong>
          </p>
          <Link className="button" to="/checkout" data-testid="go-to-checkout">
            Proceed to checkout
          </Link>
        </>
      )}
    </section>
  );
}
