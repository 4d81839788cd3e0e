#!/usr/bin/env bash
# The embedded local stack that `devops` and its tests run against, on a Debian 12 machine:
# Docker engine (Debian docker.io), the CNCF distribution registry on 127.0.0.1:5000 (Debian
# docker-registry, with the project's own config: no auth, loopback only), git, Trivy,
# moto server, Node/npm, Chromium, the Python package with its test extras, and the stand-in
# base images. Idempotent: what is installed or running is left as it is.
#
#   scripts/local-stack.sh up      install and start everything
#   scripts/local-stack.sh demo    up, then the delivery end to end (nox -s demo)
#   scripts/local-stack.sh test    up, then the whole test suite (nox -s tests)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { echo "local-stack: $*" >&2; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

APT_PACKAGES=(docker.io docker-registry debootstrap git curl ca-certificates wrk chromium
              prometheus prometheus-alertmanager prometheus-pushgateway prometheus-blackbox-exporter shellcheck)

install_apt() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    as_root apt-get update -qq
    # The packaged registry service would start with htpasswd auth on :5000; we run our own.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    as_root systemctl disable --now docker-registry >/dev/null 2>&1 || true
    as_root pkill -f '/usr/bin/docker-registry serve /etc/docker/registry' 2>/dev/null || true
  fi
}

start_docker() {
  if docker info >/dev/null 2>&1; then return; fi
  log "starting dockerd"
  if command -v systemctl >/dev/null && as_root systemctl start docker 2>/dev/null && docker info >/dev/null 2>&1; then return; fi
  as_root sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && return; sleep 1; done
  log "dockerd did not start; see /var/log/dockerd.log"; tail -20 /var/log/dockerd.log >&2; exit 1
}

start_registry() {
  if curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then return; fi
  log "starting the local registry on 127.0.0.1:5000"
  as_root mkdir -p /var/lib/devops-registry
  as_root sh -c "nohup docker-registry serve '$root/tests/support/registry/config.yml' >/var/log/devops-registry.log 2>&1 &"
  for _ in $(seq 1 30); do curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && return; sleep 0.5; done
  log "the registry did not start; see /var/log/devops-registry.log"; exit 1
}

install_python() {
  if ! python3 -c 'import devops, nox, moto, pytest' >/dev/null 2>&1 || [ pyproject.toml -nt .devops-installed ] 2>/dev/null; then
    log "pip install -e .[test,lint]"
    python3 -m pip install -q -e ".[test,lint]" 2>&1 | grep -v -E '^WARNING: (Running pip as|Location)' || true
    touch .devops-installed
  fi
}

standins() {
  log "stand-in base images (cached after the first build)"
  bash tests/support/standins/build.sh > .devops-standins.env
  # Also in the registry, for builders that resolve FROM through it.
  while IFS='=' read -r _ image; do docker push -q "$image" >/dev/null; done < .devops-standins.env
}

# pip (network and CPU) runs while the engine starts and the stand-ins build (network, disk):
# they share nothing, and on a fresh machine each takes minutes.
up() {
  install_apt
  install_python & local pip_pid=$!
  start_docker; start_registry; standins
  wait "$pip_pid" || { log "pip install -e .[test,lint] failed"; exit 1; }
}

case "${1:-up}" in
  up) up ;;
  demo) up; shift; exec python3 -m nox -s demo -- "$@" ;;
  test) up; shift; exec python3 -m nox -s tests -- "$@" ;;
  *) echo "usage: $0 up|demo|test" >&2; exit 2 ;;
esac
