// The shopper's cart, shared by the header (item count), the catalogue (add) and the cart and
// checkout pages. Every change goes to the cart API, whose answer replaces the local copy:
// prices and totals always come from the server.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import * as api from "./api";
import type { Cart } from "./types";

interface CartState {
  cart: Cart | null;
  loading: boolean;
  error: string | null;
  count: number;
  reload: () => Promise<void>;
  add: (productId: string, quantity?: number) => Promise<void>;
  update: (itemId: string, quantity: number) => Promise<void>;
  remove: (itemId: string) => Promise<void>;
  clear: () => void;
}

const CartContext = createContext<CartState | null>(null);

export function CartProvider({ children }: { children: ReactNode }) {
  const [cart, setCart] = useState<Cart | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    setLoading(true);
    try {
      setCart(await api.getCart());
      setError(null);
    } catch (err) {
      setError(api.describeError(err));
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  // Mutations rethrow so the control that started them can show its own error next to itself.
  const add = useCallback(async (productId: string, quantity = 1) => {
    setCart(await api.addToCart(productId, quantity));
    setError(null);
  }, []);
  const update = useCallback(async (itemId: string, quantity: number) => {
    setCart(await api.updateCartItem(itemId, quantity));
    setError(null);
  }, []);
  const remove = useCallback(async (itemId: string) => {
    setCart(await api.removeCartItem(itemId));
    setError(null);
  }, []);
  const clear = useCallback(() => {
    setCart((current) => (current ? { ...current, items: [], total: 0 } : current));
  }, []);

  const value = useMemo<CartState>(() => {
    const count = cart ? cart.items.reduce((sum, item) => sum + item.quantity, 0) : 0;
    return { cart, loading, error, count, reload, add, update, remove, clear };
  }, [cart, loading, error, reload, add, update, remove, clear]);

  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

export function useCart(): CartState {
  const state = useContext(CartContext);
  if (!state) throw new Error("useCart must be used inside <CartProvider>");
  return state;
}
