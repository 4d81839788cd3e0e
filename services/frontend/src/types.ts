// Shapes of the shop's APIs (docs/services-api.md).

export interface Product {
  id: string;
  name: string;
  description: string;
  price: number;
  stock: number;
  category: string;
  imageUrl: string;
}

export interface ProductPage {
  items: Product[];
  page: number;
  limit: number;
  total: number;
}

export interface CartItem {
  id: string;
  productId: string;
  name: string;
  price: number;
  quantity: number;
  lineTotal: number;
}

export interface Cart {
  userId: string;
  items: CartItem[];
  total: number;
}

export interface Shipping {
  name: string;
  address: string;
}

export interface Order {
  id: string;
  userId: string;
  items: CartItem[];
  total: number;
  status: string;
  createdAt: string;
  shipping?: Shipping;
}

export interface ApiErrorBody {
  error: { code: string; message: string; field: string | null };
}
