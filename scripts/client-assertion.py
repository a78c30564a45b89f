#!/usr/bin/env python3
"""Prints a client assertion (RFC 7523 §2.2, OpenID Connect Core §9) built with PyJWT, for
`client_secret_jwt` (an HMAC keyed with the client secret) or `private_key_jwt` (a signature by
the client's private key).

    scripts/client-assertion.py --client-id ID --aud URL --secret SECRET [--alg HS256]
    scripts/client-assertion.py --client-id ID --aud URL --key key.pem --alg RS256 [--kid KID]
    scripts/client-assertion.py --key key.pem --alg ES256 --kid KID --print-jwk

Give a value that may start with `-` (a base64url secret may) as `--secret=VALUE`.
`--print-jwk` prints the public JWK of `--key` instead (with `--kid` and `--alg`), for the
client's `jwks` at registration. The claims are `iss` = `sub` = the client id, `aud`, `iat`,
`exp` (`--lifetime` seconds later, 60 by default) and a random `jti`; `--iat-offset`, `--exp`,
`--jti` and `--claim NAME=VALUE` change them (the tests use them to build bad assertions)."""

import argparse
import json
import sys
import time
import uuid

import jwt
from jwt.algorithms import get_default_algorithms


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--client-id")
    p.add_argument("--aud", action="append", help="audience; give it twice for a list")
    p.add_argument("--secret", help="client_secret_jwt: the client secret")
    p.add_argument("--key", help="private_key_jwt: a PEM private key file")
    p.add_argument("--alg", help="HS256 with --secret, RS256 with --key by default")
    p.add_argument("--kid")
    p.add_argument("--lifetime", type=int, default=60)
    p.add_argument("--iat-offset", type=int, default=0, help="seconds added to iat (and exp)")
    p.add_argument("--exp", type=int, help="an absolute exp")
    p.add_argument("--no-exp", action="store_true")
    p.add_argument("--jti")
    p.add_argument("--count", type=int, default=1, help="print this many, one per line")
    p.add_argument("--claim", action="append", default=[], help="NAME=VALUE (JSON or a string)")
    p.add_argument("--print-jwk", action="store_true")
    a = p.parse_args()

    if (a.secret is None) == (a.key is None):
        p.error("give --secret or --key")
    if a.key:
        with open(a.key, "rb") as f:
            key = f.read()
        alg = a.alg or "RS256"
    else:
        key = a.secret.encode()
        alg = a.alg or "HS256"

    if a.print_jwk:
        algorithm = get_default_algorithms()[alg]
        private = algorithm.prepare_key(key)
        jwk = json.loads(algorithm.to_jwk(private.public_key()))
        jwk.update({"use": "sig", "alg": alg})
        if a.kid:
            jwk["kid"] = a.kid
        print(json.dumps(jwk))
        return

    if not a.aud or not a.client_id:
        p.error("--client-id and --aud are required")
    headers = {"kid": a.kid} if a.kid else None
    for _ in range(a.count):
        now = int(time.time()) + a.iat_offset
        claims = {
            "iss": a.client_id,
            "sub": a.client_id,
            "aud": a.aud[0] if len(a.aud) == 1 else a.aud,
            "iat": now,
            "jti": a.jti or str(uuid.uuid4()),
        }
        if not a.no_exp:
            claims["exp"] = a.exp if a.exp is not None else now + a.lifetime
        for c in a.claim:
            name, _, value = c.partition("=")
            try:
                claims[name] = json.loads(value)
            except json.JSONDecodeError:
                claims[name] = value
            if value == "":
                del claims[name]
        print(jwt.encode(claims, key, algorithm=alg, headers=headers))


if __name__ == "__main__":
    sys.exit(main())
