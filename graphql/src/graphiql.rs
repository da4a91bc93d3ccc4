//! The GraphiQL page of `GET /graphql` and the scripts and styles it loads, served from the
//! binary itself (vendored in `graphql/assets/graphiql/` by `script/vendor-graphiql.sh`), so
//! the page works on a machine without any CDN.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Where the assets are served; the page names them relative to this.
pub const ASSET_PREFIX: &str = "/graphiql";

/// A vendored file: its name under [`ASSET_PREFIX`], its MIME type and bytes.
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
            bytes: include_bytes!(concat!("../assets/graphiql/", $name)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("react.production.min.js", "text/javascript; charset=utf-8"),
    asset!(
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.min.css", "text/css; charset=utf-8"),
];

/// The page: GraphiQL against `endpoint` (POST) with subscriptions over a websocket at the
/// same path.
pub fn page(endpoint: &str) -> Html<String> {
    let p = ASSET_PREFIX;
    let endpoint = serde_json::to_string(endpoint).unwrap_or_else(|_| "\"/graphql\"".into());
    Html(format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vouch GraphQL</title>
<style>body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }} #graphiql {{ height: 100vh; }}</style>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{p}/graphiql.min.css">
<script src="{p}/react.production.min.js"></script>
<script src="{p}/react-dom.production.min.js"></script>
</head>
<body>
<div id="graphiql">Loading...</div>
<script src="{p}/graphiql.min.js"></script>
<script>
  const url = (path, ws) => {{
    const u = new URL(path, window.location.origin);
    if (ws) u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }};
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {{
      fetcher: GraphiQL.createFetcher({{ url: url({endpoint}), subscriptionUrl: url({endpoint}, true) }}),
      defaultEditorToolsVisibility: true,
    }})
  );
</script>
</body>
</html>
"#
    ))
}

/// `GET /graphiql/{name}`: a vendored file, cached by the browser for a day.
pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => {
            crate::metrics::request("graphiql", 200);
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, a.mime),
                    (header::CACHE_CONTROL, "public, max-age=86400"),
                ],
                a.bytes,
            )
                .into_response()
        }
        None => {
            crate::metrics::request("graphiql", 404);
            (StatusCode::NOT_FOUND, "no such GraphiQL asset").into_response()
        }
    }
}
