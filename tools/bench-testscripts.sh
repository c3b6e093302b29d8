#!/usr/bin/env bash
# Prints the time to run every MedCom TestScript in $MEDCOM_CORPUS (CareCommunication 5.0.0,
# Acknowledgement, HospitalNotification) against the embedded reference vendor, with profile
# validation (--ig). Run from the project root after `cargo build --release`.
# Usage: tools/bench-testscripts.sh [runs]   (default 3 runs; prints each and the best)
set -eu
corpus=${MEDCOM_CORPUS:-../shared/medcom}
ig="$corpus/medcomfhir-website/ig"
bin=$(pwd)/target/release/medcom-harness
runs=${1:-3}
mapfile -t scripts < <(find "$ig/carecommunicationtestscripts" "$ig/acknowledgementtestscript" \
  "$corpus/HospitalNotificationTouchStoneTestscripts/fsh-generated" -name 'TestScript-*.json' | sort)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
best=
for i in $(seq 1 "$runs"); do
  start=$(date +%s.%N)
  (cd "$out" && "$bin" run "${scripts[@]}" --ig "$ig" --report-json "$out/r.json" \
     --report-junit "$out/j.xml" --report-html "$out/r.html" >"$out/log" 2>&1) || true
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc)
  echo "run $i: ${#scripts[@]} TestScripts in ${t} s ($(grep -E '^(PASSED|FAILED|INCOMPLETE)' "$out/log" | head -1))"
  if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then best=$t; fi
done
echo "best: ${#scripts[@]} TestScripts in ${best} s"
