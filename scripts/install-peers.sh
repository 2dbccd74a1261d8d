#!/usr/bin/env bash
# Installs the field's own tools that the interop tests run beside duallane, at pinned versions,
# by their ordinary clients (the Go module proxy, PyPI), into .peers/bin (git-ignored).
#
#   scripts/install-peers.sh            # all of them
#   scripts/install-peers.sh cosign     # only the named ones
#
# Builds are cached per tool and version under ${DUALLANE_PEERS_CACHE:-~/.cache/duallane/peers}, so a
# second clone on the same machine links the binaries instead of building again; Go's own build and
# module caches and pip's wheel cache are used as usual. Each step is bounded in time. The script
# prints one line per tool: `peer TOOL VERSION PATH` or `peer TOOL VERSION FAILED: reason`, writes the
# same into .peers/status/TOOL (the tests read it to say why a tool is missing), and exits non-zero
# when any requested tool failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
peers="${DUALLANE_PEERS_DIR:-$root/.peers}"
cache="${DUALLANE_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/duallane/peers}"
mkdir -p "$peers/bin" "$peers/status" "$cache"

# The pins. Change a version here and in README's "Peer tools" table together.
COSIGN_VERSION=v3.1.3
SIGSTORE_PY_VERSION=4.5.1
KYVERNO_VERSION=v1.19.1
KYVERNO_GO=go1.27.3
FLUX_VERSION=v2.9.5
ORAS_VERSION=v1.3.6
CRANE_VERSION=v0.22.1
STEP_TIMEOUT="${DUALLANE_PEERS_STEP_TIMEOUT:-1800}"

failed=0
report() { # tool version path-or-FAILED...
  local tool="$1" version="$2"
  shift 2
  echo "peer $tool $version $*" | tee "$peers/status/$tool"
}

link() { # tool version built-binary
  ln -sfn "$3" "$peers/bin/$1"
  report "$1" "$2" "$peers/bin/$1"
}

go_install() { # tool version package
  local tool="$1" version="$2" pkg="$3" dest="$cache/$1@$2"
  if [ ! -x "$dest/bin/$tool" ]; then
    mkdir -p "$dest/bin"
    local log="$dest/build.log"
    if ! GOBIN="$dest/bin" GOFLAGS=-buildvcs=false GOTOOLCHAIN="${GOTOOLCHAIN_FOR:-auto}" \
      timeout "$STEP_TIMEOUT" go install "$pkg@$version" >"$log" 2>&1; then
      report "$tool" "$version" "FAILED: go install $pkg@$version: $(tail -1 "$log")"
      failed=1
      return
    fi
  fi
  link "$tool" "$version" "$dest/bin/$tool"
}

install_cosign() { go_install cosign "$COSIGN_VERSION" github.com/sigstore/cosign/v3/cmd/cosign; }
install_flux() { go_install flux "$FLUX_VERSION" github.com/fluxcd/flux2/v2/cmd/flux; }
install_oras() { go_install oras "$ORAS_VERSION" oras.land/oras/cmd/oras; }
install_crane() { go_install crane "$CRANE_VERSION" github.com/google/go-containerregistry/cmd/crane; }

install_sigstore() {
  local version="$SIGSTORE_PY_VERSION" dest="$cache/sigstore@$SIGSTORE_PY_VERSION"
  if [ ! -x "$dest/venv/bin/sigstore" ]; then
    rm -rf "$dest" && mkdir -p "$dest"
    if ! { timeout 300 python3 -m venv "$dest/venv" &&
      timeout "$STEP_TIMEOUT" "$dest/venv/bin/pip" install -q --disable-pip-version-check "sigstore==$version"; } >"$dest/../sigstore.log" 2>&1; then
      report sigstore "$version" "FAILED: pip install sigstore==$version: $(tail -1 "$dest/../sigstore.log")"
      failed=1
      return
    fi
  fi
  link sigstore "$version" "$dest/venv/bin/sigstore"
}

# Kyverno's go.mod carries a `replace` line, which `go install pkg@version` refuses: download the
# module, build its CLI from that copy with the toolchain it asks for.
install_kyverno() {
  local version="$KYVERNO_VERSION" dest="$cache/kyverno@$KYVERNO_VERSION"
  if [ ! -x "$dest/bin/kyverno" ]; then
    mkdir -p "$dest/bin"
    local log="$dest/build.log" src="$dest/src"
    if ! {
      dir="$(GOTOOLCHAIN="$KYVERNO_GO" timeout 600 go mod download -json "github.com/kyverno/kyverno@$version" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" &&
        [ -n "$dir" ] && rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src" &&
        (cd "$src" && GOFLAGS=-buildvcs=false GOTOOLCHAIN="$KYVERNO_GO" timeout "$STEP_TIMEOUT" \
          go build -o "$dest/bin/kyverno" ./cmd/cli/kubectl-kyverno)
    } >"$log" 2>&1; then
      report kyverno "$version" "FAILED: build of github.com/kyverno/kyverno@$version ./cmd/cli/kubectl-kyverno: $(tail -1 "$log")"
      failed=1
      return
    fi
    rm -rf "$src"
  fi
  link kyverno "$version" "$dest/bin/kyverno"
}

tools=("$@")
[ ${#tools[@]} -eq 0 ] && tools=(cosign sigstore crane oras flux kyverno)
for t in "${tools[@]}"; do
  case "$t" in
    cosign | sigstore | kyverno | flux | oras | crane) "install_$t" ;;
    *)
      echo "install-peers: unknown tool '$t' (cosign sigstore kyverno flux oras crane)" >&2
      exit 2
      ;;
  esac
done
exit "$failed"
