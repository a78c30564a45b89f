#!/usr/bin/env bash
# Load script for the cost of telemetry: two stacks of release binaries (ms-auth-server,
# country-service, gateway) with the playground configs on their own ports, side by side in
# one run: one with trace export off, one exporting every span over OTLP/HTTP to a sink that
# reads and drops them (so the figure is the services' cost, not a collector's), and one
# exporting a 10 % sample of traces (OTEL_TRACES_SAMPLER=parentbased_traceidratio). Both have
# request ids and Prometheus metrics, which are always on. wrk measures token issuance and a
# protected GET through each gateway, interleaved over rounds; medians and on/off ratios.
#   BENCH_ROUNDS=3  BENCH_DURATION=5s  BENCH_CONNECTIONS=16  BENCH_THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null 2>&1 || { echo "==> installing wrk"; apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
echo "==> building (release)"
cargo build --quiet --release -p ms-auth-server -p country-service -p gateway

work=$(mktemp -d)
pids=()
cleanup() {
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The OTLP sink: answers 200 to every export and counts them.
sink_port=14318
cat >"$work/sink.py" <<'PY'
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.exports += 1
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def do_GET(self):
        body = str(self.server.exports).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)
s.exports = 0
s.serve_forever()
PY
python3 "$work/sink.py" "$sink_port" &
pids+=($!)

# start_stack NAME AUTH_PORT COUNTRY_PORT GATEWAY_PORT [ENV=VALUE...]
start_stack() {
  local name=$1 auth=$2 country=$3 gw=$4 svc
  shift 4
  mkdir -p "$work/$name"
  for svc in ms-auth-server country-service gateway; do
    sed -e "s/9000/$auth/g; s/8082/$country/g; s/8085/$gw/g; s/8081/1/g" \
      "deploy/playground/$svc.toml" >"$work/$name/$svc.toml"
    env "$@" "./target/release/$svc" --config "$work/$name/$svc.toml" >"$work/$name/$svc.log" 2>&1 &
    pids+=($!)
  done
  for url in "http://127.0.0.1:$((auth + 1000))/health" "http://127.0.0.1:$((country + 1000))/health" "http://127.0.0.1:$((gw + 1000))/health"; do
    for _ in $(seq 1 150); do curl -fsS -o /dev/null "$url" 2>/dev/null && break; sleep 0.1; done
    curl -fsS -o /dev/null "$url" || { echo "$name: $url is not healthy" >&2; cat "$work/$name"/*.log >&2; exit 1; }
  done
}
echo "==> starting the stacks"
start_stack off 19000 18082 18085 RUST_LOG=info
start_stack on 29000 28082 28085 RUST_LOG=info OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port"
start_stack sampled 39000 38082 38085 RUST_LOG=info OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" \
  OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1

basic='c2VydmljZS1jbGllbnQtand0OnNlcnZpY2UtY2xpZW50LWp3dC1zZWNyZXQ='
cat >"$work/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=country.read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $basic"
LUA
for stack in off:18085 on:28085 sampled:38085; do
  token=$(curl -fsS -X POST "http://127.0.0.1:${stack#*:}/ms-auth-server/oauth2/token?grant_type=client_credentials&scope=country.read" \
    -H "Authorization: Basic $basic" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$work/bearer-${stack%%:*}.lua"
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:${stack#*:}/country-service/countries/DE"
done

source scripts/lib/wrk-rounds.sh
runs=(
  "token issuance, telemetry off|http://127.0.0.1:18085/ms-auth-server/oauth2/token|$work/token.lua"
  "token issuance, telemetry on|http://127.0.0.1:28085/ms-auth-server/oauth2/token|$work/token.lua"
  "token issuance, on, 10% sampled|http://127.0.0.1:38085/ms-auth-server/oauth2/token|$work/token.lua"
  "protected GET, telemetry off|http://127.0.0.1:18085/country-service/countries/DE|$work/bearer-off.lua"
  "protected GET, telemetry on|http://127.0.0.1:28085/country-service/countries/DE|$work/bearer-on.lua"
  "protected GET, on, 10% sampled|http://127.0.0.1:38085/country-service/countries/DE|$work/bearer-sampled.lua"
)
wrk_rounds
# Spans still queued leave with the flush at shutdown; the sink has counted the batches so far.
exports=$(curl -fsS "http://127.0.0.1:$sink_port/")
[ "$exports" -gt 0 ] || { echo "the 'on' stack exported nothing" >&2; exit 1; }

echo "==> $exports OTLP export requests received from the 'on' and 'sampled' stacks"
wrk_medians '
for what in ("token issuance", "protected GET"):
    off, on, sampled = med[f"{what}, telemetry off"], med[f"{what}, telemetry on"], med[f"{what}, on, 10% sampled"]
    print(f"{what}: telemetry on / off = {on / off:.2f}; 10% sampled / off = {sampled / off:.2f}")
'
