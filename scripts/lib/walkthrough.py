"""Runs the docs' requests against a running playground and checks each response against the
sample the page shows. Used by scripts/walkthrough.sh; see docs/README.md for the conventions.

The blocks run as in one terminal: a shell variable (or function) a block sets is set in the
blocks after it, and each page runs in a fresh temporary directory of its own, where it may keep
files (a cookie jar, a saved page) for its later blocks."""

import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ELIDED = "…"


def mismatches(expected, actual, path="$"):
    """Differences between the documented sample and the real response. Tokens and UUIDs are
    checked for their form only; the string "…" stands for any value, and a list whose last
    element is "…" for any longer list starting with the elements shown."""
    if expected == ELIDED:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        out = []
        if set(expected) != set(actual):
            out.append(f"{path}: fields {sorted(actual)} differ from the documented {sorted(expected)}")
        for key in expected.keys() & actual.keys():
            out += mismatches(expected[key], actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {actual!r}"]
        if expected and expected[-1] == ELIDED:
            shown = expected[:-1]
            if len(actual) < len(shown):
                return [f"{path}: expected at least {len(shown)} items, got {len(actual)}"]
            actual = actual[: len(shown)]
            expected = shown
        if len(expected) != len(actual):
            return [f"{path}: expected {len(expected)} items, got {len(actual)}"]
        return [m for i, (e, a) in enumerate(zip(expected, actual)) for m in mismatches(e, a, f"{path}[{i}]")]
    if isinstance(expected, str) and JWT.match(expected) and expected.startswith("eyJ"):
        return [] if isinstance(actual, str) and JWT.match(actual) else [f"{path}: expected a JWT, got {actual!r}"]
    if isinstance(expected, str) and UUID.match(expected):
        return [] if isinstance(actual, str) and UUID.match(actual) else [f"{path}: expected a UUID, got {actual!r}"]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


# Variables bash sets by itself, never carried from one block to the next.
SHELL_OWN = {"_", "PWD", "OLDPWD", "SHLVL", "WALKTHROUGH_STATUS"}

# What the walkthrough keeps from a JSON response, as a reader would by copy and paste: the
# field, and the variable it is kept in.
KEPT = {"access_token": "TOKEN", "refresh_token": "REFRESH_TOKEN", "id_token": "ID_TOKEN"}


def run(command, env, cwd):
    """Runs one block with bash in `cwd`: its output. `env` is updated with the variables the
    block left set (with `set -a` every assignment is exported, so `env -0` lists it)."""
    base = os.environ.get("WALKTHROUGH_BASE")
    if base:
        command = command.replace("http://localhost:8085", base)
    # A page runs in a directory of its own; the scripts it names are the repository's.
    command = command.replace(" scripts/", f" {ROOT}/scripts/")
    with tempfile.NamedTemporaryFile(prefix="walkthrough-env-") as after:
        script = f"set -a\n{command}\nWALKTHROUGH_STATUS=$?\nenv -0 > {after.name}\nexit $WALKTHROUGH_STATUS\n"
        done = subprocess.run(["bash", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise SystemExit(f"the request failed (exit {done.returncode}): {done.stderr.strip()}")
        entries = [e for e in open(after.name, encoding="utf-8").read().split("\0") if e]
    if entries:  # none when the block ended the shell itself (`exit`): then it set nothing
        pairs = (entry.partition("=") for entry in entries)
        env.clear()
        env.update({name: value for name, _, value in pairs if name not in SHELL_OWN})
    return done.stdout


def run_page(page, env, cwd):
    """Runs the blocks of `page` in `cwd`: how many responses it checked."""
    checked = 0
    pending = None
    for kind, text in BLOCK.findall(open(page, encoding="utf-8").read()):
        if kind == "sh":
            if pending is not None:
                raise SystemExit(f"{page}: a request has no documented response after it:\n{pending}")
            pending = text.strip()
        elif kind == "json" and pending is not None:
            print(f"\n$ {pending}")
            output = run(pending, env, cwd)
            try:
                actual = json.loads(output)
            except json.JSONDecodeError:
                raise SystemExit(f"{page}: the response is not JSON:\n{output}")
            print(json.dumps(actual, indent=2, ensure_ascii=False))
            problems = mismatches(json.loads(text), actual)
            if problems:
                print(f"\nMISMATCH with the sample in {page}:", *problems, sep="\n  ", file=sys.stderr)
                raise SystemExit(1)
            for field, name in KEPT.items():
                if isinstance(actual, dict) and isinstance(actual.get(field), str):
                    env[name] = actual[field]
            if isinstance(actual, dict) and "id" in actual and "email" in actual:
                env["CUSTOMER_ID"] = actual["id"]
            checked += 1
            pending = None
    if pending is not None:
        raise SystemExit(f"{page}: a request has no documented response after it:\n{pending}")
    return checked


def main(pages):
    env = dict(os.environ)
    checked = 0
    for page in pages:
        print(f"\n### {page}")
        # A page's files (a cookie jar, a saved page) are its own, and gone afterwards.
        with tempfile.TemporaryDirectory(prefix="walkthrough-") as cwd:
            checked += run_page(page, env, cwd)
    print(f"\nwalkthrough: {checked} requests answered as documented")


if __name__ == "__main__":
    main(sys.argv[1:])
