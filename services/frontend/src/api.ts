// The one place that talks HTTP: same-origin `/api/*` calls with the session's `X-User-Id`,
// JSON bodies, a timeout, and the contract's error body turned into an ApiError.
import { sessionId } from "./session";
import type { ApiErrorBody, Cart, Order, Product, ProductPage, Shipping } from "./types";

export const MAX_QUANTITY = 99;
const TIMEOUT_MS = 15_000;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | null;

  constructor(status: number, code: string, message: string, field: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

function isErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== "object" || value === null) return false;
  const err = (value as { error?: unknown }).error;
  return typeof err === "object" && err !== null && typeof (err as { message?: unknown }).message === "string";
}

/** A message a shopper can act on, for any error thrown by this module. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 503) return "The shop is temporarily unavailable. Please try again in a moment.";
    if (error.status === 502) return "A shop service did not answer. Please try again in a moment.";
    return error.message;
  }
  if (error instanceof DOMException && error.name === "AbortError") {
    return "The shop took too long to answer. Please try again.";
  }
  return "Could not reach the shop. Check your connection and try again.";
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    "X-User-Id": sessionId(),
    ...options.headers,
  };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";

  // Our own timeout, merged with the caller's signal (a page that unmounts aborts its load).
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  const onAbort = () => controller.abort();
  options.signal?.addEventListener("abort", onAbort);
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: controller.signal,
    });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }

  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!response.ok) {
    if (isErrorBody(data)) {
      throw new ApiError(response.status, data.error.code, data.error.message, data.error.field ?? null);
    }
    throw new ApiError(response.status, "http_error", `The shop answered ${response.status}.`);
  }
  if (data === undefined) {
    throw new ApiError(response.status, "invalid_response", "The shop sent an answer this page cannot read.");
  }
  return data as T;
}

export interface ProductQuery {
  page?: number;
  limit?: number;
  category?: string;
  q?: string;
}

export function listProducts(query: ProductQuery = {}, signal?: AbortSignal): Promise<ProductPage> {
  const params = new URLSearchParams();
  if (query.page) params.set("page", String(query.page));
  if (query.limit) params.set("limit", String(query.limit));
  if (query.category) params.set("category", query.category);
  if (query.q) params.set("q", query.q);
  const qs = params.toString();
  return request<ProductPage>(`/api/products${qs ? `?${qs}` : ""}`, { signal });
}

export function getProduct(id: string, signal?: AbortSignal): Promise<Product> {
  return request<Product>(`/api/products/${encodeURIComponent(id)}`, { signal });
}

export function getCart(signal?: AbortSignal): Promise<Cart> {
  return request<Cart>("/api/cart", { signal });
}

export function addToCart(productId: string, quantity = 1): Promise<Cart> {
  return request<Cart>("/api/cart", { method: "POST", body: { productId, quantity } });
}

export function updateCartItem(itemId: string, quantity: number): Promise<Cart> {
  return request<Cart>(`/api/cart/${encodeURIComponent(itemId)}`, { method: "PATCH", body: { quantity } });
}

export function removeCartItem(itemId: string): Promise<Cart> {
  return request<Cart>(`/api/cart/${encodeURIComponent(itemId)}`, { method: "DELETE" });
}

/** Place an order from the cart. The same `idempotencyKey` never makes a second order. */
export function placeOrder(shipping: Shipping, idempotencyKey: string): Promise<Order> {
  return request<Order>("/api/orders", {
    method: "POST",
    body: { shipping },
    headers: { "Idempotency-Key": idempotencyKey },
  });
}

export function listOrders(signal?: AbortSignal): Promise<{ items: Order[] }> {
  return request<{ items: Order[] }>("/api/orders", { signal });
}

export function getOrder(id: string, signal?: AbortSignal): Promise<Order> {
  return request<Order>(`/api/orders/${encodeURIComponent(id)}`, { signal });
}
