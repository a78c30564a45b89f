//! Time: one [`Clock`] read by everything that needs "now", and one [`UnixTime`] for every
//! instant the server stores, compares or writes into a token.
//!
//! Every expiry in this server is a whole number of seconds since the Unix epoch (RFC 7519
//! §2 NumericDate), so one signed 64-bit type carries them all — in tokens (`iat`, `exp`,
//! `nbf`), in the stores (SQL `BIGINT`), and in the hot state. The protocol core never reads the
//! system clock: it is handed `now`, so tests of expiry, rotation and grace windows move a
//! [`ManualClock`] instead of sleeping.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};

/// An instant, in whole seconds since the Unix epoch (RFC 7519 NumericDate).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixTime(i64);

impl UnixTime {
    pub const EPOCH: Self = Self(0);

    pub const fn from_secs(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the epoch, as stored (SQL `BIGINT`).
    pub const fn secs(self) -> i64 {
        self.0
    }

    /// The NumericDate written into a token: never negative.
    pub fn numeric_date(self) -> u64 {
        self.0.max(0) as u64
    }

    /// `self` plus `d`, saturating instead of overflowing (a configured lifetime of
    /// `u64::MAX` seconds means "never" rather than wrapping into the past).
    pub fn plus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        )
    }

    /// `self` plus `secs` (which may be negative), saturating.
    pub fn plus_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs))
    }

    /// The fixed window of `window_secs` (at least 1) that holds `self`: its number (the same
    /// on every replica, so it can name a shared counter) and the instant it ends.
    pub fn window(self, window_secs: u64) -> (i64, UnixTime) {
        let width = i64::try_from(window_secs.max(1)).unwrap_or(i64::MAX);
        let index = self.0.div_euclid(width);
        (index, Self(index.saturating_add(1).saturating_mul(width)))
    }

    /// How long from `self` until `later`; zero when `later` is not after `self`.
    pub fn until(self, later: Self) -> Duration {
        Duration::from_secs(later.0.saturating_sub(self.0).max(0) as u64)
    }
}

impl std::fmt::Display for UnixTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Where "now" comes from: the system clock, or a [`ManualClock`] a test moves. Cheap to
/// clone; every clone reads the same source.
#[derive(Clone, Default)]
pub struct Clock(Source);

#[derive(Clone, Default)]
enum Source {
    #[default]
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn system() -> Self {
        Self(Source::System)
    }

    pub fn now(&self) -> UnixTime {
        match &self.0 {
            Source::System => UnixTime(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0),
            ),
            Source::Manual(t) => UnixTime(t.load(Ordering::Relaxed)),
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Source::System => f.write_str("Clock::System"),
            Source::Manual(t) => write!(f, "Clock::Manual({})", t.load(Ordering::Relaxed)),
        }
    }
}

/// A clock that stands still until it is moved (tests).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn at(start: UnixTime) -> Self {
        Self(Arc::new(AtomicI64::new(start.0)))
    }

    /// A clock standing at the system's present second.
    pub fn now() -> Self {
        Self::at(Clock::system().now())
    }

    /// The [`Clock`] the server reads; it moves with this handle.
    pub fn clock(&self) -> Clock {
        Clock(Source::Manual(Arc::clone(&self.0)))
    }

    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.0.fetch_add(secs, Ordering::Relaxed);
    }

    pub fn set(&self, to: UnixTime) {
        self.0.store(to.0, Ordering::Relaxed);
    }

    pub fn now_is(&self) -> UnixTime {
        UnixTime(self.0.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_every_clone_sees_it() {
        let manual = ManualClock::at(UnixTime::from_secs(1_000));
        let (a, b) = (manual.clock(), manual.clock().clone());
        assert_eq!(a.now(), UnixTime::from_secs(1_000));
        manual.advance(Duration::from_secs(61));
        assert_eq!(b.now(), UnixTime::from_secs(1_061));
        manual.set(UnixTime::from_secs(5));
        assert_eq!(a.now().secs(), 5);
    }

    #[test]
    fn the_system_clock_is_after_2020() {
        assert!(Clock::system().now() > UnixTime::from_secs(1_577_836_800));
    }

    #[test]
    fn arithmetic_saturates_and_never_goes_negative_on_the_wire() {
        let t = UnixTime::from_secs(10);
        assert_eq!(t.plus(Duration::MAX).secs(), i64::MAX);
        assert_eq!(t.plus_secs(-20).numeric_date(), 0);
        assert_eq!(t.until(UnixTime::from_secs(5)), Duration::ZERO);
        assert_eq!(t.until(UnixTime::from_secs(25)), Duration::from_secs(15));
    }
}
