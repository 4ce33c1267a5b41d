#!/usr/bin/env bash
# Out of core: `nabla convert` of a CSV table larger than a memory limit, then `nabla train` on
# the `.npy` it writes (about twice the limit and more), each run in a memory cgroup of that
# limit, with the cgroup's peak (page cache included) and the process's peak RSS reported.
#
#   bench/out_of_core.sh [--limit-mb 512] [--copies 7] [--epochs 1] [--work DIR] [--nabla BIN]
#                        [-- MORE NABLA TRAIN FLAGS]
#
# The data is MNIST's training set --copies times over, each copy shifted by another pixel
# offset (bench/big_mnist_csv.py; 110 MB of CSV and 188 MB of f32 per copy), with MNIST's test
# set as a separate test file. Needs root and a cgroup memory controller (v1 or v2), python3
# with numpy and ../shared/data/mnist: without them it says so and exits 0.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
limit_mb=512 copies=7 epochs=1 work=${TMPDIR:-/tmp}/nabla-out-of-core nabla=$root/target/release/nabla
while [ $# -gt 0 ]; do
  case $1 in
    --limit-mb) limit_mb=$2; shift 2 ;;
    --copies) copies=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --nabla) nabla=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "out_of_core.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mnist=${NABLA_SHARED:-$root/../shared}/data/mnist
skip() { echo "skipped: $*"; exit 0; }
[ -d "$mnist" ] || skip "$mnist is absent"
[ "$(id -u)" = 0 ] || skip "making a memory cgroup needs root"
python=${PYTHON:-python3}
"$python" -c "import numpy" 2>/dev/null || skip "$python has no numpy"
[ -x "$nabla" ] || skip "$nabla is not built (cargo build --release)"

# A memory cgroup of the limit, under this process's own: v1 (memory.limit_in_bytes) or v2
# (memory.max).
limit=$((limit_mb * 1024 * 1024))
own=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
if [ -n "$own" ] && [ -d /sys/fs/cgroup/memory ]; then
  group=/sys/fs/cgroup/memory$own/nabla-out-of-core-$$
  mkdir "$group" || skip "cannot make $group"
  echo "$limit" > "$group/memory.limit_in_bytes"
  peak_file=$group/memory.max_usage_in_bytes
  reset_peak() { echo 0 > "$peak_file"; }
elif [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
  parent=/sys/fs/cgroup$own
  echo +memory > "$parent/cgroup.subtree_control" 2>/dev/null || true
  group=$parent/nabla-out-of-core-$$
  mkdir "$group" || skip "cannot make $group"
  echo "$limit" > "$group/memory.max"
  echo 0 > "$group/memory.swap.max" 2>/dev/null || true
  peak_file=$group/memory.peak
  reset_peak() { echo reset > "$peak_file" 2>/dev/null || true; }
else
  skip "no cgroup memory controller here"
fi
trap 'rmdir "$group" 2>/dev/null || true' EXIT

# Runs a command inside the cgroup; prints its wall time, the cgroup's peak (all it was charged:
# the process's memory and the page cache it read or wrote) and the process's own peaks,
# anonymous (its heap) and file-backed (mapped file pages, which the kernel evicts under the
# limit), sampled every 20 ms from /proc/PID/status.
in_limit() {
  sync; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || true
  reset_peak
  local start=$(date +%s.%N) peaks=$work/peaks
  "$python" - "$group" "$peaks" "$@" <<'PY'
import subprocess, sys, time
group, out, command = sys.argv[1], sys.argv[2], sys.argv[3:]
def enter():
    for name in ("cgroup.procs", "tasks"):
        try:
            open(f"{group}/{name}", "w").write("0")
            return
        except OSError:
            pass
child = subprocess.Popen(command, preexec_fn=enter)
anon = filed = total = 0
while child.poll() is None:
    try:
        fields = dict(l.split(":", 1) for l in open(f"/proc/{child.pid}/status"))
        a = int(fields["RssAnon"].split()[0])
        f = int(fields["RssFile"].split()[0]) + int(fields["RssShmem"].split()[0])
        anon, filed, total = max(anon, a), max(filed, f), max(total, a + f)
    except (OSError, KeyError, ValueError):
        pass
    time.sleep(0.02)
open(out, "w").write(f"{anon * 1024} {filed * 1024} {total * 1024}")
sys.exit(child.returncode)
PY
  local end=$(date +%s.%N)
  read -r anon filed total < "$peaks" || true
  awk -v s="$start" -v e="$end" -v anon="$anon" -v filed="$filed" -v total="$total" -v peak="$(cat "$peak_file")" -v lim="$limit" \
    'BEGIN { printf "  %.1f s; the cgroup'"'"'s peak %.0f MB of the %.0f MB limit; the process'"'"'s peak RSS %.0f MB (at most %.0f MB anonymous, %.0f MB of mapped file pages)\n", e - s, peak / 1048576, lim / 1048576, total / 1048576, anon / 1048576, filed / 1048576 }'
}

mkdir -p "$work"
echo "making $copies copies of MNIST as CSV in $work ..."
"$python" "$here/big_mnist_csv.py" "$mnist" "$work/train.csv" "$copies" --test "$work/test.csv"
csv_bytes=$(stat -c %s "$work/train.csv")
echo "nabla convert: $((csv_bytes >> 20)) MB of CSV, limit $limit_mb MB"
in_limit "$nabla" convert "$work/train.csv" "$work/train.npy"
"$nabla" convert "$work/test.csv" "$work/test.npy" > /dev/null
rm -f "$work/train.csv" "$work/test.csv"
npy_bytes=$(stat -c %s "$work/train.npy")
echo "nabla train: $((npy_bytes >> 20)) MB of features ($(awk -v a="$npy_bytes" -v b="$limit" 'BEGIN { printf "%.1f", a / b }')× the limit), limit $limit_mb MB"
in_limit "$nabla" train --data "$work/train.npy" --labels "$work/train.labels.npy" \
  --test "$work/test.npy" --test-labels "$work/test.labels.npy" --hidden 128 --epochs "$epochs" \
  --save "$work/model.safetensors" "$@" 2>&1 | tee "$work/train.log"
# It trained, and learnt: 784-128-10 on shifted MNIST reaches 0.97 in one epoch.
accuracy=$(sed -n 's/^test accuracy: \([0-9.]*\).*/\1/p' "$work/train.log")
read -r anon filed total < "$work/peaks" || true
if ! awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.95) }'; then
  echo "out_of_core.sh: test accuracy '$accuracy', expected at least 0.95" >&2; exit 1
fi
# Its own memory stayed under the limit. (Its whole RSS also counts mapped file pages, which the
# cgroup keeps under the limit by evicting them, but which may be charged to another cgroup:
# the binary's own pages, say. It is reported above, not checked.)
if [ "$anon" -ge "$limit" ]; then
  echo "out_of_core.sh: the process's anonymous memory reached $anon bytes, over the limit" >&2; exit 1
fi
[ -n "${KEEP:-}" ] || rm -rf "$work"
