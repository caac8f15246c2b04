#!/usr/bin/env bash
# Runs each libFuzzer binary in build/fuzz for FUZZ_SECONDS (default 60) under nice, on a
# working corpus in build/fuzz/corpus/<target>/ seeded from fuzz/corpus/<target>/. Crashes
# land in build/fuzz/artifacts/; copy a minimised one into fuzz/corpus/<target>/ once fixed,
# so the replay test in `make test` keeps covering it.
#
#   fuzz/run.sh [TARGET...]      (default: all)      FUZZ_SECONDS=300 fuzz/run.sh line_splitter
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
build=build/fuzz
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(ip_address endpoint port_spec targets line_splitter
                                       text_escape json_writer packet)
mkdir -p "$build/artifacts"
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  echo "fuzz: $t for ${seconds}s" >&2
  # -timeout: one input taking seconds is a bug too (a parser stuck in a loop).
  if ! nice -n 10 "$build/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
      "$build/corpus/$t" "fuzz/corpus/$t" 2>"$build/$t.log"; then
    failed+=("$t")
    tail -n 30 "$build/$t.log" >&2
  fi
  grep -E '^stat::(number_of_executed_units|new_units_added)' "$build/$t.log" | tr '\n' ' ' >&2
  echo >&2
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $build/artifacts/, logs in $build/*.log)" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a finding" >&2
