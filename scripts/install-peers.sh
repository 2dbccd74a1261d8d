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

# Kyverno's and Flux's go.mod carry `replace` lines, which `go install pkg@version` refuses: download
# the module, build its command from that copy (as its main module) with the toolchain it asks for.
go_build_module() { # tool version module package-dir toolchain [prepare-function]
  local tool="$1" version="$2" module="$3" pkgdir="$4" toolchain="$5" prepare="${6:-true}" dest="$cache/$1@$2"
  if [ ! -x "$dest/bin/$tool" ]; then
    mkdir -p "$dest/bin"
    local log="$dest/build.log" src="$dest/src" dir
    if ! {
      dir="$(GOTOOLCHAIN="$toolchain" timeout 600 go mod download -json "$module@$version" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" &&
        [ -n "$dir" ] && rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src" &&
        (cd "$src" && "$prepare" && GOFLAGS=-buildvcs=false GOTOOLCHAIN="$toolchain" timeout "$STEP_TIMEOUT" \
          go build -o "$dest/bin/$tool" "$pkgdir")
    } >"$log" 2>&1; then
      report "$tool" "$version" "FAILED: build of $module@$version $pkgdir: $(tail -1 "$log")"
      failed=1
      return
    fi
    rm -rf "$src"
  fi
  link "$tool" "$version" "$dest/bin/$tool"
}

install_kyverno() { go_build_module kyverno "$KYVERNO_VERSION" github.com/kyverno/kyverno ./cmd/cli/kubectl-kyverno "$KYVERNO_GO"; }
# flux embeds the controllers' install manifests (cmd/flux/manifests/*.yaml), which its Makefile
# generates from GitHub releases: not reachable here. Only `flux install`/`bootstrap` read them, and the
# tests use `flux pull artifact`, so the build embeds one placeholder file instead.
flux_manifests_placeholder() {
  mkdir -p cmd/flux/manifests &&
    echo '# placeholder: this build of flux carries no install manifests (scripts/install-peers.sh)' >cmd/flux/manifests/placeholder.yaml
}
install_flux() { go_build_module flux "$FLUX_VERSION" github.com/fluxcd/flux2/v2 ./cmd/flux auto flux_manifests_placeholder; }

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
