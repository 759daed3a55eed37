//! Progress of long operations (edits, transcoding, sharing, imports): a callback told how
//! many bytes of input are done out of how many, so a command line can draw a bar.

use std::fmt;
use std::sync::Arc;

/// A callback told `(bytes of input done, bytes of input in all)` as a long operation runs.
/// Cheap to clone; compared by identity.
#[derive(Clone)]
pub struct Progress(Arc<dyn Fn(u64, u64) + Send + Sync>);

impl Progress {
    /// Wraps `report`, called from the thread doing the work.
    pub fn new(report: impl Fn(u64, u64) + Send + Sync + 'static) -> Self {
        Progress(Arc::new(report))
    }

    /// Tells the callback that `done` of `total` bytes are done.
    pub fn report(&self, done: u64, total: u64) {
        (self.0)(done, total)
    }

    /// The same callback for one part of a longer operation: `done` of the part counts from
    /// `before` bytes already done, out of `total` for the whole.
    pub fn part(&self, before: u64, total: u64) -> Progress {
        let outer = self.clone();
        Progress::new(move |done, _| outer.report(before + done, total))
    }
}

/// Reports to `progress`, if any.
pub(crate) fn report(progress: Option<&Progress>, done: u64, total: u64) {
    if let Some(p) = progress {
        p.report(done, total);
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl PartialEq for Progress {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Progress {}
