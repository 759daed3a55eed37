//! A reader of ROS 2 CDR payloads (plain CDR, little-endian): every read bounds-checked.

#[allow(unused_imports)]
use super::*;

/// A payload that does not decode.
#[derive(Debug)]
pub(super) enum CdrError {
    /// Fewer bytes than a field needs.
    Truncated {
        what: &'static str,
        offset: usize,
        needed: usize,
        available: usize,
    },
    /// Bytes that break a rule (encapsulation, string terminator, UTF-8, sizes).
    Invalid {
        what: &'static str,
        offset: usize,
        detail: String,
    },
}

/// A reader of ROS 2 CDR payloads: a 4-byte encapsulation header (`00 01`: plain CDR,
/// little-endian), then primitives aligned to their size relative to the byte after the header;
/// strings are a u32 length (terminating NUL included) and the bytes; sequences a u32 count and
/// the elements. Every read is bounds-checked. Offsets are from the start of the payload.
pub(super) struct Cdr<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Cdr<'a> {
    pub(super) fn new(data: &'a [u8]) -> std::result::Result<Self, CdrError> {
        match data {
            [0x00, 0x01, _, _, ..] => Ok(Cdr { data, pos: 4 }),
            [a, b, _, _, ..] => Err(CdrError::Invalid {
                what: "encapsulation header",
                offset: 0,
                detail: format!(
                    "{a:02x} {b:02x} is not plain little-endian CDR (00 01){}",
                    if (*a, *b) == (0, 0) {
                        "; big-endian CDR is not supported"
                    } else {
                        ""
                    }
                ),
            }),
            _ => Err(CdrError::Truncated {
                what: "encapsulation header",
                offset: 0,
                needed: 4,
                available: data.len(),
            }),
        }
    }

    pub(super) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    pub(super) fn align(&mut self, n: usize) {
        let rel = self.pos - 4;
        self.pos += (n - rel % n) % n;
    }

    pub(super) fn take(
        &mut self,
        n: usize,
        what: &'static str,
    ) -> std::result::Result<&'a [u8], CdrError> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.data.len() => {
                let s = &self.data[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            _ => Err(CdrError::Truncated {
                what,
                offset: self.pos,
                needed: n,
                available: self.remaining(),
            }),
        }
    }

    pub(super) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> std::result::Result<[u8; N], CdrError> {
        if N > 1 {
            self.align(N);
        }
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }

    pub(super) fn u8(&mut self, what: &'static str) -> std::result::Result<u8, CdrError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(super) fn u32(&mut self, what: &'static str) -> std::result::Result<u32, CdrError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(super) fn i32(&mut self, what: &'static str) -> std::result::Result<i32, CdrError> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    pub(super) fn f64(&mut self, what: &'static str) -> std::result::Result<f64, CdrError> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }

    pub(super) fn f64s<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> std::result::Result<[f64; N], CdrError> {
        let mut out = [0.0; N];
        for v in &mut out {
            *v = self.f64(what)?;
        }
        Ok(out)
    }

    pub(super) fn string(&mut self, what: &'static str) -> std::result::Result<String, CdrError> {
        let n = self.u32(what)? as usize;
        let at = self.pos;
        let bytes = match self.take(n, what)?.split_last() {
            None => &[][..], // some writers store "" as length 0
            Some((0, s)) => s,
            Some(_) => {
                return Err(CdrError::Invalid {
                    what,
                    offset: at,
                    detail: format!("a string of {n} bytes does not end with NUL"),
                })
            }
        };
        String::from_utf8(bytes.to_vec()).map_err(|e| CdrError::Invalid {
            what,
            offset: at,
            detail: format!("not UTF-8: {e}"),
        })
    }

    /// A sequence's element count, checked against the bytes left (`min_size` bytes at least
    /// per element), so that no hostile count makes a large allocation.
    pub(super) fn count(
        &mut self,
        what: &'static str,
        min_size: usize,
    ) -> std::result::Result<usize, CdrError> {
        let n = self.u32(what)? as usize;
        match n.checked_mul(min_size) {
            Some(b) if b <= self.remaining() => Ok(n),
            _ => Err(CdrError::Truncated {
                what,
                offset: self.pos,
                needed: n.saturating_mul(min_size),
                available: self.remaining(),
            }),
        }
    }

    pub(super) fn f64_seq(
        &mut self,
        what: &'static str,
    ) -> std::result::Result<Vec<f64>, CdrError> {
        let n = self.count(what, 8)?;
        if n == 0 {
            return Ok(Vec::new());
        }
        self.align(8);
        let bytes = self.take(n * 8, what)?;
        Ok(bytes
            .chunks_exact(8)
            .map(|b| {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                f64::from_le_bytes(a)
            })
            .collect())
    }

    pub(super) fn bytes_seq(
        &mut self,
        what: &'static str,
    ) -> std::result::Result<&'a [u8], CdrError> {
        let n = self.count(what, 1)?;
        self.take(n, what)
    }

    pub(super) fn string_seq(
        &mut self,
        what: &'static str,
    ) -> std::result::Result<Vec<String>, CdrError> {
        let n = self.count(what, 4)?;
        (0..n).map(|_| self.string(what)).collect()
    }

    /// `header.stamp` (builtin_interfaces/Time) as ns: `sec * 1e9 + nanosec`.
    pub(super) fn stamp(&mut self) -> std::result::Result<i64, CdrError> {
        let sec = self.i32("header.stamp.sec")?;
        let nanosec = self.u32("header.stamp.nanosec")?;
        Ok(sec as i64 * 1_000_000_000 + nanosec as i64)
    }

    /// `header.frame_id` of a message that starts with a header.
    pub(super) fn frame_id(mut self) -> std::result::Result<String, CdrError> {
        self.stamp()?;
        self.string("header.frame_id")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn cdr_reads_aligned_fields_and_refuses_short_input() {
        // header, u8 1, (pad 3) u32 7, f64 seq [2.5]: count at 8, pad to 16, value at 16.
        let mut b = vec![0, 1, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        b.extend_from_slice(&2.5f64.to_le_bytes());
        let mut c = Cdr::new(&b).unwrap();
        assert_eq!(c.u8("a").unwrap(), 1);
        assert_eq!(c.u32("b").unwrap(), 7);
        assert_eq!(c.f64_seq("c").unwrap(), vec![2.5]);
        let mut short = Cdr::new(&b[..22]).unwrap();
        short.u8("a").unwrap();
        short.u32("b").unwrap();
        assert!(matches!(
            short.f64_seq("c"),
            Err(CdrError::Truncated { what: "c", .. })
        ));
        assert!(matches!(Cdr::new(&[0, 1]), Err(CdrError::Truncated { .. })));
        assert!(matches!(
            Cdr::new(&[0, 0, 0, 0]),
            Err(CdrError::Invalid { .. })
        ));
        // A hostile count is refused before allocating.
        let huge = [0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff];
        assert!(Cdr::new(&huge).unwrap().string_seq("names").is_err());
    }

    #[test]
    pub(super) fn header_detection() {
        assert!(starts_with_header(
            b"# comment\n\nstd_msgs/Header header\nfloat64 x\n"
        ));
        assert!(starts_with_header(b"Header header"));
        assert!(!starts_with_header(b"float64 x\nstd_msgs/Header header"));
        assert!(!starts_with_header(b""));
    }
}
