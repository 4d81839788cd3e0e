#!/bin/sh
# Start nginx for the storefront. Writes the two generated snippets the server block includes:
#   /tmp/nginx/listen.conf  `listen $NGINX_PORT` (default 80)
#   /tmp/nginx/api.conf     /api/products|cart|orders proxies, only when PRODUCT_API_URL,
#                           CART_API_URL and ORDER_API_URL are set (docker compose, tests).
# The proxies resolve their hosts per request (resolver + variables), so nginx starts even
# when an upstream host does not resolve yet; such a request gets a 502 JSON error body.
set -eu

run_dir=/tmp/nginx
mkdir -p "$run_dir"
port="${NGINX_PORT:-80}"
case "$port" in
  ''|*[!0-9]*) echo "frontend: NGINX_PORT must be a port number, got '$port'" >&2; exit 64 ;;
esac
printf 'listen %s;\nlisten [::]:%s;\n' "$port" "$port" > "$run_dir/listen.conf"
# A container without IPv6 addresses cannot bind [::]; keep IPv4 only there.
if [ ! -s /proc/net/if_inet6 ]; then
  printf 'listen %s;\n' "$port" > "$run_dir/listen.conf"
fi

api="$run_dir/api.conf"
: > "$api"
product="${PRODUCT_API_URL:-}"; cart="${CART_API_URL:-}"; order="${ORDER_API_URL:-}"
if [ -n "$product$cart$order" ]; then
  if [ -z "$product" ] || [ -z "$cart" ] || [ -z "$order" ]; then
    echo "frontend: set all of PRODUCT_API_URL, CART_API_URL, ORDER_API_URL, or none" >&2
    exit 64
  fi
  for url in "$product" "$cart" "$order"; do
    case "$url" in
      http://*|https://*) ;;
      *) echo "frontend: API URL must start with http:// or https://, got '$url'" >&2; exit 64 ;;
    esac
    case "$url" in
      *[\;\'\"\ \{\}\$]*) echo "frontend: API URL has characters nginx cannot take: '$url'" >&2; exit 64 ;;
    esac
  done
  resolver="${NGINX_RESOLVER:-$(awk '/^nameserver/ { print $2; exit }' /etc/resolv.conf 2>/dev/null || true)}"
  resolver="${resolver:-127.0.0.11}"
  case "$resolver" in *:*) resolver="[$resolver]" ;; esac
  # Strip a trailing slash: proxy_pass with a variable and no path passes the request URI
  # unchanged, and every API serves its routes under /api/... too (docs/services-api.md).
  product="${product%/}"; cart="${cart%/}"; order="${order%/}"
  cat > "$api" <<CONF
resolver $resolver valid=10s ipv6=off;
resolver_timeout 5s;
set \$product_api "$product";
set \$cart_api "$cart";
set \$order_api "$order";
location /api/products { proxy_pass \$product_api; include /etc/nginx/snippets/api-proxy.conf; }
location /api/cart { proxy_pass \$cart_api; include /etc/nginx/snippets/api-proxy.conf; }
location /api/orders { proxy_pass \$order_api; include /etc/nginx/snippets/api-proxy.conf; }
location @api_unavailable {
    default_type application/json;
    include /etc/nginx/snippets/security-headers.conf;
    add_header Cache-Control "no-store" always;
    return 502 '{"error":{"code":"upstream_failed","message":"the API service did not answer","field":null}}';
}
CONF
  echo "frontend: proxying /api/products -> $product, /api/cart -> $cart, /api/orders -> $order (resolver $resolver)" >&2
fi

exec nginx -g 'daemon off;' "$@"
