#!/usr/bin/env bash
# Fuzzes one target with AFL++ and SharpFuzz for a bounded time, then reports crashes.
#   tests/fuzz/run.sh query|response|resolvconf SECONDS [OUTPUT_DIR]
# Exit 0 when no crash was found, 1 when some were (their inputs are in OUTPUT_DIR/default/crashes: add each as a
# case in tests/fuzz/regressions/TARGET/, replayed by tests/NodeDns.Core.Tests/Fuzz/FuzzRegressionTests.cs), 2 on bad arguments.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:-}; seconds=${2:-}
case "$target" in query|response|resolvconf) ;; *) echo "usage: $0 query|response|resolvconf SECONDS [OUTPUT_DIR]" >&2; exit 2;; esac
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "SECONDS must be a whole number" >&2; exit 2; }
out=${3:-$(mktemp -d)}
mkdir -p "$out"

command -v afl-fuzz >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null; }
[ -x artifacts/tools/sharpfuzz ] || dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path artifacts/tools >/dev/null

build=artifacts/fuzz/$target
rm -rf "$build"
dotnet publish tests/fuzz/NodeDns.Fuzz -c Release -o "$build" --nologo -v quiet
# Instrument the libraries under test, not the harness.
artifacts/tools/sharpfuzz "$build/NodeDns.Core.dll"
[ "$target" = resolvconf ] && artifacts/tools/sharpfuzz "$build/NodeDns.Node.dll"

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
timeout $((seconds + 60)) afl-fuzz -V "$seconds" -i "tests/fuzz/corpus/$target" -o "$out" -t 10000 -m none \
  -- dotnet "$build/NodeDns.Fuzz.dll" "$target" > "$out/afl.log" 2>&1 || true

stats="$out/default/fuzzer_stats"
[ -f "$stats" ] || { echo "afl-fuzz did not run; see $out/afl.log" >&2; tail -20 "$out/afl.log" >&2; exit 1; }
grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg)' "$stats"
crashes=$(find "$out/default/crashes" -type f -name 'id:*' | wc -l)
echo "$target: $crashes crash(es) in $seconds s; output in $out"
[ "$crashes" -eq 0 ]
