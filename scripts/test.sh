#!/usr/bin/env bash
# Runs every test of the workspace: the README's second command, and what CI runs (.ci/run).
# Installs what the tests need when it is missing (curl, python3, redis-server, PostgreSQL) and starts a
# throwaway PostgreSQL server for the storage tests. With CI=true it also checks formatting and
# lints with warnings denied.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# The hot-state tests start private redis-server processes of their own.
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing ${need_apt[*]}"
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${CI:-}" = "true" ]; then
  echo "==> cargo fmt --check"
  cargo fmt --all -- --check
  echo "==> cargo clippy (warnings denied)"
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi

# The real playground, started by its own script, and the docs' walkthrough against it: a
# broken start-up script or a page that no longer matches fails here. The services log at
# trace level meanwhile, and their logs must hold no secret, credential or token afterwards.
echo "==> playground + walkthrough"
logs=$(mktemp -d)
RUST_LOG=trace PLAYGROUND_LOGS="$logs" scripts/playground.sh >"$logs/playground.out" 2>&1 &
playground=$!
for _ in $(seq 1 3000); do
  grep -q '^READY$' "$logs/playground.out" && break
  kill -0 "$playground" 2>/dev/null || break
  sleep 0.2
done
if ! grep -q '^READY$' "$logs/playground.out"; then
  cat "$logs/playground.out" "$logs"/*.log >&2 || true
  echo "the playground did not come up" >&2
  kill -TERM "$playground" 2>/dev/null || true
  exit 1
fi
walkthrough_status=0
scripts/walkthrough.sh || walkthrough_status=$?
kill -TERM "$playground"
wait "$playground" || true
for port in 9000 8081 8082 8085; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is still open after the playground stopped" >&2
    exit 1
  fi
done
if [ "$walkthrough_status" -ne 0 ]; then
  cat "$logs"/*.log >&2 || true
  exit "$walkthrough_status"
fi
echo "==> no secret, credential or token in the services' logs ($(cat "$logs"/*.log | wc -l) lines at trace level)"
leaks='service-client-jwt-secret|not-the-secret|c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ|eyJ[A-Za-z0-9_-]+\.eyJ'
if grep -nE "$leaks" "$logs"/*.log >&2; then
  echo "a secret, credential or token was logged (lines above)" >&2
  exit 1
fi
rm -rf "$logs"

# A real PostgreSQL for the storage tests: a throwaway cluster on a free loopback port, unless
# TEST_POSTGRES_URL names a server already. initdb refuses to run as root, so as root the
# cluster is made and run by the `postgres` user.
if [ -z "${TEST_POSTGRES_URL:-}" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$pg_bin" ]; then
    echo "==> installing postgresql"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  pg_dir=$(mktemp -d)
  as_pg=()
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$pg_dir"
    as_pg=(runuser -u postgres --)
  fi
  pg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "==> starting PostgreSQL ($("$pg_bin/postgres" --version)) on 127.0.0.1:$pg_port"
  "${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U postgres >"$pg_dir/initdb.log" 2>&1 \
    || { cat "$pg_dir/initdb.log" >&2; exit 1; }
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o \
    "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$pg_dir/server.log" >&2; exit 1; }
  stop_postgres() {
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  }
  trap stop_postgres EXIT
  export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$pg_port/postgres"
fi

if cargo nextest --version >/dev/null 2>&1; then
  echo "==> cargo nextest run --workspace"
  cargo nextest run --workspace --locked --no-fail-fast
else
  echo "==> cargo test --workspace"
  cargo test --workspace --locked --no-fail-fast
fi
