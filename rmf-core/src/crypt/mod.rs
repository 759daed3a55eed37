//! Encryption of private streams at rest (spec/encryption.md).
//!
//! Each episode has its own random 32-byte data key, stored in the file only wrapped (encrypted)
//! under a key the user holds: 32 raw bytes, or a passphrase stretched by Argon2id. Each
//! encrypted stream derives its own key from the data key and a random salt in its declaration,
//! so a sealed chunk authenticates only as part of the stream it was written for, whatever id
//! the stream has in a later copy of the file. Every chunk of such a stream is sealed with
//! XChaCha20-Poly1305 under a fresh random nonce, with its header (time range, rows, nonce) as
//! associated data; its footer statistics are sealed too. Names, kinds, time ranges and sizes
//! stay readable, so files can be indexed and planned without the key.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::chunk::ChunkHeader;
use crate::error::{Error, Result};
use crate::format::{le_u32, le_u64};

// The sealing itself (XChaCha20-Poly1305, Argon2id) is the `encryption` feature; without it the
// same names stand for a cipher that reports its absence, and the rest of this module (key
// files, key records, the cleartext header of sealed chunks) works as ever.
#[cfg_attr(not(feature = "encryption"), path = "absent.rs")]
mod cipher;
pub(crate) use cipher::{DataKey, StreamCipher};

/// The one cipher of this version.
pub const CIPHER: &str = "xchacha20poly1305";
/// Length of every key: user keys, data keys, stream keys.
pub const KEY_LEN: usize = 32;
/// XChaCha20 nonce length: long enough to draw at random for every chunk.
pub const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
pub const TAG_LEN: usize = 16;
/// Length of a stream's key-derivation salt.
pub const SALT_LEN: usize = 16;
/// Length of the cleartext header of a sealed chunk body.
pub const SEALED_HEADER_LEN: usize = 56;

/// Environment variable holding a key as 64 hex digits.
pub const ENV_KEY: &str = "RMF_KEY";
/// Environment variable naming a key file.
pub const ENV_KEY_FILE: &str = "RMF_KEY_FILE";
/// Environment variable holding a passphrase.
pub const ENV_PASSPHRASE: &str = "RMF_PASSPHRASE";

pub(crate) const CONTEXT_KEY_ID: &str = "RMF 2026-11 key id";

/// Argon2id settings the writer uses for passphrases: 64 MiB, 3 passes, 1 lane (RFC 9106's
/// second recommendation, with one lane for small robot computers). About 0.2 s here.
pub const ARGON2_M_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const ARGON2_T: u32 = 3;
/// Argon2id lanes.
pub const ARGON2_P: u32 = 1;

/// The most Argon2id work a reader does by default to open a file with a passphrase, in KiB of
/// memory times passes (`m_kib * t`): twice the writer's (384 MiB-passes, under half a second
/// here). The format allows up to 1 GiB and 64 passes, 72 s; a file asking more than this
/// limit is refused unless the reader raises it (`ReadOptions::with_max_kdf_cost`).
pub const DEFAULT_MAX_KDF_COST: u64 = 2 * ARGON2_M_KIB as u64 * ARGON2_T as u64;

/// A 32-byte secret key. Never printed; wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Key([u8; KEY_LEN]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(id {})", self.id())
    }
}

impl Key {
    /// A key from exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Key> {
        let arr: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            Error::InvalidArgument(format!(
                "a key is {KEY_LEN} bytes, {} bytes given",
                bytes.len()
            ))
        })?;
        Ok(Key(arr))
    }

    /// A new random key from the operating system.
    pub fn generate() -> Result<Key> {
        let mut k = [0u8; KEY_LEN];
        random(&mut k)?;
        Ok(Key(k))
    }

    /// A key from 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Key> {
        let bytes = Zeroizing::new(hex_decode(text.trim()).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "a key in hex is {} hex digits, got {} characters that are not",
                2 * KEY_LEN,
                text.trim().len()
            ))
        })?);
        Key::from_bytes(&bytes)
    }

    /// Reads a key file: exactly 32 raw bytes, or 64 hex digits (as `rmf keygen` writes).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Key> {
        let path = path.as_ref();
        let data =
            Zeroizing::new(std::fs::read(path).map_err(|e| Error::io(path, "read key file", e))?);
        if data.len() == KEY_LEN {
            return Key::from_bytes(&data);
        }
        let bad = || {
            Error::InvalidArgument(format!(
                "{}: a key file holds {KEY_LEN} raw bytes or {} hex digits; this one has {} bytes",
                path.display(),
                2 * KEY_LEN,
                data.len()
            ))
        };
        let text = std::str::from_utf8(&data).map_err(|_| bad())?;
        Key::from_hex(text).map_err(|_| bad())
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as 64 lower-case hex digits.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex_encode(&self.0))
    }

    /// A short public name of the key (16 hex digits, derived one-way), so that a user can
    /// tell which key a file needs without the key being revealed.
    pub fn id(&self) -> String {
        hex_encode(&blake3::derive_key(CONTEXT_KEY_ID, &self.0)[..8])
    }
}

/// What a user gives to encrypt or to read encrypted streams: a key, or a passphrase.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// 32 raw bytes.
    Key(Key),
    /// A passphrase, stretched with Argon2id and a per-file salt.
    Passphrase(Zeroizing<String>),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Key(k) => write!(f, "Secret::{k:?}"),
            Secret::Passphrase(_) => write!(f, "Secret::Passphrase(..)"),
        }
    }
}

impl From<Key> for Secret {
    fn from(k: Key) -> Self {
        Secret::Key(k)
    }
}

impl Secret {
    /// A passphrase secret.
    pub fn passphrase(text: impl Into<String>) -> Secret {
        Secret::Passphrase(Zeroizing::new(text.into()))
    }

    /// The secret named by the environment: `RMF_KEY` (64 hex digits), else `RMF_KEY_FILE` (a
    /// key file), else `RMF_PASSPHRASE`; `None` when none is set.
    pub fn from_env() -> Result<Option<Secret>> {
        if let Some(hex) = std::env::var_os(ENV_KEY) {
            let hex = Zeroizing::new(hex.to_string_lossy().into_owned());
            return Key::from_hex(&hex)
                .map(|k| Some(Secret::Key(k)))
                .map_err(|e| match e {
                    Error::InvalidArgument(msg) => {
                        Error::InvalidArgument(format!("{ENV_KEY}: {msg}"))
                    }
                    other => other,
                });
        }
        if let Some(path) = std::env::var_os(ENV_KEY_FILE) {
            return Key::from_file(path).map(|k| Some(Secret::Key(k)));
        }
        Ok(std::env::var(ENV_PASSPHRASE).ok().map(Secret::passphrase))
    }
}

/// How the data key is wrapped: the key record of an encrypted file (spec/encryption.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// `"xchacha20poly1305"`.
    pub cipher: String,
    /// How the wrapping key comes from the user's secret.
    pub kdf: Kdf,
    /// [`Key::id`] of the wrapping key.
    pub key_id: String,
    /// Nonce of the wrapping, hex.
    pub nonce: String,
    /// The data key sealed under the wrapping key (48 bytes: key and tag), hex.
    pub wrapped_key: String,
    /// Fields of a newer minor version, kept as they are.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Key derivation from the user's secret to the wrapping key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Kdf {
    /// The secret is a key and wraps directly.
    None,
    /// Argon2id (version 0x13) of the passphrase's UTF-8 bytes.
    Argon2id {
        /// Salt, hex (16 bytes from the writer).
        salt: String,
        /// Memory in KiB.
        m_kib: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
    },
}

/// The declaration fields of an encrypted stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEncryption {
    /// `"xchacha20poly1305"`.
    pub cipher: String,
    /// Salt of the stream's key derivation, 32 hex digits.
    pub salt: String,
}

impl StreamEncryption {
    /// A new declaration with a random salt.
    pub fn generate() -> Result<StreamEncryption> {
        let mut salt = [0u8; SALT_LEN];
        random(&mut salt)?;
        Ok(StreamEncryption {
            cipher: CIPHER.to_string(),
            salt: hex_encode(&salt),
        })
    }

    /// Checks the cipher and salt (part of stream validation).
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.cipher != CIPHER {
            return Err(format!(
                "unknown cipher {:?} (this version knows {CIPHER:?})",
                self.cipher
            ));
        }
        match hex_decode(&self.salt) {
            Some(s) if s.len() == SALT_LEN => Ok(()),
            _ => Err(format!(
                "encryption salt must be {} hex digits, got {:?}",
                2 * SALT_LEN,
                self.salt
            )),
        }
    }
}

/// The cleartext header of a sealed chunk body, if the body is long enough to hold one and a
/// tag.
pub(crate) fn sealed_header(body: &[u8]) -> Option<ChunkHeader> {
    if body.len() < SEALED_HEADER_LEN + TAG_LEN {
        return None;
    }
    Some(ChunkHeader {
        stream_id: le_u32(&body[0..4]),
        t_min: le_u64(&body[8..16]) as i64,
        t_max: le_u64(&body[16..24]) as i64,
        rows: le_u64(&body[24..32]),
    })
}

/// A copy of a sealed chunk body that names stream `id` instead (the stream id is outside the
/// associated data, so the seal still holds). `None` if the body is too short.
pub(crate) fn sealed_with_stream_id(body: &[u8], id: u32) -> Option<Vec<u8>> {
    sealed_header(body)?;
    let mut out = body.to_vec();
    out[..4].copy_from_slice(&id.to_le_bytes());
    Some(out)
}

pub(crate) fn random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| {
        Error::InvalidArgument(format!(
            "the operating system's random number generator failed: {e}"
        ))
    })
}

/// Lower-case hex.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 * bytes.len());
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Hex (either case) to bytes; `None` on an odd length or a non-hex digit.
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if !t.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    t.chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}
