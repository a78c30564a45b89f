#!/usr/bin/env bash
# Measures the middleware's validation path (cached keys) beside a bare RSA verification with a
# pre-parsed key, and a protected in-process request (token cache on and off) beside the
# same request unprotected.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> cargo bench -p auth-middleware --bench verify"
cargo bench -p auth-middleware --bench verify -- "$@"
python3 - <<'PY'
import json, pathlib
root = pathlib.Path("target/criterion")
def median(group, name):
    return json.loads((root / group / name / "new" / "estimates.json").read_text())["median"]["point_estimate"] / 1000
bare, full = median("middleware_verify", "rsa_verify_parsed_key"), median("middleware_verify", "verify_token")
opened = median("middleware_request", "open_get")
cached, uncached = median("middleware_request", "protected_get_cached"), median("middleware_request", "protected_get_uncached")
print(f"RSA verify (parsed key) {bare:7.2f} µs   verify(token) {full:7.2f} µs   overhead beyond RSA {full - bare:6.2f} µs ({(full - bare) / bare:.0%} of a verify)")
print(f"in-process GET: unprotected {opened:7.2f} µs   protected, token cached {cached:7.2f} µs   protected, no cache {uncached:7.2f} µs")
print(f"middleware per request: {cached - opened:6.2f} µs with the token cache, {uncached - opened:6.2f} µs without")
PY
