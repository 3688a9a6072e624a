#!/usr/bin/env bash
# install_layout.sh BUILD CONSUMERS PREFIX LIBDIR BINDIR: stages BUILD's
# install in a temporary DESTDIR and checks it as a user meets it
# (tests/consumers/meson.build).
set -euo pipefail
build=$1 consumers=$2 prefix=$3 libdir=$4 bindir=$5
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
case $bindir in /*) ;; *) bindir=$prefix/$bindir ;; esac
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
meson install -C "$build" --destdir "$stage" --no-rebuild --quiet >/dev/null
lib=$stage$libdir
bin=$stage$bindir

for file in "$lib/cmake/bridgert/bridgertConfig.cmake" "$lib/cmake/bridgert/bridgertConfigVersion.cmake" \
            "$lib/pkgconfig/bridgert.pc" "$lib/pkgconfig/bridgert_cpp.pc" \
            "$lib/pkgconfig/bridgert_new_delete.pc" "$lib/bridgert/plugins/matrix_plugin.so" \
            "$lib/libbridgert_new_delete.a" "$bin/bridgert"; do
  [ -f "$file" ] || { echo "not installed: $file" >&2; exit 1; }
done

# Installed programs and the plugin find the libraries from their own place.
for file in "$bin/bridgert" "$lib/bridgert/plugins/matrix_plugin.so"; do
  readelf -d "$file" | grep -q 'RUNPATH.*\[\$ORIGIN/' ||
    { echo "no \$ORIGIN RUNPATH in $file" >&2; readelf -d "$file" | grep -i path >&2; exit 1; }
done
env -i "$bin/bridgert" --plugin-dir "$lib/bridgert/plugins" list | grep -q matrix_multiplication
echo "ok: the staged bridgert runs with no environment"

# --cflags needs no private dependency's .pc: only the staged ones are visible.
cflags=$(PKG_CONFIG_LIBDIR="$lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage" pkg-config --cflags bridgert_cpp)
case $cflags in *cjson*|*ffi*) echo "private dependency in --cflags: $cflags" >&2; exit 1 ;; esac
PKG_CONFIG_LIBDIR="$lib/pkgconfig" pkg-config --static --libs bridgert | grep -q -- '-lcjson'
echo "ok: pkg-config --cflags bridgert_cpp = $cflags"

# The CMake package from the staged prefix (not where it was configured for).
if command -v cmake >/dev/null; then
  cmake -S "$consumers/cpp_plugin" -B "$stage/cmake-build" -DCMAKE_PREFIX_PATH="$stage$prefix" \
    -DCMAKE_BUILD_TYPE=Release >"$stage/cmake.log" 2>&1 || { cat "$stage/cmake.log" >&2; exit 1; }
  cmake --build "$stage/cmake-build" >>"$stage/cmake.log" 2>&1 || { cat "$stage/cmake.log" >&2; exit 1; }
  mkdir "$stage/plugin"
  cp "$stage/cmake-build/consumer_plugin.so" "$stage/plugin/"
  result=$("$build/cli/bridgert" --plugin-dir "$stage/plugin" call consumer_sum --params '[1, 2]')
  [ "$result" = "3.0" ] || { echo "consumer_sum returned '$result'" >&2; exit 1; }
  echo "ok: a C++ plugin built with find_package(bridgert) from a moved prefix"
else
  echo "cmake not found: the CMake package is not checked"
fi
