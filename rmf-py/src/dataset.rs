//! `rmf._rmf.DatasetCore` and `rmf._rmf.build_index`: the native half of `rmf.Dataset` (the
//! Python class in `python/rmf/dataset.py` keeps the configuration, so it pickles for
//! DataLoader workers, and builds one core per process).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use numpy::ndarray::IxDyn;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use rmf_core::with_dtype;
use rmf_dataset::{
    build_index_at as build, worker_share, Dataset, DatasetOptions, Missing, Order, Policy,
    Prefetcher, Query, Reference, Remainder, StreamValue, WindowSpec,
};

use crate::errors::IntoPy;

/// A stream query from its Python form: a dict with "kind": "at" (with "policy", "tolerance_s"
/// or None, "pad") or "steps" (with "steps") or "seconds" (with "from", "to").
fn query_of(name: &str, spec: &Bound<'_, PyDict>) -> PyResult<Query> {
    let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
        spec.get_item(k)?
            .ok_or_else(|| PyValueError::new_err(format!("stream {name:?}: spec has no {k:?}")))
    };
    let kind: String = get("kind")?.extract()?;
    Ok(match kind.as_str() {
        "at" => {
            let policy = match get("policy")?.extract::<String>()?.as_str() {
                "asof" => Policy::AsOf,
                "nearest" => Policy::Nearest,
                "linear" => Policy::Linear,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "stream {name:?}: policy must be asof, nearest or linear, got {other:?}"
                    )))
                }
            };
            let tolerance: Option<f64> = get("tolerance_s")?.extract()?;
            if let Some(t) = tolerance {
                if !(t.is_finite() && t >= 0.0) {
                    return Err(PyValueError::new_err(format!(
                        "stream {name:?}: tolerance must be a non-negative number of seconds, got {t}"
                    )));
                }
            }
            Query::At {
                policy,
                tolerance_ns: tolerance.map(|t| (t * 1e9).round() as i64),
                missing: if get("pad")?.extract()? {
                    Missing::Pad
                } else {
                    Missing::Error
                },
            }
        }
        "steps" => Query::Window(WindowSpec::Steps(get("steps")?.extract()?)),
        "events" => Query::Events {
            from: get("from")?.extract()?,
            to: get("to")?.extract()?,
        },
        "seconds" => Query::Window(WindowSpec::Seconds {
            from: get("from")?.extract()?,
            to: get("to")?.extract()?,
        }),
        other => {
            return Err(PyValueError::new_err(format!(
                "stream {name:?}: unknown spec kind {other:?}"
            )))
        }
    })
}

/// A streaming order's parameters, from the dict `rmf.StreamingDataset` passes.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct OrderSpec {
    seed: u64,
    epoch: u64,
    rank: u64,
    world_size: u64,
    worker: u64,
    num_workers: u64,
    skip: u64,
    group: u64,
    block: u64,
    buffer: u64,
    drop_remainder: bool,
}

/// The native dataset: an index, episodes opened on demand, samples as numpy arrays.
#[pyclass(module = "rmf._rmf")]
pub struct DatasetCore {
    inner: Arc<Dataset>,
}

#[pymethods]
impl DatasetCore {
    /// `reference`: a stream name or a rate in Hz; `streams`: a list of (name, spec dict);
    /// `episodes`: ids or files, or None for all.
    #[new]
    #[pyo3(signature = (root, reference, streams, episodes=None, max_open_episodes=16, key=None, passphrase=None, chunk_cache_bytes=rmf_dataset::DEFAULT_CHUNK_CACHE_BYTES, storage_options=None, cache_dir=None, cache_bytes=10 << 30, batch_threads=rmf_dataset::DEFAULT_BATCH_THREADS))]
    #[allow(clippy::too_many_arguments)] // mirrors the Python keyword arguments
    fn new(
        py: Python<'_>,
        root: PathBuf,
        reference: &Bound<'_, PyAny>,
        streams: Vec<(String, Bound<'_, PyDict>)>,
        episodes: Option<Vec<String>>,
        max_open_episodes: usize,
        key: Option<&Bound<'_, PyAny>>,
        passphrase: Option<String>,
        chunk_cache_bytes: usize,
        storage_options: Option<&Bound<'_, PyDict>>,
        cache_dir: Option<PathBuf>,
        cache_bytes: u64,
        batch_threads: usize,
    ) -> PyResult<Self> {
        let reference = if let Ok(name) = reference.extract::<String>() {
            Reference::Stream(name)
        } else {
            Reference::RateHz(reference.extract::<f64>().map_err(|_| {
                PyValueError::new_err("reference must be a stream name or a rate in Hz")
            })?)
        };
        let mut opts = DatasetOptions::new(reference);
        for (name, spec) in &streams {
            let q = query_of(name, spec)?;
            opts = opts.with_stream(name.clone(), q);
        }
        let opts = opts
            .with_episodes(episodes)
            .with_max_open_episodes(max_open_episodes)
            .with_secret(crate::keys::secret(key, passphrase)?)
            .with_chunk_cache_bytes(chunk_cache_bytes)
            .with_batch_threads(batch_threads)
            .with_store(crate::storage::store_options_cached(
                storage_options,
                cache_dir,
                cache_bytes,
            )?);
        let inner = py.detach(|| Dataset::open(&root, opts)).py_err()?;
        Ok(DatasetCore {
            inner: Arc::new(inner),
        })
    }

    fn __len__(&self) -> usize {
        self.inner.len() as usize
    }

    /// Decoded bytes the chunk cache holds now.
    fn cache_bytes(&self) -> usize {
        self.inner.cache_bytes()
    }

    /// Where each episode's samples start (episode `e` holds samples `starts[e]` up to
    /// `starts[e + 1]`; the last entry is the number of samples), from the index alone.
    fn sample_starts(&self) -> Vec<u64> {
        self.inner.sample_starts().to_vec()
    }

    /// Ids and files of the episodes used, in order.
    fn episodes(&self) -> Vec<(String, String)> {
        self.inner
            .episodes()
            .iter()
            .map(|e| (e.id.clone(), e.file.clone()))
            .collect()
    }

    /// Normalization statistics merged from the index: stream -> dict of float64 arrays (one
    /// entry per element): count, non_finite, mean, std, min, max, q01, q05, q50, q95, q99.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let merged = py.detach(|| self.inner.stats()).py_err()?;
        let out = PyDict::new(py);
        for m in merged {
            let d = PyDict::new(py);
            d.set_item("count", PyArray1::from_vec(py, m.count))?;
            d.set_item("non_finite", PyArray1::from_vec(py, m.non_finite))?;
            d.set_item("mean", PyArray1::from_vec(py, m.mean))?;
            d.set_item("std", PyArray1::from_vec(py, m.std))?;
            d.set_item("min", PyArray1::from_vec(py, m.min))?;
            d.set_item("max", PyArray1::from_vec(py, m.max))?;
            for (q, v) in m.quantiles {
                d.set_item(
                    format!("q{:02}", (q * 100.0).round() as u32),
                    PyArray1::from_vec(py, v),
                )?;
            }
            out.set_item(m.stream, d)?;
        }
        Ok(out)
    }

    /// Sample `i` as a dict: each stream's array, `<name>_pad` (bool per slot), `<name>_t`
    /// (int64 source times), and `episode`, `episode_index`, `t`.
    fn get<'py>(&self, py: Python<'py>, i: i64) -> PyResult<Bound<'py, PyDict>> {
        let k = self.index(i)?;
        let s = py.detach(|| self.inner.get(k)).py_err()?;
        dict_of(py, &self.inner, s)
    }

    /// The sample of episode `episode` (its position, id or file) at time `t` (ns), any time:
    /// the dict `get` returns.
    fn sample<'py>(
        &self,
        py: Python<'py>,
        episode: &Bound<'py, PyAny>,
        t: i64,
    ) -> PyResult<Bound<'py, PyDict>> {
        let eps = self.inner.episodes();
        let e = if let Ok(k) = episode.extract::<usize>() {
            k
        } else {
            let name: String = episode.extract()?;
            eps.iter()
                .position(|x| x.id == name || x.file == name)
                .ok_or_else(|| {
                    PyValueError::new_err(format!(
                        "no episode {name:?} in the dataset (ids and files are accepted)"
                    ))
                })?
        };
        let s = py.detach(|| self.inner.sample_at(e, t)).py_err()?;
        dict_of(py, &self.inner, s)
    }

    /// Every sample index `get` would refuse, with the message it would raise, found from
    /// timestamps alone (nothing decoded).
    fn check(&self, py: Python<'_>) -> PyResult<Vec<(u64, String)>> {
        let found = py.detach(|| self.inner.check()).py_err()?;
        Ok(found.into_iter().map(|(i, e)| (i, e.to_string())).collect())
    }

    /// Samples `indices` as a list of dicts (a DataLoader batch: `Dataset.__getitems__`),
    /// decoded on `batch_threads` threads; from an object store, the chunks of the whole batch
    /// are fetched at once.
    fn get_many<'py>(&self, py: Python<'py>, indices: Vec<i64>) -> PyResult<Bound<'py, PyList>> {
        let ks = indices
            .iter()
            .map(|&i| self.index(i))
            .collect::<PyResult<Vec<u64>>>()?;
        let samples = py.detach(|| self.inner.get_many(&ks)).py_err()?;
        let out = PyList::empty(py);
        for s in samples {
            out.append(dict_of(py, &self.inner, s)?)?;
        }
        Ok(out)
    }

    /// The sample indices a worker visits, in order: `spec` is a dict of `seed`, `epoch`,
    /// `rank`, `world_size`, `worker`, `num_workers`, `skip` (samples of the rank's order
    /// already seen), `group` (the batch size), `block`, `buffer` and `drop_remainder` (see
    /// `rmf_dataset::order`).
    fn order(&self, spec: OrderSpec) -> PyResult<Vec<u64>> {
        Ok(self.share(&spec)?.collect())
    }

    /// The samples of [`DatasetCore::order`], read and decoded ahead on `threads` threads
    /// holding at most `prefetch_bytes` decoded bytes: an iterator of sample dicts.
    fn stream(
        &self,
        spec: OrderSpec,
        threads: usize,
        prefetch_bytes: u64,
    ) -> PyResult<SampleStream> {
        let share = self.share(&spec)?;
        let p = Prefetcher::new(self.inner.clone(), share, threads, prefetch_bytes).py_err()?;
        Ok(SampleStream {
            dataset: self.inner.clone(),
            prefetcher: Mutex::new(p),
        })
    }

    /// Samples rank `rank` of `world_size` visits in an epoch.
    #[pyo3(signature = (world_size, drop_remainder))]
    fn per_rank(&self, world_size: u64, drop_remainder: bool) -> PyResult<u64> {
        if world_size == 0 {
            return Err(PyValueError::new_err("world_size must be at least 1"));
        }
        let order = Order {
            remainder: remainder(drop_remainder),
            ..Order::default()
        };
        Ok(order.per_rank(self.inner.len(), world_size))
    }
}

fn remainder(drop: bool) -> Remainder {
    if drop {
        Remainder::Drop
    } else {
        Remainder::Pad
    }
}

/// Samples read ahead in a streaming loader's order (`DatasetCore.stream`): an iterator of
/// sample dicts, as `Dataset[i]` returns them.
#[pyclass(module = "rmf._rmf")]
pub struct SampleStream {
    dataset: Arc<Dataset>,
    prefetcher: Mutex<Prefetcher>,
}

#[pymethods]
impl SampleStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let next = py.detach(|| {
            let mut p = self.prefetcher.lock().unwrap_or_else(|e| e.into_inner());
            p.next()
        });
        match next {
            None => Ok(None),
            Some(s) => Ok(Some(dict_of(py, &self.dataset, s.py_err()?)?)),
        }
    }

    /// Decoded bytes held ahead now (at most the budget, plus a sample per thread).
    fn held_bytes(&self) -> u64 {
        let p = self.prefetcher.lock().unwrap_or_else(|e| e.into_inner());
        p.held_bytes()
    }
}

impl DatasetCore {
    /// The worker's share of its rank's order, the arguments checked.
    fn share(&self, o: &OrderSpec) -> PyResult<impl Iterator<Item = u64> + Send + 'static> {
        if o.world_size == 0 || o.rank >= o.world_size {
            return Err(PyValueError::new_err(format!(
                "rank {} is not in a world of {}",
                o.rank, o.world_size
            )));
        }
        if o.num_workers == 0 || o.worker >= o.num_workers {
            return Err(PyValueError::new_err(format!(
                "worker {} is not one of {}",
                o.worker, o.num_workers
            )));
        }
        if o.block == 0 || o.group == 0 {
            return Err(PyValueError::new_err("block and group must be at least 1"));
        }
        let order = Order {
            seed: o.seed,
            epoch: o.epoch,
            block: o.block,
            buffer: o.buffer,
            remainder: remainder(o.drop_remainder),
        };
        let rank = self.inner.rank_order(&order, o.rank, o.world_size);
        Ok(worker_share(rank, o.skip, o.group, o.worker, o.num_workers))
    }

    /// Sample index `i` (negative from the end), checked.
    fn index(&self, i: i64) -> PyResult<u64> {
        let n = self.inner.len() as i64;
        let k = if i < 0 { i + n } else { i };
        if k < 0 || k >= n {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "sample {i} is out of range for a dataset of {n} samples"
            )));
        }
        Ok(k as u64)
    }
}

/// A sample as the dict `Dataset[i]` returns.
fn dict_of<'py>(
    py: Python<'py>,
    dataset: &Dataset,
    s: rmf_dataset::Sample,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (name, v) in s.values {
        if v.window {
            d.set_item(format!("{name}_pad"), PyArray1::from_slice(py, &v.pad))?;
            d.set_item(format!("{name}_t"), PyArray1::from_slice(py, &v.t))?;
        } else {
            d.set_item(
                format!("{name}_pad"),
                v.pad.first().copied().unwrap_or(true),
            )?;
            d.set_item(
                format!("{name}_t"),
                v.t.first().copied().unwrap_or(i64::MIN),
            )?;
        }
        d.set_item(&name, array_of(py, v)?)?;
    }
    for (name, l) in s.labels {
        let events = PyList::empty(py);
        for (t, ev) in l.events {
            let e = PyDict::new(py);
            e.set_item("t", t)?;
            e.set_item("kind", ev.kind)?;
            e.set_item("operator", ev.operator)?;
            e.set_item("text", ev.text)?;
            e.set_item("payload", crate::convert::from_json(py, &ev.payload)?)?;
            events.append(e)?;
        }
        d.set_item(&name, events)?;
        d.set_item(format!("{name}_inside"), l.inside)?;
    }
    let e = &dataset.episodes()[s.episode];
    d.set_item("episode", &e.id)?;
    d.set_item("episode_index", s.episode)?;
    d.set_item("t", s.t)?;
    Ok(d)
}

fn array_of<'py>(py: Python<'py>, v: StreamValue) -> PyResult<Bound<'py, PyAny>> {
    // Frames are bytes: numpy takes the Vec as it is (other types are copied to be aligned).
    if v.dtype == rmf_core::DType::Uint8 {
        return Ok(PyArray1::from_vec(py, v.data)
            .reshape(IxDyn(&v.shape))?
            .into_any());
    }
    with_dtype!(v.dtype, T => {
        let values: Vec<T> = bytemuck::pod_collect_to_vec(&v.data);
        Ok(PyArray1::from_vec(py, values).reshape(IxDyn(&v.shape))?.into_any())
    })
}

/// `root/episodes.parquet` (a directory or an object-store prefix) as a `pyarrow.Table`, read by
/// the Rust Parquet reader: no `pyarrow.parquet` import (about 1 s and 90 MiB in a worker).
#[pyfunction]
#[pyo3(signature = (root, storage_options=None))]
pub fn index_table<'py>(
    py: Python<'py>,
    root: PathBuf,
    storage_options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    use arrow::pyarrow::ToPyArrow;
    let store = crate::storage::store_options(storage_options)?;
    let loc = rmf_store::Location::from(root.as_path());
    let (schema, batches) = py
        .detach(|| rmf_dataset::read_index_table(&loc, &store))
        .py_err()?;
    let batches = batches
        .iter()
        .map(|b| b.to_pyarrow(py))
        .collect::<PyResult<Vec<_>>>()?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("schema", schema.as_ref().to_pyarrow(py)?)?;
    py.import("pyarrow")?.getattr("Table")?.call_method(
        "from_batches",
        (PyList::new(py, batches)?,),
        Some(&kwargs),
    )
}

/// Builds or refreshes `root/episodes.parquet` (a directory or an object-store prefix);
/// returns a dict of what it did.
#[pyfunction]
#[pyo3(signature = (root, storage_options=None))]
pub fn build_index<'py>(
    py: Python<'py>,
    root: PathBuf,
    storage_options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let store = crate::storage::store_options(storage_options)?;
    let loc = rmf_store::Location::from(root.as_path());
    let r = py.detach(|| build(&loc, &store)).py_err()?;
    let d = PyDict::new(py);
    d.set_item("episodes", r.episodes)?;
    d.set_item("added", PyList::new(py, r.added)?)?;
    d.set_item("updated", PyList::new(py, r.updated)?)?;
    d.set_item("removed", PyList::new(py, r.removed)?)?;
    d.set_item("failed", PyList::new(py, r.failed)?)?;
    Ok(d)
}
