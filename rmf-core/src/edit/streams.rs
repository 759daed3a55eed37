//! Edits of whole streams and of labels: drop, rename, relabel (labels, tags, metadata). Every
//! chunk is copied as it is stored.

use super::*;

/// `output`: `input` without the streams `names`. With a secret in `opts`, private streams
/// stored in the clear are encrypted on the way (as by every edit).
pub fn drop_streams(
    input: &Path,
    output: &Path,
    names: &[String],
    opts: WriteOptions,
) -> Result<RewriteReport> {
    let reader = EpisodeReader::open(input)?;
    check_names(&reader, names)?;
    let plan: Vec<StreamPlan> = copy_all(&reader)
        .into_iter()
        .zip(reader.streams())
        .map(|(p, s)| {
            if names.contains(&s.name) {
                StreamPlan::Drop
            } else {
                p
            }
        })
        .collect();
    let meta = reader.meta().clone();
    copy_edit(reader, input, output, meta, &plan, opts)
}

/// `output`: `input` with stream `from` named `to`.
pub fn rename_stream(
    input: &Path,
    output: &Path,
    from: &str,
    to: &str,
    opts: WriteOptions,
) -> Result<RewriteReport> {
    let reader = EpisodeReader::open(input)?;
    check_names(&reader, &[from.to_string()])?;
    if reader.stream(to).is_ok() {
        return Err(Error::DuplicateStream {
            name: to.to_string(),
        });
    }
    let plan: Vec<StreamPlan> = reader
        .streams()
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if s.name == from {
                s.name = to.to_string();
            }
            s.validate().map(|()| StreamPlan::Copy(s))
        })
        .collect::<Result<_>>()?;
    let meta = reader.meta().clone();
    copy_edit(reader, input, output, meta, &plan, opts)
}

/// Label and metadata changes for [`relabel`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Relabel {
    /// New sensitivity labels: (stream, label).
    pub sensitivity: Vec<(String, Sensitivity)>,
    /// Tags to set on streams: (stream, key, value); an empty value removes the tag.
    pub tags: Vec<(String, String, String)>,
    /// Episode metadata to set: `robot`, `task`, `operator` set those fields; any other key
    /// goes to the free key/values (`extra`), where JSON `null` removes it.
    pub meta: Vec<(String, serde_json::Value)>,
    /// Episode tags to add to `extra.tags` (after `meta`; kept once, in order).
    pub add_tags: Vec<String>,
    /// Episode tags to remove from `extra.tags`.
    pub remove_tags: Vec<String>,
}

/// `output`: `input` with new sensitivity labels, tags and metadata; samples copied unchanged,
/// except that with a secret in `opts` a stream labelled private (now or before) that is stored
/// in the clear is encrypted (sealed streams stay sealed whatever their new label).
pub fn relabel(
    input: &Path,
    output: &Path,
    changes: &Relabel,
    opts: WriteOptions,
) -> Result<RewriteReport> {
    let reader = EpisodeReader::open(input)?;
    let names: Vec<String> = changes
        .sensitivity
        .iter()
        .map(|(s, _)| s.clone())
        .chain(changes.tags.iter().map(|(s, ..)| s.clone()))
        .collect();
    check_names(&reader, &names)?;
    let plan: Vec<StreamPlan> = reader
        .streams()
        .iter()
        .map(|s| {
            let mut s = s.clone();
            for (name, label) in &changes.sensitivity {
                if *name == s.name {
                    s.sensitivity = *label;
                }
            }
            for (name, k, v) in &changes.tags {
                if *name == s.name {
                    if v.is_empty() {
                        s.tags.remove(k);
                    } else {
                        s.tags.insert(k.clone(), v.clone());
                    }
                }
            }
            StreamPlan::Copy(s)
        })
        .collect();
    let mut meta = reader.meta().clone();
    for (k, v) in &changes.meta {
        let text = || match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match k.as_str() {
            "robot" => meta.robot = text(),
            "task" => meta.task = text(),
            "operator" => meta.operator = text(),
            _ if v.is_null() => {
                meta.extra.remove(k);
            }
            _ => {
                meta.extra.insert(k.clone(), v.clone());
            }
        }
    }
    if !changes.add_tags.is_empty() || !changes.remove_tags.is_empty() {
        edit_tags(&mut meta, &changes.add_tags, &changes.remove_tags)?;
    }
    copy_edit(reader, input, output, meta, &plan, opts)
}

/// Adds and removes episode tags (`extra.tags`, a list of strings). A malformed list or an empty
/// tag is an error rather than something to overwrite; an unchanged list is left as it is.
fn edit_tags(meta: &mut EpisodeMeta, add: &[String], remove: &[String]) -> Result<()> {
    if let Some(t) = add.iter().chain(remove).find(|t| t.trim().is_empty()) {
        return Err(Error::InvalidArgument(format!(
            "episode tag {t:?} is empty"
        )));
    }
    let key = TAGS_KEY;
    let old: Vec<String> = match meta.extra.get(key) {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|_| {
            Error::InvalidArgument(format!(
                "extra.{key} is {v}, not a list of strings: fix it with --meta {key}=[...]"
            ))
        })?,
    };
    let mut tags = old.clone();
    for t in add {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
    }
    tags.retain(|t| !remove.contains(t));
    if tags != old {
        meta.extra.insert(key.into(), serde_json::json!(tags));
    }
    Ok(())
}
