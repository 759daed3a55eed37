//! The cipher in a build without the `encryption` feature: the names of `cipher.rs`, each
//! failing with [`Error::FeatureMissing`]. A file with private streams still opens, its other
//! streams read, and its sealed chunks copy through edits unopened.

use super::{KeyRecord, Secret, StreamEncryption};
use crate::chunk::ChunkHeader;
use crate::error::{Error, Result};

fn missing(what: &str) -> Error {
    Error::FeatureMissing {
        feature: "encryption",
        what: what.to_string(),
    }
}

/// Stands for an episode's data key; none can be made or opened in this build.
#[derive(Clone)]
pub(crate) struct DataKey(());

impl DataKey {
    pub(crate) fn generate() -> Result<DataKey> {
        Err(missing("writing encrypted streams"))
    }

    pub(crate) fn wrap(&self, _: &Secret) -> Result<KeyRecord> {
        Err(missing("wrapping a data key"))
    }

    pub(crate) fn unwrap(_: &KeyRecord, _: &Secret, file: &str, _: u64) -> Result<DataKey> {
        Err(missing(&format!("{file}: opening the data key")))
    }

    pub(crate) fn stream_cipher(&self, _: &StreamEncryption) -> Result<StreamCipher> {
        Err(missing("deriving a stream key"))
    }
}

/// Stands for a stream's cipher; none exists in this build.
pub(crate) struct StreamCipher(());

impl StreamCipher {
    pub(crate) fn seal_chunk(&self, _: &ChunkHeader, _: &[u8]) -> Result<Vec<u8>> {
        Err(missing("sealing a chunk"))
    }

    pub(crate) fn open_chunk(&self, _: &[u8], file: &str, stream: &str, _: u64) -> Result<Vec<u8>> {
        Err(missing(&format!(
            "{file}: stream {stream:?}: opening a sealed chunk"
        )))
    }

    pub(crate) fn seal_stats(&self, _: &ChunkHeader, _: &[u8]) -> Result<Vec<u8>> {
        Err(missing("sealing chunk statistics"))
    }

    pub(crate) fn open_stats(
        &self,
        _: &ChunkHeader,
        _: &[u8],
        file: &str,
        stream: &str,
        _: u64,
    ) -> Result<Vec<u8>> {
        Err(missing(&format!(
            "{file}: stream {stream:?}: opening sealed statistics"
        )))
    }
}
