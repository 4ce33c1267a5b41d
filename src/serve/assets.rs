//! The pages, their scripts and style, and KaTeX 0.19.1 (MIT licence, in
//! `assets/vendor/katex/LICENSE`; only its woff2 fonts, which every browser that runs the
//! pages reads), compiled into the binary: the server reads no files to serve them, and the
//! machine needs no network.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// An embedded file: its path under `/assets/` and its bytes.
struct Asset {
    path: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($path:literal) => {
        Asset {
            path: $path,
            bytes: include_bytes!(concat!("assets/", $path)),
        }
    };
}

/// The media type of an embedded file, from its extension.
fn media_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("woff2") => "font/woff2",
        _ => "text/plain; charset=utf-8",
    }
}

const ASSETS: &[Asset] = &[
    asset!("playground.html"),
    asset!("explain.html"),
    asset!("runs.html"),
    asset!("nabla.css"),
    asset!("common.js"),
    asset!("playground.js"),
    asset!("explain.js"),
    asset!("runs.js"),
    asset!("vendor/katex/katex.min.js"),
    asset!("vendor/katex/katex.min.css"),
    asset!("vendor/katex/LICENSE"),
    asset!("vendor/katex/fonts/KaTeX_AMS-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Caligraphic-Bold.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Caligraphic-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Fraktur-Bold.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Fraktur-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Main-Bold.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Main-BoldItalic.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Main-Italic.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Main-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Math-BoldItalic.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Math-Italic.woff2"),
    asset!("vendor/katex/fonts/KaTeX_SansSerif-Bold.woff2"),
    asset!("vendor/katex/fonts/KaTeX_SansSerif-Italic.woff2"),
    asset!("vendor/katex/fonts/KaTeX_SansSerif-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Script-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Size1-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Size2-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Size3-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Size4-Regular.woff2"),
    asset!("vendor/katex/fonts/KaTeX_Typewriter-Regular.woff2"),
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
                (header::CONTENT_TYPE, media_type(asset.path)),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            asset.bytes,
        )
            .into_response(),
        None => super::guard::refuse(StatusCode::NOT_FOUND, format!("no file '{path}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_served_with_the_media_type_of_its_kind() {
        for asset in ASSETS {
            let expected = match asset.path {
                p if p.ends_with(".html") => "text/html; charset=utf-8",
                p if p.ends_with(".css") => "text/css; charset=utf-8",
                p if p.ends_with(".js") => "text/javascript; charset=utf-8",
                p if p.ends_with(".woff2") => "font/woff2",
                "vendor/katex/LICENSE" => "text/plain; charset=utf-8",
                other => panic!("{other}: a kind of file the server does not know"),
            };
            assert_eq!(media_type(asset.path), expected, "{}", asset.path);
        }
    }
}
