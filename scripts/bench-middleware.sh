#!/usr/bin/env bash
# Measures the middleware's validation path (cached keys) beside a bare RSA verification with a
# pre-parsed key, and a protected in-process request beside the same request unprotected.
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
opened, protected = median("middleware_request", "open_get"), median("middleware_request", "protected_get")
print(f"RSA verify (parsed key) {bare:7.2f} µs   verify(token) {full:7.2f} µs   overhead beyond RSA {full - bare:6.2f} µs ({(full - bare) / bare:.0%} of a verify)")
print(f"GET unprotected {opened:7.2f} µs   GET protected {protected:7.2f} µs   middleware adds {protected - opened:6.2f} µs; verify(token) is {(protected - opened) / full:.0%} of that")
PY
