#!/usr/bin/env bash
# Load script: starts the playground (release build) and measures with wrk, in one run on one
# machine: token issuance through the gateway; a protected GET through the gateway; the same
# GET straight to the service; and a GET without auth (the service's unprotected metadata
# document, a response of the same kind), then prints the figures and ratios.
#   BENCH_DURATION=10s  BENCH_CONNECTIONS=16  BENCH_THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${BENCH_DURATION:-10s}"
connections="${BENCH_CONNECTIONS:-16}"
threads="${BENCH_THREADS:-1}"

if ! command -v wrk >/dev/null 2>&1; then
  echo "==> installing wrk"
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
PLAYGROUND_PROFILE=release PLAYGROUND_LOGS="$work/logs" scripts/playground.sh >"$work/playground.out" 2>&1 &
playground=$!
cleanup() { kill -TERM "$playground" 2>/dev/null || true; wait "$playground" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 3000); do
  grep -q '^READY$' "$work/playground.out" 2>/dev/null && break
  kill -0 "$playground" 2>/dev/null || { cat "$work/playground.out" >&2; exit 1; }
  sleep 0.2
done
grep -q '^READY$' "$work/playground.out" || { echo "the playground did not come up" >&2; exit 1; }

basic='c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ='
token=$(curl -fsS -X POST "http://127.0.0.1:8085/ms-auth-server/oauth2/token?grant_type=client_credentials&scope=country.read" \
  -H "Authorization: Basic $basic" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=country.read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
LUA
cat >"$work/bearer.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA
: >"$work/plain.lua"

# name | url | lua script
runs=(
  "token issuance via gateway|http://127.0.0.1:8085/ms-auth-server/oauth2/token|token.lua"
  "protected GET via gateway|http://127.0.0.1:8085/country-service/countries/DE|bearer.lua"
  "protected GET direct|http://127.0.0.1:8082/country-service/countries/DE|bearer.lua"
  "GET without auth direct|http://127.0.0.1:8082/country-service/.well-known/oauth-protected-resource|plain.lua"
)
declare -A rps p50
for run in "${runs[@]}"; do
  IFS='|' read -r name url script <<<"$run"
  status=$(curl -s -o /dev/null -w '%{http_code}' -X "$( [ "$script" = token.lua ] && echo POST || echo GET )" \
    -H "Authorization: $( [ "$script" = token.lua ] && echo "Basic $basic" || echo "Bearer $token" )" \
    $( [ "$script" = token.lua ] && echo "-d grant_type=client_credentials" ) "$url")
  [ "$status" = 200 ] || { echo "$name: $url answered $status, not 200" >&2; exit 1; }
  echo "==> $name: wrk -t$threads -c$connections -d$duration $url"
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$work/$script" "$url")
  if grep -q 'Non-2xx' <<<"$out"; then echo "$out" >&2; echo "$name: errors during the run" >&2; exit 1; fi
  rps[$name]=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50[$name]=$(awk '$1 == "50%" {print $2}' <<<"$out")
  printf '    %10s req/s   p50 %s\n' "${rps[$name]}" "${p50[$name]}"
done

echo
echo "==> results (one run, $threads wrk thread(s), $connections connections, $duration each)"
for run in "${runs[@]}"; do
  IFS='|' read -r name _ _ <<<"$run"
  printf '%-28s %10s req/s   p50 %s\n' "$name" "${rps[$name]}" "${p50[$name]}"
done
python3 - "${rps[protected GET via gateway]}" "${rps[protected GET direct]}" "${rps[GET without auth direct]}" <<'PY'
import sys
via, direct, plain = map(float, sys.argv[1:])
print(f"gateway cost factor (direct req/s / via-gateway req/s): {direct / via:.2f}  (target <= 1.15)")
print(f"protected GET / unauthenticated GET throughput:         {direct / plain:.2f}  (target >= 0.85)")
PY
