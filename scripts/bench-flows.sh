#!/usr/bin/env bash
# Load script for the people flows (issue 13): release ms-auth-servers with the playground
# config side by side in one run — on a SQLite file, and on PostgreSQL + Redis (a throwaway
# cluster and a redis-server started here) — and the load client
# (crates/ms-auth-server/examples/load_flows.rs) on each, interleaved over rounds:
#   cc              client_credentials alone (1 signature a request)
#   signin          sign-ins flat out (fresh browser: authorize → sign-in page → POST /login,
#                   argon2id → 303 with a code), their p50 and the 503s of a full password queue
#   signin+cc       both at once: client_credentials while sign-ins run flat out
#   exchange        code exchanges, scope openid (access + ID token: 2 signatures)
#   exchange-plain  code exchanges, scope country.read (1 signature)
#   refresh         refresh grants, scope openid offline_access (2 signatures)
#   refresh-plain   refresh grants, scope country.read (1 signature)
# then the medians, and the ratios against client_credentials on the same store.
#   BENCH_ROUNDS=3  BENCH_DURATION=10s  BENCH_CONCURRENCY=16  BENCH_CLIENT_THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."

rounds="${BENCH_ROUNDS:-3}"
duration="${BENCH_DURATION:-10s}"
concurrency="${BENCH_CONCURRENCY:-16}"
client_threads="${BENCH_CLIENT_THREADS:-1}"
# The password pool answers 503 past max_queued waiting hashes (64 by default, the config
# here): the flat-out sign-ins should queue, not be refused.
if [ "$concurrency" -gt 64 ]; then
  echo "BENCH_CONCURRENCY=$concurrency is over passwords.max_queued (64): sign-ins would be refused with 503" >&2
  exit 1
fi

missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# Two builds: the server exactly as shipped, then the load client (an example: it links the
# crate with its dev-dependencies' features, which the measured binary must not carry).
echo "==> building ms-auth-server and the load client (release)"
cargo build --quiet --release -p ms-auth-server --bin ms-auth-server
cargo build --quiet --release -p ms-auth-server --example load_flows
bin="${CARGO_TARGET_DIR:-target}/release"

work=$(mktemp -d)
pg_dir=$(mktemp -d)  # its own folder: the postgres user must be able to enter it
source scripts/lib/postgres.sh
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    for log in "$work"/*.log; do [ -s "$log" ] && { echo "--- the end of $log" >&2; tail -n 20 "$log" >&2; }; done
  fi
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  pg_stop "$pg_dir"
  rm -rf "$work" "$pg_dir"
}
trap cleanup EXIT

pg_start "$pg_dir" "$(free_port)"
redis_port=$(free_port)
echo "==> starting redis-server on 127.0.0.1:$redis_port"
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)

declare -A url
# start NAME ENV...: the playground's config on free ports; issuance limits out of reach (the
# per-client counter is still consulted on every token).
start() {
  local name=$1 port mgmt
  shift
  port=$(free_port) mgmt=$(free_port)
  env MS_AUTH_SERVER__SERVER__PORT="$port" MS_AUTH_SERVER__MANAGEMENT__PORT="$mgmt" RUST_LOG=warn \
    MS_AUTH_SERVER__TOKENS__MAX_PER_CLIENT_PER_SECOND=1000000000 "$@" \
    "$bin/ms-auth-server" --config deploy/playground/ms-auth-server.toml >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$mgmt/health/ready" 2>/dev/null; then
      url[$name]="http://127.0.0.1:$port/ms-auth-server"
      echo "==> $name on ${url[$name]}"
      return
    fi
    sleep 0.1
  done
  echo "$name did not start:" >&2; cat "$work/$name.log" >&2; exit 1
}
start sqlite MS_AUTH_SERVER__STORE__URL="sqlite://$work/auth.db"
start postgres MS_AUTH_SERVER__STORE__URL="$PG_URL" MS_AUTH_SERVER__REDIS__URL="redis://127.0.0.1:$redis_port" \
  MS_AUTH_SERVER__CLUSTER__REPLICATED=true

stores=(sqlite postgres)
phases=(cc signin signin+cc exchange exchange-plain refresh refresh-plain)
echo "==> $rounds round(s), $duration per phase, $concurrency in flight ($client_threads client thread(s))"
: >"$work/results"
for round in $(seq 1 "$rounds"); do
  for phase in "${phases[@]}"; do
    for store in "${stores[@]}"; do
      out=$("$bin/examples/load_flows" "${url[$store]}" "$phase" "$duration" "$concurrency" "$client_threads") || {
        echo "$out" >&2; echo "$phase on $store failed (round $round)" >&2; exit 1; }
      while read -r line; do
        echo "store=$store round=$round $line" >>"$work/results"
        printf 'round %s  %-8s %s\n' "$round" "$store" "$line"
      done <<<"$out"
    done
  done
done

echo
echo "==> medians of $rounds round(s)"
python3 - "$work/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split())
    rows.setdefault((f["store"], f["phase"]), []).append(f)
def med(store, phase, key):
    return statistics.median(float(r[key]) for r in rows[(store, phase)])
names = [
    ("cc", "client_credentials alone"),
    ("signin", "sign-ins (argon2id)"),
    ("cc_during_signins", "client_credentials during sign-ins"),
    ("signins_during_cc", "sign-ins during client_credentials"),
    ("exchange", "code exchange, openid"),
    ("exchange-plain", "code exchange, no openid"),
    ("refresh", "refresh, openid offline_access"),
    ("refresh-plain", "refresh, no openid"),
]
labels = {"sqlite": "SQLite", "postgres": "PostgreSQL + Redis"}
# 503s: the password pool full (sign-ins); store 503s: the store did not answer in time;
# unmade: codes or refresh tokens that could not be prepared (skipped). Totals of the rounds.
print(f"{'store':19s} {'measure':36s} {'req/s':>8s} {'p50 ms':>8s} {'sig/req':>7s} {'sig/s':>8s} {'503s':>5s} {'store 503s':>10s} {'unmade':>6s}")
for store in labels:
    for phase, name in names:
        if (store, phase) not in rows:
            continue
        rps, p50, spr = (med(store, phase, k) for k in ("rps", "p50_ms", "sigs_per_req"))
        busy, unavailable, unmade = (sum(int(r[k]) for r in rows[(store, phase)]) for k in ("busy", "unavailable", "prep_failed"))
        print(f"{labels[store]:19s} {name:36s} {rps:8.1f} {p50:8.2f} {spr:7.2f} {rps * spr:8.1f} {busy:5d} {unavailable:10d} {unmade:6d}")
print()
for store in labels:
    cc = med(store, "cc", "rps")
    under = med(store, "cc_during_signins", "rps")
    print(f"{labels[store]}:")
    print(f"  client_credentials during sign-ins / alone:          {under / cc:.2f}  (target >= 0.5)")
    for phase, name in names[4:]:
        per_sig = med(store, phase, "rps") * med(store, phase, "sigs_per_req")
        print(f"  {name + ' per signature / cc:':51s} {per_sig / cc:.2f}  (target >= 0.8)")
PY
