//! The server's safety rules, and how a refusal is answered.
//!
//! Cross-site requests: any page the user visits can make the browser POST to a local
//! server; only this server's own pages may change anything ([`cross_site`]).
//!
//! DNS rebinding: a page on a hostile site can make its own name resolve to 127.0.0.1 and then
//! talk to a local server as if it were that site; its requests still carry the hostile name in
//! their Host header. So a request is served only when its Host is `localhost` or an IP address
//! (a name an attacker cannot rebind), with this server's port when it gives one.

use axum::Json;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest request body accepted (larger ones get 413).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Whether a Host header value names this server (listening on `port`): `localhost` or an IP
/// address, with no port or `port`.
pub fn host_is_allowed(host: &str, port: u16) -> bool {
    let (name, given_port) = match host.rsplit_once(':') {
        // "[::1]:8080", "127.0.0.1:8080", "localhost:8080"; a bare IPv6 address has colons too.
        Some((name, p)) if !name.is_empty() && (name.ends_with(']') || !name.contains(':')) => {
            (name, Some(p))
        }
        _ => (host, None),
    };
    if given_port.is_some_and(|p| p.parse::<u16>() != Ok(port)) {
        return false;
    }
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok()
}

/// Refuses a request whose Host is not this server's address with 403.
pub async fn check_host(port: u16, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().authority().map(ToString::to_string));
    match host {
        Some(host) if host_is_allowed(&host, port) => next.run(request).await,
        Some(host) => refuse(
            StatusCode::FORBIDDEN,
            format!(
                "Host '{host}' is not this server's address: use http://localhost:{port} or \
                 an IP address (other names are refused against DNS rebinding)"
            ),
        ),
        None => refuse(
            StatusCode::BAD_REQUEST,
            "the request has no Host header".to_string(),
        ),
    }
}

/// Why a request that changes something (POST, PUT, PATCH, DELETE) is refused as cross-site,
/// or `None` to serve it. Any web page can make the browser send such a request to a local
/// server (a form, or `fetch` with a "simple" content type, needs no CORS preflight), so:
///
/// - a browser's `Origin` must be this server's own (`http://` + the request's Host);
/// - a browser's `Sec-Fetch-Site` must be `same-origin` or `none` (typed by the user);
/// - a body must be `application/json`, a type a cross-site page cannot send without a
///   preflight, which this server never grants (it sends no CORS headers).
///
/// Clients other than browsers (curl, scripts) send neither header and are served.
pub fn cross_site(
    method: &str,
    host: Option<&str>,
    origin: Option<&str>,
    fetch_site: Option<&str>,
    content_type: Option<&str>,
    has_body: bool,
) -> Option<(StatusCode, String)> {
    if matches!(method, "GET" | "HEAD" | "OPTIONS") {
        return None;
    }
    if let Some(origin) = origin {
        let own = host.map(|h| format!("http://{h}"));
        if own.is_none_or(|own| !own.eq_ignore_ascii_case(origin)) {
            return Some((
                StatusCode::FORBIDDEN,
                format!(
                    "a {method} from the page at {origin}, which is not this server's own: \
                     only nabla's own pages (or clients that are not browsers) may change \
                     anything"
                ),
            ));
        }
    }
    if let Some(site) = fetch_site
        && !matches!(site, "same-origin" | "none")
    {
        return Some((
            StatusCode::FORBIDDEN,
            format!(
                "a {site} {method} (Sec-Fetch-Site): only nabla's own pages may change anything"
            ),
        ));
    }
    let json = content_type.is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    });
    if has_body && !json {
        return Some((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "the body of a {method} must be application/json, got {}",
                content_type.unwrap_or("no Content-Type")
            ),
        ));
    }
    None
}

/// Refuses a cross-site request that would change something ([`cross_site`]) with 403, or a
/// body of another type with 415 (the status `cross_site` gives).
pub async fn check_site(request: Request, next: Next) -> Response {
    // Read in a scope of its own: the borrow of the request must end before the await.
    let refusal = {
        let text = |name: header::HeaderName| {
            request
                .headers()
                .get(name)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        };
        let has_body = text(header::CONTENT_LENGTH).is_some_and(|l| l.trim() != "0")
            || request.headers().contains_key(header::TRANSFER_ENCODING);
        cross_site(
            request.method().as_str(),
            text(header::HOST).as_deref(),
            text(header::ORIGIN).as_deref(),
            text(header::HeaderName::from_static("sec-fetch-site")).as_deref(),
            text(header::CONTENT_TYPE).as_deref(),
            has_body,
        )
    };
    match refusal {
        None => next.run(request).await,
        Some((status, reason)) => refuse(status, reason),
    }
}

/// Makes every error reply JSON (`{"error": …}`), as the API's own are: the router's 404 and
/// 405, the body limit's 413 and the extractors' 400s come as plain text or empty otherwise.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_string());
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|t| t.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.starts_with("text/event-stream"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = match status {
        StatusCode::NOT_FOUND => format!("nothing at {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("{method} is not allowed on {path}"),
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is over {MAX_BODY_BYTES} bytes")
        }
        _ => {
            let body = axum::body::to_bytes(response.into_body(), 4096)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&body).trim().to_string();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("error").to_string()
            } else {
                text
            }
        }
    };
    refuse(status, message)
}

/// A JSON error reply: `{"error": message}`.
pub fn refuse(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a foreign page can make a browser send is refused; the playground's own requests
    /// and clients that are not browsers are served.
    #[test]
    fn only_this_servers_pages_change_anything() {
        let host = Some("127.0.0.1:8080");
        let json = Some("application/json");
        // The playground's own POST, and curl's.
        assert_eq!(
            cross_site(
                "POST",
                host,
                Some("http://127.0.0.1:8080"),
                Some("same-origin"),
                json,
                true
            ),
            None
        );
        assert_eq!(cross_site("POST", host, None, None, json, true), None);
        assert_eq!(cross_site("POST", host, None, None, None, false), None);
        assert_eq!(
            cross_site(
                "GET",
                host,
                Some("http://evil.example"),
                Some("cross-site"),
                None,
                false
            ),
            None
        );
        // A foreign page's form or fetch.
        for (origin, site, kind) in [
            (
                Some("http://evil.example"),
                Some("cross-site"),
                Some("text/plain"),
            ),
            (Some("http://evil.example"), None, json),
            (Some("null"), None, json),
            (Some("http://127.0.0.1:9999"), Some("same-site"), json),
            (None, Some("cross-site"), json),
            (None, Some("same-site"), None),
        ] {
            for method in ["POST", "DELETE"] {
                let refusal = cross_site(method, host, origin, site, kind, kind.is_some());
                assert!(
                    refusal.is_some_and(|(status, _)| status == StatusCode::FORBIDDEN),
                    "{method} {origin:?} {site:?} {kind:?}"
                );
            }
        }
        // Bodies of the types a page can send without a preflight.
        for kind in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            let (status, refusal) = cross_site("POST", host, None, None, Some(kind), true).unwrap();
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert!(refusal.contains("application/json"), "{refusal}");
        }
        assert_eq!(
            cross_site(
                "POST",
                host,
                None,
                None,
                Some("application/json; charset=utf-8"),
                true
            ),
            None
        );
    }

    #[test]
    fn only_local_names_and_addresses_with_this_port_are_allowed() {
        for host in [
            "localhost",
            "localhost:8080",
            "LOCALHOST:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "[::1]",
            "192.168.1.5:8080",
        ] {
            assert!(host_is_allowed(host, 8080), "{host}");
        }
        for host in [
            "evil.example:8080",
            "evil.example",
            "localhost:9090",
            "127.0.0.1:80",
            "localhost.evil.example:8080",
            "",
        ] {
            assert!(!host_is_allowed(host, 8080), "{host}");
        }
    }
}
