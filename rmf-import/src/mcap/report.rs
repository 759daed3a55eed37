//! What an import says it did: [`McapImportReport`], one [`TopicReport`] per channel.

#[allow(unused_imports)]
use super::*;

/// What happened to one MCAP channel (a topic).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicReport {
    /// The ROS topic (`/camera/color/image_raw`).
    pub topic: String,
    /// Its schema name (`sensor_msgs/msg/Image`), empty when the channel has none.
    pub schema: String,
    /// The channel's message encoding (`cdr`).
    pub message_encoding: String,
    /// Messages on the channel.
    pub messages: u64,
    /// Messages that became at least one sample.
    pub imported: u64,
    /// The streams the topic became.
    pub streams: Vec<String>,
    /// The clock of its samples (`None` when skipped).
    pub clock: Option<TimeSource>,
    /// True when its stamps went backwards and its messages were written in time order.
    pub sorted: bool,
    /// Why the whole topic was not imported.
    pub skipped: Option<String>,
    /// Anything else worth knowing: messages skipped and why, stamps that are zero, codec
    /// fallbacks.
    pub notes: Vec<String>,
}

/// What [`import_mcap`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McapImportReport {
    /// The MCAP file.
    pub input: PathBuf,
    /// The episode written.
    pub output: PathBuf,
    /// The clock asked for.
    pub time_source: TimeSource,
    /// Time of the first imported message (the episode's start), if any.
    pub start_time_ns: Option<i64>,
    /// Size of the episode file.
    pub bytes: u64,
    /// Chunks written.
    pub chunks: usize,
    /// One entry per channel, in the order they first appear in the file.
    pub topics: Vec<TopicReport>,
    /// Where and why reading stopped early (a truncated or damaged file): every message
    /// before that point was imported.
    pub damage: Option<String>,
}

impl McapImportReport {
    /// Every stream written, in topic order.
    pub fn streams(&self) -> Vec<&str> {
        self.topics
            .iter()
            .flat_map(|t| t.streams.iter().map(String::as_str))
            .collect()
    }

    /// The report of `topic` (with or without its leading `/`).
    pub fn topic(&self, topic: &str) -> Option<&TopicReport> {
        self.topics.iter().find(|t| same_topic(&t.topic, topic))
    }
}

impl fmt::Display for McapImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let imported = self.topics.iter().filter(|t| !t.streams.is_empty()).count();
        writeln!(
            f,
            "imported {} -> {}: {} of {} topics into {} streams ({} bytes, {} chunks; clock: {})",
            self.input.display(),
            self.output.display(),
            imported,
            self.topics.len(),
            self.streams().len(),
            self.bytes,
            self.chunks,
            self.time_source.name(),
        )?;
        if let Some(d) = &self.damage {
            writeln!(f, "  warning: {d}")?;
        }
        for t in &self.topics {
            write!(f, "  {}  {}  {} messages", t.topic, t.schema, t.messages)?;
            match &t.skipped {
                Some(why) => write!(f, ": skipped: {why}")?,
                None => write!(
                    f,
                    " -> {} ({} imported, clock {}{})",
                    t.streams.join(", "),
                    t.imported,
                    t.clock.unwrap_or_default().name(),
                    if t.sorted { ", sorted by time" } else { "" }
                )?,
            }
            writeln!(f)?;
            for n in &t.notes {
                writeln!(f, "      {n}")?;
            }
        }
        Ok(())
    }
}
