"""PyTorch's LeNet-5, written as in the tutorials, with lossgrad.nn.lenet5's layout and parameter
names: one definition for the live tests, tools/train_report.py --torch and the benchmarks."""

from __future__ import annotations


def torch_lenet5(torch, in_channels: int = 1, num_classes: int = 10,
                 activation: str = "relu", pool: str = "max"):
    """A fresh torch.nn.Module: conv(in→6, 5) → act → pool 2 → conv(6→16, 5) → act → pool 2 →
    flatten → fc(400→120) → act → fc(120→84) → act → fc(84→classes)."""
    F = torch.nn.functional
    act = {"relu": F.relu, "tanh": torch.tanh}[activation]
    pooling = {"max": F.max_pool2d, "avg": F.avg_pool2d}[pool]

    class LeNet5(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(in_channels, 6, 5)
            self.conv2 = torch.nn.Conv2d(6, 16, 5)
            self.fc1 = torch.nn.Linear(16 * 5 * 5, 120)
            self.fc2 = torch.nn.Linear(120, 84)
            self.fc3 = torch.nn.Linear(84, num_classes)

        def forward(self, x):
            x = pooling(act(self.conv1(x)), 2)
            x = pooling(act(self.conv2(x)), 2)
            x = act(self.fc1(torch.flatten(x, 1)))
            return self.fc3(act(self.fc2(x)))

    return LeNet5()
