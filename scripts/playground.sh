#!/usr/bin/env bash
# Runs the playground: builds and starts ms-auth-server, customer-service, country-service and
# the gateway with the playground configs (deploy/playground/), waits until each is healthy,
# prints the URLs and a first request, and stops everything on Ctrl-C or SIGTERM.
#   PLAYGROUND_PROFILE=release  build optimised binaries (default: debug, quicker to build)
#   PLAYGROUND_LOGS=DIR         where the services' logs go (default: target/playground)
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${PLAYGROUND_PROFILE:-debug}"
logs="${PLAYGROUND_LOGS:-target/playground}"
mkdir -p "$logs"
services=(ms-auth-server customer-service country-service gateway)
declare -A health=(
  [ms-auth-server]="http://127.0.0.1:9000/ms-auth-server/health"
  [customer-service]="http://127.0.0.1:8081/customer-service/health"
  [country-service]="http://127.0.0.1:8082/country-service/health"
  [gateway]="http://127.0.0.1:8085/health"
)
ports=(9000 8081 8082 8085)

for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: stop whatever listens there first" >&2
    exit 1
  fi
done

echo "==> building (${profile})"
build_flags=(--quiet)
[ "$profile" = release ] && build_flags+=(--release)
cargo build "${build_flags[@]}" $(printf -- '-p %s ' "${services[@]}")

pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo "==> stopping the playground"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for svc in "${services[@]}"; do
  echo "==> starting $svc (log: $logs/$svc.log)"
  "./target/$profile/$svc" --config "deploy/playground/$svc.toml" >"$logs/$svc.log" 2>&1 &
  pids+=($!)
  pid=$!
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "${health[$svc]}" 2>/dev/null; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$svc exited; its log says:" >&2
      tail -n 20 "$logs/$svc.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if ! curl -fsS -o /dev/null "${health[$svc]}"; then
    echo "$svc did not become healthy; see $logs/$svc.log" >&2
    exit 1
  fi
done

cat <<'MSG'

The playground is up. Everything goes through the gateway:
  ms-auth-server     http://localhost:8085/ms-auth-server/.well-known/oauth-authorization-server
  customer-service   http://localhost:8085/customer-service/customers      (customer.read / customer.write)
  country-service    http://localhost:8085/country-service/countries       (country.read)

A first token (the docs' request):
  curl --location --request POST 'http://localhost:8085/ms-auth-server/oauth2/token' \
  --header 'Content-Type: application/x-www-form-urlencoded' \
  --data-urlencode 'grant_type=client_credentials' \
  --data-urlencode 'client_id=service-client-jwt' \
  --data-urlencode 'client_secret=service-client-jwt-secret' \
  --data-urlencode 'scope=country.read customer.read customer.write'

The whole walkthrough: scripts/walkthrough.sh      Ctrl-C stops everything.
ms-auth-server keeps its clients and signing key in target/playground/data/ (SQLite): tokens
survive a restart; delete the folder to start afresh.
MSG
echo "READY"
wait -n "${pids[@]}" || true
echo "a service exited; stopping the rest" >&2
exit 1
