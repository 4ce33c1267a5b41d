#!/usr/bin/env python3
"""Interoperability checks run by .ci/run in a venv with numpy, safetensors, onnx, onnxruntime.

usage: interop.py NABLA_BINARY

1. nabla models exported to ONNX: onnx.checker accepts them and onnxruntime's outputs agree with
   `nabla predict` to 1e-5, for several activations, heads and normalisations.
2. A safetensors file written by the Python `safetensors` package from numpy arrays loads in
   nabla (with a network config JSON) and predicts what numpy's own forward pass computes.
3. When torch is importable: torch.nn.Sequential loads a nabla model's state dict unchanged
   and predicts the same (skipped, with a note, otherwise).
Prints one line per check and exits 1 on the first disagreement.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from safetensors.numpy import save_file

NABLA = os.path.abspath(sys.argv[1])
TOLERANCE = 1e-5


def nabla(*args, cwd):
    result = subprocess.run([NABLA, *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"nabla {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def write_csv(path, x, y):
    with open(path, "w") as f:
        f.write(",".join(f"f{i}" for i in range(x.shape[1])) + ",label\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(label)}\n")


def predictions(cwd, model, data, *extra, field="probabilities"):
    lines = nabla("predict", "--model", model, "--data", data, "--format", "jsonl", *extra, cwd=cwd).splitlines()
    return np.array([json.loads(line)[field] for line in lines], dtype=np.float64)


def check(name, ok, detail):
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if not ok:
        sys.exit(1)


def onnx_round_trips(work):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype(np.float32) * 3 + 1
    y = (x[:, 0] * x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    write_csv(os.path.join(work, "data.csv"), x, y)
    configs = [
        ["--hidden", "16,8", "--activation", "relu"],
        ["--hidden", "12", "--activation", "tanh", "--output", "log-softmax", "--normalize", "min-max"],
        ["--hidden", "10", "--activation", "gelu", "--output", "identity", "--loss", "cross-entropy", "--from", "logits"],
        ["--hidden", "9", "--activation", "leaky-relu:0.1", "--output", "sigmoid", "--loss", "binary-cross-entropy", "--normalize", "scale:4"],
        ["--hidden", "8", "--activation", "softplus", "--output", "softmax", "--normalize", "none"],
    ]
    for n, flags in enumerate(configs):
        model, exported = f"m{n}.safetensors", f"m{n}.onnx"
        nabla("train", "--data", "data.csv", "--epochs", "5", "--save", model, *flags, cwd=work)
        nabla("export", "--model", model, "--onnx", exported, cwd=work)
        onnx.checker.check_model(onnx.load(os.path.join(work, exported)), full_check=True)
        session = ort.InferenceSession(os.path.join(work, exported), providers=["CPUExecutionProvider"])
        runtime = session.run(["probabilities"], {"features": x})[0].astype(np.float64)
        ours = predictions(work, model, "data.csv")
        if runtime.shape[1] == 1:  # one sigmoid unit: nabla prints [1 − p, p]
            runtime = np.concatenate([1 - runtime, runtime], axis=1)
        worst = float(np.max(np.abs(runtime - ours) / (1 + np.abs(ours))))
        check(f"onnxruntime = nabla predict ({' '.join(flags)})", worst <= TOLERANCE, f"largest difference {worst:.1e}")


def onnx_covers_every_task(work):
    """Multi-label (sigmoid probabilities) and regression (identity values) models export too."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 5)).astype(np.float32)
    with open(os.path.join(work, "tasks.csv"), "w") as f:
        f.write("f0,f1,f2,f3,f4,a,b,c,price\n")
        for row in x:
            labels = [int(row[0] > 0), int(row[1] + row[2] > 0), int(row[3] > 0.5)]
            price = float(3.0 * row[0] - row[4] + 0.1)
            f.write(",".join(repr(float(v)) for v in row) + "," + ",".join(map(str, labels)) + f",{price!r}\n")
    for name, flags, field in [
        ("multi", ["--label-column", "a,b,c"], "probabilities"),
        ("regression", ["--label-column", "price", "--loss", "mse"], "values"),
    ]:
        # The other label columns are not features: drop them by training on a copy without them.
        keep = {"multi": ["a", "b", "c"], "regression": ["price"]}[name]
        path = os.path.join(work, f"{name}.csv")
        with open(os.path.join(work, "tasks.csv")) as source, open(path, "w") as out:
            rows = [line.rstrip("\n").split(",") for line in source]
            header = rows[0]
            columns = [i for i, h in enumerate(header) if h.startswith("f") or h in keep]
            for row in rows:
                out.write(",".join(row[i] for i in columns) + "\n")
        model, exported = f"{name}.safetensors", f"{name}.onnx"
        nabla("train", "--data", f"{name}.csv", "--epochs", "5", "--hidden", "8", "--save", model, *flags, cwd=work)
        nabla("export", "--model", model, "--onnx", exported, cwd=work)
        onnx.checker.check_model(onnx.load(os.path.join(work, exported)), full_check=True)
        session = ort.InferenceSession(os.path.join(work, exported), providers=["CPUExecutionProvider"])
        runtime = session.run([field], {"features": x})[0].astype(np.float64)
        ours = predictions(work, model, f"{name}.csv", field=field)
        worst = float(np.max(np.abs(runtime - ours) / (1 + np.abs(ours))))
        check(f"onnxruntime = nabla predict ({name}: {field})", worst <= TOLERANCE, f"largest difference {worst:.1e}")


def safetensors_from_numpy(work):
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(7, 4)).astype(np.float32)
    b0 = rng.normal(size=(7,)).astype(np.float32)
    w1 = rng.normal(size=(3, 7)).astype(np.float32)
    b1 = rng.normal(size=(3,)).astype(np.float32)
    save_file({"0.weight": w0, "0.bias": b0, "2.weight": w1, "2.bias": b1}, os.path.join(work, "numpy.safetensors"))
    config = {"inputs": 4, "hidden": [7], "hidden_activation": "relu", "outputs": 3,
              "output_activation": "softmax", "loss": {"kind": "cross-entropy", "from": "probabilities"}}
    with open(os.path.join(work, "numpy.json"), "w") as f:
        json.dump(config, f)
    x = rng.normal(size=(50, 4)).astype(np.float32)
    write_csv(os.path.join(work, "numpy.csv"), x, np.zeros(50))
    hidden = np.maximum(x.astype(np.float64) @ w0.T + b0, 0)
    logits = hidden @ w1.T + b1
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    ours = predictions(work, "numpy.safetensors", "numpy.csv", "--config", "numpy.json")
    worst = float(np.max(np.abs(ours - expected)))
    check("safetensors written by Python loads in nabla", worst <= TOLERANCE, f"largest difference from numpy {worst:.1e}")


def torch_loads_nabla(work):
    try:
        import torch
        from safetensors.torch import load_file
    except ImportError:
        print("skip torch: not installed (the check needs torch; .ci/run installs only light packages)")
        return
    nabla("train", "--data", "data.csv", "--hidden", "16,8", "--epochs", "3", "--normalize", "none", "--save", "t.safetensors", cwd=work)
    model = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    model.load_state_dict(load_file(os.path.join(work, "t.safetensors")))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype(np.float32) * 3 + 1
    with torch.no_grad():
        theirs = torch.softmax(model(torch.from_numpy(x)), dim=1).double().numpy()
    worst = float(np.max(np.abs(theirs - predictions(work, "t.safetensors", "data.csv"))))
    check("torch.nn.Sequential loads a nabla model unchanged", worst <= TOLERANCE, f"largest difference {worst:.1e}")


with tempfile.TemporaryDirectory() as work:
    onnx_round_trips(work)
    onnx_covers_every_task(work)
    safetensors_from_numpy(work)
    torch_loads_nabla(work)
print("interop: all checks passed")
