import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, describeError, getCart, listProducts, placeOrder, request } from "./api";
import { sessionId } from "./session";

function answer(status: number, body: string | null, type = "application/json") {
  return vi.fn(
    async (_url: string, _init?: RequestInit) =>
      new Response(body, { status, headers: { "Content-Type": type } }),
  );
}

describe("request", () => {
  afterEach(() => vi.useRealTimers());

  it("sends X-User-Id and JSON, and parses the answer", async () => {
    const fetchMock = answer(200, JSON.stringify({ userId: "u", items: [], total: 0 }));
    vi.stubGlobal("fetch", fetchMock);
    const cart = await getCart();
    expect(cart.total).toBe(0);
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe("/api/cart");
    expect((init.headers as Record<string, string>)["X-User-Id"]).toBe(sessionId());
  });

  it("builds the product query string", async () => {
    const fetchMock = answer(200, JSON.stringify({ items: [], page: 2, limit: 8, total: 0 }));
    vi.stubGlobal("fetch", fetchMock);
    await listProducts({ page: 2, limit: 8, category: "shoes & socks", q: "run" });
    expect(fetchMock.mock.calls[0][0]).toBe("/api/products?page=2&limit=8&category=shoes+%26+socks&q=run");
  });

  it("sends the Idempotency-Key with an order", async () => {
    const fetchMock = answer(201, JSON.stringify({ id: "o1" }));
    vi.stubGlobal("fetch", fetchMock);
    await placeOrder({ name: "Ada", address: "1 Loop" }, "order_key");
    const init = fetchMock.mock.calls[0][1] as RequestInit;
    expect((init.headers as Record<string, string>)["Idempotency-Key"]).toBe("order_key");
    expect(init.method).toBe("POST");
    expect(JSON.parse(init.body as string)).toEqual({ shipping: { name: "Ada", address: "1 Loop" } });
  });

  it("turns the contract's error body into an ApiError naming the field", async () => {
    vi.stubGlobal(
      "fetch",
      answer(404, JSON.stringify({ error: { code: "not_found", message: "product not found", field: "productId" } })),
    );
    const err = await request("/api/cart").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: "not_found", field: "productId", message: "product not found" });
  });

  it("copes with a non-JSON error page (a proxy's 502)", async () => {
    vi.stubGlobal("fetch", answer(502, "<html>Bad Gateway</html>", "text/html"));
    const err = await request("/api/cart").catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502, code: "http_error" });
    expect(describeError(err)).toMatch(/did not answer/);
  });

  it("rejects a 200 whose body is not JSON", async () => {
    vi.stubGlobal("fetch", answer(200, "<html>index</html>", "text/html"));
    await expect(request("/api/cart")).rejects.toMatchObject({ code: "invalid_response" });
  });

  it("says the shop is unavailable on 503 and unreachable on a network error", async () => {
    const unavailable = new ApiError(503, "unavailable", "database unavailable");
    expect(describeError(unavailable)).toMatch(/temporarily unavailable/);
    expect(describeError(new TypeError("Failed to fetch"))).toMatch(/Could not reach/);
  });

  it("gives up after its timeout", async () => {
    vi.useFakeTimers();
    vi.stubGlobal(
      "fetch",
      vi.fn(
        (_url: string, init: RequestInit) =>
          new Promise((_resolve, reject) => {
            init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
          }),
      ),
    );
    const pending = request("/api/cart").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(15_001);
    const err = await pending;
    expect(describeError(err)).toMatch(/too long/);
  });
});
