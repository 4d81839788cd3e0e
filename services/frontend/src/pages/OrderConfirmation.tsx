import { Link, useLocation, useParams } from "react-router";
import { getOrder } from "../api";
import { ErrorMessage, Loading } from "../components/Status";
import { formatPrice } from "../money";
import type { Order } from "../types";
import { useAsync } from "../useAsync";

export function OrderConfirmation() {
  const { id = "" } = useParams();
  const location = useLocation();
  // Checkout hands over the order it just made; a reload or a shared link fetches it.
  const handed = (location.state as { order?: Order } | null)?.order;
  const fetched = useAsync(
    (signal) => (handed && handed.id === id ? Promise.resolve(handed) : getOrder(id, signal)),
    [id],
  );

  if (fetched.loading) return <Loading label="Loading your order…" />;
  if (fetched.error || !fetched.data) {
    return <ErrorMessage message={fetched.error ?? "Order not found."} onRetry={fetched.retry} />;
  }
  const order = fetched.data;
  return (
    <section aria-labelledby="order-title" data-testid="order-confirmation">
      <h1 id="order-title">Thank you for your order</h1>
      <p>
        Order number <strong data-testid="order-id">{order.id}</strong> is {order.status}.
      </p>
      <table className="cart-table">
        <caption className="visually-hidden">Items in your order</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Quantity</th>
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {order.items.map((item) => (
            <tr key={item.id} data-testid="order-item">
              <th scope="row">{item.name}</th>
              <td>{item.quantity}</td>
              <td>{formatPrice(item.lineTotal)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="cart-total">
        Order total: <strong data-testid="order-total">{formatPrice(order.total)}</strong>
      </p>
      <Link to="/products">Continue shopping</Link>
    </section>
  );
}
