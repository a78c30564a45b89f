#!/usr/bin/env bash
# client_credentials end to end in-process by client authentication method, in one run:
# client_secret_basic, and private_key_jwt with RS256 and ES256 assertions (criterion, then
# alternating bursts). Prints the medians and each method's throughput relative to
# client_secret_basic (target for private_key_jwt: at least 0.85).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> cargo bench -p ms-auth-server --bench client_auth"
cargo bench -p ms-auth-server --bench client_auth -- "$@" | tee target/bench-client-auth.out
echo
echo "==> criterion medians (each in its own window)"
python3 - <<'PY'
import json, pathlib
group = pathlib.Path("target/criterion/client_auth")
def median(name):
    return json.loads((group / name / "new" / "estimates.json").read_text())["median"]["point_estimate"] / 1000
basic = median("client_secret_basic")
for name in ("client_secret_basic", "private_key_jwt_rs256", "private_key_jwt_es256"):
    m = median(name)
    print(f"{name:24} {m:8.1f} µs   throughput {basic / m:.3f} x client_secret_basic")
PY
echo "==> paired measurement (alternating bursts; robust to a noisy machine)"
grep '^paired' target/bench-client-auth.out
