# Shared by tools/run, tools/test, tools/sbctl and tools/loadgen (sourced, not run).
# Installs missing Debian packages and builds with CMake.

SB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SB_BUILD=${SB_BUILD_DIR:-$SB_ROOT/build}

# What the product and its tests need (Debian 12 package names). nodejs and npm
# run the test-only FHIR validator (tests/fhir_validator); they count as present
# when `node` and `npm` are on PATH (NodeSource's nodejs bundles npm and
# conflicts with Debian's npm package).
SB_PACKAGES=(build-essential cmake pkg-config ccache openssl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libabsl-dev libssl-dev libjemalloc-dev rapidjson-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev nodejs npm)
# Only for the full test run (sb_build without targets): the browser that the web
# view's end-to-end test (tests/web_e2e) drives headless.
SB_TEST_PACKAGES=(chromium chromium-driver)

sb_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs whatever of SB_PACKAGES is missing (apt-get update first).
sb_install_deps() { sb_install_packages "${SB_PACKAGES[@]}"; }

# Installs whatever of the given Debian packages is missing (apt-get update first).
sb_install_packages() {
  local missing=()
  for p in "$@"; do
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  sb_log "installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# Configures (Release unless SB_BUILD_TYPE says otherwise) and builds the given
# targets (all when none are given).
sb_build() {
  local jobs; jobs=$(nproc 2>/dev/null || echo 2)
  if [ ! -f "$SB_BUILD/CMakeCache.txt" ]; then
    sb_log "configuring $SB_BUILD"
    cmake -S "$SB_ROOT" -B "$SB_BUILD" -DCMAKE_BUILD_TYPE="${SB_BUILD_TYPE:-Release}" >/dev/null
  fi
  local targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  sb_log "building ${*:-everything} (-j$jobs)"
  cmake --build "$SB_BUILD" -j "$jobs" "${targets[@]}"
  # Everything includes the tests: the FHIR validator test needs its npm packages,
  # the web view's browser test Chromium and its own npm packages.
  if [ $# -eq 0 ]; then
    sb_install_fhir_validator
    sb_install_packages "${SB_TEST_PACKAGES[@]}"
    sb_install_web_e2e
  fi
}

# Installs the test-only FHIR validator's npm packages (pinned in
# tests/fhir_validator/package-lock.json) when node_modules is missing or older
# than the lock file. Needs the npm registry then, and only then.
sb_install_fhir_validator() {
  local dir="$SB_ROOT/tests/fhir_validator"
  if [ -d "$dir/node_modules" ] && [ ! "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    return 0
  fi
  sb_log "installing the FHIR validator's npm packages (tests/fhir_validator)"
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  touch "$dir/node_modules"
}

# Installs the web view's end-to-end test's npm packages (playwright-core, pinned
# in tests/web_e2e/package-lock.json; it drives Debian's Chromium and downloads no
# browser) when node_modules is missing or older than the lock file.
sb_install_web_e2e() {
  local dir="$SB_ROOT/tests/web_e2e"
  if [ -d "$dir/node_modules" ] && [ ! "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    return 0
  fi
  sb_log "installing the web end-to-end test's npm packages (tests/web_e2e)"
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >/dev/null
  touch "$dir/node_modules"
}
