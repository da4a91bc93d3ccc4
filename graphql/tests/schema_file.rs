//! docs/schema.graphql is the served schema: regenerate it with
//! `vouch serve --print-schema > docs/schema.graphql`.

#[test]
fn schema_file_matches_the_served_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schema.graphql");
    let file = std::fs::read_to_string(&path).expect("docs/schema.graphql exists");
    assert!(
        file == vouch_graphql::sdl(),
        "docs/schema.graphql differs from the served schema: run `vouch serve --print-schema > docs/schema.graphql`"
    );
}
