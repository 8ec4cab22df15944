"""LeNet-5 training throughput (P6): lossgrad's engine against PyTorch eager.

One training step on both sides: zero the gradients, forward, softmax cross-entropy (integer
labels, mean), backward, SGD with lr 0.01 and momentum 0.9. The batch is 128 synthetic float32
images (128, 1, 32, 32) with 10 classes, allocated once; both models start from the same weights
(lossgrad's LeNet-5 state dict loaded into PyTorch's). A timed run is ``steps`` steps; images/s =
128 × steps / seconds. Both train on the same batch throughout, so their losses stay alike — the
last loss of each is reported as a check that they do the same work.
"""

from __future__ import annotations

from .. import THREADS
from tests.torch_models import torch_lenet5

from ..harness import Contender, random_labels, random_normal, time_alternating

TITLE = "LeNet-5 training (batch 128, 1×32×32, SGD momentum 0.9)"
SIZES = {"quick": {"batch": 128, "steps": 2}, "full": {"batch": 128, "steps": 20}}
RUNS = {"quick": 7, "full": 7}
CLASSES = 10
LR, MOMENTUM = 0.01, 0.9


def inputs(size: dict) -> dict:
    """The batch, its labels, and the initial weights both contenders start from."""
    from lossgrad import nn

    return {"images": random_normal((size["batch"], 1, 32, 32)),
            "labels": random_labels(size["batch"], CLASSES),
            "weights": nn.lenet5(1, CLASSES, rng=0).state_dict(), "steps": size["steps"]}


def ours(inp: dict) -> Contender:
    import lossgrad
    from lossgrad import Tensor

    net = lossgrad.nn.lenet5(1, CLASSES)
    net.load_state_dict(inp["weights"])
    opt = lossgrad.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    images, labels = inp["images"], inp["labels"]

    def run():
        for _ in range(inp["steps"]):
            opt.zero_grad()
            loss = lossgrad.losses.sparse_softmax_cross_entropy(net(Tensor(images)), labels)
            loss.backward()
            opt.step()
        return float(loss.data)

    return Contender("lossgrad (nn.lenet5, optim.SGD)", run)


def theirs(inp: dict) -> Contender:
    import torch

    torch.set_num_threads(THREADS)
    net = torch_lenet5(torch, 1, CLASSES)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in inp["weights"].items()})
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    images, labels = torch.from_numpy(inp["images"]), torch.from_numpy(inp["labels"])

    def run():
        for _ in range(inp["steps"]):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(images), labels)
            loss.backward()
            opt.step()
        return loss.item()

    return Contender(f"PyTorch {torch.__version__} eager (torch.optim.SGD)", run)


CONTENDERS = {"lossgrad": ours, "torch": theirs}


def run(size: dict, runs: int, log) -> dict:
    """Time both; images/s from the median (and the min and max) run time."""
    log(f"lenet: batch {size['batch']}, {size['steps']} steps per run")
    inp = inputs(size)
    last_loss = {}
    timings = time_alternating({k: make(inp) for k, make in CONTENDERS.items()}, runs,
                               on_last=last_loss.__setitem__, log=log)
    images = size["batch"] * size["steps"]
    for key, t in timings.items():
        if "seconds" in t:
            s = t["seconds"]
            t["images_per_s"] = {"median": images / s["median"], "min": images / s["max"],
                                 "max": images / s["min"]}
            t["last_loss"] = last_loss[key]
    return {"size": size, "timings": timings}
