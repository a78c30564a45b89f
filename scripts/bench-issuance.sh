#!/usr/bin/env bash
# Load script for token issuance: release ms-auth-servers with the playground config side by
# side in one run — RS256 in memory, on a SQLite file and on PostgreSQL + Redis (a throwaway
# cluster and a redis-server started here), and ES256 and EdDSA in memory — and wrk on each
# one's token endpoint (client_credentials, client_secret_basic), interleaved over rounds;
# medians and ratios. Then introspection throughput on the in-memory RS256 server.
#   BENCH_ROUNDS=3  BENCH_DURATION=5s  BENCH_CONNECTIONS=16  BENCH_THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null 2>&1 || { echo "==> installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v redis-server >/dev/null 2>&1 || { echo "==> installing redis-server"; apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
echo "==> building (release)"
cargo build --quiet --release -p ms-auth-server

work=$(mktemp -d)
pg_dir=$(mktemp -d)  # its own folder: the postgres user must be able to enter it
source scripts/lib/postgres.sh
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  pg_stop "$pg_dir"
  rm -rf "$work" "$pg_dir"
}
trap cleanup EXIT

pg_start "$pg_dir" "$(free_port)"
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)

# start NAME PORT ENV...
start() {
  local name=$1 port=$2
  shift 2
  env MS_AUTH_SERVER__SERVER__PORT="$port" RUST_LOG=warn "$@" \
    ./target/release/ms-auth-server --config deploy/playground/ms-auth-server.toml >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$((port + 1000))/health/ready" 2>/dev/null && return; sleep 0.1; done
  echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}
echo "==> starting the servers"
start memory 19100 MS_AUTH_SERVER__STORE__URL=memory MS_AUTH_SERVER__INTROSPECTION__MAX_REQUESTS_PER_SECOND=1000000
start sqlite 19101 MS_AUTH_SERVER__STORE__URL="sqlite://$work/auth.db"
start postgres 19102 MS_AUTH_SERVER__STORE__URL="$PG_URL" MS_AUTH_SERVER__REDIS__URL="redis://127.0.0.1:$redis_port" \
  MS_AUTH_SERVER__CLUSTER__REPLICATED=true
start es256 19103 MS_AUTH_SERVER__STORE__URL=memory MS_AUTH_SERVER__KEYS__ALGORITHM=ES256
start eddsa 19104 MS_AUTH_SERVER__STORE__URL=memory MS_AUTH_SERVER__KEYS__ALGORITHM=EdDSA

cat >"$work/token.lua" <<'LUA'
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=country.read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ="
LUA
token=$(curl -fsS -X POST "http://127.0.0.1:19100/ms-auth-server/oauth2/token" \
  -H "Authorization: Basic c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ=" -d grant_type=client_credentials \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
cat >"$work/introspect.lua" <<LUA
wrk.method = "POST"
wrk.body = "token=$token"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ="
LUA
source scripts/lib/wrk-rounds.sh
runs=(
  "RS256, memory|http://127.0.0.1:19100/ms-auth-server/oauth2/token|$work/token.lua"
  "RS256, SQLite|http://127.0.0.1:19101/ms-auth-server/oauth2/token|$work/token.lua"
  "RS256, PostgreSQL + Redis|http://127.0.0.1:19102/ms-auth-server/oauth2/token|$work/token.lua"
  "ES256, memory|http://127.0.0.1:19103/ms-auth-server/oauth2/token|$work/token.lua"
  "EdDSA, memory|http://127.0.0.1:19104/ms-auth-server/oauth2/token|$work/token.lua"
  "introspection, RS256 token|http://127.0.0.1:19100/ms-auth-server/oauth2/introspect|$work/introspect.lua"
)
wrk_rounds
wrk_medians '
mem = med["RS256, memory"]
for k in ("RS256, SQLite", "RS256, PostgreSQL + Redis", "ES256, memory", "EdDSA, memory"):
    print(f"{k} / RS256, memory: {med[k] / mem:.2f}")
'
