//! Samples read and decoded ahead, in a given order, on threads of their own: while the caller
//! uses one sample, the next ones are being fetched (local pages or range requests) and
//! decoded, within a budget of decoded bytes.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rmf_core::{Error, Result};

use crate::episodes::{Dataset, Sample};

/// Decoded bytes a prefetcher holds ahead unless told otherwise.
pub const DEFAULT_PREFETCH_BYTES: u64 = 256 << 20;

/// The decoded size of a sample: what it holds in memory until used.
pub fn sample_bytes(s: &Sample) -> u64 {
    let values: usize = s
        .values
        .iter()
        .map(|(_, v)| v.data.len() + v.t.len() * 8 + v.pad.len())
        .sum();
    let labels: usize = s
        .labels
        .iter()
        .flat_map(|(_, l)| &l.events)
        // An event's strings and a rough size for its JSON payload and the rest.
        .map(|(_, e)| 128 + e.kind.len() + e.operator.len() + e.text.len())
        .sum();
    (values + labels) as u64
}

/// What the threads and the caller share.
struct State {
    /// The order, consumed by the threads one sample at a time: (position, sample index).
    order: Box<dyn Iterator<Item = u64> + Send>,
    issued: u64,
    /// Samples decoded and not yet taken, by position.
    ready: BTreeMap<u64, Result<Sample>>,
    /// Decoded bytes held in `ready`, and an estimate of one sample's (the largest seen).
    held: u64,
    estimate: u64,
    /// Threads decoding a sample now.
    decoding: u64,
    /// No more positions (the order ended, an error, or the caller left).
    ended: bool,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a sample is ready, and when room frees up.
    changed: Condvar,
    budget: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Samples of a dataset in the order given, `threads` of them decoded ahead at once, holding
/// at most `budget` decoded bytes (a sample larger than the budget is still decoded, alone):
/// memory stays within the budget plus one sample per thread being decoded.
pub struct Prefetcher {
    shared: Arc<Shared>,
    next: u64,
    threads: Vec<JoinHandle<()>>,
    /// An error was returned: the iteration is over.
    failed: bool,
}

impl Prefetcher {
    /// Starts reading samples `order` of `dataset` ahead.
    pub fn new(
        dataset: Arc<Dataset>,
        order: impl Iterator<Item = u64> + Send + 'static,
        threads: usize,
        budget: u64,
    ) -> Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                order: Box::new(order),
                issued: 0,
                ready: BTreeMap::new(),
                held: 0,
                estimate: 0,
                decoding: 0,
                ended: false,
                stop: false,
            }),
            changed: Condvar::new(),
            budget,
        });
        let mut p = Prefetcher {
            shared,
            next: 0,
            threads: Vec::new(),
            failed: false,
        };
        for k in 0..threads.max(1) {
            let (shared, dataset) = (p.shared.clone(), dataset.clone());
            let t = std::thread::Builder::new()
                .name(format!("rmf-prefetch-{k}"))
                .spawn(move || work(&shared, &dataset))
                .map_err(|e| Error::io("prefetch thread", "start", e))?;
            p.threads.push(t); // on an error, dropping `p` stops the ones started
        }
        Ok(p)
    }

    /// Samples taken so far.
    pub fn taken(&self) -> u64 {
        self.next
    }

    /// Decoded bytes held ahead now.
    pub fn held_bytes(&self) -> u64 {
        self.shared.lock().held
    }
}

/// A thread's loop: take the next position while there is room, decode it, hand it over.
fn work(shared: &Shared, dataset: &Dataset) {
    loop {
        let (pos, index) = {
            let mut st = shared.lock();
            loop {
                if st.stop || st.ended {
                    return;
                }
                let ahead = st.held + st.estimate * (st.decoding + 1);
                // Room, or nothing held at all (a sample larger than the budget goes alone).
                if ahead <= shared.budget || (st.held == 0 && st.decoding == 0) {
                    break;
                }
                st = shared.changed.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            match st.order.next() {
                Some(i) => {
                    let pos = st.issued;
                    st.issued += 1;
                    st.decoding += 1;
                    (pos, i)
                }
                None => {
                    st.ended = true;
                    shared.changed.notify_all();
                    return;
                }
            }
        };
        // A panic would leave the caller waiting for this position: it becomes an error.
        let got = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dataset.get(index)))
            .unwrap_or_else(|_| {
                Err(Error::InvalidArgument(format!(
                    "reading sample {index} panicked"
                )))
            });
        let mut st = shared.lock();
        st.decoding -= 1;
        match &got {
            Ok(s) => {
                let n = sample_bytes(s);
                st.held += n;
                st.estimate = st.estimate.max(n);
            }
            // The caller sees the error at its position; nothing after it is started.
            Err(_) => st.ended = true,
        }
        st.ready.insert(pos, got);
        shared.changed.notify_all();
    }
}

impl Iterator for Prefetcher {
    type Item = Result<Sample>;

    fn next(&mut self) -> Option<Result<Sample>> {
        if self.failed {
            return None;
        }
        let shared = self.shared.clone();
        let mut st = shared.lock();
        loop {
            if let Some(got) = st.ready.remove(&self.next) {
                match &got {
                    Ok(s) => st.held = st.held.saturating_sub(sample_bytes(s)),
                    Err(_) => self.failed = true,
                }
                self.next += 1;
                shared.changed.notify_all();
                return Some(got);
            }
            // Every position issued is decoding or ready, so the one wanted comes unless the
            // order ended before it.
            if st.ended && self.next >= st.issued {
                return None;
            }
            st = shared.changed.wait(st).unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
