import { NavLink, Outlet } from "react-router";
import { useCart } from "../cart-context";

export function Layout() {
  const { cart, count } = useCart();
  // Until the cart has loaded (or while the cart API is down) the count is unknown, not 0.
  const known = cart !== null;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <NavLink to="/" className="brand" end>
          techitfactory
        </NavLink>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Home
              </NavLink>
            </li>
            <li>
              <NavLink to="/products">Products</NavLink>
            </li>
            <li>
              <NavLink to="/orders" end>
                Orders
              </NavLink>
            </li>
            <li>
              <NavLink to="/cart" aria-label={known ? `Cart, ${count} ${count === 1 ? "item" : "items"}` : "Cart"}>
                Cart{" "}
                <span className="badge" data-testid="cart-count" hidden={!known}>
                  {count}
                </span>
              </NavLink>
            </li>
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
      <footer className="site-footer">
        <p>techitfactory shop</p>
      </footer>
    </>
  );
}
