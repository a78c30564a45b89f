#!/usr/bin/env bash
# Load script for the hardening's cost, BASE (default eb57a58, the code before it) against
# HEAD, side by side in one run: release builds of both commits (BASE in a temporary worktree
# with its own target folder, removed afterwards unless KEEP=1), each binary run with its own
# commit's playground config (ports, stores and URLs overridden by environment), memory
# stores, and wrk on (a) client_credentials issuance (the docs' request: Basic auth,
# scope=country.read) straight to each ms-auth-server, and (b) a protected
# GET /customer-service/customers (a valid customer.read token) straight to each
# customer-service, beside its own ms-auth-server (HEAD also asks it whether the token is
# revoked, cached per jti for cache_secs). Interleaved rounds; each round's req/s, the
# medians and HEAD/BASE.
#   BASE=eb57a58  ROUNDS=3  SECS=8  CONNECTIONS=32  THREADS=1  KEEP=0
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

base="${BASE:-eb57a58}"
base_rev=$(git rev-parse --verify "$base^{commit}")
export BENCH_ROUNDS="${ROUNDS:-3}" BENCH_DURATION="${SECS:-8}s"
export BENCH_CONNECTIONS="${CONNECTIONS:-32}" BENCH_THREADS="${THREADS:-1}"

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work=$(mktemp -d)
base_tree="$work/base"
[ "${KEEP:-0}" = 1 ] && base_tree="${TMPDIR:-/tmp}/bench-hardening-${base_rev:0:12}"
pids=()
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then
    echo "==> kept $base_tree (BASE's worktree and its target folder; git worktree remove --force it when done)"
  elif [ -d "$base_tree" ]; then
    git -C "$repo" worktree remove --force "$base_tree" 2>/dev/null || rm -rf "$base_tree"
    git -C "$repo" worktree prune
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> building HEAD ($(git rev-parse --short HEAD)) (release)"
cargo build --quiet --release -p ms-auth-server -p customer-service
head_bin="${CARGO_TARGET_DIR:-$repo/target}/release"
if [ ! -d "$base_tree" ]; then
  echo "==> checking out BASE ($base) in $base_tree"
  git worktree add --quiet --detach "$base_tree" "$base_rev"
elif [ "$(git -C "$base_tree" rev-parse HEAD 2>/dev/null)" != "$base_rev" ]; then
  echo "$base_tree is not a checkout of $base: remove it first" >&2; exit 1
else
  echo "==> reusing BASE's worktree $base_tree (KEEP=1)"
fi
echo "==> building BASE ($base) (release, target folder $base_tree/target)"
(cd "$base_tree" && CARGO_TARGET_DIR="$base_tree/target" cargo build --quiet --release -p ms-auth-server -p customer-service)
base_bin="$base_tree/target/release"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# serve NAME HEALTH_URL BINARY CONFIG ENV...: starts it, waits until HEALTH_URL answers 200.
serve() {
  local name=$1 health=$2 bin=$3 config=$4
  shift 4
  env RUST_LOG=warn "$@" "$bin" --config "$config" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do curl -fsS -o /dev/null "$health" 2>/dev/null && return; sleep 0.1; done
  echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}

declare -A auth_port customer_port
for side in base head; do auth_port[$side]=$(free_port); customer_port[$side]=$(free_port); done
echo "==> starting BASE's ms-auth-server on :${auth_port[base]} and customer-service on :${customer_port[base]}"
serve base-auth "http://127.0.0.1:${auth_port[base]}/ms-auth-server/health" \
  "$base_bin/ms-auth-server" "$base_tree/deploy/playground/ms-auth-server.toml" \
  MS_AUTH_SERVER__SERVER__PORT="${auth_port[base]}" MS_AUTH_SERVER__STORE__URL=memory
serve base-customer "http://127.0.0.1:${customer_port[base]}/customer-service/health" \
  "$base_bin/customer-service" "$base_tree/deploy/playground/customer-service.toml" \
  CUSTOMER_SERVICE__SERVER__PORT="${customer_port[base]}" CUSTOMER_SERVICE__STORE__URL=memory \
  CUSTOMER_SERVICE__AUTH__JWKS_URL="http://127.0.0.1:${auth_port[base]}/ms-auth-server/oauth2/jwks" \
  CUSTOMER_SERVICE__AUTH__INTROSPECTION__URL="http://127.0.0.1:${auth_port[base]}/ms-auth-server/oauth2/introspect"
echo "==> starting HEAD's ms-auth-server on :${auth_port[head]} and customer-service on :${customer_port[head]}"
auth_mgmt=$(free_port) customer_mgmt=$(free_port)
serve head-auth "http://127.0.0.1:$auth_mgmt/health/ready" \
  "$head_bin/ms-auth-server" "$repo/deploy/playground/ms-auth-server.toml" \
  MS_AUTH_SERVER__SERVER__PORT="${auth_port[head]}" MS_AUTH_SERVER__MANAGEMENT__PORT="$auth_mgmt" \
  MS_AUTH_SERVER__STORE__URL=memory
serve head-customer "http://127.0.0.1:$customer_mgmt/health/ready" \
  "$head_bin/customer-service" "$repo/deploy/playground/customer-service.toml" \
  CUSTOMER_SERVICE__SERVER__PORT="${customer_port[head]}" CUSTOMER_SERVICE__MANAGEMENT__PORT="$customer_mgmt" \
  CUSTOMER_SERVICE__STORE__URL=memory \
  CUSTOMER_SERVICE__AUTH__JWKS_URL="http://127.0.0.1:${auth_port[head]}/ms-auth-server/oauth2/jwks" \
  CUSTOMER_SERVICE__AUTH__INTROSPECTION__URL="http://127.0.0.1:${auth_port[head]}/ms-auth-server/oauth2/introspect"

basic='c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ='
cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=country.read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
LUA
runs=()
for side in base head; do
  SIDE=$(tr a-z A-Z <<<"$side")
  token_url="http://127.0.0.1:${auth_port[$side]}/ms-auth-server/oauth2/token"
  customers_url="http://127.0.0.1:${customer_port[$side]}/customer-service/customers"
  token=$(curl -fsS -X POST "$token_url" -H "Authorization: Basic $basic" -d grant_type=client_credentials -d scope=customer.read \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  echo "wrk.headers[\"Authorization\"] = \"Bearer $token\"" >"$work/bearer-$side.lua"
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Basic $basic" -d grant_type=client_credentials -d scope=country.read "$token_url")
  [ "$status" = 200 ] || { echo "$SIDE issuance answered $status, not 200" >&2; exit 1; }
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$customers_url")
  [ "$status" = 200 ] || { echo "$SIDE GET /customers answered $status, not 200" >&2; exit 1; }
  runs+=("issuance $SIDE|$token_url|$work/token.lua" "GET /customers $SIDE|$customers_url|$work/bearer-$side.lua")
done
# Interleaved: BASE and HEAD of each measure run one after the other in every round.
runs=("${runs[0]}" "${runs[2]}" "${runs[1]}" "${runs[3]}")

source scripts/lib/wrk-rounds.sh
echo "==> $rounds round(s) of $duration per run, wrk -t$threads -c$connections"
wrk_rounds
wrk_medians '
print()
for what in ("issuance", "GET /customers"):
    b, h = med[f"{what} BASE"], med[f"{what} HEAD"]
    print(f"{what:15s} HEAD/BASE: {h / b:.2f}  ({h:.0f} / {b:.0f} req/s)")
'
