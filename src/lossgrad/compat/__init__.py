"""Framework-faithful front ends with no math of their own.

Each module maps a framework's call — argument order and names, defaults, layout, reduction
vocabulary — onto lossgrad's losses and returns a LossResult (the framework's value and its
gradient with respect to the prediction):

- :mod:`lossgrad.compat.keras`: ``keras.losses`` classes and functions, ``(y_true, y_pred)``;
- :mod:`lossgrad.compat.torch`: ``torch.nn`` loss classes and ``torch.nn.functional`` functions;
- :mod:`lossgrad.compat.tf`: the ``tf.*`` names the seed documents use.

Import the one you port from, e.g. ``from lossgrad.compat import keras``.
"""
