#!/usr/bin/env bash
# Runs the docs as an executable walkthrough against a running playground (scripts/playground.sh):
# every request on the playground pages, exactly as written there, each response printed and
# compared with the page's sample. Exits non-zero on the first mismatch.
#   WALKTHROUGH_BASE=http://host:port   run against another address than http://localhost:8085
#   scripts/walkthrough.sh PAGE...      run only these pages
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> walkthrough against ${WALKTHROUGH_BASE:-http://localhost:8085}"
if [ $# -gt 0 ]; then exec python3 scripts/lib/walkthrough.py "$@"; fi
exec python3 scripts/lib/walkthrough.py \
  docs/playground.md \
  docs/client-secret-post.md \
  docs/client-secret-basic.md \
  docs/resource-services.md \
  docs/revocation-introspection.md \
  docs/operations.md \
  docs/authorization-code.md \
  docs/openid-connect.md \
  docs/logout.md \
  docs/legacy-flows.md \
  docs/client-registration.md \
  docs/client-secret-jwt.md \
  docs/private-key-jwt.md
