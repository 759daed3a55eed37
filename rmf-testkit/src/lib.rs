//! # rmf-testkit: data for tests, demos and conformance
//!
//! Not part of the format: what the `rmf demo` command records, what the conformance files in
//! `testdata/` are made of, and the helpers the integration tests share. The product crates
//! take it only as a dev-dependency; the CLI uses [`demo`].
//!
//! | module | what it holds |
//! |---|---|
//! | [`demo`] | a synthetic multimodal episode: two cameras, force/torque, joints, actions, a microphone and interventions ([`demo::record_demo`]) |
//! | [`conformance`] | how each file in `testdata/conformance` and `testdata/invalid` is made, and the canonical JSON a reader must print for it |
//! | [`fixtures`] | helpers of the integration tests: a small episode of every kind, temporary directories |

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod conformance;
pub mod demo;
pub mod fixtures;
