//! The web explorer at `GET /`: a page and its modules and stylesheet from
//! `graphql/assets/explorer/` (plain files, no build step), compiled into the binary and served
//! at `/explorer/*`. The page talks only to this server's `/graphql` (queries by POST, live
//! updates over the websocket), so its Content-Security-Policy allows nothing else.

use axum::extract::Path;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Where the files are served.
pub const ASSET_PREFIX: &str = "/explorer";

/// Same origin only: scripts and styles from here, fetch and websocket to here (`'self'`
/// covers ws: and wss: of the same host), no inline code, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A file: its name under [`ASSET_PREFIX`], its MIME type and bytes.
struct Asset {
    name: &'static str,
    mime: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $mime:literal) => {
        Asset {
            name: $name,
            mime: $mime,
            bytes: include_bytes!(concat!("../assets/explorer/", $name)),
        }
    };
}

const INDEX: Asset = asset!("index.html", "text/html; charset=utf-8");

const ASSETS: &[Asset] = &[
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("gql.js", "text/javascript; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
];

fn respond(a: &Asset) -> Response {
    let headers: [(HeaderName, &str); 5] = [
        (header::CONTENT_TYPE, a.mime),
        // Small files: revalidate each time, so an upgraded binary's files are picked up.
        (header::CACHE_CONTROL, "no-cache"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    (StatusCode::OK, headers, a.bytes).into_response()
}

/// `GET /`: the explorer's page.
pub async fn index() -> Response {
    crate::metrics::request("explorer", 200);
    respond(&INDEX)
}

/// `GET /explorer/{name}`: one of its files.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => {
            crate::metrics::request("explorer", 200);
            respond(a)
        }
        None => {
            crate::metrics::request("explorer", 404);
            (StatusCode::NOT_FOUND, "no such explorer file").into_response()
        }
    }
}
