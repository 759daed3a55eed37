//! # rmf-import: other formats into RMF episodes
//!
//! One module per source format, each turning a file made by another tool into an RMF episode
//! through `rmf_core::EpisodeWriter`, with a report of what was kept, converted or left out.
//!
//! | module | source | entry points |
//! |---|---|---|
//! | [`mcap`] | MCAP files (ROS 2 bags, CDR messages) | [`mcap::import_mcap`], [`mcap::McapImportOptions`] |
//! | [`wav`] | WAV files (PCM and float) | [`wav::import`], [`wav::export`] |
//!
//! LeRobot and HDF5 datasets are imported by the Python package (`rmf.convert`), which uses
//! the field's own readers for them.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod mcap;
pub mod wav;

pub use mcap::{import_mcap, McapImportOptions, McapImportReport, TimeSource, TopicReport};
