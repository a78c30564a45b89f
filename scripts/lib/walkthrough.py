"""Runs the docs' requests against a running playground and checks each response against the
sample the page shows. Used by scripts/walkthrough.sh; see docs/README.md for the conventions."""

import json
import os
import re
import subprocess
import sys

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


def run(command, env):
    base = os.environ.get("WALKTHROUGH_BASE")
    if base:
        command = command.replace("http://localhost:8085", base)
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise SystemExit(f"the request failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout


def main(pages):
    env = dict(os.environ)
    checked = 0
    for page in pages:
        print(f"\n### {page}")
        blocks = BLOCK.findall(open(page, encoding="utf-8").read())
        pending = None
        for kind, text in blocks:
            if kind == "sh":
                if pending is not None:
                    raise SystemExit(f"{page}: a request has no documented response after it:\n{pending}")
                pending = text.strip()
            elif kind == "json" and pending is not None:
                print(f"\n$ {pending}")
                output = run(pending, env)
                try:
                    actual = json.loads(output)
                except json.JSONDecodeError:
                    raise SystemExit(f"{page}: the response is not JSON:\n{output}")
                print(json.dumps(actual, indent=2, ensure_ascii=False))
                problems = mismatches(json.loads(text), actual)
                if problems:
                    print(f"\nMISMATCH with the sample in {page}:", *problems, sep="\n  ", file=sys.stderr)
                    raise SystemExit(1)
                if isinstance(actual, dict) and "access_token" in actual:
                    env["TOKEN"] = actual["access_token"]
                if isinstance(actual, dict) and "id" in actual and "email" in actual:
                    env["CUSTOMER_ID"] = actual["id"]
                checked += 1
                pending = None
        if pending is not None:
            raise SystemExit(f"{page}: a request has no documented response after it:\n{pending}")
    print(f"\nwalkthrough: {checked} requests answered as documented")


if __name__ == "__main__":
    main(sys.argv[1:])
