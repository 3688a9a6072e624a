#!/usr/bin/env bash
# The packaging step of scripts/test.sh: bridgert as a user consumes it.
#   1. a meson project with bridgert as a subproject (tests/consumers/meson_subproject)
#   2. dpkg-buildpackage -b -us -uc (DEB_BUILD_OPTIONS=nocheck: the suite runs
#      in the other steps), lintian (no errors), install the .debs on this machine
#   3. against the SYSTEM install, with no environment: a C host built with
#      `pkg-config bridgert`, the C++ plugin built with find_package(bridgert)
#      (CMake) and with `pkg-config bridgert_cpp`, loaded by the host and by the
#      installed CLI; `bridgert demo`
#   4. the Rust/cxx example crate, built with cargo against the system install
# Then it removes the packages again, so the build trees' tests never meet an
# installed libbridgert, and a rerun starts from the same state. Needs root
# (or sudo) and the packages of scripts/install-deps.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
packages=(libbridgert1 libbridgert-cpp1 libbridgert-dev bridgert)
# dpkg refuses to purge a library while its -dbgsym package is installed.
purged=("${packages[@]}" libbridgert1-dbgsym libbridgert-cpp1-dbgsym bridgert-dbgsym)
work=$(mktemp -d "${TMPDIR:-/tmp}/bridgert-packaging.XXXXXX")
installed_packages() {
  { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${purged[@]}" 2>/dev/null || true; } |
    awk '$1 != "un" { print $2 }'
}
remove_packages() {
  local installed
  installed=$(installed_packages)
  [ -z "$installed" ] || $sudo env DEBIAN_FRONTEND=noninteractive dpkg --purge $installed >/dev/null
  installed=$(installed_packages)
  if [ -n "$installed" ]; then
    echo "packaging: still installed: $installed" >&2
    return 1
  fi
}
cleanup() {
  local status=$?
  remove_packages || status=1
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT
remove_packages # a previous run that was killed may have left them

# The tree as git sees it (tracked and new files, without ignored build trees).
version=$(sed -n "s/^  version : '\(.*\)',$/\1/p" "$root/meson.build")
src="$work/bridgert-$version"
mkdir -p "$src"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  xargs -0 -I{} sh -c '[ -e "{}" ] && printf "%s\0" "{}"' _ | tar --null -T - -cf -) | tar -C "$src" -xf -
cp -r "$src/tests/consumers" "$work/consumers"
jobs=$(nproc)

echo "--- meson subproject"
ln -s "$src" "$work/consumers/meson_subproject/subprojects/bridgert"
meson setup "$work/meson-consumer" "$work/consumers/meson_subproject" \
  --force-fallback-for=bridgert,bridgert_cpp >/dev/null
ninja -C "$work/meson-consumer" -j "$jobs" >/dev/null
meson test -C "$work/meson-consumer" --print-errorlogs host

echo "--- Debian packages"
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$jobs" dpkg-buildpackage -b -us -uc >"$work/dpkg-buildpackage.log" 2>&1) ||
  { tail -40 "$work/dpkg-buildpackage.log"; exit 1; }
# lintian exits non-zero on errors only (warnings are listed in docs/packaging.md).
lintian --fail-on error "$work"/*.changes
debs=()
for package in "${packages[@]}"; do debs+=("$work/${package}_${version}_"*.deb); done
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${debs[@]}" >/dev/null

echo "--- consumers of the system install (no environment)"
clean_env=(env -i PATH=/usr/bin:/bin HOME="$work")
cd "$work/consumers"
"${clean_env[@]}" sh -c 'cc -std=c11 -Wall -Wextra -Werror c_host/host.c $(pkg-config --cflags --libs bridgert) -o c_host/host'
mkdir -p plugin-cmake plugin-pkgconfig
"${clean_env[@]}" cmake -S cpp_plugin -B "$work/cmake-build" -DCMAKE_BUILD_TYPE=Release >/dev/null
"${clean_env[@]}" cmake --build "$work/cmake-build" >/dev/null
cp "$work/cmake-build/consumer_plugin.so" plugin-cmake/
"${clean_env[@]}" sh -c 'c++ -std=c++17 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden cpp_plugin/plugin.cpp $(pkg-config --cflags --libs bridgert_cpp) -o plugin-pkgconfig/consumer_plugin.so'
"${clean_env[@]}" ./c_host/host "$PWD/plugin-cmake" "$PWD/plugin-pkgconfig"
"${clean_env[@]}" bridgert --plugin-dir "$PWD/plugin-cmake" call consumer_sum --params '[1, 2]'
"${clean_env[@]}" bridgert --plugin-dir "$PWD/plugin-pkgconfig" call consumer_sum --params '[1, 2]'
"${clean_env[@]}" bridgert demo >"$work/demo.log" || { cat "$work/demo.log"; exit 1; }
grep -q '^matrix_multiplication in the restarted worker = \[\[19,22\],\[43,50\]\]' "$work/demo.log"
echo "bridgert demo from the install: ok"

echo "--- Rust consumer"
# The Rust/cxx example (examples/rust_cxx): a binary crate with its own
# #[cxx::bridge], built through the supported recipe (bridgert-build) against
# the system install: no BRIDGERT_* variables, pkg-config finds the installed
# .pc files. A C++ exception thrown in its bridge is matched by type in Rust.
cargo_bin=$(command -v cargo || true)
if [ -z "$cargo_bin" ]; then
  echo "packaging: cargo is not installed: the Rust consumer cannot be checked" >&2
  exit 1
fi
rust_env=(env -i PATH="$(dirname "$cargo_bin"):/usr/bin:/bin" HOME="$work"
  CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  CARGO_TARGET_DIR="$work/cargo-target"
  BRIDGERT_EXAMPLE_PLUGIN_DIR="/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/bridgert/plugins")
"${rust_env[@]}" cargo --config "$src/rust_shim/.cargo/config.toml" run -q --offline --locked \
  --manifest-path "$src/examples/rust_cxx/Cargo.toml" >"$work/rust.log" 2>&1 || { cat "$work/rust.log"; exit 1; }
tail -5 "$work/rust.log"

echo "packaging: ok"
