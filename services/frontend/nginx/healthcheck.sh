#!/bin/sh
# HEALTHCHECK probe: GET /health on this container's nginx with whichever HTTP client the base
# image has (curl, busybox wget on Alpine, else bash's /dev/tcp on a bare Debian image).
port="${NGINX_PORT:-80}"
url="http://127.0.0.1:$port/health"
if command -v curl >/dev/null 2>&1; then
  exec curl -fsS -o /dev/null --max-time 2 "$url"
fi
if command -v wget >/dev/null 2>&1; then
  exec wget -q -O /dev/null -T 2 "$url"
fi
exec bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" \
  && printf "GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 \
  && head -n 1 <&3 | grep -q " 200 "' healthcheck "$port"
