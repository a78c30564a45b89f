#!/usr/bin/env bash
# Runs the playground: builds and starts ms-auth-server, customer-service, country-service, the
# gateway and the sample application (sample-client, on :8080) with the playground configs
# (deploy/playground/), waits until each is healthy, prints the URLs and a first request, and
# stops everything on Ctrl-C or SIGTERM.
#   PLAYGROUND_PROFILE=release  build optimised binaries (default: debug, quicker to build)
#   PLAYGROUND_LOGS=DIR         where the services' logs go (default: target/playground)
#   PLAYGROUND_CLUSTER=1        cluster mode: PostgreSQL (:5432) and Redis (:6379) started here,
#                               two ms-auth-server replicas (:9000, :9001) behind the gateway
# Data: SQLite files in target/playground/data/; in cluster mode PostgreSQL's cluster in
# target/playground/cluster/postgres/ (delete either folder to start afresh).
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${PLAYGROUND_PROFILE:-debug}"
logs="${PLAYGROUND_LOGS:-target/playground}"
cluster="${PLAYGROUND_CLUSTER:-}"
mkdir -p "$logs"
# name|binary|config|readiness URL (on the management listener)|environment (space-separated NAME=VALUE)
instances=(
  "ms-auth-server|ms-auth-server|ms-auth-server|http://127.0.0.1:10000/health/ready|"
  "customer-service|customer-service|customer-service|http://127.0.0.1:9081/health/ready|"
  "country-service|country-service|country-service|http://127.0.0.1:9082/health/ready|"
  "gateway|gateway|gateway|http://127.0.0.1:9085/health/ready|"
  "sample-client|sample-client|sample-client|http://127.0.0.1:9080/health/ready|"
)
# public ports, then the management listeners (public + 1000: health and metrics)
ports=(9000 8081 8082 8085 8080 10000 9081 9082 9085 9080)
if [ -n "$cluster" ]; then
  pg="postgres://postgres@127.0.0.1:5432"
  auth_env="MS_AUTH_SERVER__STORE__URL=$pg/ms_auth_server MS_AUTH_SERVER__REDIS__URL=redis://127.0.0.1:6379 MS_AUTH_SERVER__CLUSTER__REPLICATED=true"
  instances=(
    "ms-auth-server|ms-auth-server|ms-auth-server|http://127.0.0.1:10000/health/ready|$auth_env"
    "ms-auth-server-2|ms-auth-server|ms-auth-server|http://127.0.0.1:10001/health/ready|$auth_env MS_AUTH_SERVER__SERVER__PORT=9001"
    "customer-service|customer-service|customer-service|http://127.0.0.1:9081/health/ready|CUSTOMER_SERVICE__STORE__URL=$pg/customer_service"
    "country-service|country-service|country-service|http://127.0.0.1:9082/health/ready|"
    "gateway|gateway|gateway-cluster|http://127.0.0.1:9085/health/ready|"
    "sample-client|sample-client|sample-client|http://127.0.0.1:9080/health/ready|"
  )
  ports+=(9001 10001 5432 6379)
fi

for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: stop whatever listens there first" >&2
    exit 1
  fi
done

echo "==> building (${profile})"
build_flags=(--quiet)
[ "$profile" = release ] && build_flags+=(--release)
cargo build "${build_flags[@]}" -p ms-auth-server -p customer-service -p country-service -p gateway -p sample-client

pids=()
cluster_dir=target/playground/cluster
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo "==> stopping the playground"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  if [ -n "$cluster" ]; then pg_stop "$cluster_dir/postgres"; fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "$cluster" ]; then
  source scripts/lib/postgres.sh
  command -v redis-server >/dev/null 2>&1 || { echo "==> installing redis-server"; apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
  pg_start "$cluster_dir/postgres" 5432
  for db in ms_auth_server customer_service; do
    "$(pg_bin)/psql" -q -h 127.0.0.1 -p 5432 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
      || "$(pg_bin)/psql" -q -h 127.0.0.1 -p 5432 -U postgres -c "CREATE DATABASE $db"
  done
  echo "==> starting redis-server on 127.0.0.1:6379"
  redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no >"$logs/redis.log" 2>&1 &
  pids+=($!)
fi

for instance in "${instances[@]}"; do
  IFS='|' read -r name bin config health env <<<"$instance"
  echo "==> starting $name (log: $logs/$name.log)"
  # $env is a list of NAME=VALUE words, split on purpose.
  env $env "./target/$profile/$bin" --config "deploy/playground/$config.toml" >"$logs/$name.log" 2>&1 &
  pid=$!
  pids+=($pid)
  for _ in $(seq 1 150); do
    if curl -fsS -o /dev/null "$health" 2>/dev/null; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name exited; its log says:" >&2
      tail -n 20 "$logs/$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if ! curl -fsS -o /dev/null "$health"; then
    echo "$name did not become healthy; see $logs/$name.log" >&2
    exit 1
  fi
done

cat <<'MSG'

Open http://127.0.0.1:8080 and sign in as alice (password alice-password).
  the sample web app   http://127.0.0.1:8080/        (playground-web: sign-in, consent, tokens, sign-out)
  its single-page app  http://127.0.0.1:8080/spa/    (playground-spa: PKCE in the browser)

The playground is up. Everything else goes through the gateway:
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
Data survives a restart: target/playground/data/ (SQLite) or, in cluster mode,
target/playground/cluster/postgres/; delete the folder to start afresh.
MSG
if [ -n "$cluster" ]; then
  echo "Cluster mode: ms-auth-server on :9000 and :9001 (PostgreSQL :5432, Redis :6379), round-robin behind the gateway."
fi
echo "READY"
wait -n "${pids[@]}" || true
echo "a service exited; stopping the rest" >&2
exit 1
