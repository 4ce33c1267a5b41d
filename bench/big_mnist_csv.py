"""Writes MNIST as a CSV table COPIES times over, each copy shifted by a different pixel offset,
for training out of core: `nabla convert` turns it into a `.npy` larger than a memory limit.

    python bench/big_mnist_csv.py MNIST_DIR OUT.csv COPIES [--test TEST.csv]

Columns: 784 pixels (0–255) named p0…p783, then `label`. Copy 0 is MNIST's training set as it
is; copy k > 0 moves every image by one of eight one-pixel offsets (filling with 0). --test also
writes the 10000 test images, unshifted. Needs numpy.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from sklearn_compare import idx  # MNIST's IDX reader (numpy only), beside this script

OFFSETS = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, -1), (1, -1), (-1, 1)]
TOKENS = np.array([f"{i}," for i in range(256)], dtype=object)


def shifted(images, dy, dx):
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[:, yd, xd] = images[:, ys, xs]
    return out


def write(out, images, labels):
    flat = images.reshape(len(images), -1)
    for row, label in zip(flat, labels):
        out.write("".join(TOKENS[row]))
        out.write(f"{label}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist")
    parser.add_argument("out")
    parser.add_argument("copies", type=int)
    parser.add_argument("--test")
    args = parser.parse_args()
    d = Path(args.mnist)
    images = idx(d / "train-images-idx3-ubyte.gz")
    labels = idx(d / "train-labels-idx1-ubyte.gz")
    header = ",".join(f"p{i}" for i in range(784)) + ",label\n"
    with open(args.out, "w") as out:
        out.write(header)
        for k in range(args.copies):
            dy, dx = OFFSETS[k % len(OFFSETS)]
            write(out, shifted(images, dy, dx), labels)
    if args.test:
        with open(args.test, "w") as out:
            out.write(header)
            write(out, idx(d / "t10k-images-idx3-ubyte.gz"), idx(d / "t10k-labels-idx1-ubyte.gz"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
