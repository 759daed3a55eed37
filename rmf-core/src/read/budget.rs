//! How much one read may decode (spec/format.md, "Limits for readers"). A chunk is capped on
//! its own ([`super::DEFAULT_MAX_CHUNK_BYTES`]); a read of a whole stream or a long range adds
//! chunks up, so it is checked against a budget before anything is decoded: the decoded sizes
//! the chunk index claims, summed, against the memory this process can still use.

/// Bytes this process can still allocate: the smaller of the system's available memory and the
/// room left under its address-space limit (`ulimit -v`). Read from `/proc` on Linux; `None`
/// elsewhere or when unreadable.
pub fn memory_available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let available = kib_field(&meminfo, "MemAvailable:")?;
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| address_space_limit(&s));
    let headroom = limit.map(|limit| {
        let used = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| kib_field(&s, "VmSize:"))
            .unwrap_or(0);
        limit.saturating_sub(used)
    });
    Some(headroom.map_or(available, |h| h.min(available)))
}

/// The budget of one read when none is set: half of [`memory_available`] (the decoded samples
/// and the chunk being decoded live together, and the caller's copy may follow), or no limit
/// where that is unknown.
pub fn default_read_budget() -> Option<u64> {
    memory_available().map(|m| m / 2)
}

/// A `Name:   1234 kB` line of a `/proc` file, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib.saturating_mul(1024))
}

/// The soft limit of "Max address space" in `/proc/self/limits`, in bytes (`None`: unlimited).
fn address_space_limit(limits: &str) -> Option<u64> {
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fields_parse() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max address space         2147483648           unlimited            bytes\n";
        assert_eq!(address_space_limit(limits), Some(2_147_483_648));
        let unlimited =
            "Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(address_space_limit(unlimited), None);
        assert_eq!(
            kib_field(
                "MemTotal: 10 kB\nMemAvailable:    2048 kB\n",
                "MemAvailable:"
            ),
            Some(2_097_152)
        );
    }

    #[test]
    fn this_process_has_some_memory() {
        if cfg!(target_os = "linux") {
            assert!(memory_available().is_some_and(|m| m > 0));
        }
    }
}
