"""nabla.MLPClassifier against scikit-learn's MLPClassifier and a plain PyTorch loop, in one
process, alternated rounds (this machine has a slow state that halves speed for minutes).

The setting of issue 16: MNIST, the first 54000 training rows (the rest held out, as `nabla
train` holds out 6000 for validation), pixels / 255, 784-128-10 ReLU, Adam at 1e-3, batch 32,
5 epochs (tol 0 so every estimator runs all five), test accuracy on the 10000 test rows.

    python bench/sklearn_compare.py [--rounds 3] [--mnist ../shared/data/mnist]

Needs numpy, scikit-learn and the nabla package (`pip install ./python`); PyTorch is compared
when it is installed, and skipped with the reason otherwise.
"""

import argparse
import warnings
import gzip
import statistics
import struct
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
EPOCHS, BATCH, HIDDEN, RATE, TRAIN_ROWS = 5, 32, 128, 1e-3, 54000


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mnist(directory):
    d = Path(directory)
    X = idx(d / "train-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    y = idx(d / "train-labels-idx1-ubyte.gz").astype(np.int64)
    Xt = idx(d / "t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
    yt = idx(d / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
    return X[:TRAIN_ROWS], y[:TRAIN_ROWS], Xt, yt


def nabla_run(X, y, Xt, yt, seed):
    import nabla

    model = nabla.MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), batch_size=BATCH, learning_rate_init=RATE,
        max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS, random_state=seed,
    )
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start, model.score(Xt, yt)


def sklearn_run(X, y, Xt, yt, seed):
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), batch_size=BATCH, learning_rate_init=RATE,
        max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS, random_state=seed,
    )
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start, model.score(Xt, yt)


def torch_run(X, y, Xt, yt, seed):
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(784, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=RATE)
    loss = torch.nn.CrossEntropyLoss()
    Xs, ys = torch.from_numpy(X), torch.from_numpy(y)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        order = torch.randperm(len(Xs))
        for i in range(0, len(Xs), BATCH):
            rows = order[i : i + BATCH]
            optimizer.zero_grad()
            loss(net(Xs[rows]), ys[rows]).backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (net(torch.from_numpy(Xt)).argmax(1).numpy() == yt).mean()
    return seconds, float(accuracy)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mnist", default=str(HERE.parent.parent / "shared" / "data" / "mnist"))
    args = parser.parse_args()
    if not Path(args.mnist).is_dir():
        print(f"skipped: {args.mnist} is absent (MNIST's four IDX files)")
        return 0
    warnings.simplefilter("ignore")  # ConvergenceWarning: 5 epochs are the setting
    X, y, Xt, yt = mnist(args.mnist)
    contenders = [("nabla.MLPClassifier", nabla_run), ("sklearn MLPClassifier", sklearn_run)]
    try:
        import torch

        torch.set_num_threads(2)
        contenders.append((f"PyTorch {torch.__version__} loop", torch_run))
    except ImportError:
        print("PyTorch is not installed: its column is skipped")
    results = {name: [] for name, _ in contenders}
    for r in range(args.rounds):
        for name, run in contenders:
            seconds, accuracy = run(X, y, Xt, yt, seed=r)
            results[name].append((seconds, accuracy))
            print(f"round {r + 1}: {name:<24} {seconds:7.2f} s  {EPOCHS * TRAIN_ROWS / seconds:9.0f} samples/s  test accuracy {accuracy:.4f}", flush=True)
    print(f"\n{'':<24} {'best s':>8} {'median s':>9} {'samples/s':>10} {'accuracy':>9}  nabla is")
    best_nabla = min(s for s, _ in results["nabla.MLPClassifier"])
    for name, runs in results.items():
        times = [s for s, _ in runs]
        accuracy = statistics.mean(a for _, a in runs)
        ratio = min(times) / best_nabla
        print(f"{name:<24} {min(times):8.2f} {statistics.median(times):9.2f} {EPOCHS * TRAIN_ROWS / min(times):10.0f} {accuracy:9.4f}  {ratio:.2f}× faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
