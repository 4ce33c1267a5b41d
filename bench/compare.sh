#!/usr/bin/env bash
# Runs `nabla bench` and the PyTorch peer (../shared/bench/torch_mlp.py) back to back on this
# machine and prints nabla/PyTorch per configuration. PyTorch goes into bench/.venv when it is
# not importable yet. Arguments pass to `nabla bench` (e.g. --model A).
#
#   bench/compare.sh [--model A|B] [--batch 32,128,512]
#
# The two JSON files and the table are kept in bench/results/<timestamp>/.
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
only=()
for arg in "$@"; do
  case "$arg" in A|B) only=(--only "$arg") ;; esac
done
echo "nabla bench ..." >&2
"$root/target/release/nabla" bench --json --threads 2 "$@" > "$out/nabla.json"
echo "PyTorch ($script) ..." >&2
"$python" "$script" --threads 2 "${only[@]}" --out "$out/torch.json" > /dev/null 2> "$out/torch.log"

python3 - "$out/nabla.json" "$out/torch.json" <<'PY' | tee "$out/table.txt"
import json, sys
nabla, torch = (json.load(open(p)) for p in sys.argv[1:3])
peak = nabla["sgemm_peak_gflops"]
rows = {(r["model"], r["batch"]): r for r in torch["results"]}
print(f"nabla sgemm peak (512×784×512): {peak:.1f} GFLOP/s;  torch.mm: "
      + ", ".join(f"{g['m']}×{g['k']}×{g['n']} {g['gflops']:.1f}" for g in torch.get("torch_sgemm", [])))
print(f"{'config':<22} {'nabla/s':>9} {'torch/s':>9} {'ratio':>6} {'of peak':>8} {'infer ratio':>12} {'alloc/step':>10}")
for r in nabla["results"]:
    t = rows.get((r["model"], r["batch"]))
    if t is None:
        continue
    print(f"{r['model'][:1]} batch {r['batch']:<14} {r['samples_per_s']:>9.0f} {t['samples_per_s']:>9.0f} "
          f"{r['samples_per_s'] / t['samples_per_s']:>6.2f} {100 * r['gflops_executed_mm'] / peak:>7.0f}% "
          f"{r['infer_samples_per_s'] / t['infer_samples_per_s']:>12.2f} {r.get('allocations_per_step') or 0:>10.2f}")
if nabla.get("peak_rss_ratio"):
    print(f"peak memory: {nabla['peak_rss_bytes'] / 1e6:.0f} MB = {nabla['peak_rss_ratio']:.2f} × data + parameters + optimiser state")
PY
echo "kept in $out" >&2
