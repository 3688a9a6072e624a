#!/usr/bin/env bash
# Installs what bridgert needs from Debian 12's packages: idempotent and
# non-interactive; installs only what is missing and runs apt-get update at
# most once. Needs root (or sudo).
set -euo pipefail
packages=(
  build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  libffi-dev libcjson-dev libcmocka-dev libfast-float-dev libsimdjson-dev
  libmimalloc-dev libjemalloc-dev libmicrohttpd-dev libseccomp-dev
  librust-cxx-dev librust-cxx-build-dev
  prometheus curl binutils
  # the packaging step (scripts/packaging.sh): Debian packages and consumers
  debhelper devscripts lintian fakeroot cmake
)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
else
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null && [ ! -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
  echo "install-deps: cargo was not found: the Rust shim's tests will be skipped" >&2
fi
