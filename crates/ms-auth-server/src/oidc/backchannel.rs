//! Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0 §2.5–§2.8): each
//! replica claims due notices from the outbox, signs a logout token for each and POSTs it as
//! a form to the client's `backchannel_logout_uri`. A 2xx settles the notice; a failure is
//! retried with exponential backoff until a deadline after the session ended, then given up
//! and audited. Nothing here runs on a user's request: a logout never waits for a client.

use std::sync::Arc;

use futures_util::future::join_all;

use super::logout_token::LogoutFacts;
use crate::{
    audit::{self, Actor, Event},
    clock::{Clock, UnixTime},
    oauth::client::ClientOrigin,
    oauth::{random, server::AuthorizationServer},
    settings::LogoutSettings,
    store::{LogoutNotice, LogoutOutbox, StoreError},
};

/// Notices claimed per round: a round's deliveries run concurrently.
pub const BATCH: u32 = 16;

/// The longest wait between two attempts.
const MAX_BACKOFF_SECS: i64 = 300;

/// What became of one notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// The client has no back-channel URI (any more), or is gone: nothing to tell.
    NotWanted,
    Retried,
    Abandoned,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::NotWanted => "not_wanted",
            Self::Retried => "retried",
            Self::Abandoned => "abandoned",
        }
    }
}

/// The wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s … at most five minutes.
pub fn backoff_secs(attempts: u32) -> i64 {
    1i64.checked_shl(attempts.saturating_sub(1).min(30))
        .unwrap_or(MAX_BACKOFF_SECS)
        .min(MAX_BACKOFF_SECS)
}

/// What a client answered a logout token's POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Its HTTP status.
    Status(u16),
    /// No answer within the attempt's bound, or no connection: why, without the URL.
    Unreachable(String),
}

/// How a logout token reaches a client (§2.5): one form POST of `logout_token` to `uri`,
/// bounded in time, following no redirect. The HTTP layer implements it.
#[async_trait::async_trait]
pub trait Poster: Send + Sync {
    async fn post_logout_token(&self, uri: &str, token: &str, reach: Reach) -> Answer;
}

/// Where a client's logout URI may lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// A client the operator registered (the config, the admin API): its URI may be on the
    /// operator's own network.
    Anywhere,
    /// A client that registered itself (RFC 7591): its URI is a stranger's, so only public
    /// addresses over https are reached (as for `jwks_uri`), or the server's POSTs could be
    /// aimed at its own network.
    PublicOnly,
}

/// Delivers logout notices.
pub struct Delivery {
    pub server: Arc<AuthorizationServer>,
    pub outbox: Arc<dyn LogoutOutbox>,
    pub clock: Clock,
    pub settings: LogoutSettings,
    pub poster: Arc<dyn Poster>,
}

impl Delivery {
    /// One round: claims what is due and delivers it; how many notices were claimed.
    pub async fn round(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        // Claimed for far longer than an attempt can take (the client lookup, signing and the
        // store's answer included), so no other replica takes it up meanwhile; a replica that
        // died holding it delays that notice by this much.
        let lease = now.plus_secs(2 * self.settings.backchannel_timeout_secs as i64 + 30);
        let notices = self.outbox.claim_notices(now, lease, BATCH).await?;
        let outcomes = join_all(notices.iter().map(|n| self.deliver(n))).await;
        for outcome in outcomes {
            let outcome = outcome?;
            metrics::counter!("backchannel_logout_notices_total", "outcome" => outcome.as_str())
                .increment(1);
        }
        Ok(notices.len())
    }

    async fn deliver(&self, notice: &LogoutNotice) -> Result<Outcome, StoreError> {
        let client = self.server.clients.client(&notice.client_id).await?;
        let Some((uri, reach)) = client.filter(|c| c.enabled()).and_then(|c| {
            let reach = match c.origin {
                ClientOrigin::Registration => Reach::PublicOnly,
                ClientOrigin::Config | ClientOrigin::Administration => Reach::Anywhere,
            };
            c.metadata
                .backchannel_logout_uri
                .clone()
                .map(|u| (u, reach))
        }) else {
            self.outbox
                .settle_notice(&notice.sid, &notice.client_id)
                .await?;
            return Ok(Outcome::NotWanted);
        };
        let give_up_at = notice
            .created_at
            .plus_secs(self.settings.backchannel_give_up_after_secs as i64);
        let delivered = self.attempt(notice, &uri, reach).await;
        let now = self.clock.now();
        match delivered {
            Ok(()) => {
                tracing::info!(client_id = %notice.client_id, attempts = notice.attempts, "back-channel logout delivered");
                self.outbox
                    .settle_notice(&notice.sid, &notice.client_id)
                    .await?;
                Ok(Outcome::Delivered)
            }
            Err(Failure::Refused(status)) => {
                // §2.8: the relying party answers 400 when it could not log the user out; the
                // same token would be refused again.
                tracing::warn!(client_id = %notice.client_id, status, "back-channel logout refused by the client; not retried");
                self.abandon(notice, now).await
            }
            Err(Failure::Unreachable(why)) => {
                let next = now.plus_secs(backoff_secs(notice.attempts));
                if next > give_up_at {
                    tracing::warn!(client_id = %notice.client_id, attempts = notice.attempts, error = %why, "back-channel logout given up");
                    return self.abandon(notice, now).await;
                }
                tracing::debug!(client_id = %notice.client_id, attempts = notice.attempts, error = %why, "back-channel logout failed; retrying");
                self.outbox
                    .retry_notice(&notice.sid, &notice.client_id, notice.attempts, next)
                    .await?;
                Ok(Outcome::Retried)
            }
        }
    }

    async fn abandon(&self, notice: &LogoutNotice, now: UnixTime) -> Result<Outcome, StoreError> {
        self.outbox
            .settle_notice(&notice.sid, &notice.client_id)
            .await?;
        let event = Event::LogoutNoticeAbandoned {
            client_id: notice.client_id.clone(),
            user_id: notice.subject.clone(),
            sid: notice.sid.clone(),
            attempts: notice.attempts,
        };
        audit::record(self.server.audit.as_ref(), &Actor::System, event, now).await;
        Ok(Outcome::Abandoned)
    }

    /// One POST of a fresh logout token.
    async fn attempt(&self, notice: &LogoutNotice, uri: &str, reach: Reach) -> Result<(), Failure> {
        let jti = random::token().map_err(|e| Failure::Unreachable(e.to_string()))?;
        let facts = LogoutFacts {
            subject: &notice.subject,
            client_id: &notice.client_id,
            sid: &notice.sid,
            jti: &jti,
        };
        let token = self
            .server
            .issuer
            .logout_token(&facts, self.clock.now())
            .map_err(|e| Failure::Unreachable(e.to_string()))?;
        match self.poster.post_logout_token(uri, &token, reach).await {
            Answer::Status(status) if (200..300).contains(&status) => Ok(()),
            // 408 and 429 say "later"; any other 4xx that this token is refused.
            Answer::Status(status)
                if (400..500).contains(&status) && status != 408 && status != 429 =>
            {
                Err(Failure::Refused(status))
            }
            Answer::Status(status) => Err(Failure::Unreachable(format!("answered {status}"))),
            Answer::Unreachable(why) => Err(Failure::Unreachable(why)),
        }
    }
}

enum Failure {
    /// The client answered that it will not take this token.
    Refused(u16),
    /// No answer, or one worth trying again.
    Unreachable(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        assert_eq!(backoff_secs(0), 1);
        assert_eq!(backoff_secs(1), 1);
        assert_eq!(backoff_secs(2), 2);
        assert_eq!(backoff_secs(4), 8);
        assert_eq!(backoff_secs(9), 256);
        assert_eq!(backoff_secs(10), 300);
        assert_eq!(backoff_secs(u32::MAX), 300);
    }
}
