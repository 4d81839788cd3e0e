/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the APIs to services running on the developer's machine (override
// with PRODUCT_API_URL / CART_API_URL / ORDER_API_URL); the built SPA only ever calls
// same-origin `/api/*`, which nginx (local) or the ALB ingress (Kubernetes) routes.
const env = process.env;
const target = (name: string, fallback: string) => env[name] ?? fallback;

export default defineConfig({
  plugins: [react()],
  build: {
    // Hashed file names under /assets/ let nginx cache them for a year (immutable).
    assetsDir: "assets",
    sourcemap: false,
  },
  server: {
    proxy: {
      "/api/products": target("PRODUCT_API_URL", "http://localhost:3001"),
      "/api/cart": target("CART_API_URL", "http://localhost:3002"),
      "/api/orders": target("ORDER_API_URL", "http://localhost:3003"),
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
