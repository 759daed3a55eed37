//! Pass 2: the episode written topic by topic, each message to its stream (signals, joint
//! states, raw events; images and audio in their own modules).

#[allow(unused_imports)]
use super::*;

/// The episode writer and the stream names taken so far.
pub(super) struct Out {
    pub(super) w: EpisodeWriter,
    pub(super) names: HashSet<String>,
}

impl Out {
    /// Declares a stream: its id, or why it cannot be (an invalid or taken name).
    pub(super) fn declare(
        &mut self,
        info: StreamInfo,
    ) -> Result<std::result::Result<StreamId, String>> {
        if let Err(e) = info.validate() {
            return Ok(Err(e.to_string()));
        }
        if !self.names.insert(info.name.clone()) {
            return Ok(Err(format!(
                "stream name {:?} is taken by another topic",
                info.name
            )));
        }
        self.w.add_stream(info).map(Ok)
    }
}

/// Pass 2: writes the episode to `path`; returns its start time, size and chunk count.
pub(super) fn write_episode(
    data: &[u8],
    input: &Path,
    file: &str,
    path: &Path,
    opts: &McapImportOptions,
    scan: &mut Scan,
) -> Result<(Option<i64>, u64, usize)> {
    let Scan {
        topics,
        by_channel,
        messages,
        ..
    } = scan;
    let messages = *messages;
    let first = topics
        .iter()
        .filter(|t| t.kind != MsgKind::Skip)
        .filter_map(|t| t.first_t)
        .min();
    let clock = match opts.time_source {
        TimeSource::HeaderStamp => "ros2_header_stamp",
        TimeSource::LogTime => "mcap_log_time",
    };
    let source = input
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned());
    let mut meta = EpisodeMeta::new()
        .with_clock(clock)
        .with_extra("imported_from", "mcap")
        .with_extra("source", source)
        .with_extra("time_source", opts.time_source.name());
    if let Some(t) = first {
        meta = meta.with_start_time_unix_ns(t);
    }
    let wopts = WriteOptions::default()
        .with_overwrite(true)
        // Unknown topics can be fast (/tf): their events are chunked like any stream.
        .with_flush_events(false);
    let mut out = Out {
        w: EpisodeWriter::create(path, meta, wopts)?,
        names: HashSet::new(),
    };
    let total = data.len() as u64;
    // Pass 1 counted the readable messages; a damaged file stops where pass 1 stopped.
    for (n, msg) in Messages::new(data, opts.max_record_bytes)
        .take(messages as usize)
        .enumerate()
    {
        let msg = msg.map_err(|e| container_error(file, total, e))?;
        if n % 64 == 0 {
            // The second half of the progress, as far as messages tell.
            let half = data.len() as u64 / 2;
            let done = half + scaled(data.len() as u64 - half, n as u64, messages);
            report(opts.progress.as_ref(), done, data.len() as u64);
        }
        let Some(&i) = by_channel.get(&msg.channel.id) else {
            continue;
        };
        let topic = &mut topics[i];
        if topic.kind == MsgKind::Skip {
            continue;
        }
        let m = MsgRef {
            index: topic.seen,
            log_time: msg.log_time,
        };
        topic.seen += 1;
        let t = topic
            .time(opts, &msg.data, msg.log_time)
            .map_err(|e| payload_error(file, &topic.report.topic, m, e))?;
        if topic.report.sorted {
            topic.held.push(Held {
                t,
                index: m.index,
                log_time: m.log_time,
                data: msg.data,
            });
        } else {
            write_message(&mut out, topic, opts, file, m, t, &msg.data)?;
        }
    }
    for topic in topics.iter_mut() {
        let mut held = std::mem::take(&mut topic.held);
        held.sort_by_key(|h| (h.t, h.index));
        for h in held {
            let m = MsgRef {
                index: h.index,
                log_time: h.log_time,
            };
            write_message(&mut out, topic, opts, file, m, h.t, &h.data)?;
        }
    }
    for topic in topics.iter_mut() {
        if topic.kind == MsgKind::Skip {
            continue;
        }
        let skips = std::mem::take(&mut topic.skips);
        for (reason, n) in &skips {
            topic
                .report
                .notes
                .push(format!("{n} messages skipped: {reason}"));
        }
        if topic.report.streams.is_empty() && topic.report.skipped.is_none() {
            topic.report.skipped = Some(match (&topic.sink, skips.keys().next()) {
                (Sink::Dead(why), _) => why.clone(),
                (_, Some(reason)) => reason.clone(),
                _ => "no message could be imported".into(),
            });
            topic.report.clock = None;
        }
    }
    let summary = out.w.finish()?;
    report(opts.progress.as_ref(), data.len() as u64, data.len() as u64);
    Ok((first, summary.bytes, summary.chunks))
}

/// What became of one message that was not written: why (counted), or a damaged payload.
pub(super) enum Skipped {
    Why(String),
    Bad(CdrError),
    Fatal(Error),
}

impl From<CdrError> for Skipped {
    fn from(e: CdrError) -> Self {
        Skipped::Bad(e)
    }
}

impl From<Error> for Skipped {
    fn from(e: Error) -> Self {
        Skipped::Fatal(e)
    }
}

pub(super) fn write_message(
    out: &mut Out,
    topic: &mut Topic,
    opts: &McapImportOptions,
    file: &str,
    m: MsgRef,
    t: i64,
    data: &[u8],
) -> Result<()> {
    if let Sink::Dead(why) = &topic.sink {
        let why = why.clone();
        topic.skip(why);
        return Ok(());
    }
    let result = match topic.kind {
        MsgKind::Image | MsgKind::CompressedImage => write_image(out, topic, opts, t, data),
        MsgKind::JointState => write_joints(out, topic, t, data),
        MsgKind::Imu => write_fixed(out, topic, t, data, &IMU_NAMES, &IMU_UNITS, |c| {
            c.stamp()?;
            c.string("header.frame_id")?;
            let q = c.f64s::<4>("orientation")?;
            c.f64s::<9>("orientation_covariance")?;
            let w = c.f64s::<3>("angular_velocity")?;
            c.f64s::<9>("angular_velocity_covariance")?;
            let a = c.f64s::<3>("linear_acceleration")?;
            c.f64s::<9>("linear_acceleration_covariance")?;
            let mut v = q.to_vec();
            v.extend_from_slice(&w);
            v.extend_from_slice(&a);
            Ok(v)
        }),
        MsgKind::Wrench => write_fixed(out, topic, t, data, &WRENCH_NAMES, &WRENCH_UNITS, |c| {
            c.stamp()?;
            c.string("header.frame_id")?;
            let f = c.f64s::<3>("wrench.force")?;
            let tq = c.f64s::<3>("wrench.torque")?;
            Ok([f, tq].concat())
        }),
        MsgKind::Audio { stamped } => write_audio(out, topic, t, data, stamped),
        MsgKind::Raw { .. } => write_raw(out, topic, t, data),
        MsgKind::Skip | MsgKind::AudioInfo => Ok(false),
    };
    match result {
        Ok(true) => {
            topic.report.imported += 1;
            Ok(())
        }
        Ok(false) => Ok(()),
        Err(Skipped::Why(why)) => {
            topic.skip(why);
            Ok(())
        }
        Err(Skipped::Bad(e)) => Err(payload_error(file, &topic.report.topic, m, e)),
        Err(Skipped::Fatal(e)) => Err(e),
    }
}

/// Declares a stream for `topic`; on failure the topic's sink is dead and the message skipped.
pub(super) fn declare(
    out: &mut Out,
    topic: &mut Topic,
    info: StreamInfo,
) -> Result<StreamId, Skipped> {
    let name = info.name.clone();
    match out.declare(info)? {
        Ok(id) => {
            topic.report.streams.push(name);
            Ok(id)
        }
        Err(why) => {
            topic.sink = Sink::Dead(why.clone());
            Err(Skipped::Why(why))
        }
    }
}

pub(super) fn tagged(info: StreamInfo, topic: &Topic, frame_id: &str) -> StreamInfo {
    let info = info
        .with_tag("ros_topic", topic.report.topic.clone())
        .with_tag("ros_type", topic.report.schema.clone());
    if frame_id.is_empty() {
        info
    } else {
        info.with_tag("frame_id", frame_id)
    }
}

/// A signal of fixed width (Imu, WrenchStamped).
pub(super) fn write_fixed(
    out: &mut Out,
    topic: &mut Topic,
    t: i64,
    data: &[u8],
    names: &[&str],
    units: &[&str],
    parse: impl FnOnce(&mut Cdr<'_>) -> std::result::Result<Vec<f64>, CdrError>,
) -> Result<bool, Skipped> {
    let values = parse(&mut Cdr::new(data)?)?;
    let id = match topic.sink {
        Sink::Signal(id) => id,
        _ => {
            let frame_id = Cdr::new(data)?.frame_id()?;
            let info =
                StreamInfo::signal(topic.stream_name.clone(), DType::Float64, &[names.len()])
                    .with_names(names.iter().copied())
                    .with_units(units.iter().copied());
            let id = declare(out, topic, tagged(info, topic, &frame_id))?;
            topic.sink = Sink::Signal(id);
            id
        }
    };
    out.w.write_signal(id, t, &values)?;
    Ok(true)
}

pub(super) fn write_joints(
    out: &mut Out,
    topic: &mut Topic,
    t: i64,
    data: &[u8],
) -> Result<bool, Skipped> {
    let mut c = Cdr::new(data)?;
    c.stamp()?;
    let frame_id = c.string("header.frame_id")?;
    let names = c.string_seq("name")?;
    let fields = [
        c.f64_seq("position")?,
        c.f64_seq("velocity")?,
        c.f64_seq("effort")?,
    ];
    if !matches!(topic.sink, Sink::Joints(_)) {
        topic.sink = Sink::Joints(Box::default());
    }
    let mut wrote = false;
    for (k, values) in fields.iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let field = JOINT_FIELDS[k];
        let Sink::Joints(sinks) = &mut topic.sink else {
            return Ok(wrote);
        };
        match &sinks[k] {
            JointSink::Dead(why) => {
                let why = why.clone();
                topic.skip(why);
                continue;
            }
            JointSink::Stream {
                id,
                n,
                names: known,
            } => {
                if values.len() != *n {
                    let why = format!("{field}: joint count changed from {n} to {}", values.len());
                    topic.skip(why);
                    continue;
                }
                if !known.is_empty() && names != *known {
                    let why = format!("{field}: joint names changed from {known:?} to {names:?}");
                    topic.skip(why);
                    continue;
                }
                out.w.write_signal(*id, t, values)?;
                wrote = true;
            }
            JointSink::None => {
                let n = values.len();
                let mut info = StreamInfo::signal(
                    format!("{}/{field}", topic.stream_name),
                    DType::Float64,
                    &[n],
                );
                let named = names.len() == n;
                if named {
                    info = info.with_names(names.iter().cloned());
                }
                let info = tagged(info, topic, &frame_id);
                let name = info.name.clone();
                let declared = out.declare(info)?;
                let Sink::Joints(sinks) = &mut topic.sink else {
                    return Ok(wrote);
                };
                match declared {
                    Ok(id) => {
                        sinks[k] = JointSink::Stream {
                            id,
                            n,
                            names: if named { names.clone() } else { Vec::new() },
                        };
                        topic.report.streams.push(name);
                        out.w.write_signal(id, t, values)?;
                        wrote = true;
                    }
                    Err(why) => {
                        sinks[k] = JointSink::Dead(why.clone());
                        topic.skip(why);
                    }
                }
            }
        }
    }
    Ok(wrote)
}

pub(super) fn write_raw(
    out: &mut Out,
    topic: &mut Topic,
    t: i64,
    data: &[u8],
) -> Result<bool, Skipped> {
    let id = match topic.sink {
        Sink::Events(id) => id,
        _ => {
            let info = StreamInfo::events(topic.stream_name.clone());
            let info = tagged(info, topic, "").with_tag("encoding", &topic.report.message_encoding);
            let id = declare(out, topic, info)?;
            topic.sink = Sink::Events(id);
            id
        }
    };
    let event = Event::new("raw").with_payload(serde_json::json!({
        "schema": topic.report.schema,
        "encoding": topic.report.message_encoding,
        "data_base64": base64::engine::general_purpose::STANDARD.encode(data),
    }));
    out.w.write_event(id, t, &event)?;
    Ok(true)
}
