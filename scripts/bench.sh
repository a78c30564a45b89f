#!/usr/bin/env bash
# Load script: starts the playground (release build) and measures with wrk, in one run on one
# machine: token issuance through the gateway; a protected GET through the gateway; the same
# GET straight to the service; the same GET through nginx (a reference reverse proxy, for
# scale); and a GET without auth (the service's unprotected metadata document, a response of
# the same kind, sent with and without the Authorization header), then prints the figures and
# ratios. The runs are interleaved over several rounds and each figure is the median of its
# rounds, so a noisy moment does not decide a ratio.
#   BENCH_ROUNDS=3  BENCH_DURATION=5s  BENCH_CONNECTIONS=16  BENCH_THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
PLAYGROUND_PROFILE=release PLAYGROUND_LOGS="$work/logs" scripts/playground.sh >"$work/playground.out" 2>&1 &
playground=$!
cleanup() {
  [ -f "$work/nginx.pid" ] && kill -TERM "$(cat "$work/nginx.pid")" 2>/dev/null || true
  kill -TERM "$playground" 2>/dev/null || true
  wait "$playground" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 3000); do
  grep -q '^READY$' "$work/playground.out" 2>/dev/null && break
  kill -0 "$playground" 2>/dev/null || { cat "$work/playground.out" >&2; exit 1; }
  sleep 0.2
done
grep -q '^READY$' "$work/playground.out" || { echo "the playground did not come up" >&2; exit 1; }

# nginx on :8086 in front of country-service, with pooled keep-alive upstream connections.
cat >"$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  upstream country { server 127.0.0.1:8082; keepalive 64; }
  server {
    listen 127.0.0.1:8086;
    location / {
      proxy_pass http://country;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
NGINX
"$nginx" -c "$work/nginx.conf" -p "$work"

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
  "protected GET via nginx|http://127.0.0.1:8086/country-service/countries/DE|bearer.lua"
  "GET without auth direct|http://127.0.0.1:8082/country-service/.well-known/oauth-protected-resource|plain.lua"
  "same, header sent anyway|http://127.0.0.1:8082/country-service/.well-known/oauth-protected-resource|bearer.lua"
)
source scripts/lib/wrk-rounds.sh
for i in "${!runs[@]}"; do runs[$i]="${runs[$i]%|*}|$work/${runs[$i]##*|}"; done
for run in "${runs[@]}"; do
  IFS='|' read -r name url script <<<"$run"
  if [[ "$script" == */token.lua ]]; then
    status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Basic $basic" -d grant_type=client_credentials "$url")
  else
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url")
  fi
  [ "$status" = 200 ] || { echo "$name: $url answered $status, not 200" >&2; exit 1; }
done
wrk_rounds

wrk_medians '
via, direct, nginx = med["protected GET via gateway"], med["protected GET direct"], med["protected GET via nginx"]
plain, plain_hdr = med["GET without auth direct"], med["same, header sent anyway"]
print(f"gateway cost factor (direct req/s / via-gateway req/s): {direct / via:.2f}  (target <= 1.15)")
print(f"nginx cost factor, same measure, for reference:          {direct / nginx:.2f}")
print(f"gateway throughput relative to nginx:                    {via / nginx:.2f}")
print(f"protected GET / unauthenticated GET throughput:          {direct / plain:.2f}  (target >= 0.85)")
print(f"  the same, both requests carrying the token header:     {direct / plain_hdr:.2f}")
'
