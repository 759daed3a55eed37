//! The sealing of private streams: XChaCha20-Poly1305 under keys derived from the episode's data
//! key, and Argon2id for passphrases (spec/encryption.md).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde_json::Map;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::*;
use crate::chunk::ChunkHeader;
use crate::error::{Error, Result};

/// BLAKE3 key-derivation contexts (spec/encryption.md): one per purpose, so that no derived
/// key can stand in for another.
const CONTEXT_STREAM_KEY: &str = "RMF 2026-11 stream key";
/// Associated-data prefixes: a data key, a chunk and a chunk's statistics are sealed under
/// different associated data, so one can never be passed off as another.
const AAD_DATA_KEY: &[u8] = b"RMF data key";
const AAD_CHUNK: &[u8] = b"RMF chunk";
const AAD_STATS: &[u8] = b"RMF stats";
/// The most memory a file may ask Argon2id to use (1 GiB): a hostile file cannot make the
/// reader allocate more.
const ARGON2_MAX_M_KIB: u32 = 1 << 20;
const ARGON2_MAX_T: u32 = 64;

fn key_cipher(key: &Key) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.as_bytes().into())
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
        let wrapped = key_cipher(&kek)
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
    pub(crate) fn unwrap(
        record: &KeyRecord,
        secret: &Secret,
        file: &str,
        max_kdf_cost: u64,
    ) -> Result<DataKey> {
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
                let cost = u64::from(*m_kib) * u64::from(*t);
                if cost > max_kdf_cost {
                    return Err(Error::InvalidArgument(format!(
                        "{file}: its passphrase needs Argon2id with m={m_kib} KiB, t={t} ({cost} KiB-passes), more than this reader's limit of {max_kdf_cost} (ReadOptions::with_max_kdf_cost): raise it for a file from a trusted source"
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
            key_cipher(&kek)
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
        let back = DataKey::unwrap(&rec, &Secret::Key(key), "f", u64::MAX).unwrap();
        assert_eq!(back.0, dk.0);
        let wrong = Key::generate().unwrap();
        assert!(matches!(
            DataKey::unwrap(&rec, &Secret::Key(wrong), "f", u64::MAX),
            Err(Error::WrongKey { .. })
        ));
        let rec = dk.wrap(&Secret::passphrase("correct horse")).unwrap();
        assert!(DataKey::unwrap(&rec, &Secret::passphrase("correct horse"), "f", u64::MAX).is_ok());
        assert!(matches!(
            DataKey::unwrap(&rec, &Secret::passphrase("wrong horse"), "f", u64::MAX),
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
