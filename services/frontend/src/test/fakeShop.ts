// An in-memory shop that answers `fetch` the way docs/services-api.md says the real APIs do,
// so the pages can be tested in jsdom. The real services are exercised by the end-to-end test
// (tests/services/test_e2e_shop.py); this double keeps the contract's shapes and error bodies.
import type { Cart, Order, Product } from "../types";

export interface RecordedCall {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

function product(n: number, category: string, price: number): Product {
  return {
    id: n.toString(16).padStart(24, "0"),
    name: `${category === "shoes" ? "Runner" : "Item"} ${n}`,
    description: `Description ${n}`,
    price,
    stock: n === 3 ? 0 : 10,
    category,
    imageUrl: "",
  };
}

export class FakeShop {
  products: Product[];
  carts = new Map<string, Cart>();
  orders: Order[] = [];
  calls: RecordedCall[] = [];
  /** Status to answer the next matching request with, for fault injection. */
  failNext: { match: RegExp; status: number; code: string; message: string; field?: string } | null = null;
  /** Delay before each answer (ms), to observe loading states and double clicks. */
  delay = 0;
  private nextItem = 1;
  private nextOrder = 1;

  constructor(count = 12) {
    this.products = Array.from({ length: count }, (_, i) =>
      product(i + 1, ["shoes", "books", "toys"][i % 3], 10 + i + 0.99),
    );
  }

  install(): void {
    globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) =>
      this.handle(String(input), init ?? {})) as typeof fetch;
  }

  private json(status: number, body: unknown): Response {
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { "Content-Type": "application/json" },
    });
  }

  private error(status: number, code: string, message: string, field: string | null = null): Response {
    return this.json(status, { error: { code, message, field } });
  }

  private cartOf(user: string): Cart {
    let cart = this.carts.get(user);
    if (!cart) {
      cart = { userId: user, items: [], total: 0 };
      this.carts.set(user, cart);
    }
    return cart;
  }

  private reprice(cart: Cart): Cart {
    let cents = 0;
    for (const item of cart.items) {
      const line = Math.round(item.price * 100) * item.quantity;
      item.lineTotal = line / 100;
      cents += line;
    }
    cart.total = cents / 100;
    return structuredClone(cart);
  }

  async handle(url: string, init: RequestInit): Promise<Response> {
    const method = (init.method ?? "GET").toUpperCase();
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    const parsed = new URL(url, "http://shop.test");
    this.calls.push({ method, path: parsed.pathname + parsed.search, headers, body });
    if (this.delay) await new Promise((r) => setTimeout(r, this.delay));
    if (init.signal?.aborted) throw new DOMException("aborted", "AbortError");

    if (this.failNext && this.failNext.match.test(`${method} ${parsed.pathname}`)) {
      const f = this.failNext;
      this.failNext = null;
      return this.error(f.status, f.code, f.message, f.field ?? null);
    }

    const path = parsed.pathname;
    if (method === "GET" && path === "/api/products") {
      const page = Number(parsed.searchParams.get("page") ?? 1);
      const limit = Number(parsed.searchParams.get("limit") ?? 20);
      const category = parsed.searchParams.get("category");
      const q = parsed.searchParams.get("q")?.toLowerCase();
      const all = this.products.filter(
        (p) => (!category || p.category === category) && (!q || p.name.toLowerCase().includes(q)),
      );
      return this.json(200, { items: all.slice((page - 1) * limit, page * limit), page, limit, total: all.length });
    }

    const user = headers["x-user-id"];
    if (path.startsWith("/api/cart") || path.startsWith("/api/orders")) {
      if (!user || !/^[A-Za-z0-9_-]{1,64}$/.test(user)) {
        return this.error(400, "validation_failed", "X-User-Id header is required", "X-User-Id");
      }
    }
    if (path === "/api/cart" && method === "GET") return this.json(200, this.reprice(this.cartOf(user)));
    if (path === "/api/cart" && method === "POST") {
      const { productId, quantity } = body as { productId: string; quantity: number };
      const p = this.products.find((x) => x.id === productId);
      if (!p) return this.error(404, "not_found", "product not found", "productId");
      const cart = this.cartOf(user);
      const existing = cart.items.find((i) => i.productId === productId);
      if (existing) existing.quantity = Math.min(99, existing.quantity + quantity);
      else
        cart.items.push({
          id: `item${this.nextItem++}`,
          productId,
          name: p.name,
          price: p.price,
          quantity,
          lineTotal: 0,
        });
      return this.json(201, this.reprice(cart));
    }
    const itemMatch = /^\/api\/cart\/([^/]+)$/.exec(path);
    if (itemMatch) {
      const cart = this.cartOf(user);
      const item = cart.items.find((i) => i.id === decodeURIComponent(itemMatch[1]));
      if (!item) return this.error(404, "not_found", "item not in your cart", "itemId");
      if (method === "PATCH") {
        const quantity = (body as { quantity: unknown }).quantity;
        if (typeof quantity !== "number" || quantity < 1 || quantity > 99) {
          return this.error(400, "validation_failed", "quantity must be an integer from 1 to 99", "quantity");
        }
        item.quantity = quantity;
        return this.json(200, this.reprice(cart));
      }
      if (method === "DELETE") {
        cart.items = cart.items.filter((i) => i !== item);
        return this.json(200, this.reprice(cart));
      }
    }
    if (path === "/api/orders" && method === "POST") {
      const key = headers["idempotency-key"];
      const previous = key && this.orders.find((o) => o.userId === user && (o as Order & { key?: string }).key === key);
      if (previous) return this.json(200, previous);
      const cart = this.reprice(this.cartOf(user));
      if (cart.items.length === 0) return this.error(400, "validation_failed", "cart is empty", "cart");
      const order: Order & { key?: string } = {
        id: (0xabc000 + this.nextOrder++).toString(16).padStart(24, "0"),
        userId: user,
        items: cart.items,
        total: cart.total,
        status: "confirmed",
        createdAt: new Date().toISOString(),
        key,
      };
      this.orders.push(order);
      this.cartOf(user).items = [];
      return this.json(201, order);
    }
    if (path === "/api/orders" && method === "GET") {
      const mine = this.orders.filter((o) => o.userId === user).reverse();
      return this.json(200, { items: mine });
    }
    const orderMatch = /^\/api\/orders\/([^/]+)$/.exec(path);
    if (orderMatch && method === "GET") {
      const order = this.orders.find((o) => o.id === orderMatch[1] && o.userId === user);
      return order ? this.json(200, order) : this.error(404, "not_found", "order not found", "id");
    }
    return this.error(404, "not_found", `no route ${method} ${path}`);
  }
}
