//! What every command of one run shares: output mode (text or JSON), the key that opens
//! encrypted streams, and the spinner or progress bar on stderr. Built once in `main` and
//! passed to each command, so that no command reads global state.

use std::path::Path;
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressStyle};
use rmf_core::{EpisodeReader, Error, Key, Progress, ReadOptions, Secret, WriteOptions};
use rmf_store::{Location, StoreOptions};

/// One run of `rmf`.
pub struct Ctx {
    json: bool,
    secret: Option<Secret>,
    /// Settings of object stores (`--storage-option`), over the environment's.
    store: StoreOptions,
    /// The spinner of a long command, shown on stderr until it prints its result; shared with
    /// the progress callbacks, which rmf-core calls from its own threads.
    spinner: Arc<Mutex<Option<ProgressBar>>>,
    /// `--overwrite`: outputs replace existing files (default: refused).
    overwrite: bool,
}

impl Ctx {
    /// A run that prints JSON when `json`, with the key of `--key-file` or else of the
    /// environment (RMF_KEY, RMF_KEY_FILE, RMF_PASSPHRASE).
    pub fn new(
        json: bool,
        key_file: Option<&Path>,
        storage_options: &[String],
    ) -> Result<Ctx, Error> {
        let mut store = StoreOptions::default();
        for kv in storage_options {
            let (k, v) = kv.split_once('=').ok_or_else(|| {
                Error::InvalidArgument(format!("--storage-option {kv:?}: expected KEY=VALUE"))
            })?;
            store = store.with_option(k.trim(), v);
        }
        let secret = match key_file {
            Some(path) => Some(Secret::Key(Key::from_file(path)?)),
            None => Secret::from_env()?,
        };
        Ok(Ctx {
            json,
            secret,
            store,
            spinner: Arc::new(Mutex::new(None)),
            overwrite: false,
        })
    }

    /// This run with `--overwrite` set or not.
    pub fn with_overwrite(mut self, on: bool) -> Self {
        self.overwrite = on;
        self
    }

    /// Whether outputs may replace existing files (`--overwrite`).
    pub fn overwrite(&self) -> bool {
        self.overwrite
    }

    /// Whether this run prints JSON.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Reader settings carrying this run's key, if any.
    pub fn read_options(&self) -> ReadOptions {
        match &self.secret {
            Some(s) => ReadOptions::default().with_secret(s.clone()),
            None => ReadOptions::default(),
        }
    }

    /// Opens an episode (a path or an object-store URL) with this run's key, if any.
    pub fn open(&self, path: &Path) -> Result<EpisodeReader, Error> {
        self.open_location(&Location::from(path))
    }

    /// [`Ctx::open`] of a location already parsed (a file of a dataset directory or prefix).
    pub fn open_location(&self, loc: &Location) -> Result<EpisodeReader, Error> {
        rmf_store::open(loc, self.read_options(), &self.store)
    }

    /// Settings of object stores.
    pub fn store(&self) -> &StoreOptions {
        &self.store
    }

    /// Write options of an edit: this run's key (so that encrypted streams can be decoded and
    /// sealed again) and its progress bar.
    pub fn write_options(&self) -> WriteOptions {
        let opts = WriteOptions::default()
            .with_progress(self.progress())
            .with_overwrite(self.overwrite);
        match &self.secret {
            Some(s) => opts.with_secret(s.clone()),
            None => opts,
        }
    }

    /// Shows "`what` ... elapsed" on stderr while a long command works (not with --json;
    /// indicatif draws nothing when stderr is not a terminal).
    pub fn start_spinner(&self, what: &str) {
        if self.json {
            return;
        }
        let pb = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(what.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        if let Ok(mut s) = self.spinner.lock() {
            *s = Some(pb);
        }
    }

    /// A callback that turns this run's spinner into a bar of bytes done (for the commands
    /// whose work rmf-core can measure: edits, transcode, share, import-mcap, exports).
    pub fn progress(&self) -> Progress {
        let spinner = self.spinner.clone();
        let styled = std::sync::atomic::AtomicBool::new(false);
        Progress::new(move |done, total| {
            let Some(pb) = spinner.lock().ok().and_then(|s| s.clone()) else {
                return;
            };
            if !styled.swap(true, std::sync::atomic::Ordering::Relaxed) {
                pb.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes}, {bytes_per_sec}, {eta} left",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
            }
            pb.set_length(total);
            pb.set_position(done);
        })
    }

    /// Clears the spinner before a command prints.
    pub fn spinner_done(&self) {
        if let Some(pb) = self.spinner.lock().ok().and_then(|mut s| s.take()) {
            pb.finish_and_clear();
        }
    }

    /// Prints a command's result: `text` for people, or `value` as one line of JSON.
    pub fn say(&self, text: impl std::fmt::Display, value: serde_json::Value) {
        self.spinner_done();
        if self.json {
            println!("{value}");
        } else {
            println!("{text}");
        }
    }
}
