//! `rmf info`: what an episode holds: metadata, streams (kind, rates, counts, bytes, labels)
//! and its events, as a table or as JSON.

use crate::commands::ExitCode;
use std::fmt::Write as _;
use std::path::PathBuf;

use rmf_core::{EpisodeReader, FrameCodec, StreamKind};

use super::{bytes, CliResult};
use crate::context::Ctx;

#[derive(clap::Args)]
pub struct InfoArgs {
    /// The file.
    file: PathBuf,
    /// Events listed per event stream, after the counts by kind (0: counts only).
    #[arg(long, default_value_t = 20, value_name = "N")]
    events: usize,
    /// Print event payloads whole (by default a payload over 60 characters is cut, so that
    /// base64 blobs of imported messages do not flood the terminal).
    #[arg(long)]
    payloads: bool,
}

/// Longest payload shown without --payloads.
const PAYLOAD_CHARS: usize = 60;

/// A payload as `info` lists it: whole with `whole`, else cut to [`PAYLOAD_CHARS`] with its
/// full length said.
fn payload_text(payload: &serde_json::Value, whole: bool) -> String {
    if payload.is_null() {
        return String::new();
    }
    let text = payload.to_string();
    let n = text.chars().count();
    if whole || n <= PAYLOAD_CHARS {
        return text;
    }
    let head: String = text.chars().take(PAYLOAD_CHARS - 1).collect();
    format!("{head}… ({n} characters; --payloads shows them)")
}

fn details(kind: &StreamKind) -> String {
    match kind {
        StreamKind::Signal { dtype, shape } => format!("{dtype} {shape:?}"),
        StreamKind::Frames {
            width,
            height,
            pixel_format,
            codec,
        } => {
            let q = match codec {
                FrameCodec::Jpeg { quality } => format!(" q{quality}"),
                FrameCodec::H264 { qp, gop } => format!(" qp{qp} gop{gop}"),
                _ => String::new(),
            };
            format!(
                "{width}x{height} {} {}{q}",
                pixel_format.name(),
                codec.name()
            )
        }
        StreamKind::Audio {
            sample_rate,
            channels,
            dtype,
        } => format!("{sample_rate} Hz x{channels} {dtype}"),
        StreamKind::Events => String::new(),
        _ => String::new(),
    }
}

fn secs(ns: i64) -> String {
    format!("{:.3}", ns as f64 * 1e-9)
}

pub fn info(ctx: &Ctx, a: InfoArgs) -> CliResult {
    let r = ctx.open(&a.file)?;
    if ctx.json() {
        println!("{}", to_json(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    let m = r.meta();
    let mut o = String::new();
    let status = match r.recovery() {
        None => "finished".to_string(),
        Some(rep) => format!("NOT finished, opened by scanning: {} chunks kept, {} damaged stretches (run `rmf recover`)", rep.chunks, rep.damage.len()),
    };
    let _ = writeln!(
        o,
        "file      {} ({}, {status})",
        r.file_name(),
        bytes(r.file_len())
    );
    let _ = writeln!(o, "episode   {}", m.id);
    let _ = writeln!(o, "start     {} (clock: {})", m.start_time_utc, m.clock);
    for (k, v) in [
        ("robot", &m.robot),
        ("task", &m.task),
        ("operator", &m.operator),
    ] {
        if !v.is_empty() {
            let _ = writeln!(o, "{k:<9} {v}");
        }
    }
    let _ = writeln!(o, "writer    {} {}", m.writer.library, m.writer.version);
    if !m.extra.is_empty() {
        let _ = writeln!(
            o,
            "extra     {}",
            serde_json::Value::Object(m.extra.clone())
        );
    }
    if let Some((a, b)) = r.time_range() {
        let _ = writeln!(
            o,
            "duration  {} s (t = {} .. {} s)",
            secs(b - a),
            secs(a),
            secs(b)
        );
    }
    let _ = writeln!(o, "\nstreams");
    // The name column fits the longest name, so that the other columns stay aligned.
    let w = r
        .streams()
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(16);
    let _ = writeln!(
        o,
        "  {:<w$} {:<7} {:<30} {:>16} {:>8} {:>9} {:>10} {:>7}  label",
        "name", "kind", "details", "rate nom/meas Hz", "count", "duration", "stored", "ratio",
    );
    for s in r.streams() {
        let sum = r.summary(&s.name)?;
        let dur = match (sum.t_min, sum.t_max) {
            (Some(a), Some(b)) => b - a,
            _ => 0,
        };
        let meas = if sum.count > 1 && dur > 0 {
            format!("{:.1}", (sum.count - 1) as f64 / (dur as f64 * 1e-9))
        } else {
            "-".into()
        };
        let nom = s.rate_hz.map_or("-".to_string(), |h| format!("{h}"));
        let ratio = if sum.stored_bytes > 0 {
            format!("{:.1}x", sum.decoded_bytes as f64 / sum.stored_bytes as f64)
        } else {
            "-".into()
        };
        let _ = writeln!(
            o,
            "  {:<w$} {:<7} {:<30} {:>16} {:>8} {:>8}s {:>10} {:>7}  {}",
            s.name,
            s.kind.name(),
            details(&s.kind),
            format!("{nom} / {meas}"),
            sum.count,
            secs(dur),
            bytes(sum.stored_bytes),
            ratio,
            match (&s.encryption, r.is_readable(&s.name)?) {
                (None, _) => s.sensitivity.name().to_string(),
                (Some(_), true) => format!("{} (encrypted)", s.sensitivity.name()),
                (Some(_), false) => format!("{} (encrypted, no key)", s.sensitivity.name()),
            }
        );
    }
    for s in r
        .streams()
        .iter()
        .filter(|s| matches!(s.kind, StreamKind::Events))
    {
        if !r.is_readable(&s.name)? {
            let _ = writeln!(
                o,
                "\nevents in {:?}: encrypted (give the key to list them)",
                s.name
            );
            continue;
        }
        let events = r.events_range(&s.name, i64::MIN, i64::MAX)?;
        let _ = writeln!(o, "\nevents in {:?}: {}", s.name, events.len());
        let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
        for (_, e) in &events {
            *kinds.entry(e.kind.as_str()).or_default() += 1;
        }
        let _ = writeln!(
            o,
            "  by kind: {}",
            kinds
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for (t, e) in events.iter().take(a.events) {
            let payload = payload_text(&e.payload, a.payloads);
            let _ = writeln!(
                o,
                "  {} s  {:<15} {:<8} {} {}",
                secs(*t),
                e.kind,
                e.operator,
                e.text,
                payload
            );
        }
        if events.len() > a.events {
            let _ = writeln!(
                o,
                "  ... {} more (--events N lists more)",
                events.len() - a.events
            );
        }
    }
    print!("{o}");
    Ok(ExitCode::SUCCESS)
}

fn to_json(r: &EpisodeReader) -> Result<String, rmf_core::Error> {
    let mut streams = Vec::new();
    for s in r.streams() {
        let sum = r.summary(&s.name)?;
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("count".into(), sum.count.into());
            obj.insert("chunks".into(), sum.chunks.into());
            obj.insert("t_min".into(), sum.t_min.into());
            obj.insert("t_max".into(), sum.t_max.into());
            obj.insert("stored_bytes".into(), sum.stored_bytes.into());
            obj.insert("decoded_bytes".into(), sum.decoded_bytes.into());
        }
        streams.push(v);
    }
    let out = serde_json::json!({
        "file": r.file_name(),
        "file_bytes": r.file_len(),
        "finished": r.recovery().is_none(),
        "episode": r.meta(),
        "streams": streams,
    });
    Ok(serde_json::to_string_pretty(&out).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_payloads_are_cut_unless_asked_for() {
        let blob = serde_json::json!({"data_base64": "QUJD".repeat(500)});
        let short = payload_text(&blob, false);
        assert!(short.chars().count() < 120, "{short}");
        assert!(
            short.contains("2018 characters") && short.contains("--payloads"),
            "{short}"
        );
        assert_eq!(payload_text(&blob, true), blob.to_string());
        let small = serde_json::json!({"reason": "slip"});
        assert_eq!(payload_text(&small, false), small.to_string());
        assert_eq!(payload_text(&serde_json::Value::Null, false), "");
    }
}
