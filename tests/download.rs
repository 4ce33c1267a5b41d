//! Downloading MNIST / Fashion-MNIST against a local HTTP server (loopback only) serving
//! ../shared/data: a good server, a truncating one, one sending wrong bytes, a flaky one.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{nabla, shared_path, stderr, stdout};

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Good,
    Truncated,
    WrongBytes,
    /// Every file's first request fails with 503.
    Flaky,
    /// Announces and sends more bytes than the published file has.
    Oversized,
    /// Sends the head and a few bytes, then nothing for a minute.
    Trickle,
}

/// Serves the files of `dir` on 127.0.0.1 in a background thread; returns the base URL and the
/// request counter.
fn serve(dir: PathBuf, mode: Mode) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    std::thread::spawn(move || {
        let failed = std::sync::Mutex::new(std::collections::HashSet::new());
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).map_or(true, |n| n == 0) || header == "\r\n" {
                    break;
                }
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let name = request
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .to_string();
            let Ok(mut body) = std::fs::read(dir.join(&name)) else {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            };
            if mode == Mode::Flaky && failed.lock().unwrap().insert(name.clone()) {
                let _ = stream.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                continue;
            }
            if mode == Mode::Oversized {
                body.extend(std::iter::repeat_n(0u8, 1000));
            }
            let length = body.len();
            if mode == Mode::Trickle {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body[..10]);
                let _ = stream.flush();
                std::thread::sleep(std::time::Duration::from_secs(60));
                continue;
            }
            if mode == Mode::WrongBytes {
                let middle = body.len() / 2;
                body[middle] ^= 0xff;
            }
            let sent = if mode == Mode::Truncated {
                &body[..length / 2]
            } else {
                &body[..]
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(sent);
            let _ = stream.flush();
        }
    });
    (url, requests)
}

fn download(set: &str, url: &str, cache: &Path) -> std::process::Output {
    download_with(set, url, cache, &[])
}

fn download_with(set: &str, url: &str, cache: &Path, extra: &[&str]) -> std::process::Output {
    nabla()
        .args([
            "download",
            set,
            "--mirror",
            url,
            "--cache-dir",
            cache.to_str().unwrap(),
        ])
        .args(extra)
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
#[cfg_attr(
    not(shared_mnist),
    ignore = "needs ../shared/data/mnist (or $NABLA_SHARED)"
)]
fn good_server_fills_the_cache_and_the_cache_is_reused() {
    let Some(mnist) = shared_path(
        "data/mnist",
        "good_server_fills_the_cache_and_the_cache_is_reused",
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (url, requests) = serve(mnist, Mode::Good);
    let out = download("mnist", &url, cache.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(files_in(&cache.path().join("mnist")).len(), 4);
    assert!(stdout(&out).trim().ends_with("mnist"));
    assert_eq!(requests.load(Ordering::SeqCst), 4);
    // Again: every file is verified in the cache and nothing is fetched.
    let again = download("mnist", &url, cache.path());
    assert!(again.status.success());
    assert_eq!(requests.load(Ordering::SeqCst), 4);
    // Train straight from the cache through --data mnist.
    let train = nabla()
        .args([
            "train",
            "--data",
            "mnist",
            "--cache-dir",
            cache.path().to_str().unwrap(),
            "--hidden",
            "16",
            "--epochs",
            "1",
            "--mirror",
            &url,
        ])
        .output()
        .unwrap();
    assert!(train.status.success(), "{}", stderr(&train));
    assert!(stdout(&train).contains("mnist") && stdout(&train).contains("test accuracy"));
}

#[test]
#[cfg_attr(
    not(shared_mnist),
    ignore = "needs ../shared/data/mnist (or $NABLA_SHARED)"
)]
fn a_corrupt_cached_file_is_replaced() {
    let Some(mnist) = shared_path("data/mnist", "a_corrupt_cached_file_is_replaced") else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (url, requests) = serve(mnist, Mode::Good);
    assert!(download("mnist", &url, cache.path()).status.success());
    std::fs::write(
        cache.path().join("mnist/t10k-labels-idx1-ubyte.gz"),
        b"not the labels",
    )
    .unwrap();
    let out = download("mnist", &url, cache.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        requests.load(Ordering::SeqCst),
        5,
        "only the corrupt file is fetched again"
    );
}

#[test]
#[cfg_attr(
    not(shared_mnist),
    ignore = "needs ../shared/data/mnist (or $NABLA_SHARED)"
)]
fn truncated_transfers_are_refused_and_nothing_is_kept() {
    let Some(mnist) = shared_path(
        "data/mnist",
        "truncated_transfers_are_refused_and_nothing_is_kept",
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (url, requests) = serve(mnist, Mode::Truncated);
    let out = download("mnist", &url, cache.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("train-images-idx3-ubyte.gz") && err.contains("after 3 attempts"),
        "{err}"
    );
    assert!(
        err.contains("truncated") || err.contains("broke off"),
        "{err}"
    );
    assert!(
        files_in(&cache.path().join("mnist")).is_empty(),
        "{:?}",
        files_in(&cache.path().join("mnist"))
    );
    assert_eq!(requests.load(Ordering::SeqCst), 3, "three attempts");
}

#[test]
#[cfg_attr(
    not(shared_fashion),
    ignore = "needs ../shared/data/fashion-mnist (or $NABLA_SHARED)"
)]
fn wrong_bytes_are_refused_and_nothing_is_kept() {
    let Some(fashion) = shared_path(
        "data/fashion-mnist",
        "wrong_bytes_are_refused_and_nothing_is_kept",
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (url, _) = serve(fashion, Mode::WrongBytes);
    let out = download("fashion-mnist", &url, cache.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("wrong bytes: SHA-256"),
        "{}",
        stderr(&out)
    );
    assert!(files_in(&cache.path().join("fashion-mnist")).is_empty());
}

#[test]
#[cfg_attr(
    not(shared_fashion),
    ignore = "needs ../shared/data/fashion-mnist (or $NABLA_SHARED)"
)]
fn a_flaky_server_is_retried() {
    let Some(fashion) = shared_path("data/fashion-mnist", "a_flaky_server_is_retried") else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (url, requests) = serve(fashion, Mode::Flaky);
    let out = download("fashion-mnist", &url, cache.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("503") && stderr(&out).contains("retrying"),
        "{}",
        stderr(&out)
    );
    assert_eq!(requests.load(Ordering::SeqCst), 8);
    assert_eq!(files_in(&cache.path().join("fashion-mnist")).len(), 4);
}

#[test]
#[cfg_attr(
    not(shared_mnist),
    ignore = "needs ../shared/data/mnist (or $NABLA_SHARED)"
)]
fn a_server_sending_more_than_the_published_file_is_cut_off() {
    let Some(mnist) = shared_path(
        "data/mnist",
        "a_server_sending_more_than_the_published_file_is_cut_off",
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (url, _) = serve(mnist, Mode::Oversized);
    let out = download("mnist", &url, cache.path());
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("the published file has"), "{err}");
    assert!(
        files_in(&cache.path().join("mnist")).is_empty(),
        "nothing partial is kept"
    );
}

#[test]
#[cfg_attr(
    not(shared_mnist),
    ignore = "needs ../shared/data/mnist (or $NABLA_SHARED)"
)]
fn a_trickling_server_times_out_instead_of_hanging() {
    let Some(mnist) = shared_path(
        "data/mnist",
        "a_trickling_server_times_out_instead_of_hanging",
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let (url, _) = serve(mnist, Mode::Trickle);
    let started = std::time::Instant::now();
    let out = download_with("mnist", &url, cache.path(), &["--download-timeout", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
    assert!(files_in(&cache.path().join("mnist")).is_empty());
}

#[test]
#[cfg_attr(
    not(shared_mnist),
    ignore = "needs ../shared/data/mnist (or $NABLA_SHARED)"
)]
fn a_killed_downloads_part_file_is_removed_and_a_bad_mirror_refused() {
    let Some(mnist) = shared_path(
        "data/mnist",
        "a_killed_downloads_part_file_is_removed_and_a_bad_mirror_refused",
    ) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().join("mnist");
    std::fs::create_dir_all(&dir).unwrap();
    // What a download killed mid-transfer leaves: its process (pid 0) is gone.
    let left = dir.join(".train-images-idx3-ubyte.gz.part-0-abcdef");
    std::fs::write(&left, b"partial").unwrap();
    let (url, _) = serve(mnist, Mode::Good);
    let out = download("mnist", &url, cache.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!left.exists());
    assert_eq!(files_in(&dir).len(), 4);
    let bad = download("mnist", "not-a-url", cache.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("not an http:// or https:// URL"),
        "{}",
        stderr(&bad)
    );
}
