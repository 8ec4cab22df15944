"""Training: fit(), evaluate(), History, metrics and callbacks (issue #4).

The index: every public name, one line each.

>>> import numpy as np
>>> from lossgrad.nn import mlp
>>> from lossgrad.optim import SGD
>>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
>>> y = np.array([0, 1, 1, 0])
>>> net = mlp([2, 8, 2], "tanh", rng=0)
>>> history = fit(net, "sparse_softmax_cross_entropy", SGD(net.parameters(), lr=0.5), (x, y),
...               epochs=3, batch_size=4, seed=0, verbose=0)
>>> history.keys(), len(history)
(['loss', 'accuracy', 'lr', 'time'], 3)
"""

from .callbacks import Callback, EarlyStopping, ModelCheckpoint, Monitor  # fit's hooks
from .history import History  # per-epoch logs
from .loop import Objective, Run, evaluate, fit  # the loop
from .metrics import Accuracy, Metric, TopKAccuracy  # per-sample scores
from .state import load_run, save_run  # a run's whole state as a checkpoint

__all__ = [
    "Accuracy",
    "Callback",
    "EarlyStopping",
    "History",
    "Metric",
    "ModelCheckpoint",
    "Monitor",
    "Objective",
    "Run",
    "TopKAccuracy",
    "evaluate",
    "fit",
    "load_run",
    "save_run",
]
