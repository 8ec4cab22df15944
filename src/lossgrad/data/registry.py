"""Data sets by name: ``load("mnist")`` reads a folder (by default in the cache) and can download.

Downloads are allowed only for files whose SHA-256 lossgrad has verified against the real file.
None is recorded yet: the files must be placed in the folder by hand, and ``download=True`` says
which and from where. To enable a download, record its ``sha256`` in :data:`DATASETS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import OptionError
from .cifar import load_cifar10, load_cifar100
from .digits import load_digits
from .download import default_cache_dir, fetch
from .files import Split
from .idx import MNIST_FILES, load_fashion_mnist, load_mnist


@dataclass(frozen=True)
class Remote:
    """One file to download into the data set's folder; ``sha256`` None until verified."""

    url: str
    sha256: str | None = None


@dataclass(frozen=True)
class Dataset:
    """How to read a data set: ``read(folder, **options)``, or ``read(**options)`` when bundled."""

    read: Callable[..., Split]
    remotes: tuple[Remote, ...] = ()
    bundled: bool = False


def _remotes(base: str) -> tuple[Remote, ...]:
    return tuple(Remote(f"{base}{name}.gz") for name in MNIST_FILES)


#: Name → Dataset. The MNIST and Fashion-MNIST URLs are those TensorFlow Datasets downloads from;
#: CIFAR comes as a tar archive, which lossgrad does not unpack, so it has no remotes.
DATASETS: dict[str, Dataset] = {
    "digits": Dataset(load_digits, bundled=True),
    "mnist": Dataset(load_mnist, _remotes("https://storage.googleapis.com/cvdf-datasets/mnist/")),
    "fashion-mnist": Dataset(
        load_fashion_mnist,
        _remotes("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    ),
    "cifar10": Dataset(load_cifar10),
    "cifar100": Dataset(load_cifar100),
}


def load(name: str, path=None, download: bool = False, **options) -> Split:
    """The data set ``name`` as ``(x_train, y_train), (x_test, y_test)``.

    ``path`` is the folder holding its files, by default ``<cache>/<name>`` (see
    :func:`lossgrad.data.default_cache_dir`); "digits" is bundled and takes none. With
    ``download=True`` missing files are downloaded when their SHA-256 is known. ``options`` go to
    the loader (``test_size``, ``seed`` for digits; ``label_mode`` for cifar100).

    Example:
        >>> (x_train, y_train), _ = load("digits", seed=1)
        >>> x_train.shape
        (1437, 8, 8)
    """
    if name not in DATASETS:
        raise OptionError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    spec = DATASETS[name]
    if spec.bundled:
        if path is not None:
            raise OptionError(f"{name} is bundled with scikit-learn and takes no path, got "
                              f"{path!r}")
        return spec.read(**options)
    folder = Path(path) if path is not None else default_cache_dir() / name
    try:
        return spec.read(folder, **options)
    except FileNotFoundError as missing:
        if not download:
            raise
        _download(name, spec, folder, missing)
    return spec.read(folder, **options)


def _download(name: str, spec: Dataset, folder: Path, missing: FileNotFoundError) -> None:
    if not spec.remotes or any(r.sha256 is None for r in spec.remotes):
        raise FileNotFoundError(
            f"{missing} (download=True cannot fetch {name}: lossgrad has no verified SHA-256 for "
            "its files)"
        ) from None
    for remote in spec.remotes:
        fetch(remote.url, remote.sha256, folder)
