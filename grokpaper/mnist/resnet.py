"""ResNet classifiers for 1x28x28 digits and their penultimate-layer embeddings (Carvalho et al.).

Carvalho et al. "train a ResNet classifier on MNIST and use its latent representations as input
for clustering" without naming the depth or the training recipe. ``resnet18`` is torchvision's
ResNet-18 with the stem adapted to small grey images (a 3x3 stride-1 convolution from one channel,
no max-pool), the usual CIFAR/MNIST adaptation; ``small`` is a three-stage ResNet of torchvision
``BasicBlock``s (16/32/64 channels) for CPU runs (``tiny``: 4/8/8, for smoke tests). The
embedding is the global-average-pooled output of the last stage (the final layer's input).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torchvision.models import resnet18
from torchvision.models.resnet import BasicBlock, conv1x1

from grokpaper.core import cost
from grokpaper.core import memory as mem
from grokpaper.core.memory import Estimate

ARCHS = ("resnet18", "small", "tiny")
EVAL_BATCH = 512  # images per forward pass of embed() and accuracy()


@dataclass(frozen=True)
class ResNetConfig:
    """Architecture and training recipe (none of it is given by the paper)."""

    arch: str = "resnet18"
    epochs: int = 5  # MNIST ResNets reach ~99% test accuracy within a few epochs
    batch_size: int = 64  # small batches: more steps on a 5,000-image pool
    lr: float = 1e-3  # Adam, no weight decay: a plain, standard recipe
    seed: int = 0
    max_steps: int | None = None  # stop after this many optimizer steps (shape runs); None: all

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}, got {self.arch!r}")
        for name in ("epochs", "batch_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0:
                raise ValueError(f"{name} must be a positive integer, got "
                                 f"{getattr(self, name)!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if self.max_steps is not None and (not isinstance(self.max_steps, int)
                                           or self.max_steps <= 0):
            raise ValueError(f"max_steps must be a positive integer or None, "
                             f"got {self.max_steps!r}")


class SmallResNet(nn.Module):
    """Stem conv3x3 (1 -> 16), then one BasicBlock per stage: 16 @28, 32 @14, 64 @7 pixels."""

    def __init__(self, n_classes: int = 10, widths: tuple[int, int, int] = (16, 32, 64)) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        blocks, prev = [], widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            down = (None if stride == 1 and w == prev else
                    nn.Sequential(conv1x1(prev, w, stride), nn.BatchNorm2d(w)))
            blocks.append(BasicBlock(prev, w, stride=stride, downsample=down))
            prev = w
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(prev, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.blocks(self.stem(x))).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def build(arch: str, n_classes: int = 10) -> nn.Module:
    """A fresh classifier for (N, 1, 28, 28) inputs."""
    if arch == "small":
        return SmallResNet(n_classes)
    if arch == "tiny":  # for smoke tests only
        return SmallResNet(n_classes, widths=(4, 8, 8))
    if arch == "resnet18":
        net = resnet18(num_classes=n_classes)
        net.conv1 = nn.Conv2d(1, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
        return net
    raise ValueError(f"arch must be one of {ARCHS}, got {arch!r}")


def memory(cfg: ResNetConfig, n_train: int, n_test: int) -> Estimate:
    """Peak memory of :func:`train_classifier` (grokpaper.core.memory's accounting): both pools
    on the device, weights with gradients and Adam's moments, and per image of a minibatch every
    module's output kept for the backward pass, counted by a forward pass on the meta device."""
    with torch.device("meta"):
        net = build(cfg.arch)
        outputs: list[int] = []
        hooks = [m.register_forward_hook(lambda _m, _i, o: outputs.append(o.numel()))
                 for m in net.modules() if not list(m.children())]
        net(torch.zeros(1, 1, 28, 28))
    for hook in hooks:
        hook.remove()
    n_params = sum(p.numel() for p in net.parameters())
    data = (n_train + n_test) * (28 * 28 * mem.FLOAT + mem.LABEL)
    # Outputs kept for the backward pass; their gradients live only a layer or two at a time.
    step = cfg.batch_size * (sum(outputs) + 2 * max(outputs)) * mem.FLOAT
    evaluation = 2 * EVAL_BATCH * max(outputs) * mem.FLOAT  # no gradients: two layers alive
    return Estimate(data, 4 * n_params * mem.FLOAT, max(step, evaluation))


def forward_cost(arch: str, side: int = 28, n_classes: int = 10) -> float:
    """FLOPs of one image through ``build(arch)`` (:mod:`grokpaper.core.cost`): every
    convolution at its output size (a stride-s convolution with "same" padding divides the
    side by s; a block's downsampling shortcut runs at the size its first convolution made)."""
    with torch.device("meta"):
        net = build(arch, n_classes)
    flops, h = 0.0, side
    for name, m in net.named_modules():
        if isinstance(m, nn.Conv2d):
            if not name.endswith("downsample.0"):
                h = -(-h // m.stride[0])
            k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
            flops += 2.0 * k * m.out_channels * h * h
        elif isinstance(m, nn.Linear):
            flops += cost.linear(m.in_features, m.out_features)
    return flops


@torch.no_grad()
def embed(net: nn.Module, x: torch.Tensor, *, batch: int = EVAL_BATCH) -> torch.Tensor:
    """Penultimate-layer features (N, D) in eval mode: the classifier's input."""
    net.eval()
    fc = net.fc
    net.fc = nn.Identity()  # torchvision ResNets and SmallResNet both end in .fc
    try:
        return torch.cat([net(x[i : i + batch]) for i in range(0, len(x), batch)])
    finally:
        net.fc = fc


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch: int = EVAL_BATCH
             ) -> float:
    net.eval()
    hits = torch.zeros((), dtype=torch.long, device=y.device)
    for i in range(0, len(x), batch):  # counted on the device: one read at the end
        hits += (net(x[i : i + batch]).argmax(1) == y[i : i + batch]).sum()
    return int(hits) / len(y)


def train_classifier(cfg: ResNetConfig, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor,
                     y_test: torch.Tensor, device: str) -> tuple[nn.Module, dict[str, np.ndarray]]:
    """Train with Adam and cross-entropy; returns the model and per-epoch accuracies (and
    mean loss). ``cfg.max_steps`` ends training early, the epoch under way counting as one."""
    g = torch.Generator().manual_seed(cfg.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        net = build(cfg.arch).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    x, y = x.to(device), y.to(device)
    x_test, y_test = x_test.to(device), y_test.to(device)
    hist: dict[str, list[float]] = {"train_acc": [], "test_acc": [], "loss": []}
    per_epoch = -(-len(y) // cfg.batch_size)
    budget = cfg.epochs * per_epoch if cfg.max_steps is None else cfg.max_steps
    for _ in range(min(cfg.epochs, -(-budget // per_epoch))):
        net.train()
        order = torch.randperm(len(y), generator=g).to(device)
        total = torch.zeros((), device=device)  # summed on the device: no read per step
        seen = 0
        for i in range(0, len(y), cfg.batch_size):
            if budget <= 0:
                break
            idx = order[i : i + cfg.batch_size]
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach() * len(idx)
            seen += len(idx)
            budget -= 1
        hist["loss"].append(float(total) / seen)
        hist["train_acc"].append(accuracy(net, x, y))
        hist["test_acc"].append(accuracy(net, x_test, y_test))
    return net, {k: np.array(v) for k, v in hist.items()}
