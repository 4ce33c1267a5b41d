#!/usr/bin/env bash
# Fuzzes every reader of untrusted input for SECONDS seconds each with cargo-fuzz (libFuzzer).
#   fuzz/run.sh [SECONDS]        (default 60; TARGETS="csv idx" for some of them)
# Installs cargo-fuzz when missing. The stable toolchain is enough: RUSTC_BOOTSTRAP=1 lets it
# accept the sanitizer flags. Findings land in fuzz/artifacts/<target>/; a summary per target
# (executions, findings) is printed at the end.
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "$0")"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
export RUSTC_BOOTSTRAP=1
mkdir -p corpus seeds
# Seeds: one valid input per format, from the repository.
head -c 4000 ../data/digits/digits.csv > seeds/csv.csv
printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00\x02\x01\x02\x03\x04\x05\x06\x07\x08' > seeds/idx.bin
printf '{"loss": "cross-entropy", "from": "logits", "output": [[1.0, 2.0]], "target": [1]}' > seeds/loss.json
printf '{"format": "nabla-model", "version": 1, "network": {"inputs": 2, "hidden": [3], "hidden_activation": "relu", "outputs": 2, "output_activation": "softmax", "loss": {"kind": "cross-entropy", "from": "probabilities"}}, "normalization": {"kind": "none"}, "label_names": ["a", "b"]}' > seeds/config.json
printf '\x03{"descr": "<f4", "fortran_order": False, "shape": (1, 2), }\x00\x00\x80\x3f\x00\x00\x00\x40' > seeds/npy_header.bin
head -c 600 /dev/urandom > seeds/checkpoint.bin
printf '(y - z)/(z*(1 - z))' > seeds/claim.txt
printf 'x=1,2 w=0.1,0.2;0.3,-0.4 b=0,0 y=0,1' > seeds/at.txt
printf '\x00{"data": "spirals", "hidden": [8, 8], "activation": "tanh", "epochs": 5, "noise": 0.1}' > seeds/serve_request.bin
declare -A seed=([csv]=seeds/csv.csv [idx]=seeds/idx.bin [idx_gz]=seeds/idx.bin [npy]=seeds/idx.bin [npy_header]=seeds/npy_header.bin [model]=seeds/config.json [config]=seeds/config.json [loss_json]=seeds/loss.json [checkpoint]=seeds/checkpoint.bin [claim]=seeds/claim.txt [at]=seeds/at.txt [serve_request]=seeds/serve_request.bin)
summary=()
failed=0
for target in ${TARGETS:-csv idx idx_gz npy npy_header model config loss_json checkpoint claim at serve_request}; do
  mkdir -p "corpus/$target" "artifacts/$target"
  cp -n "${seed[$target]}" "corpus/$target/" 2>/dev/null || true
  log=$(mktemp)
  cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
    -artifact_prefix="artifacts/$target/" > "$log" 2>&1 || true
  grep -E "ERROR|panicked|^Done" "$log" || true
  runs=$(grep -oE "^Done [0-9]+ runs" "$log" | grep -oE "[0-9]+" || true)
  findings=$(find "artifacts/$target" -type f | wc -l)
  if [ -z "$runs" ]; then
    # No "Done" line: the target did not build or did not start. Say why; count it as failed.
    tail -20 "$log"
    summary+=("$target: DID NOT RUN (see above)")
    failed=1
  else
    summary+=("$target: $runs executions, $findings findings")
    [ "$findings" -eq 0 ] || failed=1
  fi
  rm -f "$log"
done
printf '%s\n' "${summary[@]}"
exit "$failed"
