#!/usr/bin/env python3
"""Registers a client dynamically (RFC 7591) and uses it, as an independent client would.

    authlib-registration.py ISSUER [SCOPE]

Reads ISSUER's discovery document (RFC 8414), registers a client_credentials client that
authenticates with client_secret_basic at its registration_endpoint, fetches an access token
with Authlib's OAuth2Session, reads the registration back at its registration_client_uri with
the registration access token (RFC 7592 §2.1), and prints one JSON object: the registration,
the token response and the read.
"""

import json
import sys

import requests
from authlib.integrations.requests_client import OAuth2Session


def main() -> None:
    issuer = sys.argv[1].rstrip("/")
    scope = sys.argv[2] if len(sys.argv) > 2 else "country.read"
    discovery = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10)
    discovery.raise_for_status()
    metadata = discovery.json()

    registered = requests.post(
        metadata["registration_endpoint"],
        json={
            "client_name": "Authlib registration test",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": scope,
        },
        timeout=10,
    )
    if registered.status_code != 201:
        sys.exit(f"registration answered {registered.status_code}: {registered.text}")
    client = registered.json()

    session = OAuth2Session(
        client["client_id"],
        client["client_secret"],
        scope=scope,
        token_endpoint_auth_method="client_secret_basic",
    )
    token = session.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")

    read = requests.get(
        client["registration_client_uri"],
        headers={"Authorization": f"Bearer {client['registration_access_token']}"},
        timeout=10,
    )
    read.raise_for_status()

    print(json.dumps({"registered": client, "token": dict(token), "read": read.json()}))


if __name__ == "__main__":
    main()
