#!/usr/bin/env bash
# Coverage-guided fuzzing of the Tapir.Security parsers (see fuzz/README.md). Builds the harness,
# instruments its copy of Tapir.Security.dll with SharpFuzz, then runs afl++ on each target in turn
# for FUZZ_SECONDS (default 60), and prints per target: execs, edges covered, corpus size, unique
# crashes and hangs as afl++ counted them, and the distinct crash causes (exception and the
# throwing frame, found by re-running each saved crash). Usage: fuzz/run.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(JwsParser JwkParser SfParser HttpMessageText EnrollmentPayload CsrRules CsrSan)
out=build/fuzz/out
findings=build/fuzz/findings

if ! command -v afl-fuzz >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    echo "fuzz: installing afl++"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ >/dev/null
  else
    echo "fuzz: afl-fuzz is missing: sudo apt-get install afl++" >&2
    exit 1
  fi
fi

# A fresh output folder: the build copies uninstrumented Tapir.Security.dll and Tapir.HostParsers.dll
# (the host's HttpMessageText), which are then rewritten in place (SharpFuzz refuses an assembly that is already instrumented).
rm -rf "$out"
(cd fuzz && dotnet tool restore >/dev/null)
dotnet build fuzz/Tapir.Fuzz.csproj -c Release -p:RestoreLockedMode=true -o "$out" --nologo -v quiet >build/fuzz-build.log 2>&1 \
  || { cat build/fuzz-build.log >&2; exit 1; }
(cd fuzz && dotnet sharpfuzz "../$out/Tapir.Security.dll" && dotnet sharpfuzz "../$out/Tapir.HostParsers.dll")

export AFL_SKIP_BIN_CHECK=1           # the target is the dotnet host, not an afl-compiled binary
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1

stat() { awk -F' *: *' -v k="$2" '$1 == k { print $2 }' "$1"; }

# Re-runs each saved crash outside afl++ and prints "count  exception @ first Tapir frame".
causes() {
  local dir=$1 target=$2
  for crash in "$dir"/id:*; do
    [ -e "$crash" ] || continue
    { timeout 60 dotnet "$out/Tapir.Fuzz.dll" "$target" <"$crash" || true; } 2>&1 >/dev/null \
      | awk '/^Unhandled exception\./ { sub(/^Unhandled exception\. /, ""); e = substr($0, 1, 110) }
             /^ +at Tapir\.Security\./ && f == "" { sub(/^ +at /, ""); sub(/\(.*/, ""); f = $0 }
             /Stack overflow/ { e = "StackOverflow" }
             END { print (e == "" ? "no crash on re-run (timeout or flaky)" : e) (f == "" ? "" : " @ " f) }'
  done | sort | uniq -c | sort -rn
}

summary=()
for target in "${targets[@]}"; do
  [ -d "fuzz/seeds/$target" ] || { echo "fuzz: no seeds for $target" >&2; exit 1; }
  rm -rf "${findings:?}/$target"
  mkdir -p "$findings"
  echo "== $target: fuzzing for ${seconds}s"
  case $target in
    JwsParser|JwkParser|EnrollmentPayload) dict=(-x fuzz/dict/json.dict) ;;
    SfParser|HttpMessageText) dict=(-x "fuzz/dict/$target.dict") ;;
    *) dict=() ;;
  esac
  timeout $((seconds + 600)) afl-fuzz -i "fuzz/seeds/$target" -o "$findings/$target" "${dict[@]}" -t 5000 -m none -V "$seconds" \
    -- dotnet "$out/Tapir.Fuzz.dll" "$target" >"$findings/$target.log" 2>&1 \
    || { tail -20 "$findings/$target.log" >&2; echo "fuzz: afl-fuzz failed on $target" >&2; exit 1; }
  stats=$findings/$target/default/fuzzer_stats
  edges=$(stat "$stats" edges_found); [ -n "$edges" ] || edges=$(stat "$stats" paths_total)
  corpus=$(stat "$stats" corpus_count); [ -n "$corpus" ] || corpus=$(stat "$stats" paths_total)
  crashes=$(stat "$stats" saved_crashes); [ -n "$crashes" ] || crashes=$(stat "$stats" unique_crashes)
  hangs=$(stat "$stats" saved_hangs); [ -n "$hangs" ] || hangs=$(stat "$stats" unique_hangs)
  line=$(printf '%-18s %6ss %10s execs %5s edges %5s corpus %4s crashes %4s hangs' \
    "$target" "$(stat "$stats" run_time)" "$(stat "$stats" execs_done)" "$edges" "$corpus" "$crashes" "$hangs")
  echo "$line"
  summary+=("$line")
  if [ "$crashes" != 0 ]; then
    echo "   distinct causes (crash files in $findings/$target/default/crashes):"
    causes "$findings/$target/default/crashes" "$target" | sed 's/^/   /'
  fi
done
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
