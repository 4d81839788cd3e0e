import { useRef, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { describeError, placeOrder } from "../api";
import { useCart } from "../cart-context";
import { ErrorMessage, Loading } from "../components/Status";
import { formatPrice } from "../money";
import { newId } from "../session";

const NAME_MAX = 200;
const ADDRESS_MAX = 500;

export function Checkout() {
  const { cart, loading, error: cartError, reload, clear } = useCart();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [address, setAddress] = useState("");
  const [errors, setErrors] = useState<{ name?: string; address?: string }>({});
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  // One key per checkout: a double click, or a retry after a lost answer, reuses it, and the
  // order API returns the first order instead of making a second one.
  const idempotencyKey = useRef(newId("order"));
  // A second click can arrive before React re-renders the disabled button.
  const inFlight = useRef(false);

  function validate(): boolean {
    const next: { name?: string; address?: string } = {};
    if (!name.trim()) next.name = "Enter the name for the delivery.";
    if (!address.trim()) next.address = "Enter the delivery address.";
    setErrors(next);
    return Object.keys(next).length === 0;
  }

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (inFlight.current || !validate()) return;
    inFlight.current = true;
    setSubmitting(true);
    setSubmitError(null);
    try {
      const order = await placeOrder({ name: name.trim(), address: address.trim() }, idempotencyKey.current);
      clear();
      navigate(`/orders/${order.id}`, { state: { order } });
    } catch (err) {
      setSubmitError(describeError(err));
      inFlight.current = false;
      setSubmitting(false);
    }
  }

  if (loading && !cart) return <Loading label="Loading your cart…" />;
  if (cartError && !cart) return <ErrorMessage message={cartError} onRetry={() => void reload()} />;
  if (!cart || cart.items.length === 0) {
    return (
      <section aria-labelledby="checkout-title">
        <h1 id="checkout-title">Checkout</h1>
        <p data-testid="cart-empty">
          Your cart is empty. <Link to="/products">Browse the catalogue</Link>.
        </p>
      </section>
    );
  }

  return (
    <section aria-labelledby="checkout-title">
      <h1 id="checkout-title">Checkout</h1>
      <div className="checkout">
        <form onSubmit={onSubmit} noValidate aria-describedby={submitError ? "submit-error" : undefined}>
          <fieldset disabled={submitting}>
            <legend>Shipping</legend>
            <label htmlFor="ship-name">Full name</label>
            <input
              id="ship-name"
              name="name"
              autoComplete="name"
              required
              maxLength={NAME_MAX}
              value={name}
              aria-invalid={Boolean(errors.name)}
              aria-describedby={errors.name ? "ship-name-error" : undefined}
              onChange={(e) => setName(e.target.value)}
              data-testid="shipping-name"
            />
            {errors.name && (
              <p id="ship-name-error" className="inline-error">
                {errors.name}
              </p>
            )}
            <label htmlFor="ship-address">Address</label>
            <textarea
              id="ship-address"
              name="address"
              autoComplete="street-address"
              required
              rows={3}
              maxLength={ADDRESS_MAX}
              value={address}
              aria-invalid={Boolean(errors.address)}
              aria-describedby={errors.address ? "ship-address-error" : undefined}
              onChange={(e) => setAddress(e.target.value)}
              data-testid="shipping-address"
            />
            {errors.address && (
              <p id="ship-address-error" className="inline-error">
                {errors.address}
              </p>
            )}
          </fieldset>
          {submitError && (
            <div id="submit-error">
              <ErrorMessage message={submitError} />
            </div>
          )}
          <button type="submit" disabled={submitting} data-testid="place-order">
            {submitting ? "Placing order…" : "Place order"}
          </button>
        </form>
        <aside aria-labelledby="summary-title" className="order-summary">
          <h2 id="summary-title">Order summary</h2>
          <ul>
            {cart.items.map((item) => (
              <li key={item.id}>
                {item.quantity} × {item.name} <span>{formatPrice(item.lineTotal)}</span>
              </li>
            ))}
          </ul>
          <p>
            Total: <strong data-testid="checkout-total">{formatPrice(cart.total)}</strong>
          </p>
        </aside>
      </div>
    </section>
  );
}
