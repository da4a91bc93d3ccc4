#!/usr/bin/env bash
# Refreshes graphql/assets/graphiql/: the GraphiQL page's scripts and styles, served by
# `vouch serve` itself so the page works without any CDN (docs/graphql.md). Fetches the pinned
# packages from the npm registry with `npm pack` and keeps only the browser bundles and their
# licences. The versions below are the one place they are written.
set -euo pipefail
cd "$(dirname "$0")/.."
GRAPHIQL=4.1.2
REACT=18.3.1 # GraphiQL 4's browser bundle needs React's UMD build, which React 19 dropped
out=graphql/assets/graphiql
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null)
for p in graphiql-$GRAPHIQL react-$REACT react-dom-$REACT; do
  mkdir -p "$tmp/$p" && tar xzf "$tmp/$p.tgz" -C "$tmp/$p"
done
mkdir -p "$out"
# The bundle's last line names a source map that is not vendored: drop it.
sed '/^\/\/# sourceMappingURL=/d' "$tmp/graphiql-$GRAPHIQL/package/graphiql.min.js" > "$out/graphiql.min.js"
cp "$tmp/graphiql-$GRAPHIQL/package/graphiql.min.css" "$out/graphiql.min.css"
cp "$tmp/react-$REACT/package/umd/react.production.min.js" "$out/react.production.min.js"
cp "$tmp/react-dom-$REACT/package/umd/react-dom.production.min.js" "$out/react-dom.production.min.js"
cp "$tmp/graphiql-$GRAPHIQL/package/LICENSE" "$out/LICENSE.graphiql"
cp "$tmp/react-$REACT/package/LICENSE" "$out/LICENSE.react"
printf 'graphiql %s, react %s, react-dom %s (npm; script/vendor-graphiql.sh)\n' "$GRAPHIQL" "$REACT" "$REACT" > "$out/VERSIONS"
