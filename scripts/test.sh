#!/usr/bin/env bash
# Runs every test of the workspace: the README's second command, and what CI runs (.ci/run).
# Installs what the tests need when it is missing (curl, python3, redis-server, Chromium and its
# driver, PostgreSQL) and starts a throwaway PostgreSQL server for the storage tests. With
# CI=true it also checks formatting and lints with warnings denied.
set -euo pipefail
cd "$(dirname "$0")/.."

# The protocol core knows no HTTP: no actix, awc or reqwest import in its folders (the ones
# that exist of oauth/, oidc/, identity/, ops/, keys/, pages/). Checked first, as it needs no
# build.
echo "==> layering: no HTTP crate in ms-auth-server's protocol folders"
core_dirs=()
for d in oauth oidc identity ops keys pages; do
  if [ -d "crates/ms-auth-server/src/$d" ]; then core_dirs+=("crates/ms-auth-server/src/$d"); fi
done
http_crates='actix[a-z_]*|awc|reqwest'
if [ ${#core_dirs[@]} -gt 0 ] &&
  grep -rnE "\b($http_crates)::|\b(use|extern crate)[[:space:]]+($http_crates)\b" "${core_dirs[@]}" >&2; then
  echo "the lines above import an HTTP crate into ${core_dirs[*]}: the protocol core takes and returns plain types, and only src/http/ uses actix (STYLE.md, The shape §1)" >&2
  exit 1
fi

need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# The hot-state tests start private redis-server processes of their own.
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# The pages' tests drive a real headless Chromium through chromedriver (tests/api/chromium.rs).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing ${need_apt[*]}"
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# PyJWT and Authlib, the independent libraries the client-authentication and registration tests
# (and the docs' assertion examples) use.
source scripts/lib/python.sh
py_env

# Every relative link in README.md and docs/ names a file and heading that exist (no build needed).
echo "==> the docs' links"
python3 scripts/lib/check-links.py

if [ "${CI:-}" = "true" ]; then
  echo "==> cargo fmt --check"
  cargo fmt --all -- --check
  echo "==> cargo clippy (warnings denied)"
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi

# The real playground, started by its own script, and the docs' walkthrough against it: a
# broken start-up script or a page that no longer matches fails here. The services log at
# trace level meanwhile, and their logs must hold no secret, credential or token afterwards.
#   playground_walkthrough LABEL [NAME=VALUE...] -- [PAGE...]
playground_walkthrough() {
  local label=$1 env=() pages=() logs playground status=0 port
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do env+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  pages=("$@")
  echo "==> playground ($label) + walkthrough"
  logs=$(mktemp -d)
  env RUST_LOG=trace PLAYGROUND_LOGS="$logs" "${env[@]}" scripts/playground.sh >"$logs/playground.out" 2>&1 &
  playground=$!
  for _ in $(seq 1 3000); do
    grep -q '^READY$' "$logs/playground.out" && break
    kill -0 "$playground" 2>/dev/null || break
    sleep 0.2
  done
  if ! grep -q '^READY$' "$logs/playground.out"; then
    cat "$logs/playground.out" "$logs"/*.log >&2 || true
    echo "the playground ($label) did not come up" >&2
    kill -TERM "$playground" 2>/dev/null || true
    exit 1
  fi
  scripts/walkthrough.sh "${pages[@]}" || status=$?
  kill -TERM "$playground"
  wait "$playground" || true
  for port in 9000 9001 8081 8082 8085 8080 10000 10001 9081 9082 9085 9080 5432 6379; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "port $port is still open after the playground ($label) stopped" >&2
      exit 1
    fi
  done
  if [ "$status" -ne 0 ]; then
    cat "$logs"/*.log >&2 || true
    exit "$status"
  fi
  echo "==> no secret, credential or token in the services' logs ($(cat "$logs"/*.log | wc -l) lines at trace level)"
  local leaks='service-client-jwt-secret|not-the-secret|c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ|eyJ[A-Za-z0-9_-]+\.eyJ|BEGIN PRIVATE KEY'
  if grep -nE "$leaks" "$logs"/*.log >&2; then
    echo "a secret, credential or token was logged (lines above)" >&2
    exit 1
  fi
  rm -rf "$logs"
}
# The playground's binaries are built first, so the wait for it below is for start-up alone.
echo "==> cargo build (the playground's services)"
cargo build --quiet --locked -p ms-auth-server -p customer-service -p country-service -p gateway -p sample-client
playground_walkthrough "SQLite"
# Cluster mode: PostgreSQL, Redis and two ms-auth-server replicas behind the gateway. The
# operations page shows the single node's health checks, so it is left out here.
playground_walkthrough "cluster" PLAYGROUND_CLUSTER=1 -- \
  docs/playground.md docs/client-secret-post.md docs/client-secret-basic.md docs/resource-services.md \
  docs/revocation-introspection.md docs/authorization-code.md docs/openid-connect.md \
  docs/logout.md docs/legacy-flows.md docs/client-registration.md \
  docs/client-secret-jwt.md docs/private-key-jwt.md

# F4: a service nobody scrapes keeps flat memory (200,000 requests, no /metrics read).
scripts/check-metrics-memory.sh

# A real PostgreSQL for the storage tests: a throwaway cluster on a free loopback port, unless
# TEST_POSTGRES_URL names a server already. initdb refuses to run as root, so as root the
# cluster is made and run by the `postgres` user.
if [ -z "${TEST_POSTGRES_URL:-}" ]; then
  source scripts/lib/postgres.sh
  pg_dir=$(mktemp -d)
  pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pg_start "$pg_dir" "$pg_port"
  trap 'pg_stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
  export TEST_POSTGRES_URL="$PG_URL"
fi

if cargo nextest --version >/dev/null 2>&1; then
  echo "==> cargo nextest run --workspace"
  cargo nextest run --workspace --locked --no-fail-fast
else
  echo "==> cargo test --workspace"
  cargo test --workspace --locked --no-fail-fast
fi
