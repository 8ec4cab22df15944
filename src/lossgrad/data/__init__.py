"""Data for training: loaders, file readers, downloads, preprocessing and batching (issue #4).

Loaders return Keras's ``load_data`` shape, ``(x_train, y_train), (x_test, y_test)``, with the
images as stored ((N, H, W) or channels-last (N, H, W, C)) and labels int64 of shape (N,). The
transforms turn images into the NCHW float32 a model takes.

Loaders
    load_digits                    scikit-learn's 8×8 digits, bundled, stratified split (digits.py)
    load_mnist, load_fashion_mnist a folder of IDX files, raw or .gz (idx.py)
    load_cifar10, load_cifar100    a folder of CIFAR binary files (cifar.py)
    load, DATASETS                 by name, from a folder or the cache (registry.py)
Files
    read_idx, read_cifar           one file → arrays; damaged files raise CorruptFileError
    fetch, default_cache_dir       download checked against a SHA-256 (download.py)
Preprocessing (transforms.py)
    lenet_inputs                   grey images → resized, padded, standardised (N, 1, 32, 32)
    scale_uint8                    uint8 images → (N, C, H, W) float32 in [0, 1]
    standardize, fit_stats, Stats  per-channel standardisation with the training set's statistics
    channels_first, resize, add_padding
Batching (batching.py)
    batches, Loader                shuffled mini-batches, reproducible from a seed
"""

from .batching import Loader, batches
from .cifar import load_cifar10, load_cifar100, read_cifar
from .digits import load_digits
from .download import default_cache_dir, fetch
from .idx import load_fashion_mnist, load_mnist, read_idx
from .registry import DATASETS, Dataset, Remote, load
from .transforms import (
    Stats,
    add_padding,
    channels_first,
    fit_stats,
    lenet_inputs,
    resize,
    scale_uint8,
    standardize,
)

__all__ = [
    "load_digits", "load_mnist", "load_fashion_mnist", "load_cifar10", "load_cifar100",
    "load", "DATASETS", "Dataset", "Remote",
    "read_idx", "read_cifar", "fetch", "default_cache_dir",
    "lenet_inputs", "scale_uint8", "standardize", "fit_stats", "Stats",
    "channels_first", "resize", "add_padding",
    "batches", "Loader",
]
