#!/usr/bin/env python3
"""nabla against scikit-learn on every kind of target, on the same split of real data.

usage: sklearn_tasks.py NABLA_BINARY [--seeds N]

Tasks (all data ships with scikit-learn, nothing is downloaded):
  multi-label   the 8×8 digits, four yes/no properties of each digit: even, above 4, round
                (0, 6, 8, 9), prime (2, 3, 5, 7); scored by micro-F1
  distribution  the 8×8 digits with soft targets: the votes of five simulated annotators, each
                right with probability 0.8; scored by accuracy against the vote's arg-max
                (scikit-learn's MLPClassifier cannot take probability targets: it trains on the
                arg-max)
  regression    the diabetes progression data (442 patients, 10 features); scored by R²

Both sides: one hidden layer of 100 ReLU units (scikit-learn's default) with Glorot-uniform
weights (scikit-learn's init; nabla's --init xavier-uniform), Adam at 0.001,
batches of 200, at most 200 epochs with early stopping on 10 % of the training rows (patience
10, the best weights kept: nabla's --patience, scikit-learn's early_stopping=True), features
standardised with the training rows, and for the regression the target too (nabla does that by
default; scikit-learn through TransformedTargetRegressor). scikit-learn with its defaults
otherwise (alpha 1e-4). The split is 80/20, seeded; each seed makes a new split and new weights.
Prints a Markdown table of means over the seeds.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_digits
from sklearn.metrics import accuracy_score, f1_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("nabla")
parser.add_argument("--seeds", type=int, default=5)
args = parser.parse_args()
NABLA = os.path.abspath(args.nabla)


def write_csv(path, x, y, names):
    with open(path, "w") as f:
        f.write(",".join([f"x{i}" for i in range(x.shape[1])] + names) + "\n")
        for row, target in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + "," + ",".join(repr(float(v)) for v in np.atleast_1d(target)) + "\n")


def nabla_train(work, x_train, y_train, x_test, y_test, names, seed, flags):
    write_csv(os.path.join(work, "train.csv"), x_train, y_train, names)
    write_csv(os.path.join(work, "test.csv"), x_test, y_test, names)
    result = subprocess.run(
        [NABLA, "train", "--data", "train.csv", "--test", "test.csv", "--label-column", ",".join(names),
         "--hidden", "100", "--epochs", "200", "--batch", "200", "--validation-split", "0.1",
         "--patience", "10", "--init", "xavier-uniform",
         "--seed", str(seed), *flags],
        cwd=work, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"nabla failed: {result.stderr}")
    last = result.stdout.strip().splitlines()[-1]
    return {name: float(value) for name, value in re.findall(r"test ([^:]+): (-?[0-9.]+)", last)}


def digits_properties():
    digits = load_digits()
    d = digits.target
    y = np.stack([d % 2 == 0, d > 4, np.isin(d, [0, 6, 8, 9]), np.isin(d, [2, 3, 5, 7])], axis=1).astype(float)
    return digits.data, y, ["even", "big", "round", "prime"]


def digits_votes(seed):
    digits = load_digits()
    rng = np.random.default_rng(seed)
    votes = np.zeros((len(digits.target), 10))
    for _ in range(5):
        right = rng.random(len(digits.target)) < 0.8
        said = np.where(right, digits.target, rng.integers(0, 10, len(digits.target)))
        votes[np.arange(len(said)), said] += 1
    return digits.data, votes / 5, [f"p{k}" for k in range(10)]


rows = []
for task in ["multi-label", "distribution", "regression"]:
    ours, theirs = [], []
    for seed in range(args.seeds):
        if task == "multi-label":
            x, y, names = digits_properties()
        elif task == "distribution":
            x, y, names = digits_votes(seed)
        else:
            data = load_diabetes()
            x, y, names = data.data, data.target, ["progression"]
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=seed)
        scaler = StandardScaler().fit(x_train)
        with tempfile.TemporaryDirectory() as work:
            if task == "multi-label":
                score = nabla_train(work, x_train, y_train, x_test, y_test, names, seed, [])["micro-F1"]
                model = MLPClassifier(hidden_layer_sizes=(100,), batch_size=200, max_iter=200, early_stopping=True, random_state=seed)
                model.fit(scaler.transform(x_train), y_train.astype(int))
                reference = f1_score(y_test.astype(int), model.predict(scaler.transform(x_test)), average="micro")
            elif task == "distribution":
                score = nabla_train(work, x_train, y_train, x_test, y_test, names, seed, ["--targets", "distribution"])["accuracy"]
                model = MLPClassifier(hidden_layer_sizes=(100,), batch_size=200, max_iter=200, early_stopping=True, random_state=seed)
                model.fit(scaler.transform(x_train), y_train.argmax(axis=1))
                reference = accuracy_score(y_test.argmax(axis=1), model.predict(scaler.transform(x_test)))
            else:
                score = nabla_train(work, x_train, y_train, x_test, y_test, names, seed, ["--loss", "mse"])["R²"]
                model = TransformedTargetRegressor(
                    regressor=MLPRegressor(hidden_layer_sizes=(100,), batch_size=200, max_iter=200, early_stopping=True, random_state=seed),
                    transformer=StandardScaler())
                model.fit(scaler.transform(x_train), y_train)
                reference = r2_score(y_test, model.predict(scaler.transform(x_test)))
        ours.append(score)
        theirs.append(reference)
    metric = {"multi-label": "micro-F1", "distribution": "accuracy (arg-max)", "regression": "R²"}[task]
    rows.append((task, metric, np.mean(ours), np.std(ours), np.mean(theirs), np.std(theirs)))

print(f"| task | metric | nabla | scikit-learn | (means ± spread over {args.seeds} seeds)")
print("|---|---|---|---|")
for task, metric, m, s, rm, rs in rows:
    print(f"| {task} | {metric} | {m:.4f} ± {s:.4f} | {rm:.4f} ± {rs:.4f} |")
