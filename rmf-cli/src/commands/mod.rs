//! One module per group of commands. Each defines its commands' arguments (clap `Args`) and a
//! `run` that takes the run's [`Ctx`](crate::context::Ctx); [`crate::run`] only parses and dispatches.

pub mod dataset;
pub mod edit;
pub mod export;
pub mod import;
pub mod info;
pub mod inspect;
pub mod record;
pub mod share;
pub mod transcode;
pub mod when;

use rmf_core::{Error, FrameCodec};

/// What a command returns: its exit code, or an error that [`crate::run`] prints (exit 2).
pub type CliResult = Result<ExitCode, Error>;

/// A command's exit status: 0 success, 1 the command ran and found a problem, 2 an error. A
/// number rather than `std::process::ExitCode`, so that the command also runs in process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitCode(pub u8);

impl ExitCode {
    /// Exit 0.
    pub const SUCCESS: ExitCode = ExitCode(0);
}

impl From<u8> for ExitCode {
    fn from(code: u8) -> Self {
        ExitCode(code)
    }
}

/// Settings of the lossy frame codecs.
#[derive(clap::Args)]
pub struct CodecSettings {
    /// JPEG quality, 1-100 (default 90).
    #[arg(long)]
    pub quality: Option<u8>,
    /// H.264 quantizer, 0-51, lower is better and bigger (default 22).
    #[arg(long)]
    pub qp: Option<u8>,
    /// H.264 keyframe interval in frames (default 8).
    #[arg(long)]
    pub gop: Option<u32>,
}

impl CodecSettings {
    /// The codec named `name` with these settings (a setting of another codec is an error).
    pub fn codec(&self, name: &str) -> Result<FrameCodec, Error> {
        Ok(FrameCodec::parse_with(
            name,
            self.quality,
            self.qp,
            self.gop,
        )?)
    }
}

/// A byte count for people: "84.8 MB".
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e9 {
        format!("{:.2} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else if n >= 1e3 {
        format!("{:.1} kB", n / 1e3)
    } else {
        format!("{n} B")
    }
}

/// An I/O error on `path` while doing `op`.
pub fn io_error<'a>(
    path: &'a std::path::Path,
    op: &'static str,
) -> impl Fn(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}
