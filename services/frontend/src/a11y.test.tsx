// Accessibility rules (axe-core) on every page, rendered with the fake API. jsdom computes no
// layout, so colour contrast is not checked here; names, labels, roles and structure are.
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import axe from "axe-core";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { FakeShop } from "./test/fakeShop";
import { renderApp } from "./test/render";

let shop: FakeShop;

beforeEach(() => {
  // axe probes <canvas> for icon fonts; jsdom has none and would log "not implemented".
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  shop = new FakeShop(12);
  shop.install();
});

async function violations(): Promise<string[]> {
  const result = await axe.run(document.body, { rules: { "color-contrast": { enabled: false } } });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

describe("accessibility", () => {
  it.each([
    ["/", "product-card"],
    ["/products", "product-card"],
    ["/cart", "cart-empty"],
    ["/orders", "orders-empty"],
    ["/no/such/page", null],
  ])("%s has no axe violations", async (path, testId) => {
    renderApp(path);
    if (testId) await screen.findAllByTestId(testId);
    expect(await violations()).toEqual([]);
  });

  it("the filled cart, checkout with errors and the confirmation have no axe violations", async () => {
    const user = userEvent.setup();
    renderApp("/products");
    await screen.findAllByTestId("product-card");
    await user.click(screen.getByRole("button", { name: "Add Runner 1 to cart" }));
    await waitFor(() => expect(screen.getByTestId("cart-count")).toHaveTextContent("1"));
    await user.click(screen.getByRole("link", { name: /^Cart/ }));
    await screen.findAllByTestId("cart-item");
    expect(await violations()).toEqual([]);

    await user.click(screen.getByRole("link", { name: "Proceed to checkout" }));
    await user.click(await screen.findByRole("button", { name: "Place order" }));
    await screen.findByText("Enter the name for the delivery.");
    expect(await violations()).toEqual([]);

    await user.type(screen.getByLabelText("Full name"), "Ada");
    await user.type(screen.getByLabelText("Address"), "1 Loop");
    await user.click(screen.getByRole("button", { name: "Place order" }));
    await screen.findByTestId("order-confirmation");
    expect(await violations()).toEqual([]);
  });

  it("the error state has no axe violations", async () => {
    shop.failNext = { match: /GET \/api\/products/, status: 503, code: "unavailable", message: "down" };
    renderApp("/products");
    await screen.findAllByRole("alert");
    expect(await violations()).toEqual([]);
  });
});
