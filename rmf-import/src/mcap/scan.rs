//! Pass 1: every channel, its message count, the order of its times and the episode's start.

#[allow(unused_imports)]
use super::*;

/// Pass 1: every channel, its message count and the order of its times.
pub(super) fn scan(data: &[u8], file: &str, opts: &McapImportOptions) -> Result<Scan> {
    let mut topics: Vec<Topic> = Vec::new();
    let mut by_channel: HashMap<u16, usize> = HashMap::new();
    let mut messages = 0u64;
    let mut damage = None;
    // Progress is in bytes of the file: the first half for this pass.
    let total = data.len() as u64;
    let mut stream = Messages::new(data, opts.max_record_bytes);
    while let Some(msg) = stream.next() {
        if messages.is_multiple_of(256) {
            report(opts.progress.as_ref(), stream.bytes_read() / 2, total);
        }
        let msg = match msg {
            Ok(m) => m,
            // A file cut short (a recorder killed mid-write): keep what came before.
            Err(Stop::Truncated(e)) => {
                damage = Some(damage_note(file, messages, &e));
                break;
            }
            Err(e) => return Err(container_error(file, total, e)),
        };
        messages += 1;
        let i = match by_channel.get(&msg.channel.id) {
            Some(&i) => i,
            None => {
                let ch = &msg.channel;
                let selected =
                    opts.topics.is_empty() || opts.topics.iter().any(|t| same_topic(t, &ch.topic));
                let (kind, skipped) = match classify(ch, opts) {
                    c if selected => c,
                    // Read for the format of a selected audio topic; not stored itself.
                    (MsgKind::AudioInfo, _) => (MsgKind::AudioInfo, None),
                    _ => (MsgKind::Skip, Some(NOT_SELECTED.to_string())),
                };
                topics.push(Topic {
                    report: TopicReport {
                        topic: ch.topic.clone(),
                        schema: ch.schema.as_ref().map_or(String::new(), |s| s.name.clone()),
                        message_encoding: ch.message_encoding.clone(),
                        messages: 0,
                        imported: 0,
                        streams: Vec::new(),
                        clock: None,
                        sorted: false,
                        skipped,
                        notes: Vec::new(),
                    },
                    kind,
                    stream_name: ch.topic.trim_start_matches('/').to_string(),
                    first_t: None,
                    last_t: None,
                    backwards: 0,
                    zero_stamps: 0,
                    seen: 0,
                    held: Vec::new(),
                    sink: Sink::None,
                    skips: BTreeMap::new(),
                    audio_info: None,
                    audio_info_changed: false,
                    selected,
                    audio: None,
                });
                by_channel.insert(ch.id, topics.len() - 1);
                topics.len() - 1
            }
        };
        let topic = &mut topics[i];
        let m = MsgRef {
            index: topic.report.messages,
            log_time: msg.log_time,
        };
        topic.report.messages += 1;
        if topic.kind == MsgKind::Skip {
            continue;
        }
        if topic.kind == MsgKind::AudioInfo {
            // The first message that parses gives the format; a later different one is noted.
            let parsed = AudioInfo::parse(&msg.data)
                .map_err(|e| payload_error(file, &topic.report.topic, m, e).to_string());
            match (&topic.audio_info, parsed) {
                (Some(Ok(first)), Ok(next)) => topic.audio_info_changed |= *first != next,
                (Some(Ok(_)), Err(_)) => {}
                (_, parsed) => topic.audio_info = Some(parsed),
            }
        }
        let t = topic
            .time(opts, &msg.data, msg.log_time)
            .map_err(|e| payload_error(file, &topic.report.topic, m, e))?;
        if topic.clock(opts) == TimeSource::HeaderStamp && t == 0 {
            topic.zero_stamps += 1;
        }
        if topic.last_t.is_some_and(|last| t < last) {
            topic.backwards += 1;
        }
        topic.last_t = Some(topic.last_t.map_or(t, |last| last.max(t)));
        topic.first_t = Some(topic.first_t.map_or(t, |first| first.min(t)));
    }
    for want in &opts.topics {
        if !topics.iter().any(|t| same_topic(&t.report.topic, want)) {
            let known: Vec<&str> = topics.iter().map(|t| t.report.topic.as_str()).collect();
            return Err(Error::InvalidArgument(format!(
                "{file}: no topic {want:?} (topics: {})",
                known.join(", ")
            )));
        }
    }
    if messages == 0 {
        if let Some(d) = damage {
            return Err(Error::Io {
                path: PathBuf::from(file),
                op: "read MCAP",
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, d),
            });
        }
    }
    pair_audio(&mut topics, opts);
    for t in &mut topics {
        if t.kind == MsgKind::Skip {
            continue;
        }
        t.report.clock = Some(t.clock(opts));
        t.report.sorted = t.backwards > 0;
        if t.backwards > 0 {
            t.report.notes.push(format!(
                "timestamps went backwards {} times: messages written in time order",
                t.backwards
            ));
        }
        if t.zero_stamps > 0 {
            t.report.notes.push(format!(
                "{} messages have a zero header stamp (log time: --log-time)",
                t.zero_stamps
            ));
        }
    }
    Ok(Scan {
        topics,
        by_channel,
        messages,
        damage,
    })
}

/// `span * part / whole` without overflow (0 for an empty whole).
pub(super) fn scaled(span: u64, part: u64, whole: u64) -> u64 {
    (u128::from(span) * u128::from(part) / u128::from(whole.max(1))) as u64
}

/// What pass 1 found.
pub(super) struct Scan {
    pub(super) topics: Vec<Topic>,
    pub(super) by_channel: HashMap<u16, usize>,
    /// Messages readable before the end or the damage.
    pub(super) messages: u64,
    /// Why reading stopped early.
    pub(super) damage: Option<String>,
}

/// The report of a file whose messages stop early: the mcap reader's error (it says what, not
/// where) and how many messages came before it.
pub(super) fn damage_note(file: &str, messages: u64, e: &str) -> String {
    format!(
        "{file} is truncated or damaged after {messages} readable messages ({e}); \
         every message before that point was imported"
    )
}

pub(super) const NOT_SELECTED: &str = "not selected (--topic)";
