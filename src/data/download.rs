//! Downloading the public data sets (MNIST, Fashion-MNIST) into a cache, verified.
//!
//! Each file is fetched to a temporary file beside its final name while its SHA-256 is computed,
//! checked against the length the server announced and against the published digest, flushed,
//! and only then renamed into place: the cache never holds a partial or corrupt file. A failed
//! attempt is retried (transport errors, truncation, wrong bytes) before giving up.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// A data set published as four IDX files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteSet {
    /// The name used with `--data` ("mnist").
    pub name: &'static str,
    /// Where the files are published (a base URL ending in '/').
    pub mirror: &'static str,
    /// (file name, SHA-256 in hex, size in bytes) of the four files.
    pub files: [(&'static str, &'static str, u64); 4],
}

/// MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0): the mirror PyTorch's torchvision uses.
pub const MNIST: RemoteSet = RemoteSet {
    name: "mnist",
    mirror: "https://ossci-datasets.s3.amazonaws.com/mnist/",
    files: [
        (
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            9912422,
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            28881,
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            1648877,
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            4542,
        ),
    ],
};

/// Fashion-MNIST (Zalando SE; MIT): the authors' own bucket.
pub const FASHION_MNIST: RemoteSet = RemoteSet {
    name: "fashion-mnist",
    mirror: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    files: [
        (
            "train-images-idx3-ubyte.gz",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            26421880,
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            29515,
        ),
        (
            "t10k-images-idx3-ubyte.gz",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            4422102,
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            5148,
        ),
    ],
};

/// The remote set called `name`, if any.
pub fn remote(name: &str) -> Option<RemoteSet> {
    [MNIST, FASHION_MNIST]
        .into_iter()
        .find(|set| set.name == name)
}

/// The cache directory: `$XDG_CACHE_HOME/nabla`, else `$HOME/.cache/nabla`.
pub fn default_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("nabla")
}

/// How to download.
#[derive(Clone, Debug, PartialEq)]
pub struct DownloadOptions {
    /// Base URL to fetch from instead of the set's own mirror.
    pub mirror: Option<String>,
    /// Where the files are kept (one sub-directory per set).
    pub cache_dir: PathBuf,
    /// Attempts per file (≥ 1).
    pub attempts: u32,
    /// Pause before a retry (doubled each time).
    pub retry_delay: Duration,
    /// How long one file's whole request may take.
    pub body_timeout: Duration,
    /// A transfer that receives fewer than [`STALL_BYTES`] in this long is abandoned (and
    /// retried): a server trickling a byte every few seconds would otherwise hold it until
    /// `body_timeout`.
    pub stall_after: Duration,
    /// Use only what is in the cache: a missing file is an error, never a download (a model
    /// file naming its training data must not make nabla go to the network by itself).
    pub offline: bool,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            mirror: None,
            cache_dir: default_cache_dir(),
            attempts: 3,
            retry_delay: Duration::from_millis(500),
            body_timeout: BODY_TIMEOUT,
            stall_after: STALL_AFTER,
            offline: false,
        }
    }
}

/// What the download reports as it goes.
pub enum Progress<'a> {
    /// A file is already in the cache with the right digest.
    Cached(&'a str),
    /// A file's transfer begins (`total` bytes when the server says).
    Started(&'a str, Option<u64>),
    /// Bytes received so far.
    Received(u64),
    /// The file is complete and verified.
    Finished(&'a str),
    /// An attempt failed and will be retried.
    Retrying(&'a str, &'a str),
}

/// SHA-256 of a file in lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How long one file's whole request (connection, answer, body) may take by default before the
/// attempt is abandoned (a server that trickles bytes must not hang the command).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(300);
/// The default [`DownloadOptions::stall_after`].
pub const STALL_AFTER: Duration = Duration::from_secs(20);
/// The fewest bytes a transfer must receive in each [`DownloadOptions::stall_after`]
/// (4 KiB: 200 bytes a second at the default).
pub const STALL_BYTES: u64 = 4096;

/// Makes sure the four files of `set` are in the cache, verified; returns their directory.
///
/// # Errors
/// A mirror that is not an http(s) URL, a cache directory that cannot be made, or a file that
/// failed every attempt (with the last reason).
pub fn ensure_downloaded(
    set: RemoteSet,
    options: &DownloadOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf> {
    let base = options
        .mirror
        .clone()
        .unwrap_or_else(|| set.mirror.to_string());
    if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() <= 8 {
        return Err(Error::invalid(
            "mirror",
            format!("'{base}' is not an http:// or https:// URL"),
        ));
    }
    let base = if base.ends_with('/') {
        base
    } else {
        format!("{base}/")
    };
    let dir = options.cache_dir.join(set.name);
    if options.offline {
        // The cache alone: every file there and verified, or an error; nothing made.
        for (name, digest, _) in set.files {
            let target = dir.join(name);
            if !(target.is_file() && sha256_file(&target)? == digest) {
                return Err(Error::invalid(
                    "data",
                    format!(
                        "{} is not in the cache ({}), and nabla downloads a data set only \
                         when asked: give --data {} (and --cache-dir where it is kept)",
                        set.name,
                        options.cache_dir.display(),
                        set.name
                    ),
                ));
            }
            progress(Progress::Cached(name));
        }
        return Ok(dir);
    }
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_response(Some(Duration::from_secs(30)))
        .timeout_global(Some(options.body_timeout))
        .http_status_as_error(false)
        .build()
        .into();
    for (name, digest, size) in set.files {
        let target = dir.join(name);
        // Transfers that an earlier, killed run left behind.
        super::super::io::remove_stale_temporaries(&target, "part");
        if target.is_file() {
            if sha256_file(&target)? == digest {
                progress(Progress::Cached(name));
                continue;
            }
            // A file that does not match is never kept.
            fs::remove_file(&target).map_err(|e| Error::io(&target, e))?;
        }

        let url = format!("{base}{name}");
        let mut delay = options.retry_delay;
        for attempt in 1..=options.attempts.max(1) {
            match fetch(
                &agent,
                &url,
                &target,
                (digest, size),
                options.stall_after,
                progress,
            ) {
                Ok(()) => {
                    progress(Progress::Finished(name));
                    break;
                }
                Err(why) if attempt < options.attempts.max(1) => {
                    progress(Progress::Retrying(name, &why));
                    std::thread::sleep(delay);
                    delay *= 2;
                }
                Err(why) => {
                    return Err(Error::data(
                        &target,
                        Some(url),
                        format!("download failed after {attempt} attempts: {why}"),
                    ));
                }
            }
        }
    }
    Ok(dir)
}

/// One attempt: stream `url` to an exclusive temporary file beside `target` while hashing,
/// never past the file's published `size`, check length and digest, then rename over
/// `target`. A transfer receiving fewer than [`STALL_BYTES`] within `stall_after` is
/// abandoned. On any failure the temporary file is removed.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    target: &Path,
    (digest, size): (&str, u64),
    stall_after: Duration,
    progress: &mut dyn FnMut(Progress),
) -> std::result::Result<(), String> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut response = agent
        .get(url)
        .call()
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("the server answered {status}"));
    }
    let total = response.body().content_length();
    if total.is_some_and(|t| t > size) {
        return Err(format!(
            "the server announces {} bytes; the published file has {size}",
            total.unwrap_or_default()
        ));
    }
    progress(Progress::Started(&name, total.or(Some(size))));
    let mut temporary = super::super::io::temporary_beside(target, "part")
        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
    let mut reader = response.body_mut().as_reader().take(size + 1);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut received = 0u64;
    let (mut window, mut window_start) = (std::time::Instant::now(), 0u64);
    loop {
        let n = reader
            .read(&mut buffer)
            .map_err(|e| format!("the transfer broke off after {received} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        received += n as u64;
        if window.elapsed() >= stall_after {
            let got = received - window_start;
            if got < STALL_BYTES {
                return Err(format!(
                    "stalled: {got} bytes in the last {:.0} s (at least {STALL_BYTES} expected), \
                     {received} of {size} received",
                    window.elapsed().as_secs_f64()
                ));
            }
            (window, window_start) = (std::time::Instant::now(), received);
        }
        if received > size {
            return Err(format!(
                "the server sent more than the {size} bytes of the published file"
            ));
        }
        hasher.update(&buffer[..n]);
        temporary
            .write_all(&buffer[..n])
            .map_err(|e| format!("cannot write the temporary file: {e}"))?;
        progress(Progress::Received(received));
    }
    if received != size {
        return Err(format!("truncated: received {received} of {size} bytes"));
    }
    let got = hex(&hasher.finalize());
    if got != digest {
        return Err(format!(
            "wrong bytes: SHA-256 {got}, expected {digest} ({received} bytes received)"
        ));
    }
    temporary
        .as_file()
        .sync_all()
        .map_err(|e| format!("cannot flush the temporary file: {e}"))?;
    temporary
        .persist(target)
        .map_err(|e| format!("cannot rename into {}: {}", target.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that sends a head announcing `size` bytes, then a byte every 100 ms.
    fn trickling(size: u64) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/file", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut request = [0u8; 1024];
            let _ = std::io::Read::read(&mut stream, &mut request);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n");
            let _ = stream.write_all(head.as_bytes());
            for _ in 0..size {
                if stream
                    .write_all(b"x")
                    .and_then(|()| stream.flush())
                    .is_err()
                {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        url
    }

    #[test]
    fn a_trickle_is_abandoned_as_stalled() {
        let dir = tempfile::tempdir().unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let started = std::time::Instant::now();
        let why = fetch(
            &agent,
            &trickling(1000),
            &dir.path().join("file"),
            ("0", 1000),
            Duration::from_secs(1),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(why.starts_with("stalled:"), "{why}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let left = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(left, 0, "the temporary is removed");
    }
}
