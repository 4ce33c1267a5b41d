"""nabla's Python package: scikit-learn's own estimator checks, the scikit-learn tools a user
combines estimators with, the refusal, explain and loss, pickling, model files shared with the
command line, the GIL and Ctrl-C."""

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification, make_multilabel_classification, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import nabla

REPO = Path(__file__).resolve().parents[2]
BINARY = REPO / "target" / "release" / "nabla"


@parametrize_with_checks([nabla.MLPClassifier(), nabla.MLPRegressor()])
def test_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


def test_fits_and_scores_like_an_mlp():
    X, y = digits()
    model = nabla.MLPClassifier(hidden_layer_sizes=(64,), random_state=0, max_iter=30).fit(X, y)
    assert model.score(X, y) > 0.93
    assert model.classes_.tolist() == list(range(10))
    assert [c.shape for c in model.coefs_] == [(64, 64), (64, 10)]
    assert len(model.loss_curve_) == model.n_iter_ == 30
    probabilities = model.predict_proba(X[:5])
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    assert np.allclose(np.exp(model.predict_log_proba(X[:5])), probabilities, atol=1e-6)


def test_scikit_learn_tools_take_it():
    X, y = digits()
    scores = cross_val_score(nabla.MLPClassifier(hidden_layer_sizes=(32,), max_iter=50, random_state=0), X, y, cv=3)
    assert scores.mean() > 0.85
    search = GridSearchCV(
        nabla.MLPClassifier(max_iter=100, random_state=0),
        {"hidden_layer_sizes": [(16,), (32,)], "alpha": [1e-4, 1e-2]},
        cv=2,
    ).fit(X, y)
    assert search.best_score_ > 0.8
    pipeline = make_pipeline(StandardScaler(), nabla.MLPClassifier(max_iter=20, random_state=0)).fit(X * 16, y)
    assert pipeline.score(X * 16, y) > 0.95


def test_an_unsound_pairing_is_refused_with_the_reason_and_the_fix():
    X, y = digits()
    with pytest.raises(ValueError) as refused:
        nabla.MLPClassifier(output_activation="relu").fit(X, y)
    message = str(refused.value)
    assert "refused: a ReLU output cannot feed categorical cross-entropy" in message
    assert "Fix: use a softmax output" in message
    cli = subprocess.run(
        [BINARY, "train", "--output", "relu", "--loss", "cross-entropy"], capture_output=True, text=True
    )
    assert cli.returncode == 2 and message.splitlines()[0] in cli.stderr


def test_a_target_beyond_float32_is_named():
    X = np.random.default_rng(0).random((20, 3))
    y = np.arange(20, dtype=np.float64)
    y[7] = 1e39
    with pytest.raises(ValueError, match=r"y\[7, 0\] = 1e\+39 is beyond float32's range"):
        nabla.MLPRegressor(max_iter=2).fit(X, y)


def test_a_tolerance_that_is_not_a_number_is_refused():
    X, y = digits()
    with pytest.raises(ValueError, match="tol"):
        nabla.MLPClassifier(tol=float("nan"), max_iter=2).fit(X, y)


def test_explain_and_loss():
    derivation = nabla.explain("relu", "binary-cross-entropy")
    assert derivation["compatible"] is False
    assert derivation["gradient"]["text"] == "∂C/∂wⱼ = (1/n) Σₓ (z − y)·xⱼ/(z·(1 − z))"
    assert "output is dead" in derivation["undefined_where"][0]
    assert derivation._repr_markdown_().startswith("### ")
    assert derivation._repr_latex_().isascii()
    assert "Machine-checked" in str(derivation)
    with pytest.raises(ValueError, match="a check takes from 1 to 1000000 points"):
        nabla.explain("sigmoid", points=10**12)
    identity = nabla.explain("identity")
    assert identity["from"] == "logits" and identity["compatible"] is True
    value, gradient = nabla.loss("cross-entropy", [[1000.0, -1000.0]], [1], from_="logits")
    assert value == 2000.0 and gradient.tolist() == [[1.0, -1.0]]
    with pytest.raises(ValueError):
        nabla.loss("cross-entropy", [[0.5, 0.5]], [7])
    with pytest.raises(ValueError, match="output holds nan: the loss contract takes finite numbers"):
        nabla.loss("cross-entropy", [[float("nan"), 0.5]], [1], from_="logits")


def test_pickle_round_trips_exactly_and_partial_fit_continues():
    X, y = digits()
    model = nabla.MLPClassifier(hidden_layer_sizes=(32,), random_state=1, max_iter=5).fit(X, y)
    back = pickle.loads(pickle.dumps(model))
    assert np.array_equal(back.predict_proba(X), model.predict_proba(X))
    back.partial_fit(X, y)
    assert back.n_iter_ == 1 and back.score(X, y) > 0.5
    stream = nabla.MLPClassifier(hidden_layer_sizes=(32,), random_state=0)
    stream.partial_fit(X[:500], y[:500], classes=np.arange(10))
    stream.partial_fit(X[500:], y[500:])
    assert stream.n_iter_ == 2 and stream.classes_.tolist() == list(range(10))


def test_multi_label_and_regression():
    X, Y = make_multilabel_classification(n_samples=400, n_features=10, n_classes=4, random_state=0)
    model = nabla.MLPClassifier(max_iter=200, random_state=0).fit(X.astype(np.float32) / X.max(), Y)
    assert model.predict(X[:3] / X.max()).shape == (3, 4)
    assert model.score(X / X.max(), Y) > 0.3
    X, y = make_regression(n_samples=400, n_features=8, noise=1.0, random_state=0)
    y = y + 100
    regressor = nabla.MLPRegressor(hidden_layer_sizes=(32,), max_iter=300, random_state=0).fit(X, y)
    assert regressor.score(X, y) > 0.95
    assert abs(regressor.predict(X[:50]).mean() - y[:50].mean()) < 10


def digits_table(tmp_path):
    """The digits as a CSV file with a header (for the command line), and as X, y."""
    X, y = digits()
    table = tmp_path / "digits.csv"
    header = ",".join(f"p{j}" for j in range(64)) + ",label"
    np.savetxt(table, np.column_stack([X, y]), delimiter=",", header=header, comments="", fmt="%.6g")
    return table, X, y


def test_model_files_are_shared_with_the_command_line(tmp_path):
    table, X, y = digits_table(tmp_path)
    # Python → CLI: the same accuracy.
    model = nabla.MLPClassifier(hidden_layer_sizes=(32,), random_state=0, max_iter=10).fit(X, y)
    path = tmp_path / "python.safetensors"
    model.save(path)
    scored = subprocess.run(
        [BINARY, "evaluate", path, "--data", table, "--json"], capture_output=True, text=True, check=True
    )
    import json

    assert abs(json.loads(scored.stdout)["accuracy"] - model.score(X, y)) < 1e-12
    # CLI → Python: the same accuracy on the CLI's held-out rows.
    cli_model = tmp_path / "cli.safetensors"
    subprocess.run(
        [BINARY, "train", "--data", table, "--epochs", "5", "--save", cli_model, "--test-split", "0"],
        capture_output=True, check=True,
    )
    loaded = nabla.load(cli_model)
    scored = subprocess.run(
        [BINARY, "evaluate", cli_model, "--data", table, "--split", "all", "--json"],
        capture_output=True, text=True, check=True,
    )
    assert loaded.classes_.tolist() == list(range(10))
    # Its parameters describe the file's network (the CLI's 128 units), so clone rebuilds it.
    assert loaded.get_params()["hidden_layer_sizes"] == (128,)
    assert loaded.get_params()["activation"] == "relu"
    from sklearn.base import clone

    assert clone(loaded).set_params(max_iter=1).fit(X, y)._fitted.hidden_sizes == [128]
    # The CLI standardised its inputs; the model file carries that normalisation and the
    # Python estimator applies it too.
    assert abs(json.loads(scored.stdout)["accuracy"] - loaded.score(X, y)) < 1e-12


def test_a_bfloat16_model_file_is_half_the_size_and_scores_the_same_in_the_cli(tmp_path):
    table, X, y = digits_table(tmp_path)
    model = nabla.MLPClassifier(hidden_layer_sizes=(256,), random_state=0, max_iter=10).fit(X, y)
    full, half = tmp_path / "f32.safetensors", tmp_path / "bf16.safetensors"
    model.save(full)
    model.save(half, dtype="bfloat16")
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = nabla.load(half)
    # Each weight within half a bf16 ulp (2^-8 relative) of the original.
    for ours, theirs in zip(loaded.coefs_, model.coefs_):
        assert np.all(np.abs(ours - theirs) <= np.abs(theirs) * 2.0**-8)
    import json

    scored = subprocess.run(
        [BINARY, "evaluate", half, "--data", table, "--json"], capture_output=True, text=True, check=True
    )
    assert abs(json.loads(scored.stdout)["accuracy"] - loaded.score(X, y)) < 1e-12
    assert abs(loaded.score(X, y) - model.score(X, y)) < 0.01
    with pytest.raises(ValueError, match="not one of f32, bf16"):
        model.save(tmp_path / "x.safetensors", dtype="float8")


def test_convert_streams_a_csv_table_into_npy_files_numpy_reads(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n0.5,1,0\n2,-3,1\n4,5,2\n")
    done = nabla.convert(table, tmp_path / "t.npy")
    assert done["rows"] == 3 and done["features"] == ["a", "b"] and done["labels"] == ["label"]
    np.testing.assert_array_equal(np.load(tmp_path / "t.npy"), [[0.5, 1], [2, -3], [4, 5]])
    np.testing.assert_array_equal(np.load(done["labels_out"]), [0, 1, 2])
    (tmp_path / "bad.csv").write_text("a,b,label\n1,2,cat\n")
    with pytest.raises(ValueError, match="line 2: label 'cat' is not a number"):
        nabla.convert(tmp_path / "bad.csv", tmp_path / "bad.npy")
    assert not (tmp_path / "bad.npy").exists()


def test_training_releases_the_gil():
    X, y = digits()
    X = np.tile(X, (8, 1))
    y = np.tile(y, 8)
    counted = [0]
    done = threading.Event()

    def count():
        while not done.is_set():
            counted[0] += 1

    thread = threading.Thread(target=count)
    thread.start()
    nabla.MLPClassifier(hidden_layer_sizes=(128,), max_iter=5, random_state=0, threads=1).fit(X, y)
    done.set()
    thread.join()
    assert counted[0] > 10_000


def test_fit_reads_float32_c_contiguous_x_in_place():
    # The peak resident memory of a fresh process, before and after a fit on 256 MB of X: a
    # copy of X would raise it by 256 MB.
    script = textwrap.dedent(
        """
        import resource, numpy as np, nabla
        X = np.random.default_rng(0).random((65536, 1024), dtype=np.float32)
        y = (X[:, 0] > 0.5).astype(int)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        model = nabla.MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, batch_size=4096, random_state=0)
        model.fit(X, y)
        model.partial_fit(X, y)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) // 1024, model.n_iter_)
        """
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, check=True)
    grown_mb, epochs = map(int, out.stdout.split())
    assert epochs == 2
    assert grown_mb < 64, f"peak memory grew by {grown_mb} MB: X was copied"


def test_parallel_searches_divide_the_cores_as_joblib_says():
    # joblib sets OMP_NUM_THREADS in each worker of GridSearchCV(n_jobs=...) to its share of the
    # cores; nabla's fits follow it unless threads= is given.
    script = "import nabla; e = nabla.MLPClassifier(); print(e._spec()['threads'], nabla.MLPClassifier(threads=3)._spec()['threads'])"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["1", "3"]
    env.pop("OMP_NUM_THREADS")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["None", "3"]


def test_another_thread_cannot_resize_x_while_fit_reads_it():
    # X is read in place; resizing it in place (even with refcheck=False) would free the
    # memory under the training and crash the interpreter. NumPy refuses while fit runs.
    script = textwrap.dedent(
        """
        import threading, time, numpy as np, nabla
        X = np.random.default_rng(0).random((50000, 64), dtype=np.float32)
        y = (X[:, 0] > 0.5).astype(int)
        refused, resized, done = [0], [0], threading.Event()

        def resize():
            done.wait(0.2)  # once fit is under way (validate_data has run)
            while not done.is_set():
                try:
                    X.resize((1, 1), refcheck=False)
                    resized[0] += 1
                except ValueError:
                    refused[0] += 1
                time.sleep(0.001)

        thread = threading.Thread(target=resize)
        model = nabla.MLPClassifier(hidden_layer_sizes=(32,), max_iter=100, tol=0, random_state=0, threads=1)
        thread.start()
        try:
            model.fit(X, y)
        finally:
            done.set()
        thread.join()
        print(refused[0], resized[0], model.n_iter_)
        """
    )
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    refused, resized, epochs = map(int, out.stdout.split())
    # Refused while fit ran; a resize after fit returned (before `done`) is harmless.
    assert refused > 0 and epochs > 0


def test_ctrl_c_raises_keyboard_interrupt_within_a_batch_and_leaves_the_estimator_usable():
    script = textwrap.dedent(
        """
        import time, numpy as np, nabla
        X = np.random.default_rng(0).random((20000, 200), dtype=np.float32)
        y = (X[:, 0] > 0.5).astype(int)
        model = nabla.MLPClassifier(hidden_layer_sizes=(256, 256), max_iter=1000, random_state=0)
        print("fitting", flush=True)
        try:
            model.fit(X, y)
        except KeyboardInterrupt:
            print("interrupted", time.monotonic(), flush=True)
        model.set_params(max_iter=1)
        model.fit(X[:200], y[:200])
        print("usable", model.n_iter_, flush=True)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "fitting"
    time.sleep(1.0)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    lines = out.split("\n")
    assert lines[0].startswith("interrupted"), out
    assert float(lines[0].split()[1]) - sent < 1.0
    assert lines[1] == "usable 1"
