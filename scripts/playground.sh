#!/usr/bin/env bash
# Starts the local playground: ms-auth-server with the playground config (deploy/playground/),
# waits until it is healthy, prints a first request, and stops cleanly on Ctrl-C or SIGTERM.
# (The gateway on :8085 and the resource services join when they exist.)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building ms-auth-server"
cargo build --quiet -p ms-auth-server

pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo "==> stopping"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "==> starting ms-auth-server on :9000"
./target/debug/ms-auth-server --config deploy/playground/ms-auth-server.toml &
pids+=($!)

for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null http://127.0.0.1:9000/ms-auth-server/health; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "ms-auth-server exited" >&2; exit 1; fi
  sleep 0.1
done
curl -fsS -o /dev/null http://127.0.0.1:9000/ms-auth-server/health

cat <<'MSG'

Playground is up:
  token endpoint  http://localhost:9000/ms-auth-server/oauth2/token
  JWKS            http://localhost:9000/ms-auth-server/oauth2/jwks
  metadata        http://localhost:9000/ms-auth-server/.well-known/oauth-authorization-server

Try:
  curl --request POST 'http://localhost:9000/ms-auth-server/oauth2/token' \
    --data-urlencode 'grant_type=client_credentials' \
    --data-urlencode 'client_id=service-client-jwt' \
    --data-urlencode 'client_secret=service-client-jwt-secret'

Ctrl-C stops everything.
MSG
wait "${pids[@]}"
