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
//! | [`fixtures`] | helpers of the integration tests: a small episode of every kind, temporary directories, hostile files |
//!
//! ## Example
//! ```
//! use rmf_testkit::demo::{record_demo, DemoOptions};
//!
//! # fn main() -> rmf_core::Result<()> {
//! let dir = tempfile::tempdir().expect("temporary directory");
//! let path = dir.path().join("demo.rmf");
//! // A tenth of a second of the demo robot, small raw cameras.
//! let opts = DemoOptions { seconds: 0.1, width: 64, height: 48, ..DemoOptions::default() };
//! let summary = record_demo(&path, &opts, rmf_core::WriteOptions::default())?;
//! assert_eq!(summary.samples.len(), 7); // two cameras, force/torque, joints, action, mic, events
//! assert!(rmf_core::validate(&path)?.is_ok());
//! # Ok(()) }
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod conformance;
pub mod demo;
pub mod fixtures;
