//! The GraphiQL page in a real headless Chromium (Debian `chromium`, installed by
//! `script/setup.sh --test`), driven over the DevTools protocol: the page loads with no CDN
//! (every resource comes from the server), a query typed into the editor runs from the
//! execute button, the rendered result shows the indexed hosts, and a screenshot is saved under
//! the target directory's `test-artifacts/`.

mod common;

use std::time::Duration;

use common::{World, serve};
use serde_json::{Value, json};
use vouch_testkit::FreshSqlite;
use vouch_testkit::browser::{Browser, artifacts_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_query_from_the_editor_in_headless_chromium() {
    let world = World::new().await;
    let db = FreshSqlite::create();
    world.index(&db.url).await;
    let api = serve(&db.url).await;
    let origin = format!("http://{}", api.addr);

    let browser = Browser::launch().await;
    let mut page = browser.open(&api.url()).await;
    // The editor is up once GraphiQL has rendered and fetched the schema.
    page.wait_for(
        "!!document.querySelector('.graphiql-query-editor .CodeMirror') && !!document.querySelector('.graphiql-execute-button')",
        Duration::from_secs(60),
    )
    .await;

    let query =
        "{ hosts(orderBy: STAKE, direction: DESC) { totalCount nodes { address region } } }";
    page.eval(&format!(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue({})",
        serde_json::to_string(query).unwrap()
    ))
    .await;
    page.eval("document.querySelector('.graphiql-execute-button').click()")
        .await;
    let text = page
        .wait_for(
            "(() => { const r = document.querySelector('.result-window .CodeMirror'); const v = r && r.CodeMirror.getValue(); return v && v.includes('totalCount') ? v : null })()",
            Duration::from_secs(60),
        )
        .await;
    let shown: Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
    let expected: Vec<Value> = world
        .hosts
        .iter()
        .map(|h| json!({"address": h.key.address().to_checksum(None), "region": h.region}))
        .collect();
    assert_eq!(
        shown,
        json!({"data": {"hosts": {"totalCount": 3, "nodes": expected}}})
    );
    // What is on screen (CodeMirror's rendered lines), not only its model, names the hosts.
    let rendered = page
        .eval("document.querySelector('.result-window').innerText")
        .await;
    let rendered = rendered.as_str().unwrap();
    for h in &world.hosts {
        assert!(
            rendered.contains(&h.key.address().to_checksum(None)),
            "{rendered}"
        );
    }
    assert!(rendered.contains("\"totalCount\": 3"), "{rendered}");

    // Offline: every resource the page loaded came from the server itself.
    let resources = page
        .eval("performance.getEntriesByType('resource').map(e => e.name)")
        .await;
    let resources: Vec<&str> = resources
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for r in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
    ] {
        assert!(
            resources.contains(&format!("{origin}/graphiql/{r}").as_str()),
            "{resources:?}"
        );
    }
    assert!(
        resources.iter().all(|r| r.starts_with(&origin)),
        "a resource came from elsewhere: {resources:?}"
    );

    assert!(page.problems().is_empty(), "{:?}", page.problems());
    let path = artifacts_dir(env!("CARGO_TARGET_TMPDIR"), "").join("graphiql.png");
    page.screenshot(&path, false).await;
}
