# Sourced by the load scripts: interleaved wrk rounds and their medians.
#   BENCH_ROUNDS=3  BENCH_DURATION=5s  BENCH_CONNECTIONS=16  BENCH_THREADS=1
#   runs=("name|url|lua script file" ...); wrk_rounds
# fills rps[name] and p50[name] with one value per round (space-separated) and fails on any
# non-2xx answer; wrk_medians SNIPPET prints each run's median, then runs the python SNIPPET.
declare -A rps p50
rounds="${BENCH_ROUNDS:-3}"
duration="${BENCH_DURATION:-5s}"
connections="${BENCH_CONNECTIONS:-16}"
threads="${BENCH_THREADS:-1}"

wrk_rounds() {
  local round run name url script out
  for round in $(seq 1 "$rounds"); do
    for run in "${runs[@]}"; do
      IFS='|' read -r name url script <<<"$run"
      out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$script" "$url")
      if grep -q 'Non-2xx' <<<"$out"; then echo "$out" >&2; echo "$name: errors during the run" >&2; return 1; fi
      rps[$name]+="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out") "
      p50[$name]+="$(awk '$1 == "50%" {print $2}' <<<"$out") "
      printf 'round %s  %-34s %10s req/s\n' "$round" "$name" "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
    done
  done
}

# Prints "name median p50s" lines, then runs the python snippet in $1 with `med` (a dict of
# medians by run name) defined.
wrk_medians() {
  local snippet=$1 run name args=()
  echo
  echo "==> medians of $rounds rounds ($threads wrk thread(s), $connections connections, $duration per run)"
  for run in "${runs[@]}"; do
    IFS='|' read -r name _ _ <<<"$run"
    args+=("$name" "${rps[$name]}" "${p50[$name]}")
  done
  python3 - "$snippet" "${args[@]}" <<'PY'
import statistics, sys
snippet, a = sys.argv[1], sys.argv[2:]
med = {}
for name, r, p in zip(a[0::3], a[1::3], a[2::3]):
    med[name] = statistics.median(float(x) for x in r.split())
    print(f"{name:34s} {med[name]:10.0f} req/s   p50 of rounds: {' '.join(p.split())}")
exec(snippet)
PY
}
