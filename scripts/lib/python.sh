# A Python virtualenv with the independent clients of scripts/lib/requirements.txt, made once
# under target/pyenv (from PyPI). Sourced by scripts/test.sh; after `py_env`, TEST_PYTHON names
# its interpreter (the Rust tests run it) and its bin/ is first on PATH (the walkthrough's
# `python3` is the venv's).
py_env() {
  local dir=${PYENV_DIR:-target/pyenv} req=scripts/lib/requirements.txt
  if ! cmp -s "$req" "$dir/requirements.txt" 2>/dev/null || ! "$dir/bin/python" -c 'import jwt, authlib, requests, cryptography' 2>/dev/null; then
    echo "==> Python virtualenv $dir ($(grep -v '^#' "$req" | tr '\n' ' '))"
    rm -rf "$dir"
    if ! python3 -m venv "$dir" 2>/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$dir"
    fi
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"
    cp "$req" "$dir/requirements.txt"
  fi
  TEST_PYTHON=$(cd "$dir/bin" && pwd)/python
  export TEST_PYTHON
  export PATH="$(dirname "$TEST_PYTHON"):$PATH"
}
