import { Link } from "react-router";

export function NotFound() {
  return (
    <section aria-labelledby="nf-title">
      <h1 id="nf-title">Page not found</h1>
      <p>
        There is nothing here. <Link to="/">Back to the shop</Link>.
      </p>
    </section>
  );
}
