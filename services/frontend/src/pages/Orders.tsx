import { Link } from "react-router";
import { listOrders } from "../api";
import { ErrorMessage, Loading } from "../components/Status";
import { formatPrice } from "../money";
import { useAsync } from "../useAsync";

const dateFormat = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short" });

/** The session's orders, newest first (GET /api/orders). */
export function Orders() {
  const orders = useAsync((signal) => listOrders(signal), []);
  return (
    <section aria-labelledby="orders-title">
      <h1 id="orders-title">Your orders</h1>
      {orders.loading && <Loading label="Loading your orders…" />}
      {orders.error && <ErrorMessage message={orders.error} onRetry={orders.retry} />}
      {orders.data && orders.data.items.length === 0 && (
        <p data-testid="orders-empty">
          No orders yet. <Link to="/products">Browse the catalogue</Link>.
        </p>
      )}
      {orders.data && orders.data.items.length > 0 && (
        <table className="cart-table">
          <caption className="visually-hidden">Your orders, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Placed</th>
              <th scope="col">Items</th>
              <th scope="col">Total</th>
            </tr>
          </thead>
          <tbody>
            {orders.data.items.map((order) => (
              <tr key={order.id} data-testid="order-row">
                <th scope="row">
                  <Link to={`/orders/${order.id}`}>{order.id}</Link>
                </th>
                <td>{dateFormat.format(new Date(order.createdAt))}</td>
                <td>{order.items.reduce((n, item) => n + item.quantity, 0)}</td>
                <td>{formatPrice(order.total)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
