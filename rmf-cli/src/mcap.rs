//! `rmf import-mcap`: an episode from an MCAP file of ROS 2 messages (a ROS 2 bag). The mapping
//! lives in `rmf_import::mcap`; this prints its report.

use std::path::Path;
use std::process::ExitCode;

use rmf_core::{FrameCodec, Result};
use rmf_import::mcap::{import_mcap, McapImportOptions, TimeSource};

use crate::{say, CodecSettings};

/// What the command line asked for.
pub struct Args<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub log_time: bool,
    pub skip_unknown: bool,
    pub topics: Vec<String>,
    pub codec: Option<&'a str>,
    pub settings: &'a CodecSettings,
    pub force: bool,
}

pub fn import(a: Args<'_>) -> Result<ExitCode> {
    let mut opts = McapImportOptions::default()
        .with_time_source(if a.log_time {
            TimeSource::LogTime
        } else {
            TimeSource::HeaderStamp
        })
        .with_keep_unknown(!a.skip_unknown)
        .with_codec_settings(a.settings.quality, a.settings.qp, a.settings.gop)
        .with_overwrite(a.force);
    for topic in a.topics {
        opts = opts.with_topic(topic);
    }
    opts = opts.with_progress(crate::progress());
    if let Some(codec) = a.codec {
        opts = opts.with_color_codec(FrameCodec::parse(codec)?);
    }
    let report = import_mcap(a.input, a.output, &opts)?;
    let json = serde_json::to_value(&report).unwrap_or_default();
    say(report.to_string().trim_end(), json);
    Ok(ExitCode::SUCCESS)
}
