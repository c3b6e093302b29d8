#!/usr/bin/env bash
# Peer benchmark (not part of CI): one `serve`, the same N "send a CareCommunication and judge
# its acknowledgement" exchanges through the harness (--jobs 2 and --jobs 1, reports included),
# through hurl (when installed) with equivalent asserts on the acknowledgement, and as a raw POST
# loop through wrk; prints each rate and the ratios, and serve's RSS at the end.
#
#   scripts/peer-bench.sh [N]        (default N=2000; BIN=target/release/medcom-harness;
#                                     ROUNDS=4: the harness and hurl measures are taken ROUNDS
#                                     times in turn and their medians reported)
#
# Needs: a release build, python3, GNU time (/usr/bin/time); wrk and hurl are used when on PATH
# (`apt-get install wrk`; `cargo install hurl --version 8.0.1 --locked`).
# On a shared machine, compare the ratios of one run, not absolute rates.
set -euo pipefail
N=${1:-2000}
root=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$root/target/release/medcom-harness}
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 2; }
work=$(mktemp -d)
serve_pid=
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$BIN" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>/dev/null &
serve_pid=$!
for _ in $(seq 50); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/serve.out" | head -1)
[ -n "$url" ] || { echo "serve did not start" >&2; exit 2; }
echo "serve at $url; N=$N"

# N copies of the bundled new-json scenario (each its own id), its golden beside them.
mkdir -p "$work/suite"
cp "$root/golden/carecommunication/ack-ok.json" "$work/suite/"
python3 - "$root/scenarios/carecommunication/new-json.toml" "$work/suite" "$N" <<'PY'
import sys
src, out, n = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
for i in range(n):
    open(f"{out}/s{i:06}.toml", "w").write(src.replace('id = "cc-new-json"', f'id = "cc-new-json-{i:06}"', 1))
PY

rate() { python3 -c "import sys; n,s=float(sys.argv[1]),float(sys.argv[2]); print(f'{n/s:.0f}')" "$@"; }
secs() { python3 -c "import time; print(time.monotonic())"; }
harness() {
  # A fresh folder each round: a rerun in one folder would first delete the last run's files.
  local jobs=$1 out="$work/h$1.r$r"
  local t0 t1
  t0=$(secs)
  local jobs_arg=(--jobs "$jobs")
  [ "$jobs" = default ] && jobs_arg=()
  /usr/bin/time -f "%U %S" -o "$work/cpu$jobs" "$BIN" run "$work/suite" --target "$url" "${jobs_arg[@]}" --report-html "$out/report.html" \
    --report-junit "$out/junit.xml" --report-json "$out/results.json" >"$work/h$jobs.log" 2>&1 \
    || { echo "harness run failed (see $work/h$jobs.log)" >&2; tail -5 "$work/h$jobs.log" >&2; exit 2; }
  t1=$(secs)
  python3 -c "print(f'{$t1-$t0:.3f}')"
}
cpu_ms() { python3 -c "import sys; u,s=open(sys.argv[1]).read().split()[-2:]; print(f'{(float(u)+float(s))*1000/$N:.2f}')" "$work/cpu$1"; }
median() { python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }
ROUNDS=${ROUNDS:-4}
# Rounds alternate the configurations, so a noisy moment of the shared machine touches all.
declare -a HD H2 H1 CD C2 C1
for r in $(seq "$ROUNDS"); do
  HD+=("$(harness default)"); CD+=("$(cpu_ms default)")
  H2+=("$(harness 2)"); C2+=("$(cpu_ms 2)")
  H1+=("$(harness 1)"); C1+=("$(cpu_ms 1)")
done
hd=$(median "${HD[@]}"); h2=$(median "${H2[@]}"); h1=$(median "${H1[@]}")
echo "median of $ROUNDS rounds:"
echo "harness, default --jobs: $(rate "$N" "$hd") exchanges/s (${hd} s incl. reports)"
echo "harness --jobs 2: $(rate "$N" "$h2") exchanges/s (${h2} s incl. reports)"
echo "harness --jobs 1: $(rate "$N" "$h1") exchanges/s (${h1} s); --jobs 2 / --jobs 1 = $(python3 -c "print(f'{$h1/$h2:.2f}')")x"
echo "harness CPU per exchange (user+sys, reports included): --jobs 1 $(median "${C1[@]}") ms, --jobs 2 $(median "${C2[@]}") ms, default $(median "${CD[@]}") ms"

# One message the harness sent, with its two ids turned into placeholders.
sent=$(find "$work/h1.r1/evidence" -name "*.e1.json" -print -quit)
python3 - "$sent" "$work/body.json" <<'PY'
import json, sys
raw = open(sys.argv[1]).read()
doc = json.loads(raw)
header = doc["entry"][0]["resource"]["id"]
raw = raw.replace(doc["id"], "__BUNDLE__").replace(header, "__HEADER__")
open(sys.argv[2], "w").write(raw)
PY

if command -v hurl >/dev/null; then
  # Every request inline with its own ids (hurl does not template a `file,` body), the header id
  # the same wherever the message names it, as the harness's messages do; new ids each round.
  hurl_files() {
  python3 - "$work/body.json" "$work/bench" "$url" "$N" <<'PY2'
import json, sys, uuid
body = json.dumps(json.load(open(sys.argv[1])), separators=(",", ":"), ensure_ascii=False)
asserts = """HTTP 200
[Asserts]
jsonpath "$.resourceType" == "Bundle"
jsonpath "$.type" == "message"
jsonpath "$.entry[0].resource.resourceType" == "MessageHeader"
jsonpath "$.entry[0].resource.eventCoding.code" == "acknowledgement-message"
jsonpath "$.entry[0].resource.response.code" == "ok"
jsonpath "$.entry[0].resource.response.identifier" exists
"""
# Two files: hurl's --jobs runs files in parallel, the requests of one file in turn.
n = int(sys.argv[4])
for part in range(2):
    with open(f"{sys.argv[2]}{part}.hurl", "w") as out:
        for _ in range(part, n, 2):
            one = body.replace("__BUNDLE__", str(uuid.uuid4())).replace("__HEADER__", str(uuid.uuid4()))
            out.write(f"POST {sys.argv[3]}\nContent-Type: application/fhir+json\n{one}\n{asserts}\n")
PY2
  }
  HS=()
  for r in $(seq "$ROUNDS"); do
    hurl_files
    t0=$(secs)
    (cd "$work" && hurl --test --jobs 2 bench0.hurl bench1.hurl >"$work/hurl.log" 2>&1) || { echo "hurl: some asserts failed:"; grep -m3 -A3 "^error" "$work/hurl.log"; }
    t1=$(secs)
    HS+=("$(python3 -c "print(f'{$t1-$t0:.3f}')")")
  done
  hs=$(median "${HS[@]}")
  echo "hurl --jobs 2 (6 asserts, median of $ROUNDS): $(rate "$N" "$hs") requests/s; harness --jobs 2 / hurl = $(python3 -c "print(f'{$hs/$h2:.2f}')")x"
else
  echo "hurl: not installed (cargo install hurl --version 8.0.1 --locked); skipped"
fi

if command -v wrk >/dev/null; then
  cat >"$work/post.lua" <<LUA
local f = io.open("$work/body.json"); local body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/fhir+json"
-- Ids unique across threads and across runs against the same serve: each thread numbers its
-- own requests under a per-run prefix (wrk's threads share one random sequence otherwise, and a
-- repeated id takes serve's cheaper duplicate path).
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local n, run
function init(args)
  n = 0
  math.randomseed(os.time() * 1000 + tid)
  run = string.format("%08x", (os.time() * 16 + math.random(0, 15)) % 0x100000000)
end
local function id() n = n + 1; return string.format("%s-%04x-4000-8000-%012x", run, tid, n) end
request = function() return wrk.format(nil, nil, nil, (body:gsub("__BUNDLE__", id()):gsub("__HEADER__", id()))) end
LUA
  # serve's capacity at 2 to 16 connections; the ratio is against the best of them.
  best=0
  for c in 2 4 8 16; do
    wout=$(wrk -t2 -c$c -d5s -s "$work/post.lua" "$url" 2>&1)
    wr=$(echo "$wout" | sed -n 's/^Requests\/sec: *//p')
    echo "wrk (2 threads, $c connections, 5 s, unique ids): ${wr} acks/s"
    best=$(python3 -c "print(max(float('$best'), float('${wr:-0}')))")
  done
  echo "harness --jobs 2 / wrk (best) = $(python3 -c "print(f'{$N/$h2/$best:.2f}')")x"
else
  echo "wrk: not installed (apt-get install wrk); skipped"
fi
echo "serve RSS now: $(awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$serve_pid/status) (peak $(awk '/VmHWM/ {print $2/1024 " MiB"}' /proc/$serve_pid/status))"
