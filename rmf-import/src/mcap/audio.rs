//! Audio topics: `audio_common_msgs` AudioInfo parsed and paired with the AudioData topics of
//! its namespace, and audio blocks written.

#[allow(unused_imports)]
use super::*;

/// The fields of `audio_common_msgs/msg/AudioInfo`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AudioInfo {
    pub(super) channels: u8,
    pub(super) sample_rate: u32,
    pub(super) sample_format: String,
    pub(super) coding_format: String,
}

impl AudioInfo {
    pub(super) fn parse(data: &[u8]) -> std::result::Result<Self, CdrError> {
        let mut c = Cdr::new(data)?;
        let channels = c.u8("channels")?;
        let sample_rate = c.u32("sample_rate")?;
        let sample_format = c.string("sample_format")?;
        c.u32("bitrate")?;
        let coding_format = c.string("coding_format")?;
        Ok(AudioInfo {
            channels,
            sample_rate,
            sample_format,
            coding_format,
        })
    }

    /// The PCM format of the audio it describes, or why it is not one RMF stores.
    pub(super) fn format(&self) -> std::result::Result<AudioFormat, String> {
        let coding = self.coding_format.to_ascii_lowercase();
        if !matches!(coding.as_str(), "wave" | "wav" | "pcm" | "raw") {
            return Err(format!(
                "coding format {:?} is not PCM (wave)",
                self.coding_format
            ));
        }
        let dtype = match self.sample_format.to_ascii_uppercase().as_str() {
            "S16LE" => DType::Int16,
            "F32LE" => DType::Float32,
            other => {
                return Err(format!(
                    "sample format {other:?} is not one RMF audio stores (S16LE, F32LE)"
                ))
            }
        };
        if self.channels == 0 || self.sample_rate == 0 {
            return Err(format!(
                "{} channels at {} Hz",
                self.channels, self.sample_rate
            ));
        }
        Ok(AudioFormat {
            channels: self.channels.into(),
            sample_rate: self.sample_rate,
            dtype,
        })
    }
}

/// The namespace of a topic: `/mic` for `/mic/audio`.
pub(super) fn namespace(topic: &str) -> &str {
    topic.rsplit_once('/').map_or("", |(ns, _)| ns)
}

/// Gives each audio topic the format of its AudioInfo topic (same namespace, or the file's only
/// one). Audio without a usable format is kept as raw events (or skipped); an AudioInfo topic
/// that serves an audio topic is not stored, one that serves none is an unknown topic.
pub(super) fn pair_audio(topics: &mut [Topic], opts: &McapImportOptions) {
    let infos: Vec<usize> = (0..topics.len())
        .filter(|&i| topics[i].kind == MsgKind::AudioInfo)
        .collect();
    let mut used = HashSet::new();
    for i in 0..topics.len() {
        let MsgKind::Audio { stamped } = topics[i].kind else {
            continue;
        };
        let ns = namespace(&topics[i].report.topic);
        let beside: Vec<usize> = infos
            .iter()
            .copied()
            .filter(|&k| namespace(&topics[k].report.topic) == ns)
            .collect();
        let info = match (beside.as_slice(), infos.as_slice()) {
            ([k], _) | ([], [k]) => Some(*k),
            _ => None,
        };
        let format = match info {
            None if beside.len() > 1 => Err(format!(
                "{} AudioInfo topics in its namespace {ns:?}: which one is its format is unclear",
                beside.len()
            )),
            None => Err("no audio_common_msgs/AudioInfo topic gives its format".to_string()),
            Some(k) => {
                let from = &topics[k].report.topic;
                match &topics[k].audio_info {
                    Some(Ok(_)) if topics[k].audio_info_changed => {
                        Err(format!("{from}: the format changes within the bag"))
                    }
                    Some(Ok(a)) => a.format().map_err(|e| format!("{from}: {e}")),
                    Some(Err(e)) => Err(e.clone()),
                    None => Err(format!("{from} has no messages")),
                }
            }
        };
        if let (Some(k), Ok(_)) = (info, &format) {
            used.insert(k);
        }
        let t = &mut topics[i];
        match format {
            Ok(f) => {
                t.audio = Some(f);
                if let Some(k) = info {
                    let from = topics[k].report.topic.clone();
                    topics[i].report.notes.push(format!("format from {from}"));
                }
            }
            Err(why) if opts.keep_unknown => {
                t.kind = MsgKind::Raw {
                    has_header: stamped,
                };
                t.report.notes.push(format!("kept as raw events: {why}"));
            }
            Err(why) => {
                t.kind = MsgKind::Skip;
                t.report.skipped = Some(format!("audio not imported: {why}"));
            }
        }
    }
    for k in infos {
        let t = &mut topics[k];
        if used.contains(&k) {
            t.kind = MsgKind::Skip;
            t.report.skipped =
                Some("the format of the audio beside it, stored in its stream".into());
        } else if !t.selected {
            t.kind = MsgKind::Skip;
            t.report.skipped = Some(NOT_SELECTED.into());
        } else if opts.keep_unknown {
            t.kind = MsgKind::Raw { has_header: false };
        } else {
            t.kind = MsgKind::Skip;
            t.report.skipped =
                Some("an AudioInfo topic without audio beside it; unknown topics are skipped (--skip-unknown)".into());
        }
    }
}

/// One audio block: the message's PCM bytes in the topic's format.
pub(super) fn write_audio(
    out: &mut Out,
    topic: &mut Topic,
    t: i64,
    data: &[u8],
    stamped: bool,
) -> Result<bool, Skipped> {
    let Some(f) = topic.audio else {
        return Err(Skipped::Why("no audio format".into()));
    };
    let mut c = Cdr::new(data)?;
    let frame_id = if stamped {
        c.stamp()?;
        c.string("header.frame_id")?
    } else {
        String::new()
    };
    let bytes = c.bytes_seq("audio.data")?;
    if bytes.is_empty() {
        return Ok(false);
    }
    let frame = f.dtype.size() * f.channels as usize;
    if bytes.len() % frame != 0 {
        return Err(Skipped::Why(format!(
            "{} bytes of audio are not whole {}-channel {} samples",
            bytes.len(),
            f.channels,
            f.dtype
        )));
    }
    let id = match topic.sink {
        Sink::Audio(id) => id,
        _ => {
            let info = StreamInfo::audio(
                topic.stream_name.clone(),
                f.sample_rate,
                f.channels,
                f.dtype,
            );
            let id = declare(out, topic, tagged(info, topic, &frame_id))?;
            topic.sink = Sink::Audio(id);
            id
        }
    };
    match f.dtype {
        DType::Float32 => {
            let samples: Vec<f32> = bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            out.w.write_audio(id, t, &samples)?;
        }
        _ => {
            let samples: Vec<i16> = bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
            out.w.write_audio(id, t, &samples)?;
        }
    }
    Ok(true)
}
