//! Client registrations: seeding from the config at start-up, and dynamic registration
//! (RFC 7591) and its management (RFC 7592) — register, read, update, delete — each audited.
//! The client store announces every change, so each replica sees it at once.

use std::{net::IpAddr, sync::Arc};

use auth_middleware::AuthError;

use super::{Actor, Ops};
use crate::{
    audit::{self, Event},
    clock::UnixTime,
    oauth::{
        client::{Client, ClientOrigin, ClientStatus},
        error::{ErrorCode, OAuthError},
        issuer::Issuer,
        registration::{ClientInformation, Registrar, RegistrationError},
    },
    store::{StoreError, refresh::deny_access},
};

/// A call of a registration endpoint as it reached the server.
pub struct RegistrationCall<'a> {
    /// The caller's address (from trusted proxies only): registrations are limited per source.
    pub source: Option<IpAddr>,
    /// The `Authorization` header's bearer token (the initial access token, or the
    /// registration access token).
    pub bearer: Result<&'a str, AuthError>,
    /// The JSON body (none for reads and deletes).
    pub body: &'a [u8],
}

/// Why the config's clients could not be seeded.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(
        "`clients`: {client_id} is a client registered by {origin:?}, not by the config: the config cannot manage it (give the config's client another id)"
    )]
    NotTheConfigs {
        client_id: String,
        origin: ClientOrigin,
    },
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl Ops {
    /// The config is authoritative for the clients it manages: its clients are written to
    /// the store, and a client it managed before but lists no longer is disabled — audited,
    /// and announced so every replica refuses its secret at once. Clients registered any
    /// other way are never touched, and the config may not take one of their ids over.
    pub async fn seed_config_clients(
        &self,
        clients: &[Client],
        now: UnixTime,
    ) -> Result<(), SeedError> {
        let store = &self.stores.clients;
        for client in clients {
            if let Some(existing) = store.client(client.id.as_str()).await?
                && existing.origin != ClientOrigin::Config
            {
                return Err(SeedError::NotTheConfigs {
                    client_id: client.id.to_string(),
                    origin: existing.origin,
                });
            }
            store.upsert(client).await?;
        }
        for stored in store.all().await? {
            let listed = clients.iter().any(|c| c.id == stored.id);
            if stored.origin != ClientOrigin::Config || !stored.enabled() || listed {
                continue;
            }
            let mut disabled = Arc::unwrap_or_clone(stored);
            disabled.status = ClientStatus::Disabled;
            store.upsert(&disabled).await?;
            tracing::warn!(client_id = %disabled.id, "client removed from the config: disabled");
            let event = Event::ClientDisabled {
                client_id: disabled.id.to_string(),
                reason: "removed from the config".to_owned(),
            };
            self.stores
                .audit
                .append(&event.entry(&Actor::System, now))
                .await?;
        }
        Ok(())
    }
}

impl Ops {
    /// RFC 7591 §3: registers the client `call` asks for, when registration is on, the source
    /// has not registered too often this minute, and (if asked for) the initial access token
    /// holds; created without ever overwriting an existing id, audited with who asked.
    pub async fn register_client(
        &self,
        registrar: &Registrar,
        issuer: &Issuer,
        call: RegistrationCall<'_>,
        now: UnixTime,
    ) -> Result<ClientInformation, RegistrationError> {
        self.admit(registrar, call.source, now).await?;
        // Counted before the insert: concurrent registrations may pass the bound by as many
        // as race, no more.
        if self.stores.clients.count_registered().await? >= registrar.max_clients {
            metrics::counter!("registrations_refused_full_total").increment(1);
            return Err(OAuthError::new(
                ErrorCode::AccessDenied,
                "this server holds as many registered clients as it allows (registration.max_clients)",
            )
            .into());
        }
        let via = registrar
            .registrant(issuer, self.stores.hot.as_ref(), call.bearer, now)
            .await?;
        let registered = registrar.register(registrar.request(call.body)?, now)?;
        let client = &registered.client;
        if !self.stores.clients.create(client).await? {
            // 122 random bits collided: never overwrite, never guess again silently.
            return Err(StoreError::Corrupt(format!("client id {} is taken", client.id)).into());
        }
        tracing::info!(client_id = %client.id, "client registered");
        let actor = Actor::Registrant {
            source: call.source,
            via,
        };
        audit::record(
            self.stores.audit.as_ref(),
            &actor,
            registered_event(client),
            now,
        )
        .await;
        Ok(registrar.information(client, &registered.access_token, registered.secret.as_ref()))
    }

    /// RFC 7592 §2.1: the current registration, for the bearer of its registration access
    /// token; neither the token nor the secret is rotated by a read.
    pub async fn read_registration(
        &self,
        registrar: &Registrar,
        client_id: &str,
        bearer: Result<&str, AuthError>,
    ) -> Result<ClientInformation, RegistrationError> {
        registrar.ensure_on()?;
        let token = bearer?;
        let client = Registrar::managed(self.stores.clients.client(client_id).await?, token)?;
        Ok(registrar.information(&client, token, None))
    }

    /// RFC 7592 §2.2: replaces the registration, checked as a new one is, and rotates its
    /// registration access token — stored only while the presented token is still current, so
    /// of two updates with one token one wins, and an update never revives a deleted client.
    pub async fn update_registration(
        &self,
        registrar: &Registrar,
        client_id: &str,
        call: RegistrationCall<'_>,
        now: UnixTime,
    ) -> Result<ClientInformation, RegistrationError> {
        // An update may re-aim the URLs this server sends to (`jwks_uri`): counted with the
        // registrations, so that a loop of them is bounded too.
        self.admit(registrar, call.source, now).await?;
        let token = call.bearer?;
        let current = Registrar::managed(self.stores.clients.client(client_id).await?, token)?;
        let request = registrar.update_request(call.body, &current)?;
        let next = registrar.update(&current, request, now)?;
        let spent = current.registration_token_hash().unwrap_or_default();
        if !self
            .stores
            .clients
            .replace_registration(&next.client, spent)
            .await?
        {
            return Err(Registrar::token_spent());
        }
        let event = Event::ClientUpdated {
            client_id: client_id.to_owned(),
            new_secret: next.secret.is_some(),
        };
        let actor = Actor::Client(client_id.to_owned());
        audit::record(self.stores.audit.as_ref(), &actor, event, now).await;
        Ok(registrar.information(&next.client, &next.access_token, next.secret.as_ref()))
    }

    /// RFC 7592 §2.3: deletes the registration. "The authorization server MUST immediately
    /// invalidate" its credentials (it is gone from the store, and every replica drops its
    /// copy) and "SHOULD immediately invalidate all existing authorization grants and
    /// currently-active tokens": its refresh families are revoked and their access tokens
    /// denied. Access tokens of client_credentials grants are recorded nowhere and live out
    /// their (short) lifetime.
    pub async fn delete_registration(
        &self,
        registrar: &Registrar,
        client_id: &str,
        bearer: Result<&str, AuthError>,
        now: UnixTime,
    ) -> Result<(), RegistrationError> {
        registrar.ensure_on()?;
        let token = bearer?;
        let current = Registrar::managed(self.stores.clients.client(client_id).await?, token)?;
        let spent = current.registration_token_hash().unwrap_or_default();
        if !self.stores.clients.delete(client_id, spent).await? {
            return Err(Registrar::token_spent());
        }
        // The client is gone: its refresh tokens are refused with it (it cannot authenticate),
        // so a failure here leaves only access tokens to their expiry; it is logged, and the
        // deletion stands.
        let families_revoked = match self.revoke_client_tokens(client_id, now).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(client_id, error = %e, "deleted client's tokens not all revoked");
                0
            }
        };
        tracing::info!(client_id, "client registration deleted");
        let event = Event::ClientDeleted {
            client_id: client_id.to_owned(),
            families_revoked,
        };
        let actor = Actor::Client(client_id.to_owned());
        audit::record(self.stores.audit.as_ref(), &actor, event, now).await;
        Ok(())
    }

    async fn revoke_client_tokens(
        &self,
        client_id: &str,
        now: UnixTime,
    ) -> Result<u64, StoreError> {
        let revoked = self
            .stores
            .refresh
            .revoke_client_families(client_id, now)
            .await?;
        deny_access(self.stores.hot.as_ref(), &revoked.access, now).await?;
        Ok(revoked.revoked)
    }

    /// Registration on, and at most `max_per_source_per_minute` registrations (and updates)
    /// from one address, counted across replicas. A hot state that cannot count refuses:
    /// registering is never urgent.
    async fn admit(
        &self,
        registrar: &Registrar,
        source: Option<IpAddr>,
        now: UnixTime,
    ) -> Result<(), RegistrationError> {
        registrar.ensure_on()?;
        // An IPv6 host usually holds a whole /64: counted per /64, or each of its addresses
        // would be a fresh bucket.
        let key = match source.map(|ip| ip.to_canonical()) {
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("register:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Some(ip) => format!("register:{ip}"),
            None => "register:unknown".to_owned(),
        };
        let allowed = self
            .stores
            .hot
            .hit(&key, registrar.max_per_source_per_minute, 60, now)
            .await?;
        if allowed {
            return Ok(());
        }
        metrics::counter!("registrations_throttled_total").increment(1);
        Err(OAuthError {
            error_description: Some(
                "too many registrations from this address; retry after a minute".to_owned(),
            ),
            ..OAuthError::slow_down(60)
        }
        .into())
    }
}

fn registered_event(client: &Client) -> Event {
    let m = &client.metadata;
    Event::ClientRegistered {
        client_id: client.id.to_string(),
        method: m
            .token_endpoint_auth_methods
            .first()
            .map_or("none", |a| a.as_str()),
        grant_types: m
            .grant_types
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        scope: m.scope.to_param(),
    }
}
