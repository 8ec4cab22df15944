"""The one tolerance table (TESTING.md §3). Any override elsewhere carries a comment saying why."""

import numpy as np

#: dtype → (rtol, atol) against a float64 (or mpmath) reference.
REFERENCE = {
    np.dtype(np.float64): (1e-12, 1e-12),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float16): (1e-3, 1e-5),
}

#: dtype → rtol (= atol) against the live frameworks and their golden files.
FRAMEWORK = {
    np.dtype(np.float64): 1e-10,
    np.dtype(np.float32): 1e-5,
    np.dtype(np.float16): 1e-3,
}

#: Central differences in float64 with step 1e-6: truncation error ~ step², round-off ~ 1e-16/step,
#: so agreement is expected to ~1e-9 of the function's scale; 1e-7 leaves a margin without hiding
#: a wrong formula (a wrong gradient is off by O(1)).
CENTRAL_STEP = 1e-6
CENTRAL = (1e-7, 1e-7)

#: The complex step has no subtractive cancellation: agreement to round-off.
COMPLEX_STEP = 1e-30
COMPLEX = (1e-10, 1e-12)


def assert_close(actual, expected, dtype, *, table=REFERENCE, err_msg=""):
    """assert_allclose with the table's tolerance for ``dtype``; NaN must match NaN."""
    entry = table[np.dtype(dtype)]
    rtol, atol = entry if isinstance(entry, tuple) else (entry, entry)
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64),
                               np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol, err_msg=err_msg)
