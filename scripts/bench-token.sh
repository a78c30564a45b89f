#!/usr/bin/env bash
# Measures token issuance in-process against a bare signature with the same key (criterion),
# then prints the medians side by side and their ratio (target: at most 1.15).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "==> cargo bench -p ms-auth-server --bench token_issuance"
cargo bench -p ms-auth-server --bench token_issuance -- "$@" | tee target/bench-token.out
echo
echo "==> criterion medians (each measured in its own 5 s window)"
python3 - <<'PY'
import json, pathlib
root = pathlib.Path("target/criterion")
for alg in ("rs256", "es256", "eddsa"):
    group = root / f"token_issuance_{alg}"
    if not group.exists():
        continue
    def median(name):
        return json.loads((group / name / "new" / "estimates.json").read_text())["median"]["point_estimate"] / 1000
    bare, e2e = median("bare_signature"), median("client_credentials_end_to_end")
    print(f"{alg}: bare signature {bare:8.1f} µs   issuance end to end {e2e:8.1f} µs   ratio {e2e / bare:.3f}")
PY
echo "==> paired measurement (alternating bursts; robust to a noisy machine)"
grep '^paired' target/bench-token.out
