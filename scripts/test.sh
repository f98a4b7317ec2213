#!/usr/bin/env bash
# npm test: prerequisites, typecheck, proto lint and breaking-change check, generated-code check, then every *.test.ts.
# Every step's failure fails the script; the last step's exit code is the runner's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== prerequisites"
bash scripts/ensure-prereqs.sh

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit

echo "== buf lint"
npx buf lint

echo "== buf breaking (against the API as released, proto/breaking/; accepted breaks in scripts/api-breaking.ts)"
node --import tsx scripts/api-breaking.ts

echo "== generated code"
npm run --silent generate
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  if ! git diff --exit-code --stat -- proto/gen; then
    echo "proto/gen is out of date with proto/: run 'npm run generate' and commit the result" >&2
    exit 1
  fi
  untracked=$(git ls-files --others --exclude-standard -- proto/gen)
  if [[ -n $untracked ]]; then
    echo "proto/gen has generated files that are not committed:" >&2
    echo "$untracked" >&2
    exit 1
  fi
fi

echo "== build (dist/, the installed bins)"
npm run --silent build

echo "== go fixtures"
node --import tsx --input-type=module -e '
  const started = Date.now();
  const { buildFixtures } = await import("./integration/harness.ts");
  const built = await buildFixtures();
  console.log(`fixtures ready in ${Date.now() - started} ms: ${built.agentprog} ${built.plain}`);
'

echo "== tests"
dirs=()
for dir in common analysis server client cli integration; do
  [[ -d $dir ]] && dirs+=("$dir")
done
files=()
if (( ${#dirs[@]} > 0 )); then
  mapfile -t files < <(find "${dirs[@]}" -name '*.test.ts' -type f | sort)
fi
if (( ${#files[@]} == 0 )); then
  echo "no *.test.ts files found under common, server, client, cli or integration" >&2
  exit 1
fi
# The end-to-end tests run gopsctl and gopsd as installed: the bins just built (integration/harness.ts).
export GOPSCTL_TEST_BINS=dist
# Node 20 has no glob support in --test: the files are passed explicitly.
exec node --import tsx --test --test-reporter=spec --test-concurrency=2 "${files[@]}"
