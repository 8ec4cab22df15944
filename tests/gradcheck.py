"""Central differences, the numerical gradient every closed form in the tests is compared with."""

import numpy as np

from tests.tolerances import CENTRAL_STEP


def central_differences(f, x, step=CENTRAL_STEP):
    """∂f/∂x by (f(x + h·e_i) − f(x − h·e_i)) / 2h for every entry i of x (f returns a scalar)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        grad[i] = (f(up) - f(down)) / (2 * step)
    return grad
