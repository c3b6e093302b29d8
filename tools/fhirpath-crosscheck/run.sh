#!/usr/bin/env bash
# Cross-checks octofhir-fhirpath (as medcom-harness uses it) against HL7's fhirpath.js on every
# invariant of the MedCom profiles over every message Bundle of the corpus.
# Usage (from the crate root): tools/fhirpath-crosscheck/run.sh   (MEDCOM_CORPUS as for the tests)
# Exits 0 when every compared evaluation agrees; prints "N passed, M failed" last.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
(cd "$here" && npm ci --no-audit --no-fund --silent)
(cd "$root" && cargo run --quiet --release --example invariant_trace) > "$out/trace.json"
node "$here/crosscheck.js" "$out/trace.json"
