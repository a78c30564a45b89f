//! Signing keys: generating, loading and signing ([`signing`]), the published set and the one
//! that signs ([`published`]), their lifecycle next → active → retired ([`lifecycle`]), and the
//! first key at start-up ([`bootstrap`]). Values in, values out: no HTTP here.

pub mod algorithm;
pub mod bootstrap;
pub mod lifecycle;
pub mod published;
pub mod signing;

pub use published::{KeyRing, PublishedKeys};
pub use signing::{KeyError, SigningAlgorithm, SigningKey, Typ};
