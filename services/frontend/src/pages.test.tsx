import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { sessionId } from "./session";
import { FakeShop } from "./test/fakeShop";
import { renderApp } from "./test/render";

let shop: FakeShop;

beforeEach(() => {
  shop = new FakeShop(12);
  shop.install();
});

describe("homepage", () => {
  it("shows featured products and a link to the catalogue", async () => {
    renderApp("/");
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent(/welcome/i);
    expect(await screen.findAllByTestId("product-card")).toHaveLength(4);
    expect(screen.getByRole("link", { name: /browse the catalogue/i })).toHaveAttribute("href", "/products");
  });

  it("shows an error with a retry when the product API is down", async () => {
    shop.failNext = { match: /GET \/api\/products/, status: 503, code: "unavailable", message: "db down" };
    renderApp("/");
    expect(await screen.findByRole("alert")).toHaveTextContent(/temporarily unavailable/);
    await userEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findAllByTestId("product-card")).toHaveLength(4);
  });
});

describe("catalogue", () => {
  it("shows a loading state, then a page of products with pagination", async () => {
    shop.delay = 20;
    renderApp("/products");
    expect(screen.getByTestId("loading")).toBeInTheDocument();
    expect(await screen.findAllByTestId("product-card")).toHaveLength(8);
    expect(screen.getByTestId("result-count")).toHaveTextContent("12 products");
    expect(screen.getByTestId("page-indicator")).toHaveTextContent("Page 1 of 2");
    await userEvent.click(screen.getByRole("button", { name: "Next page" }));
    await waitFor(() => expect(screen.getByTestId("page-indicator")).toHaveTextContent("Page 2 of 2"));
    expect(await screen.findAllByTestId("product-card")).toHaveLength(4);
    expect(screen.getByRole("button", { name: "Next page" })).toBeDisabled();
  });

  it("filters by category and searches by name", async () => {
    renderApp("/products");
    await screen.findAllByTestId("product-card");
    const select = screen.getByLabelText("Category");
    await waitFor(() => expect(within(select).getAllByRole("option")).toHaveLength(4));
    await userEvent.selectOptions(select, "shoes");
    await waitFor(() => expect(screen.getByTestId("result-count")).toHaveTextContent("4 products in shoes"));
    expect(shop.calls.some((c) => c.path.includes("category=shoes"))).toBe(true);

    await userEvent.type(screen.getByLabelText("Search by name"), "Runner 1");
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(() => expect(screen.getByTestId("result-count")).toHaveTextContent(/matching “Runner 1”/));
    expect(screen.getAllByTestId("product-card").map((c) => c.querySelector(".product-name")?.textContent)).toEqual([
      "Runner 1",
      "Runner 10",
    ]);
  });

  it("never shows the previous results under a new query while loading", async () => {
    renderApp("/products");
    await screen.findAllByTestId("product-card");
    shop.delay = 50;
    await userEvent.type(screen.getByLabelText("Search by name"), "Runner 1");
    await userEvent.click(screen.getByRole("button", { name: "Search" }));
    expect(screen.queryByTestId("result-count")).toBeNull();
    expect(screen.queryAllByTestId("product-card")).toHaveLength(0);
    expect(screen.getByTestId("loading")).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId("result-count")).toHaveTextContent("2 products matching"));
  });

  it("says so when nothing matches", async () => {
    renderApp("/products?q=nothing-like-this");
    expect(await screen.findByTestId("no-results")).toBeInTheDocument();
  });

  it("adds to the cart with the session's X-User-Id and updates the header count", async () => {
    renderApp("/products");
    await screen.findAllByTestId("product-card");
    await userEvent.click(screen.getByRole("button", { name: "Add Runner 1 to cart" }));
    await waitFor(() => expect(screen.getByTestId("cart-count")).toHaveTextContent("1"));
    const post = shop.calls.find((c) => c.method === "POST");
    expect(post?.headers["x-user-id"]).toBe(sessionId());
    expect(post?.body).toEqual({ productId: shop.products[0].id, quantity: 1 });
    expect(screen.getByRole("link", { name: "Cart, 1 item" })).toBeInTheDocument();
  });

  it("disables out-of-stock products and shows an add error next to the product", async () => {
    renderApp("/products");
    await screen.findAllByTestId("product-card");
    expect(screen.getByRole("button", { name: "Add Item 3 to cart" })).toBeDisabled();
    shop.failNext = { match: /POST \/api\/cart/, status: 404, code: "not_found", message: "product not found" };
    await userEvent.click(screen.getByRole("button", { name: "Add Item 2 to cart" }));
    expect(await screen.findByText("product not found")).toHaveAttribute("role", "alert");
  });
});

async function cartWithTwo() {
  const user = userEvent.setup();
  renderApp("/products");
  await screen.findAllByTestId("product-card");
  await user.click(screen.getByRole("button", { name: "Add Runner 1 to cart" }));
  await waitFor(() => expect(screen.getByTestId("cart-count")).toHaveTextContent("1"));
  await user.click(screen.getByRole("button", { name: "Add Item 2 to cart" }));
  await waitFor(() => expect(screen.getByTestId("cart-count")).toHaveTextContent("2"));
  await user.click(screen.getByRole("link", { name: /^Cart/ }));
  await screen.findAllByTestId("cart-item");
  return user;
}

describe("cart", () => {
  it("shows the empty cart", async () => {
    renderApp("/cart");
    expect(await screen.findByTestId("cart-empty")).toBeInTheDocument();
  });

  it("changes a quantity with the button and the input, and removes an item", async () => {
    const user = await cartWithTwo();
    expect(screen.getByTestId("cart-total")).toHaveTextContent("$22.98");

    await user.click(screen.getByRole("button", { name: "Increase quantity of Runner 1" }));
    await waitFor(() => expect(screen.getByTestId("cart-total")).toHaveTextContent("$33.97"));

    const input = screen.getByLabelText("Quantity of Item 2");
    await user.clear(input);
    await user.type(input, "3{Enter}");
    await waitFor(() => expect(screen.getByTestId("cart-total")).toHaveTextContent("$57.95"));
    expect(shop.calls.filter((c) => c.method === "PATCH").map((c) => c.body)).toEqual([
      { quantity: 2 },
      { quantity: 3 },
    ]);
    expect(screen.getByTestId("cart-count")).toHaveTextContent("5");

    await user.click(screen.getByRole("button", { name: "Remove Runner 1 from cart" }));
    await waitFor(() => expect(screen.getAllByTestId("cart-item")).toHaveLength(1));
    expect(screen.getByTestId("cart-total")).toHaveTextContent("$35.97");
  });

  it("refuses a quantity outside 1..99 without calling the API", async () => {
    const user = await cartWithTwo();
    const input = screen.getByLabelText("Quantity of Item 2");
    await user.clear(input);
    await user.type(input, "100{Enter}");
    expect(await screen.findByText(/from 1 to 99/)).toHaveAttribute("role", "alert");
    expect(shop.calls.some((c) => c.method === "PATCH")).toBe(false);
    expect(input).toHaveValue(1);
  });

  it("shows the API's error when an update fails", async () => {
    const user = await cartWithTwo();
    shop.failNext = { match: /PATCH/, status: 503, code: "unavailable", message: "db down" };
    await user.click(screen.getByRole("button", { name: "Increase quantity of Runner 1" }));
    expect(await screen.findByText(/temporarily unavailable/)).toBeInTheDocument();
    expect(screen.getByTestId("cart-total")).toHaveTextContent("$22.98");
  });
});

describe("checkout", () => {
  it("validates the shipping fields", async () => {
    const user = await cartWithTwo();
    await user.click(screen.getByRole("link", { name: "Proceed to checkout" }));
    await user.click(await screen.findByRole("button", { name: "Place order" }));
    expect(screen.getByText("Enter the name for the delivery.")).toBeInTheDocument();
    expect(screen.getByLabelText("Full name")).toHaveAttribute("aria-invalid", "true");
    expect(shop.calls.some((c) => c.path === "/api/orders")).toBe(false);
  });

  it("places one order on a double click and shows the confirmation", async () => {
    const user = await cartWithTwo();
    await user.click(screen.getByRole("link", { name: "Proceed to checkout" }));
    await user.type(await screen.findByLabelText("Full name"), "Ada Lovelace");
    await user.type(screen.getByLabelText("Address"), "12 Analytical Row, London");
    shop.delay = 30;
    await user.dblClick(screen.getByRole("button", { name: "Place order" }));
    const confirmation = await screen.findByTestId("order-confirmation");
    const posts = shop.calls.filter((c) => c.method === "POST" && c.path === "/api/orders");
    expect(posts).toHaveLength(1);
    expect(posts[0].headers["idempotency-key"]).toMatch(/^order_[0-9a-f]{32}$/);
    expect(posts[0].body).toEqual({ shipping: { name: "Ada Lovelace", address: "12 Analytical Row, London" } });
    expect(shop.orders).toHaveLength(1);
    expect(within(confirmation).getByTestId("order-id")).toHaveTextContent(shop.orders[0].id);
    expect(within(confirmation).getByTestId("order-total")).toHaveTextContent("$22.98");
    expect(screen.getByTestId("cart-count")).toHaveTextContent("0");
  });

  it("retries a failed order with the same Idempotency-Key", async () => {
    const user = await cartWithTwo();
    await user.click(screen.getByRole("link", { name: "Proceed to checkout" }));
    await user.type(await screen.findByLabelText("Full name"), "Ada");
    await user.type(screen.getByLabelText("Address"), "1 Loop");
    shop.failNext = { match: /POST \/api\/orders/, status: 502, code: "upstream_failed", message: "cart down" };
    await user.click(screen.getByRole("button", { name: "Place order" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/did not answer/);
    await user.click(screen.getByRole("button", { name: "Place order" }));
    await screen.findByTestId("order-confirmation");
    const keys = shop.calls.filter((c) => c.path === "/api/orders").map((c) => c.headers["idempotency-key"]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it("loads an order confirmation from its link", async () => {
    const user = await cartWithTwo();
    await user.click(screen.getByRole("link", { name: "Proceed to checkout" }));
    await user.type(await screen.findByLabelText("Full name"), "Ada");
    await user.type(screen.getByLabelText("Address"), "1 Loop");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    await screen.findByTestId("order-confirmation");
    const id = shop.orders[0].id;
    document.body.innerHTML = "";
    renderApp(`/orders/${id}`);
    expect(await screen.findByTestId("order-id")).toHaveTextContent(id);
    expect(shop.calls.some((c) => c.method === "GET" && c.path === `/api/orders/${id}`)).toBe(true);
  });

  it("shows not found for another user's order", async () => {
    renderApp("/orders/ffffffffffffffffffffffff");
    expect(await screen.findByRole("alert")).toHaveTextContent("order not found");
  });
});

describe("orders", () => {
  it("lists the session's orders with links to each", async () => {
    const user = await cartWithTwo();
    await user.click(screen.getByRole("link", { name: "Proceed to checkout" }));
    await user.type(await screen.findByLabelText("Full name"), "Ada");
    await user.type(screen.getByLabelText("Address"), "1 Loop");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    await screen.findByTestId("order-confirmation");
    await user.click(screen.getByRole("link", { name: "Orders" }));
    const rows = await screen.findAllByTestId("order-row");
    expect(rows).toHaveLength(1);
    expect(within(rows[0]).getByRole("link", { name: shop.orders[0].id })).toHaveAttribute(
      "href",
      `/orders/${shop.orders[0].id}`,
    );
    expect(rows[0]).toHaveTextContent("$22.98");
  });

  it("says when there are none", async () => {
    renderApp("/orders");
    expect(await screen.findByTestId("orders-empty")).toBeInTheDocument();
  });
});

describe("header", () => {
  it("hides the cart count while the cart API is down", async () => {
    shop.failNext = { match: /GET \/api\/cart/, status: 503, code: "unavailable", message: "db down" };
    renderApp("/");
    await screen.findAllByTestId("product-card");
    expect(screen.getByTestId("cart-count")).not.toBeVisible();
    expect(screen.getByRole("link", { name: "Cart" })).toBeInTheDocument();
  });
});

describe("routing", () => {
  it("has a not-found page", () => {
    renderApp("/no/such/page");
    expect(screen.getByRole("heading", { name: "Page not found" })).toBeInTheDocument();
  });
});
