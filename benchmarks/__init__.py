"""Side-by-side benchmarks of lossgrad and the libraries a user would pick instead.

``python -m benchmarks`` runs every group (memory copy, softmax cross-entropy, linear +
cross-entropy, LeNet-5 training) and regenerates docs/benchmarks.md, its figures and
docs/benchmarks/results.json; ``--quick`` runs small sizes as a smoke check. The protocol (issue
#5): float32, two threads for everyone, warm-up and compile timed apart, the median of
alternated runs, peak memory in a fresh process.
"""

import os

THREADS = 2
#: OpenMP, OpenBLAS, MKL, Numba and lossgrad's own kernels read these when they start their threads.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS", "LOSSGRAD_NUM_THREADS")


def pin_threads() -> None:
    """Give every library THREADS threads. The entry points call this before anything imports
    NumPy, PyTorch or JAX (they read the variables once, when they start their pools); the
    processes they start inherit the environment."""
    os.environ.update({name: str(THREADS) for name in THREAD_VARIABLES})
