import { NavLink, Outlet } from "react-router";
import { useCart } from "../cart-context";

export function Layout() {
  const { count } = useCart();
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
              <NavLink to="/cart" aria-label={`Cart, ${count} ${count === 1 ? "item" : "items"}`}>
                Cart <span className="badge" data-testid="cart-count">{count}</span>
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
