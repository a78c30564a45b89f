//! Registration with values: requests, refusals, credentials, rotation, the response.

use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use crate::oauth::client::ClientStatus;
use crate::oauth::{
    client::{ClientMetadata, ResponseType},
    resources::ScopeDefinition,
};

fn registrar(grant_types: &[GrantType]) -> Registrar {
    let defined = |name: &str| ScopeDefinition {
        name: Scope::parse(name).unwrap(),
        description: "d".to_owned(),
        resource: Some("http://localhost:8085/country-service".to_owned()),
    };
    Registrar {
        mode: RegistrationMode::Open,
        initial_access_scope: Scope::parse("client.register").unwrap(),
        scopes: ScopeSet::parse_param("openid country.read").unwrap(),
        registry: Arc::new(ScopeRegistry::with_openid(vec![
            defined("country.read"),
            defined("admin"),
        ])),
        grant_types: grant_types.to_vec(),
        max_per_source_per_minute: 10,
        max_clients: 100,
        secret_ttl_secs: 0,
        endpoints: Endpoints::new("http://localhost:8085/ms-auth-server"),
        sealer: Arc::new(Sealer::random().unwrap()),
    }
}

const OFFERED: &[GrantType] = &[
    GrantType::AuthorizationCode,
    GrantType::ClientCredentials,
    GrantType::RefreshToken,
];

fn now() -> UnixTime {
    UnixTime::from_secs(1_700_000_000)
}

fn register(r: &Registrar, body: Value) -> Result<Registered, RegistrationError> {
    let request = r.request(body.to_string().as_bytes())?;
    r.register(request, now())
}

/// The wire code and description of a refusal.
fn refusal(e: RegistrationError) -> (&'static str, String) {
    match e {
        RegistrationError::Rejected(e) => (e.error.as_str(), e.error_description.unwrap()),
        other => panic!("not a refusal: {other:?}"),
    }
}

fn info(r: &Registrar, done: &Registered) -> Value {
    serde_json::to_value(r.information(&done.client, &done.access_token, done.secret.as_ref()))
        .unwrap()
}

#[test]
fn a_minimal_request_gets_rfc7591s_defaults_and_a_secret() {
    let r = registrar(OFFERED);
    let done = register(&r, json!({"redirect_uris": ["https://app.example/cb"]})).unwrap();
    let c = &done.client;
    assert_eq!(
        c.metadata.token_endpoint_auth_methods,
        [AuthMethod::ClientSecretBasic]
    );
    assert_eq!(c.metadata.grant_types, [GrantType::AuthorizationCode]);
    assert_eq!(c.metadata.response_types, [ResponseType::Code]);
    assert_eq!(
        c.scopes().to_param(),
        "openid country.read",
        "[registration] scopes"
    );
    assert_eq!(
        (c.origin, c.status),
        (ClientOrigin::Registration, ClientStatus::Active)
    );
    assert!(!c.metadata.first_party && c.metadata.require_pkce);
    let secret = done.secret.as_ref().unwrap();
    assert!(secret.is_strong());
    assert!(
        c.credential
            .secret_hash()
            .unwrap()
            .verify(secret.expose().as_bytes())
    );
    let registration = c.registration.as_ref().unwrap();
    assert_eq!(
        registration.access_token_hash,
        credential_hash(&done.access_token)
    );
    assert_eq!(done.access_token.len(), 43, "256 bits, base64url");
    assert!(uuid::Uuid::parse_str(c.id.as_str()).is_ok());
    // RFC 7591 §3.2.1, every field in the RFC's names.
    let id = c.id.to_string();
    assert_eq!(
        info(&r, &done),
        json!({
            "client_id": id,
            "client_secret": secret.expose(),
            "client_id_issued_at": 1_700_000_000,
            "client_secret_expires_at": 0,
            "registration_access_token": done.access_token,
            "registration_client_uri": format!("http://localhost:8085/ms-auth-server/connect/register/{id}"),
            "redirect_uris": ["https://app.example/cb"],
            "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
            "scope": "openid country.read",
        })
    );
}

#[test]
fn a_machine_client_and_a_public_client() {
    let r = RegistrationRequest::parse(
        json!({
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "client_secret_post",
            "scope": "country.read",
            "client_name": "Batch",
            "contacts": ["ops@app.example"],
            "logo_uri": "https://app.example/logo.png",
            "software_id": "4NRB1-0XZABZI9E6-5SM3R",
            "software_version": "2.1",
        })
        .to_string()
        .as_bytes(),
        &ScopeSet::default(),
    )
    .unwrap();
    assert!(
        r.metadata.response_types.is_empty(),
        "no code without its grant"
    );
    let registrar = registrar(OFFERED);
    let done = registrar.register(r, now()).unwrap();
    let v = info(&registrar, &done);
    assert_eq!(v["token_endpoint_auth_method"], "client_secret_post");
    assert_eq!(v["response_types"], json!([]));
    assert_eq!(v["contacts"], json!(["ops@app.example"]));
    assert_eq!(v["software_version"], "2.1");

    let public = register(
        &registrar,
        json!({
            "redirect_uris": ["http://127.0.0.1/cb"],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
        }),
    )
    .unwrap();
    assert!(public.secret.is_none());
    assert!(matches!(public.client.credential, ClientCredential::None));
    let v = info(&registrar, &public);
    assert!(v.get("client_secret").is_none() && v.get("client_secret_expires_at").is_none());
}

#[test]
fn what_only_an_operator_sets_and_what_is_unknown_are_ignored() {
    // RFC 7591 §2: "MUST ignore any client metadata sent by the client that it does not
    // understand" — and a registration never makes itself first-party or a resource server.
    let done = register(
        &registrar(OFFERED),
        json!({
            "redirect_uris": ["https://app.example/cb"],
            "first_party": true,
            "resource_server": "https://rs.example",
            "access_token_ttl_secs": 86_400,
            "require_pkce": false,
            "audience": ["api://x"],
            "client_name#ja-Jpan-JP": "クライアント名",
            "tls_client_certificate_bound_access_tokens": true,
            "client_name": null,
        }),
    )
    .unwrap();
    let m = &done.client.metadata;
    let defaults = ClientMetadata::default();
    assert!(!m.first_party && m.resource_server.is_none() && m.audience.is_empty());
    assert!(m.require_pkce && m.client_name.is_none());
    assert_eq!(m.access_token_ttl_secs, defaults.access_token_ttl_secs);
}

#[test]
fn each_refusal_has_rfc7591s_code_and_names_its_field() {
    let r = registrar(OFFERED);
    // A signed JWT's form (RFC 7519 §3.1's example header), though nobody vouches for it.
    let jws = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJzb2Z0d2FyZV9pZCI6IngifQ.c2ln";
    let cb = json!(["https://app.example/cb"]);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"redirect_uris": ["http://app.example/cb"]}),
            "invalid_redirect_uri",
            "redirect_uris: ",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb#x"]}),
            "invalid_redirect_uri",
            "redirect_uris: ",
        ),
        (
            json!({"redirect_uris": ["/cb"]}),
            "invalid_redirect_uri",
            "redirect_uris: ",
        ),
        (
            json!({"redirect_uris": "https://app.example/cb"}),
            "invalid_redirect_uri",
            "redirect_uris: ",
        ),
        (json!({}), "invalid_redirect_uri", "redirect_uris: "),
        (
            json!({"redirect_uris": cb, "response_types": ["token"]}),
            "invalid_client_metadata",
            "response_types: ",
        ),
        (
            json!({"grant_types": ["client_credentials"], "response_types": ["code"]}),
            "invalid_client_metadata",
            "response_types: ",
        ),
        (
            json!({"redirect_uris": cb, "grant_types": ["authorization_code", "password"]}),
            "invalid_client_metadata",
            "grant_types: ",
        ),
        (
            json!({"redirect_uris": cb, "grant_types": ["urn:x"]}),
            "invalid_client_metadata",
            "grant_types: ",
        ),
        (
            json!({"redirect_uris": cb, "jwks": {"keys": []}, "jwks_uri": "https://app.example/jwks"}),
            "invalid_client_metadata",
            "jwks: ",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_method": "tls_client_auth"}),
            "invalid_client_metadata",
            "token_endpoint_auth_method: ",
        ),
        (
            json!({"redirect_uris": cb, "token_endpoint_auth_signing_alg": "none"}),
            "invalid_client_metadata",
            "token_endpoint_auth_signing_alg: ",
        ),
        (
            json!({"redirect_uris": cb, "scope": "country.read admin"}),
            "invalid_client_metadata",
            "scope: ",
        ),
        (
            json!({"redirect_uris": cb, "scope": "bad\"scope"}),
            "invalid_client_metadata",
            "scope: ",
        ),
        (
            json!({"redirect_uris": cb, "backchannel_logout_uri": "https://other.example/logout"}),
            "invalid_client_metadata",
            "backchannel_logout_uri: ",
        ),
        (
            json!({"redirect_uris": cb, "post_logout_redirect_uris": ["http://app.example/"]}),
            "invalid_client_metadata",
            "post_logout_redirect_uris: ",
        ),
        (
            json!({"redirect_uris": cb, "client_name": 5}),
            "invalid_client_metadata",
            "client_name: ",
        ),
        (
            json!({"redirect_uris": cb, "client_name": ""}),
            "invalid_client_metadata",
            "client_name: ",
        ),
        (
            json!({"redirect_uris": cb, "tos_uri": "javascript:alert(1)"}),
            "invalid_client_metadata",
            "tos_uri: ",
        ),
        (
            json!({"redirect_uris": cb, "software_statement": "not a jwt"}),
            "invalid_software_statement",
            "software_statement: ",
        ),
        (
            json!({"redirect_uris": cb, "software_statement": jws}),
            "unapproved_software_statement",
            "software_statement: ",
        ),
    ];
    for (body, code, field) in cases {
        let (got, description) = refusal(
            register(&r, body.clone())
                .err()
                .unwrap_or_else(|| panic!("{body} was accepted")),
        );
        assert_eq!(got, code, "{body}: {description}");
        assert!(description.starts_with(field), "{body}: {description}");
    }
    for body in [&b"{"[..], b"[]", b"", b"\"x\""] {
        let (code, _) = refusal(r.request(body).err().unwrap());
        assert_eq!(code, "invalid_client_metadata");
    }
}

#[test]
fn the_jwt_methods_register_with_what_they_need() {
    let r = registrar(OFFERED);
    let key = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "TMs4-rAq-oGxcmrnOOjWkVEuuSVoWcgy51SYFOFVsl4"}]});
    for body in [
        json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_jwt"}),
        json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "https://app.example/jwks"}),
        json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt", "jwks": key, "token_endpoint_auth_signing_alg": "EdDSA"}),
    ] {
        assert!(register(&r, body.clone()).is_ok(), "{body}");
    }
    for (body, field) in [
        (
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}),
            "jwks_uri",
        ),
        (
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_jwt", "token_endpoint_auth_signing_alg": "RS256"}),
            "token_endpoint_auth_signing_alg",
        ),
    ] {
        let (code, description) = refusal(register(&r, body.clone()).err().unwrap());
        assert_eq!(code, "invalid_client_metadata", "{body}");
        assert!(description.starts_with(field), "{body}: {description}");
    }
}

#[test]
fn a_client_secret_jwt_secret_is_sealed_for_its_client() {
    let r = registrar(OFFERED);
    let request = RegistrationRequest {
        method: AuthMethod::ClientSecretJwt,
        metadata: ClientMetadata::new(),
    };
    let id = ClientId::new("c");
    let (credential, secret) = r.credential(&id, &request, None).unwrap();
    let opened = credential.open_secret(&r.sealer, &id).unwrap().unwrap();
    let secret = secret.unwrap();
    assert_eq!(opened.expose(), secret.expose());
    assert_eq!(
        secret.expose().len(),
        86,
        "512 bits: an HMAC key for HS512 too (RFC 7518 §3.2)"
    );
    let keys = RegistrationRequest {
        method: AuthMethod::PrivateKeyJwt,
        metadata: ClientMetadata {
            jwks_uri: Some("https://app.example/jwks".to_owned()),
            ..ClientMetadata::new()
        },
    };
    let (credential, secret) = r.credential(&id, &keys, None).unwrap();
    assert!(secret.is_none());
    assert!(matches!(
        credential,
        ClientCredential::Jwks(JwksSource::Uri(_))
    ));
    let no_keys = RegistrationRequest {
        method: AuthMethod::PrivateKeyJwt,
        metadata: ClientMetadata::new(),
    };
    let (_, description) = refusal(r.credential(&id, &no_keys, None).err().unwrap());
    assert!(description.starts_with("jwks: "), "{description}");
}

#[test]
fn a_secret_expires_when_configured() {
    let r = Registrar {
        secret_ttl_secs: 3600,
        ..registrar(OFFERED)
    };
    let done = register(&r, json!({"grant_types": ["client_credentials"]})).unwrap();
    assert_eq!(info(&r, &done)["client_secret_expires_at"], 1_700_003_600);
    assert!(
        !done
            .client
            .secret_expired(UnixTime::from_secs(1_700_003_599))
    );
    assert!(
        done.client
            .secret_expired(UnixTime::from_secs(1_700_003_600))
    );
}

fn machine(r: &Registrar) -> Registered {
    register(
        r,
        json!({"grant_types": ["client_credentials"], "scope": "country.read"}),
    )
    .unwrap()
}

fn update(r: &Registrar, current: &Client, body: Value) -> Result<Registered, RegistrationError> {
    let request = r.update_request(body.to_string().as_bytes(), current)?;
    r.update(current, request, UnixTime::from_secs(1_700_000_100))
}

#[test]
fn an_update_replaces_everything_and_rotates_the_token() {
    let r = registrar(OFFERED);
    let first = machine(&r);
    let id = first.client.id.to_string();
    let secret = first.secret.as_ref().unwrap().expose().to_owned();
    // Omitted fields are cleared: the scope falls back to the default.
    let next = update(
        &r,
        &first.client,
        json!({"client_id": id, "client_secret": secret, "grant_types": ["client_credentials"],
               "token_endpoint_auth_method": "client_secret_post", "client_name": "Renamed"}),
    )
    .unwrap();
    assert_ne!(next.access_token, first.access_token);
    let reg = next.client.registration.as_ref().unwrap();
    assert_eq!(reg.access_token_hash, credential_hash(&next.access_token));
    assert_eq!(
        reg.issued_at,
        now(),
        "client_id_issued_at is the first registration's"
    );
    assert!(
        next.secret.is_none(),
        "basic to post: the same hashed secret"
    );
    assert!(
        next.client
            .credential
            .secret_hash()
            .unwrap()
            .verify(secret.as_bytes())
    );
    assert_eq!(next.client.metadata.client_name.as_deref(), Some("Renamed"));
    assert_eq!(next.client.scopes().to_param(), "openid country.read");
    assert_eq!(info(&r, &next)["client_secret_expires_at"], 0);
}

#[test]
fn an_update_is_held_to_rfc7592s_rules() {
    let r = registrar(OFFERED);
    let first = machine(&r);
    let id = first.client.id.to_string();
    let cc = json!(["client_credentials"]);
    for (body, code, says) in [
        (
            json!({"grant_types": cc}),
            "invalid_request",
            "client_id is required",
        ),
        (
            json!({"client_id": "other", "grant_types": cc}),
            "invalid_request",
            "client_id must be",
        ),
        (
            json!({"client_id": id, "grant_types": cc, "registration_access_token": first.access_token}),
            "invalid_request",
            "registration_access_token",
        ),
        (
            json!({"client_id": id, "grant_types": cc, "registration_client_uri": "x"}),
            "invalid_request",
            "registration_client_uri",
        ),
        (
            json!({"client_id": id, "grant_types": cc, "client_id_issued_at": 1}),
            "invalid_request",
            "client_id_issued_at",
        ),
        (
            json!({"client_id": id, "grant_types": cc, "client_secret_expires_at": 0}),
            "invalid_request",
            "client_secret_expires_at",
        ),
        (
            json!({"client_id": id, "grant_types": cc, "client_secret": "my-own-choice"}),
            "invalid_request",
            "client_secret must be",
        ),
        (
            json!({"client_id": id, "grant_types": ["implicit"]}),
            "invalid_client_metadata",
            "grant_types: ",
        ),
    ] {
        let (got, description) = refusal(update(&r, &first.client, body.clone()).err().unwrap());
        assert_eq!(got, code, "{body}");
        assert!(description.contains(says), "{body}: {description}");
    }
}

#[test]
fn changing_the_kind_of_credential_issues_a_new_one() {
    let r = registrar(OFFERED);
    let first = machine(&r);
    let id = first.client.id.to_string();
    let public = update(
        &r,
        &first.client,
        json!({"client_id": id, "token_endpoint_auth_method": "none",
               "redirect_uris": ["http://127.0.0.1/cb"]}),
    )
    .unwrap();
    assert!(matches!(public.client.credential, ClientCredential::None));
    assert!(public.secret.is_none());
    assert_eq!(
        public
            .client
            .registration
            .as_ref()
            .unwrap()
            .secret_expires_at,
        None
    );
    let back = update(
        &r,
        &public.client,
        json!({"client_id": id, "grant_types": ["client_credentials"]}),
    )
    .unwrap();
    let secret = back.secret.as_ref().expect("a new secret");
    assert!(
        back.client
            .credential
            .secret_hash()
            .unwrap()
            .verify(secret.expose().as_bytes())
    );
    assert_eq!(info(&r, &back)["client_secret"], secret.expose());
}

#[test]
fn only_the_registration_access_token_of_the_client_opens_it() {
    let r = registrar(OFFERED);
    let done = machine(&r);
    let client = Arc::new(done.client.clone());
    assert!(Registrar::managed(Some(Arc::clone(&client)), &done.access_token).is_ok());
    let refused = |found: Option<Arc<Client>>, token: &str| match Registrar::managed(found, token) {
        Err(RegistrationError::Bearer(AuthError::InvalidToken(why))) => why,
        other => panic!("{:?}", other.map(|c| c.id.clone())),
    };
    let wrong = refused(Some(Arc::clone(&client)), "another-token");
    let unknown = refused(None, &done.access_token);
    assert_eq!(wrong, unknown, "an unknown client reads as a wrong token");
    let mut disabled = done.client.clone();
    disabled.status = ClientStatus::Disabled;
    refused(Some(Arc::new(disabled)), &done.access_token);
    let mut configured = done.client.clone();
    configured.origin = ClientOrigin::Config;
    refused(Some(Arc::new(configured)), &done.access_token);
}
