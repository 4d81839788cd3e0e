// Prices arrive as JSON numbers with at most two decimals; the server computes every total.
// The client only formats them.
const CURRENCY = (import.meta.env.VITE_CURRENCY as string | undefined) ?? "USD";
const formatter = new Intl.NumberFormat("en-US", { style: "currency", currency: CURRENCY });

export function formatPrice(value: number): string {
  return formatter.format(value);
}
