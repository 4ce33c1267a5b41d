//! The pages, their scripts and style, and KaTeX 0.19.1 (MIT licence, in
//! `assets/vendor/katex/LICENSE`; only its woff2 fonts, which every browser that runs the
//! pages reads), compiled into the binary: the server reads no files to serve them, and the
//! machine needs no network.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// An embedded file: its path under `/assets/`, its media type and its bytes.
struct Asset {
    path: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $media_type:literal) => {
        Asset {
            path: $path,
            media_type: $media_type,
            bytes: include_bytes!(concat!("assets/", $path)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("playground.html", "text/html; charset=utf-8"),
    asset!("explain.html", "text/html; charset=utf-8"),
    asset!("runs.html", "text/html; charset=utf-8"),
    asset!("nabla.css", "text/css; charset=utf-8"),
    asset!("common.js", "text/javascript; charset=utf-8"),
    asset!("playground.js", "text/javascript; charset=utf-8"),
    asset!("explain.js", "text/javascript; charset=utf-8"),
    asset!("runs.js", "text/javascript; charset=utf-8"),
    asset!(
        "vendor/katex/katex.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("vendor/katex/katex.min.css", "text/css; charset=utf-8"),
    asset!("vendor/katex/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/katex/fonts/KaTeX_AMS-Regular.woff2", "font/woff2"),
    asset!(
        "vendor/katex/fonts/KaTeX_Caligraphic-Bold.woff2",
        "font/woff2"
    ),
    asset!(
        "vendor/katex/fonts/KaTeX_Caligraphic-Regular.woff2",
        "font/woff2"
    ),
    asset!("vendor/katex/fonts/KaTeX_Fraktur-Bold.woff2", "font/woff2"),
    asset!(
        "vendor/katex/fonts/KaTeX_Fraktur-Regular.woff2",
        "font/woff2"
    ),
    asset!("vendor/katex/fonts/KaTeX_Main-Bold.woff2", "font/woff2"),
    asset!(
        "vendor/katex/fonts/KaTeX_Main-BoldItalic.woff2",
        "font/woff2"
    ),
    asset!("vendor/katex/fonts/KaTeX_Main-Italic.woff2", "font/woff2"),
    asset!("vendor/katex/fonts/KaTeX_Main-Regular.woff2", "font/woff2"),
    asset!(
        "vendor/katex/fonts/KaTeX_Math-BoldItalic.woff2",
        "font/woff2"
    ),
    asset!("vendor/katex/fonts/KaTeX_Math-Italic.woff2", "font/woff2"),
    asset!(
        "vendor/katex/fonts/KaTeX_SansSerif-Bold.woff2",
        "font/woff2"
    ),
    asset!(
        "vendor/katex/fonts/KaTeX_SansSerif-Italic.woff2",
        "font/woff2"
    ),
    asset!(
        "vendor/katex/fonts/KaTeX_SansSerif-Regular.woff2",
        "font/woff2"
    ),
    asset!(
        "vendor/katex/fonts/KaTeX_Script-Regular.woff2",
        "font/woff2"
    ),
    asset!("vendor/katex/fonts/KaTeX_Size1-Regular.woff2", "font/woff2"),
    asset!("vendor/katex/fonts/KaTeX_Size2-Regular.woff2", "font/woff2"),
    asset!("vendor/katex/fonts/KaTeX_Size3-Regular.woff2", "font/woff2"),
    asset!("vendor/katex/fonts/KaTeX_Size4-Regular.woff2", "font/woff2"),
    asset!(
        "vendor/katex/fonts/KaTeX_Typewriter-Regular.woff2",
        "font/woff2"
    ),
];

/// The three pages and `/assets/…`.
pub(super) fn routes() -> Router {
    Router::new()
        .route("/", get(|| async { file("playground.html") }))
        .route("/explain", get(|| async { file("explain.html") }))
        .route("/runs", get(|| async { file("runs.html") }))
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>| async move { file(&path) }),
        )
}

/// The embedded file at `path`, or 404: only the names in [`ASSETS`] exist.
fn file(path: &str) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.media_type),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            asset.bytes,
        )
            .into_response(),
        None => super::guard::refuse(StatusCode::NOT_FOUND, format!("no file '{path}'")),
    }
}
