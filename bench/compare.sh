#!/usr/bin/env bash
# Runs `nabla bench` and the PyTorch peer (../shared/bench/torch_mlp.py) back to back on this
# machine and prints nabla/PyTorch per configuration. PyTorch goes into bench/.venv when it is
# not importable yet. Arguments pass to `nabla bench` (e.g. --model A).
#
#   bench/compare.sh [--rounds N] [--precision f32|bf16] [--model A|B] [--batch 32,128,512]
#
# --precision bf16 runs nabla's bf16 products against PyTorch under torch.autocast(cpu,
# bfloat16) (the peer's --autocast bf16), so like is compared with like.
#
# --rounds N (default 1) alternates the two N times (nabla, PyTorch, nabla, PyTorch, ...) and
# compares each side's best round per configuration: this 2-core VM switches, for minutes at a
# time, into a state where both programs run up to 2× slower, and alternating gives both sides
# the same chance of a fast round. Every round's ratios are printed too.
#
# The two JSON files and the table are kept in bench/results/<timestamp>/. The table names the
# CPU (vendor, model, AVX-512, AVX512_BF16, AMX) and nabla's kernel: a figure is a claim about
# that CPU only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
shared=${NABLA_SHARED:-$root/../shared}
script=$shared/bench/torch_mlp.py
[ -f "$script" ] || { echo "compare.sh: $script not found (set NABLA_SHARED)" >&2; exit 2; }

python=${PYTHON:-$here/.venv/bin/python}
if ! "$python" -c "import torch, numpy" 2>/dev/null; then
  echo "installing PyTorch and numpy into $here/.venv ..." >&2
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install --quiet --progress-bar off numpy torch
  python=$here/.venv/bin/python
fi

cargo build --release --quiet --manifest-path "$root/Cargo.toml"
out=$here/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
rounds=1
args=()
only=()
autocast=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2; continue ;;
    --precision)
      [ "$2" = bf16 ] && autocast=(--autocast bf16)
      args+=(--precision "$2"); shift 2; continue ;;
    A|B) only=(--only "$1") ;;
  esac
  args+=("$1")
  shift
done
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds: nabla bench ..." >&2
  "$root/target/release/nabla" bench --json --threads 2 "${args[@]}" > "$out/nabla-$round.json"
  echo "round $round/$rounds: PyTorch ($script) ..." >&2
  "$python" "$script" --threads 2 "${only[@]}" "${autocast[@]}" --out "$out/torch-$round.json" > /dev/null 2>> "$out/torch.log"
done

python3 - "$out" "$rounds" <<'PY' | tee "$out/table.txt"
import json, sys
out, rounds = sys.argv[1], int(sys.argv[2])
nablas = [json.load(open(f"{out}/nabla-{i}.json")) for i in range(1, rounds + 1)]
torches = [json.load(open(f"{out}/torch-{i}.json")) for i in range(1, rounds + 1)]

def by_config(runs):
    table = {}
    for run in runs:
        for r in run["results"]:
            table.setdefault((r["model"][:1], r["batch"]), []).append(r)
    return table

nabla, torch = by_config(nablas), by_config(torches)
print(f"precision: nabla {nablas[0].get('precision', 'f32')}, PyTorch "
      + (torches[0].get('precision') or torches[0].get('autocast') or 'f32'))
cpu, kernel = nablas[0].get("cpu"), nablas[0].get("kernel")
if cpu:
    features = [name for key, name in (("avx512", "AVX-512"), ("avx512_bf16", "AVX512_BF16"),
                                        ("amx", "AMX-BF16")) if cpu.get(key)]
    print(f"cpu: {cpu['vendor']}, {cpu['model']}, {', '.join(features) or 'no AVX-512'}"
          + ("" if cpu.get("amx") else ", no AMX"))
if kernel:
    print(f"nabla kernel: {kernel['name']} ({kernel['reason']})")
peaks = [n["sgemm_peak_gflops"] for n in nablas]
print(f"nabla sgemm peak (512×784×512): {', '.join(f'{p:.1f}' for p in peaks)} GFLOP/s;  torch.mm: "
      + "; ".join(", ".join(f"{g['m']}×{g['k']}×{g['n']} {g['gflops']:.1f}" for g in t.get("torch_sgemm", []))
                  for t in torches))
if rounds > 1:
    print("per round, training ratio nabla/PyTorch: " + "; ".join(
        f"{m}/{b} " + " ".join(f"{n['samples_per_s'] / t['samples_per_s']:.2f}" for n, t in zip(nabla[(m, b)], torch[(m, b)]))
        for (m, b) in nabla if (m, b) in torch))
print(f"{'config':<22} {'nabla/s':>9} {'torch/s':>9} {'ratio':>6} {'of peak':>8} {'infer ratio':>12} {'alloc/step':>10}")
for (m, b), runs in nabla.items():
    if (m, b) not in torch:
        continue
    i = max(range(len(runs)), key=lambda i: runs[i]["samples_per_s"])
    best, peak = runs[i], peaks[i]
    t_best = max(r["samples_per_s"] for r in torch[(m, b)])
    n_infer = max(r["infer_samples_per_s"] for r in runs)
    t_infer = max(r["infer_samples_per_s"] for r in torch[(m, b)])
    print(f"{m} batch {b:<14} {best['samples_per_s']:>9.0f} {t_best:>9.0f} "
          f"{best['samples_per_s'] / t_best:>6.2f} {100 * best['gflops_executed_mm'] / peak:>7.0f}% "
          f"{n_infer / t_infer:>12.2f} {best.get('allocations_per_step') or 0:>10.2f}")
if nablas[0].get("peak_rss_ratio"):
    print(f"peak memory: {nablas[0]['peak_rss_bytes'] / 1e6:.0f} MB = {nablas[0]['peak_rss_ratio']:.2f} × data + parameters + optimiser state")
PY
echo "kept in $out" >&2
