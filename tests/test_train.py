"""fit(), evaluate(), History, metrics, callbacks and the run folder (issue #4).

Most tests train a tiny tanh MLP on three Gaussian blobs (60 points in 2-d): a few milliseconds per
epoch. The live test at the end checks one SGD step of LeNet-5 against PyTorch.
"""

from __future__ import annotations

import csv
import io
import json
import math
import struct

import numpy as np
import pytest

from lossgrad import checkpoint, losses
from lossgrad.autodiff import Tensor
from lossgrad.data import Loader
from lossgrad.errors import OptionError, ShapeError
from lossgrad.nn import Dense, Dropout, Sequential, Tanh, lenet5, mlp
from lossgrad.optim import SGD, Adam, StepLR
from lossgrad.runs import (
    CONFIG,
    CURVES,
    DPI,
    METRICS_CSV,
    METRICS_JSON,
    PANEL,
    RunFolder,
)
from lossgrad.train import (
    Accuracy,
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    TopKAccuracy,
    evaluate,
    fit,
)
from lossgrad.train import metrics as metrics_module
from lossgrad.train.progress import Bar, Lines, Silent, display
from tests.torch_models import torch_lenet5

LOSS = "sparse_softmax_cross_entropy"


def blobs(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs, labels 0, 1, 2 in turn."""
    rng = np.random.default_rng(seed)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    y = np.arange(n) % 3
    return (centers[y] + rng.normal(scale=0.8, size=(n, 2))).astype(np.float32), y


def net(seed: int = 0, dropout: bool = False) -> Sequential:
    rng = np.random.default_rng(seed)
    middle = [Dropout(0.2, rng=rng)] if dropout else []
    return Sequential(Dense(2, 8, rng=rng), Tanh(), *middle, Dense(8, 3, rng=rng))


def train(model, epochs=3, validation=None, **options) -> History:
    options = {"batch_size": 16, "seed": 0, "verbose": 0, **options}
    optimizer = options.pop("optimizer", None) or SGD(model.parameters(), lr=0.1, momentum=0.9)
    return fit(model, options.pop("loss", LOSS), optimizer, blobs(), validation, epochs=epochs,
               **options)


def without_time(history: History) -> dict:
    return {key: values for key, values in history.history.items() if key != "time"}


def assert_same_weights(a, b) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for name in sa:
        assert sa[name].tobytes() == sb[name].tobytes(), name


class Snapshots(Callback):
    """Each epoch's weights, taken before ModelCheckpoint runs."""

    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, run, logs):
        self.weights[run.epoch] = run.model.state_dict()


def wrong_labels() -> tuple[np.ndarray, np.ndarray]:
    """The training points with shifted labels: their loss grows as the model learns."""
    x, y = blobs()
    return x, (y + 1) % 3


# ---------------------------------------------------------------------------------------------
# History


def test_history_keys_lengths_and_epochs():
    history = train(net(), epochs=3, validation=blobs(30, seed=1),
                    metrics=["accuracy", "top_2_accuracy"])
    assert history.keys() == ["loss", "accuracy", "top_2_accuracy", "val_loss", "val_accuracy",
                              "val_top_2_accuracy", "lr", "time"]
    assert history.epoch == [1, 2, 3] and len(history) == 3
    assert all(len(values) == 3 for values in history.history.values())
    assert history["lr"] == [0.1, 0.1, 0.1]
    assert all(t > 0 for t in history["time"])
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.9  # the blobs are separable


def test_train_loss_is_the_sample_weighted_mean_over_the_epoch():
    # lr 0: the weights never move, so the epoch's running mean over batches of 16, 16, 16 and 12
    # is the full-batch loss, and validation on the same data gives the same numbers.
    model = net()
    x, y = blobs()
    history = train(model, epochs=1, validation=(x, y),
                    optimizer=SGD(model.parameters(), lr=0.0))
    outputs = model(Tensor(x)).data
    full = losses.sparse_softmax_cross_entropy(outputs, y)
    assert history["loss"][0] == pytest.approx(float(full), rel=1e-6)
    assert history["val_loss"][0] == pytest.approx(float(full), rel=1e-6)
    assert history["accuracy"][0] == np.mean(outputs.argmax(axis=1) == y)


def test_lr_is_logged_per_epoch_as_the_scheduler_sets_it():
    model = net()
    optimizer = SGD(model.parameters(), lr=0.1)
    history = train(model, epochs=3, optimizer=optimizer,
                    scheduler=StepLR(optimizer, step_size=1, gamma=0.5))
    assert history["lr"] == [0.1, 0.05, 0.025]


def test_a_batch_scheduler_steps_once_per_batch():
    model = net()
    optimizer = SGD(model.parameters(), lr=0.1)
    history = train(model, epochs=2, optimizer=optimizer, scheduler_step="batch",
                    scheduler=StepLR(optimizer, step_size=1, gamma=0.5))
    assert history["lr"] == [0.1, 0.1 * 0.5**4]  # 60 samples in batches of 16: 4 steps


def test_history_json_round_trip_keeps_order_and_nan():
    history = History()
    history.append(1, {"loss": math.nan, "accuracy": 0.5, "lr": 0.1})
    history.append(2, {"loss": 1.5, "accuracy": 0.75, "lr": 0.1})
    document = json.loads(json.dumps(history.to_json(), sort_keys=True))
    back = History.from_json(document)
    assert back.keys() == ["loss", "accuracy", "lr"] and back.epoch == [1, 2]
    assert math.isnan(back["loss"][0]) and back["loss"][1] == 1.5
    assert history.rows()[0] == {"epoch": 1, "loss": None, "accuracy": 0.5, "lr": 0.1}


def test_history_refuses_a_change_of_names():
    history = History()
    history.append(1, {"loss": 1.0})
    with pytest.raises(OptionError, match="log the same names"):
        history.append(2, {"loss": 1.0, "accuracy": 0.5})


# ---------------------------------------------------------------------------------------------
# reproducibility and resuming


def test_same_seed_same_history_and_weights_bit_for_bit():
    a, b, c = net(dropout=True), net(dropout=True), net(dropout=True)
    ha = train(a, epochs=3, validation=blobs(30, seed=1))
    hb = train(b, epochs=3, validation=blobs(30, seed=1))
    assert without_time(ha) == without_time(hb)
    assert_same_weights(a, b)
    hc = train(c, epochs=3, validation=blobs(30, seed=1), seed=1)
    assert without_time(hc) != without_time(ha)


def resumable(seed_of_init: int = 0):
    """A model with Dropout (a generator of its own), Adam and a StepLR: every kind of state."""
    model = net(seed_of_init, dropout=True)
    optimizer = Adam(model.parameters(), lr=0.05)
    return model, optimizer, StepLR(optimizer, step_size=1, gamma=0.7)


def test_two_plus_two_epochs_equal_four_bit_for_bit(tmp_path):
    # the validation loss grows as the model learns (see wrong_labels)
    def stopper():
        return EarlyStopping("val_loss", patience=10, restore_best_weights=True)

    model, optimizer, scheduler = resumable()
    straight_stop = stopper()
    straight = train(model, epochs=4, validation=wrong_labels(), optimizer=optimizer,
                     scheduler=scheduler, callbacks=[straight_stop])

    first, optimizer1, scheduler1 = resumable()
    train(first, epochs=2, validation=wrong_labels(), optimizer=optimizer1,
          scheduler=scheduler1, callbacks=[stopper(), ModelCheckpoint(tmp_path)])
    # a fresh process would build everything anew, even with other initial weights
    second, optimizer2, scheduler2 = resumable(seed_of_init=99)
    resumed_stop = stopper()
    resumed = train(second, epochs=4, validation=wrong_labels(), optimizer=optimizer2,
                    scheduler=scheduler2, resume=tmp_path,
                    callbacks=[resumed_stop, ModelCheckpoint(tmp_path)])

    assert without_time(resumed) == without_time(straight) and resumed.epoch == [1, 2, 3, 4]
    # the best epoch came before the interruption: only a restored EarlyStopping knows it
    assert straight_stop.best_epoch <= 2
    assert resumed_stop.state_dict()["meta"] == straight_stop.state_dict()["meta"]
    assert_same_weights(second, model)
    for a, b in zip(optimizer2.state, optimizer.state):
        assert a["step"] == b["step"]
        assert a["exp_avg"].tobytes() == b["exp_avg"].tobytes()
    assert scheduler2.get_last_lr() == scheduler.get_last_lr()


def test_resuming_a_finished_run_trains_nothing(tmp_path):
    model = net()
    train(model, epochs=2, callbacks=[ModelCheckpoint(tmp_path)])
    again = net(seed=5)
    history = train(again, epochs=2, resume=tmp_path, callbacks=[ModelCheckpoint(tmp_path)])
    assert history.epoch == [1, 2]
    assert_same_weights(again, model)


def test_resume_refuses_a_weights_only_checkpoint(tmp_path):
    checkpoint.save(tmp_path, net().state_dict())
    with pytest.raises(OptionError, match="holds weights only"):
        train(net(), epochs=2, resume=tmp_path)


def test_resume_refuses_other_callbacks_and_another_model(tmp_path):
    train(net(), epochs=1, callbacks=[ModelCheckpoint(tmp_path)])
    with pytest.raises(OptionError, match="same callbacks"):
        train(net(), epochs=2, resume=tmp_path, callbacks=[EarlyStopping("loss")])
    with pytest.raises(ShapeError, match="has shape"):
        train(mlp([2, 4, 3], rng=0), epochs=2, resume=tmp_path,
              callbacks=[ModelCheckpoint(tmp_path)])


def test_resume_refuses_other_logged_names(tmp_path):
    train(net(), epochs=1, callbacks=[ModelCheckpoint(tmp_path)])
    with pytest.raises(OptionError, match="same metrics and validation"):
        train(net(), epochs=2, resume=tmp_path, validation=blobs(30, seed=1),
              callbacks=[ModelCheckpoint(tmp_path)])


# ---------------------------------------------------------------------------------------------
# callbacks


def test_early_stopping_counts_patience():
    # lr 0: the loss never improves after epoch 1 (by more than the rounding of a reshuffled
    # sum), so patience 2 stops after epoch 3.
    model = net()
    stop = EarlyStopping("loss", patience=2, min_delta=1e-6)
    history = train(model, epochs=10, optimizer=SGD(model.parameters(), lr=0.0), callbacks=[stop])
    assert history.epoch == [1, 2, 3]
    assert (stop.best_epoch, stop.stopped_epoch, stop.wait) == (1, 3, 2)


def test_early_stopping_restores_the_best_weights():
    model, snapshots = net(), Snapshots()
    stop = EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    history = train(model, epochs=10, validation=wrong_labels(), callbacks=[stop, snapshots])
    best = 1 + int(np.argmin(history["val_loss"]))
    assert best < history.epoch[-1] == best + 2  # stopped by patience, after the best epoch
    assert stop.best_epoch == best
    for name, value in model.state_dict().items():
        assert value.tobytes() == snapshots.weights[best][name].tobytes(), name


def test_early_stopping_accuracy_is_maximised_and_min_delta_counts():
    assert EarlyStopping("val_accuracy").monitor.maximize
    monitor = EarlyStopping("loss", min_delta=0.5).monitor
    assert monitor.improved({"loss": 2.0}) and not monitor.improved({"loss": 1.6})
    assert monitor.improved({"loss": 1.4}) and not monitor.improved({"loss": math.nan})


@pytest.mark.parametrize("callback", [EarlyStopping("val_loss"),
                                      ModelCheckpoint("unused", save_best_only=True)],
                         ids=["EarlyStopping", "ModelCheckpoint"])
def test_a_monitor_that_is_not_logged_is_refused_before_training(callback):
    model = net()
    before = model.state_dict()
    with pytest.raises(OptionError, match="'val_loss' is not logged"):
        train(model, epochs=1, callbacks=[callback])
    assert all(np.array_equal(v, model.state_dict()[k]) for k, v in before.items())


def test_model_checkpoint_saves_every_epoch(tmp_path):
    model = net()
    train(model, epochs=3, callbacks=[ModelCheckpoint(tmp_path, meta={"note": "kept"})])
    tensors, meta = checkpoint.load(tmp_path)
    assert meta["training"]["epoch"] == 3 and meta["note"] == "kept"
    for name, value in model.state_dict().items():
        assert tensors[name].tobytes() == value.tobytes()
    assert any(name.startswith("optimizer/state/") for name in tensors)


def test_model_checkpoint_save_best_only_keeps_the_best_epoch(tmp_path):
    snapshots = Snapshots()
    history = train(net(), epochs=4, validation=wrong_labels(),
                    callbacks=[snapshots, ModelCheckpoint(tmp_path, save_best_only=True)])
    best = 1 + int(np.argmin(history["val_loss"]))
    assert best < 4
    tensors, meta = checkpoint.load(tmp_path)
    assert meta["training"]["epoch"] == best
    for name, value in snapshots.weights[best].items():
        assert tensors[name].tobytes() == value.tobytes(), name


def test_callbacks_run_in_order_and_see_every_hook():
    seen = []

    class Record(Callback):
        def __init__(self, tag, order=0):
            self.tag, self.order = tag, order

        def on_train_begin(self, run):
            seen.append((self.tag, "begin", run.epoch))

        def on_epoch_end(self, run, logs):
            seen.append((self.tag, "epoch", run.epoch))

        def on_train_end(self, run):
            seen.append((self.tag, "end", run.epoch))

    train(net(), epochs=1, callbacks=[Record("late", order=5), Record("early")])
    assert seen == [("early", "begin", 0), ("late", "begin", 0), ("early", "epoch", 1),
                    ("late", "epoch", 1), ("early", "end", 1), ("late", "end", 1)]


# ---------------------------------------------------------------------------------------------
# the run folder


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_run_folder_files(tmp_path):
    config = {"model": "tiny", "epochs": 3}
    history = train(net(), epochs=3, validation=blobs(30, seed=1),
                    callbacks=[RunFolder(tmp_path / "run", config)])
    folder = tmp_path / "run"
    assert json.loads((folder / CONFIG).read_text()) == config
    rows = list(csv.DictReader(io.StringIO((folder / METRICS_CSV).read_text())))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    for key in history:
        assert [float(r[key]) for r in rows] == history[key], key
    assert json.loads((folder / METRICS_JSON).read_text()) == history.rows()
    panels = 2  # loss and accuracy, each with its validation curve
    assert png_size((folder / CURVES).read_bytes()) == (panels * PANEL[0] * DPI, PANEL[1] * DPI)
    assert not list(folder.glob("*.tmp"))


def test_run_folder_curves_have_one_panel_per_metric(tmp_path):
    train(net(), epochs=2, metrics=["accuracy", "top_2_accuracy"], callbacks=[RunFolder(tmp_path)])
    assert png_size((tmp_path / CURVES).read_bytes())[0] == 3 * PANEL[0] * DPI


# ---------------------------------------------------------------------------------------------
# evaluate


def test_evaluate_is_the_full_data_mean_in_eval_mode():
    model = net(dropout=True)
    x, y = blobs()
    first = evaluate(model, LOSS, (x, y), batch_size=7)
    assert first == evaluate(model, LOSS, (x, y), batch_size=7)  # dropout off: the same twice
    assert first["loss"] == pytest.approx(evaluate(model, LOSS, (x, y))["loss"], rel=1e-6)
    assert model.training  # the mode is restored
    model.eval()
    outputs = model(Tensor(x)).data
    assert first["loss"] == pytest.approx(float(losses.sparse_softmax_cross_entropy(outputs, y)),
                                          rel=1e-6)
    assert first["accuracy"] == np.mean(outputs.argmax(axis=1) == y)


def test_evaluate_records_no_graph():
    recorded = []

    def spy(outputs, targets):
        recorded.append(outputs.requires_grad)
        return losses.get(LOSS)(outputs.data, targets).value.sum() * Tensor(1.0)

    model = net()
    evaluate(model, spy, blobs())
    train(model, epochs=1, validation=blobs(), loss=lambda o, t: spy(o, t) + (o * 0).sum())
    # evaluate: 2 batches of 32; then 4 training and 4 validation batches of 16
    assert recorded == [False] * 2 + [True] * 4 + [False] * 4


# ---------------------------------------------------------------------------------------------
# the step: clipping, losses, data sources


def test_clip_grad_norm_bounds_the_step():
    model = net()
    before = np.concatenate([p.data.ravel() for p in model.parameters()])
    x, y = blobs()
    fit(model, LOSS, SGD(model.parameters(), lr=1.0), (x[:16], y[:16]), epochs=1, batch_size=16,
        clip_grad_norm=1e-3, verbose=0)
    after = np.concatenate([p.data.ravel() for p in model.parameters()])
    assert np.linalg.norm(after - before) == pytest.approx(1e-3, rel=1e-3)


def test_a_logits_loss_thresholds_binary_accuracy_at_zero():
    x, y = blobs()
    targets = (y == 0).astype(np.float32)[:, None]
    model = mlp([2, 8, 1], "tanh", rng=0)
    history = fit(model, "BCEWithLogitsLoss", SGD(model.parameters(), lr=0.0), (x, targets),
                  epochs=1, verbose=0)
    outputs = model(Tensor(x)).data
    assert history["accuracy"][0] == np.mean((outputs > 0) == (targets > 0.5))
    assert history["accuracy"][0] != np.mean((outputs > 0.5) == (targets > 0.5))


def test_a_loss_built_from_engine_ops():
    def mean_squared(outputs, targets):
        return ((outputs - Tensor(targets)) ** 2).mean()

    x, y = blobs()
    targets = np.eye(3, dtype=np.float32)[y]
    model = net()
    history = fit(model, mean_squared, SGD(model.parameters(), lr=0.1, momentum=0.9),
                  (x, targets), (x, targets), epochs=5, verbose=0)
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.9  # one-hot targets: arg-max accuracy


def test_a_loss_must_give_one_value():
    with pytest.raises(ShapeError, match="expected one value"):
        train(net(), epochs=1, loss=lambda outputs, targets: outputs)


def test_data_as_a_loader_or_a_list_of_batches():
    x, y = blobs()
    a, b = net(), net()
    fit(a, LOSS, SGD(a.parameters(), lr=0.1), Loader(x, y, 20, shuffle=False), epochs=2,
        verbose=0)
    fit(b, LOSS, SGD(b.parameters(), lr=0.1), [(x[:20], y[:20]), (x[20:40], y[20:40]),
                                               (x[40:], y[40:])], epochs=2, verbose=0)
    assert_same_weights(a, b)


@pytest.mark.parametrize("options, match", [
    ({"epochs": 0}, "epochs must be an int ≥ 1"),
    ({"metrics": "accuracy"}, "list of names"),
    ({"metrics": ["accuracy", "acc"]}, "unique"),
    ({"metrics": ["f1"]}, "unknown metric"),
    ({"verbose": 3}, "verbose must be"),
    ({"scheduler_step": "step"}, "scheduler_step must be"),
    ({"loss": "no_such_loss"}, "unknown loss"),
], ids=lambda v: str(v) if isinstance(v, dict) else "")
def test_bad_options(options, match):
    with pytest.raises(OptionError, match=match):
        train(net(), **options)


def test_batch_size_is_for_arrays_only():
    x, y = blobs()
    model = net()
    with pytest.raises(OptionError, match="batch_size is for"):
        fit(model, LOSS, SGD(model.parameters(), lr=0.1), Loader(x, y, 10), batch_size=10,
            verbose=0)


# ---------------------------------------------------------------------------------------------
# metrics


def test_accuracy_on_labels_one_hot_and_binary():
    scores = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 3.0], [1.0, 0.0, 0.5]])
    assert Accuracy()(scores, np.array([0, 1, 0])).tolist() == [1, 0, 1]
    assert Accuracy()(scores, np.eye(3)[[0, 2, 1]]).tolist() == [1, 1, 0]
    probs = np.array([0.2, 0.7, 0.5])
    assert Accuracy()(probs, np.array([0.0, 1.0, 1.0])).tolist() == [1, 1, 0]  # 0.5 is not > 0.5
    assert Accuracy()(probs, np.array([-1.0, 1.0, -1.0])).tolist() == [1, 1, 1]  # ±1 targets


def test_top_k_counts_ties_for_the_target():
    scores = np.array([[0.5, 0.5, 0.1], [0.3, 0.2, 0.1]])
    assert TopKAccuracy(1)(scores, np.array([1, 1])).tolist() == [1, 0]
    assert TopKAccuracy(2)(scores, np.array([2, 1])).tolist() == [0, 1]


def test_metric_names():
    assert metrics_module.get("top_k_accuracy").k == 5
    assert metrics_module.get("acc").name == "accuracy"
    with pytest.raises(OptionError):
        TopKAccuracy(0)
    with pytest.raises(ShapeError, match="integer labels"):
        Accuracy()(np.zeros((2, 3)), np.zeros(2))


# ---------------------------------------------------------------------------------------------
# progress


def test_verbose_2_and_a_pipe_print_one_line_per_epoch(capsys):
    train(net(), epochs=2, verbose=1)  # capsys's stdout is not a terminal
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert "loss " in lines[0] and "accuracy " in lines[0]
    train(net(), epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_a_terminal_gets_a_rich_bar():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    assert isinstance(display(1, stream), Bar)
    assert isinstance(display(2, stream), Lines) and type(display(0, stream)) is Silent
    logs = {"loss": 0.25, "accuracy": 0.5}
    with display(1, stream) as shown:
        shown.start_epoch(1, 2, 3)
        for _ in range(3):
            shown.batch_done(logs)
        (task,) = shown.progress.tasks  # what the bar shows at its next refresh
        assert (task.completed, task.total) == (3, 3)
        assert task.fields == {"epoch": "1/2", "logs": "loss 0.2500  accuracy 0.5000"}
        shown.end_epoch(1, 2, logs)
        assert not shown.progress.tasks  # the bar gives way to the epoch's line
    assert "\x1b[" in stream.getvalue()  # a live display drew on the terminal
    assert "epoch 1/2  loss 0.2500  accuracy 0.5000\n" in stream.getvalue()


# ---------------------------------------------------------------------------------------------
# one SGD step of LeNet-5 against PyTorch (live)


@pytest.mark.live
def test_one_sgd_step_of_lenet5_equals_pytorch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 1, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, size=32)
    ours = lenet5(rng=0)
    theirs = torch_lenet5(torch)
    theirs.load_state_dict({name: torch.tensor(a) for name, a in ours.state_dict().items()})

    ours_sgd = SGD(ours.parameters(), lr=0.01, momentum=0.9)
    theirs_sgd = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)
    for step in (1, 2):  # the second step uses the momentum buffer
        fit(ours, "CrossEntropyLoss", ours_sgd, (x, y), epochs=1, batch_size=32, verbose=0)
        theirs_sgd.zero_grad()
        functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        theirs_sgd.step()
        for name, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=0, atol=1e-5,
                                       err_msg=f"step {step}: {name}")


def test_the_default_recipe_reaches_98_percent_on_the_held_out_digits(tmp_path):
    """The issue's bar for `lossgrad train` with no options (seed 0): ≥ 98 % test accuracy. The
    mean over seeds 0–4 is in docs/training.md (tools/train_report.py), too slow for the suite."""
    from lossgrad.train.recipe import Config, train

    result = train(Config(), tmp_path / "run", verbose=0)
    assert result.config.label_smoothing == 0.1 and result.config.epochs == 20
    assert result.test["accuracy"] >= 0.98, result.test


def test_label_smoothing_is_refused_for_a_loss_without_it():
    from lossgrad.train.recipe import Config

    assert Config(loss="hinge").resolved().label_smoothing is None
    with pytest.raises(OptionError, match="takes no label smoothing"):
        Config(loss="multi_margin", label_smoothing=0.1).resolved()
