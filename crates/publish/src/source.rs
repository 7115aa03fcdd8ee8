//! A publication in S3-compatible storage as a source for `verify`, `audit`, `mirror` and
//! `monitor` (issue 14: "`serve` and `audit` also accept `s3://…` publications"): the same
//! checks as for a directory or a URL, on the objects readers are served.
//!
//! Reads go through the destination's `object_store` client, the one `sijil publish` writes
//! with, so both name objects alike (`s3://bucket/prefix` + the tlog-tiles path); nothing read
//! is trusted before the audit or verification checks it.

use futures::StreamExt as _;
use sijil_register::audit::{Source, SourceError};

use crate::{Destination, PublishError};

/// How many objects are fetched at once by [`Source::get_many`].
const CONCURRENCY: usize = 16;

/// An `s3://bucket/prefix` publication, read through its own runtime.
#[derive(Debug)]
pub struct PublicationSource {
    dest: Destination,
    runtime: tokio::runtime::Runtime,
}

impl PublicationSource {
    /// The publication at `url` (`s3://bucket[/prefix]`, configured from the environment as
    /// [`Destination::s3`] says).
    ///
    /// # Errors
    /// [`PublishError::BadDestination`] for a URL that is not one, or a runtime that cannot
    /// be started.
    pub fn open(url: &str) -> Result<PublicationSource, PublishError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| PublishError::BadDestination {
                dest: url.into(),
                message: format!("cannot start the I/O runtime: {e}"),
            })?;
        Ok(PublicationSource {
            dest: Destination::s3(url)?,
            runtime,
        })
    }
}

fn source_error(path: &str, e: &PublishError) -> SourceError {
    SourceError {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

impl Source for PublicationSource {
    fn describe(&self) -> String {
        self.dest.name().to_owned()
    }

    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        self.runtime
            .block_on(self.dest.get(path))
            .map_err(|e| source_error(path, &e))
    }

    /// Every object under `blobs/`: an audit reports those no committed entry names, as it
    /// does for a directory.
    fn list_blobs(&self) -> Result<Option<Vec<String>>, SourceError> {
        let all = self
            .runtime
            .block_on(self.dest.list())
            .map_err(|e| source_error("blobs/", &e))?;
        let mut blobs: Vec<String> = all
            .into_keys()
            .filter(|rel| rel.starts_with("blobs/"))
            .collect();
        blobs.sort_unstable();
        Ok(Some(blobs))
    }

    fn get_many(&self, paths: &[String]) -> Vec<Result<Option<Vec<u8>>, SourceError>> {
        self.runtime.block_on(
            futures::stream::iter(paths)
                .map(|path| async move {
                    self.dest
                        .get(path)
                        .await
                        .map_err(|e| source_error(path, &e))
                })
                .buffered(CONCURRENCY)
                .collect(),
        )
    }
}
