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

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::chunk::ChunkHeader;
use crate::error::{Error, Result};
use crate::format::{le_u32, le_u64};

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

/// BLAKE3 key-derivation contexts (spec/encryption.md): one per purpose, so that no derived
/// key can stand in for another.
const CONTEXT_STREAM_KEY: &str = "RMF 2026-11 stream key";
const CONTEXT_KEY_ID: &str = "RMF 2026-11 key id";
/// Associated-data prefixes: a data key, a chunk and a chunk's statistics are sealed under
/// different associated data, so one can never be passed off as another.
const AAD_DATA_KEY: &[u8] = b"RMF data key";
const AAD_CHUNK: &[u8] = b"RMF chunk";
const AAD_STATS: &[u8] = b"RMF stats";

/// Argon2id settings the writer uses for passphrases: 64 MiB, 3 passes, 1 lane (RFC 9106's
/// second recommendation, with one lane for small robot computers). About 0.2 s here.
pub const ARGON2_M_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const ARGON2_T: u32 = 3;
/// Argon2id lanes.
pub const ARGON2_P: u32 = 1;
/// The most memory a file may ask Argon2id to use (1 GiB): a hostile file cannot make the
/// reader allocate more.
const ARGON2_MAX_M_KIB: u32 = 1 << 20;
const ARGON2_MAX_T: u32 = 64;

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

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
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
                .map_err(|e| Error::InvalidArgument(format!("{ENV_KEY}: {e}")));
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

/// An episode's data key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct DataKey([u8; KEY_LEN]);

impl DataKey {
    pub(crate) fn generate() -> Result<DataKey> {
        let mut k = [0u8; KEY_LEN];
        random(&mut k)?;
        Ok(DataKey(k))
    }

    /// Seals the data key under the user's secret.
    pub(crate) fn wrap(&self, secret: &Secret) -> Result<KeyRecord> {
        let (kdf, kek) = match secret {
            Secret::Key(k) => (Kdf::None, k.clone()),
            Secret::Passphrase(p) => {
                let mut salt = [0u8; SALT_LEN];
                random(&mut salt)?;
                let kdf = Kdf::Argon2id {
                    salt: hex_encode(&salt),
                    m_kib: ARGON2_M_KIB,
                    t: ARGON2_T,
                    p: ARGON2_P,
                };
                let kek = stretch(p, &salt, ARGON2_M_KIB, ARGON2_T, ARGON2_P)?;
                (kdf, kek)
            }
        };
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        let wrapped = kek
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &self.0,
                    aad: AAD_DATA_KEY,
                },
            )
            .map_err(|_| Error::Encode("sealing the data key failed".into()))?;
        Ok(KeyRecord {
            cipher: CIPHER.to_string(),
            kdf,
            key_id: kek.id(),
            nonce: hex_encode(&nonce),
            wrapped_key: hex_encode(&wrapped),
            other: Map::new(),
        })
    }

    /// Opens the data key of `record` with the user's secret; `file` names the file in errors.
    pub(crate) fn unwrap(record: &KeyRecord, secret: &Secret, file: &str) -> Result<DataKey> {
        let malformed = |detail: String| Error::Malformed {
            file: file.to_string(),
            what: "key record",
            offset: 0,
            detail,
        };
        if record.cipher != CIPHER {
            return Err(malformed(format!(
                "unknown cipher {:?} (this version knows {CIPHER:?})",
                record.cipher
            )));
        }
        let kek = match (&record.kdf, secret) {
            (Kdf::None, Secret::Key(k)) => k.clone(),
            (Kdf::Argon2id { salt, m_kib, t, p }, Secret::Passphrase(pass)) => {
                if *m_kib > ARGON2_MAX_M_KIB || *t > ARGON2_MAX_T || *p == 0 || *p > 16 {
                    return Err(malformed(format!(
                        "Argon2id settings m={m_kib} KiB, t={t}, p={p} are outside what a reader accepts (m <= {ARGON2_MAX_M_KIB} KiB, t <= {ARGON2_MAX_T}, 1 <= p <= 16)"
                    )));
                }
                let salt = hex_decode(salt).ok_or_else(|| malformed("salt is not hex".into()))?;
                stretch(pass, &salt, *m_kib, *t, *p)?
            }
            (Kdf::None, Secret::Passphrase(_)) => {
                return Err(Error::WrongKey {
                    file: file.to_string(),
                    needed: format!("the key with id {}", record.key_id),
                    detail: "a passphrase was given, but the file was encrypted with a key".into(),
                })
            }
            (Kdf::Argon2id { .. }, Secret::Key(_)) => {
                return Err(Error::WrongKey {
                    file: file.to_string(),
                    needed: "a passphrase".into(),
                    detail: "a key was given, but the file was encrypted with a passphrase".into(),
                })
            }
        };
        let nonce = hex_decode(&record.nonce)
            .filter(|n| n.len() == NONCE_LEN)
            .ok_or_else(|| malformed(format!("nonce must be {} hex digits", 2 * NONCE_LEN)))?;
        let wrapped = hex_decode(&record.wrapped_key)
            .filter(|w| w.len() == KEY_LEN + TAG_LEN)
            .ok_or_else(|| {
                malformed(format!(
                    "wrapped_key must be {} hex digits",
                    2 * (KEY_LEN + TAG_LEN)
                ))
            })?;
        let wrong = || Error::WrongKey {
            file: file.to_string(),
            needed: match record.kdf {
                Kdf::None => format!("the key with id {}", record.key_id),
                Kdf::Argon2id { .. } => "the passphrase it was written with".into(),
            },
            detail: match secret {
                Secret::Key(k) => format!("the key given has id {}", k.id()),
                Secret::Passphrase(_) => "the passphrase given does not open it".into(),
            },
        };
        let plain = Zeroizing::new(
            kek.cipher()
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &wrapped,
                        aad: AAD_DATA_KEY,
                    },
                )
                .map_err(|_| wrong())?,
        );
        let arr: [u8; KEY_LEN] = plain.as_slice().try_into().map_err(|_| wrong())?;
        Ok(DataKey(arr))
    }

    /// The cipher of one encrypted stream.
    pub(crate) fn stream_cipher(&self, enc: &StreamEncryption) -> Result<StreamCipher> {
        let salt = hex_decode(&enc.salt)
            .filter(|s| s.len() == SALT_LEN)
            .ok_or_else(|| Error::InvalidArgument(format!("bad stream salt {:?}", enc.salt)))?;
        let mut material = Zeroizing::new(Vec::with_capacity(KEY_LEN + SALT_LEN));
        material.extend_from_slice(&self.0);
        material.extend_from_slice(&salt);
        let key = Zeroizing::new(blake3::derive_key(CONTEXT_STREAM_KEY, &material));
        Ok(StreamCipher(XChaCha20Poly1305::new((&*key).into())))
    }
}

/// Stretches a passphrase into a wrapping key with Argon2id.
fn stretch(pass: &str, salt: &[u8], m_kib: u32, t: u32, p: u32) -> Result<Key> {
    let params = argon2::Params::new(m_kib, t, p, Some(KEY_LEN))
        .map_err(|e| Error::InvalidArgument(format!("Argon2id settings: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; KEY_LEN];
    argon
        .hash_password_into(pass.as_bytes(), salt, &mut out)
        .map_err(|e| Error::InvalidArgument(format!("Argon2id: {e}")))?;
    let key = Key(out);
    out.zeroize();
    Ok(key)
}

/// Seals and opens the chunks and statistics of one stream.
pub(crate) struct StreamCipher(XChaCha20Poly1305);

impl StreamCipher {
    /// The sealed chunk body for a plain chunk body with header `h`.
    pub(crate) fn seal_chunk(&self, h: &ChunkHeader, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        let mut out = Vec::with_capacity(SEALED_HEADER_LEN + plain.len() + TAG_LEN);
        out.extend_from_slice(&h.stream_id.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&h.t_min.to_le_bytes());
        out.extend_from_slice(&h.t_max.to_le_bytes());
        out.extend_from_slice(&h.rows.to_le_bytes());
        out.extend_from_slice(&nonce);
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &chunk_aad(&out),
                },
            )
            .map_err(|_| Error::Encode("sealing a chunk failed".into()))?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plain chunk body of a sealed one. `file`, `stream` and `offset` (of the body) name
    /// it in errors.
    pub(crate) fn open_chunk(
        &self,
        sealed: &[u8],
        file: &str,
        stream: &str,
        offset: u64,
    ) -> Result<Vec<u8>> {
        if sealed_header(sealed).is_none() {
            return Err(Error::Malformed {
                file: file.to_string(),
                what: "sealed chunk",
                offset,
                detail: format!(
                    "body of {} bytes is shorter than a sealed header and tag ({} bytes)",
                    sealed.len(),
                    SEALED_HEADER_LEN + TAG_LEN
                ),
            });
        }
        let nonce = &sealed[SEALED_HEADER_LEN - NONCE_LEN..SEALED_HEADER_LEN];
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: &sealed[SEALED_HEADER_LEN..],
                    aad: &chunk_aad(&sealed[..SEALED_HEADER_LEN]),
                },
            )
            .map_err(|_| Error::Authentication {
                file: file.to_string(),
                stream: stream.to_string(),
                what: "chunk",
                offset,
            })
    }

    /// Seals a chunk's footer statistics (empty statistics stay empty).
    pub(crate) fn seal_stats(&self, h: &ChunkHeader, stats: &[u8]) -> Result<Vec<u8>> {
        if stats.is_empty() {
            return Ok(Vec::new());
        }
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: stats,
                    aad: &stats_aad(h),
                },
            )
            .map_err(|_| Error::Encode("sealing chunk statistics failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens sealed footer statistics.
    pub(crate) fn open_stats(
        &self,
        h: &ChunkHeader,
        sealed: &[u8],
        file: &str,
        stream: &str,
        offset: u64,
    ) -> Result<Vec<u8>> {
        if sealed.is_empty() {
            return Ok(Vec::new());
        }
        let fail = || Error::Authentication {
            file: file.to_string(),
            stream: stream.to_string(),
            what: "chunk statistics",
            offset,
        };
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(fail());
        }
        self.0
            .decrypt(
                XNonce::from_slice(&sealed[..NONCE_LEN]),
                Payload {
                    msg: &sealed[NONCE_LEN..],
                    aad: &stats_aad(h),
                },
            )
            .map_err(|_| fail())
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

/// A sealed body's associated data: the prefix and the header without the stream id, which a
/// copy of the file may renumber (the stream key binds the chunk to its stream).
fn chunk_aad(header: &[u8]) -> Vec<u8> {
    let mut aad = AAD_CHUNK.to_vec();
    aad.extend_from_slice(&header[8..SEALED_HEADER_LEN]);
    aad
}

fn stats_aad(h: &ChunkHeader) -> Vec<u8> {
    let mut aad = AAD_STATS.to_vec();
    aad.extend_from_slice(&h.t_min.to_le_bytes());
    aad.extend_from_slice(&h.t_max.to_le_bytes());
    aad.extend_from_slice(&h.rows.to_le_bytes());
    aad
}

fn random(buf: &mut [u8]) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> ChunkHeader {
        ChunkHeader {
            stream_id: 3,
            t_min: 10,
            t_max: 20,
            rows: 2,
        }
    }

    #[test]
    fn chunk_round_trip_and_tamper() {
        let dk = DataKey::generate().unwrap();
        let enc = StreamEncryption::generate().unwrap();
        let c = dk.stream_cipher(&enc).unwrap();
        let sealed = c.seal_chunk(&header(), b"plain chunk body").unwrap();
        assert_eq!(sealed_header(&sealed), Some(header()));
        assert_eq!(
            c.open_chunk(&sealed, "f", "s", 0).unwrap(),
            b"plain chunk body"
        );
        // Every byte but the stream id is authenticated.
        for i in (4..sealed.len()).filter(|i| !(4..8).contains(i)) {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(
                matches!(
                    c.open_chunk(&bad, "f", "s", 0),
                    Err(Error::Authentication { .. })
                ),
                "byte {i}"
            );
        }
        // Another stream's key does not open it.
        let other = dk
            .stream_cipher(&StreamEncryption::generate().unwrap())
            .unwrap();
        assert!(other.open_chunk(&sealed, "f", "s", 0).is_err());
    }

    #[test]
    fn wrap_with_key_and_passphrase() {
        let dk = DataKey::generate().unwrap();
        let key = Key::generate().unwrap();
        let rec = dk.wrap(&Secret::Key(key.clone())).unwrap();
        assert_eq!(rec.key_id, key.id());
        let back = DataKey::unwrap(&rec, &Secret::Key(key), "f").unwrap();
        assert_eq!(back.0, dk.0);
        let wrong = Key::generate().unwrap();
        assert!(matches!(
            DataKey::unwrap(&rec, &Secret::Key(wrong), "f"),
            Err(Error::WrongKey { .. })
        ));
        let rec = dk.wrap(&Secret::passphrase("correct horse")).unwrap();
        assert!(DataKey::unwrap(&rec, &Secret::passphrase("correct horse"), "f").is_ok());
        assert!(matches!(
            DataKey::unwrap(&rec, &Secret::passphrase("wrong horse"), "f"),
            Err(Error::WrongKey { .. })
        ));
    }

    #[test]
    fn hex_and_key_files() {
        let k = Key::generate().unwrap();
        assert_eq!(Key::from_hex(&k.to_hex()).unwrap(), k);
        assert!(Key::from_hex("abc").is_err());
        assert!(Key::from_bytes(&[0u8; 31]).is_err());
        assert_eq!(hex_decode("0aFf"), Some(vec![10, 255]));
        assert_eq!(hex_decode("0g"), None);
    }
}
