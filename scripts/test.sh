#!/usr/bin/env bash
# Runs every test of the workspace: the README's second command, and what CI runs (.ci/run).
# Installs what the tests need when it is missing. With CI=true it also checks formatting and
# lints with warnings denied.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing ${need_apt[*]}"
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${CI:-}" = "true" ]; then
  echo "==> cargo fmt --check"
  cargo fmt --all -- --check
  echo "==> cargo clippy (warnings denied)"
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi

if cargo nextest --version >/dev/null 2>&1; then
  echo "==> cargo nextest run --workspace"
  cargo nextest run --workspace --locked --no-fail-fast
else
  echo "==> cargo test --workspace"
  cargo test --workspace --locked --no-fail-fast
fi
