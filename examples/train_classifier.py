"""A two-layer MLP classifying three Gaussian blobs, trained by full-batch gradient descent.

Run it with ``tensorscript run examples/train_classifier.py [EPOCHS]`` (or ``make run``). The
whole file is TensorScript: the data is generated inside the script from a fixed seed, and the
gradients of the softmax cross-entropy loss are written out by hand (backpropagation through
the two layers), so every step runs on the graph executor.
"""
import torch
from typing import List, Tuple

N_PER_CLASS = 200
N_CLASSES = 3
HIDDEN = 16
LEARNING_RATE = 0.5


def make_blobs(n: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Three clusters in the plane, labelled 0, 1, 2."""
    centers = torch.tensor([[2.0, 0.0], [-2.0, 1.5], [0.0, -2.5]])
    xs: List[torch.Tensor] = []
    ys: List[torch.Tensor] = []
    for c in range(N_CLASSES):
        xs.append(torch.randn([n, 2]) * 0.9 + centers[c])
        ys.append(torch.full([n], c, dtype=torch.int64))
    return torch.cat(xs, 0), torch.cat(ys, 0)


def forward(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor,
            b2: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The hidden activations and the logits."""
    h = torch.relu(torch.matmul(x, w1) + b1)
    return h, torch.matmul(h, w2) + b2


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> Tuple[float, torch.Tensor]:
    """The mean loss and its gradient with respect to the logits."""
    probs = torch.softmax(logits, 1)
    onehot = torch.nn.functional.one_hot(y, N_CLASSES).to(torch.float32)
    n = logits.size(0)
    loss = -(onehot * torch.log(probs + 1e-9)).sum() / n
    return float(loss), (probs - onehot) / n


def fixed(x: float, digits: int) -> str:
    """``x`` with ``digits`` decimals (non-negative x), as ``"%.4f" % x`` would print it."""
    scale = 1
    for _ in range(digits):
        scale *= 10
    scaled = int(x * scale + 0.5)
    frac = str(scaled % scale)
    while len(frac) < digits:
        frac = "0" + frac
    return str(scaled // scale) + "." + frac


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return float((torch.argmax(logits, 1) == y).to(torch.float32).mean())


def train(epochs: int) -> float:
    torch.manual_seed(0)
    x, y = make_blobs(N_PER_CLASS)
    w1 = torch.randn([2, HIDDEN]) * 0.5
    b1 = torch.zeros([HIDDEN])
    w2 = torch.randn([HIDDEN, N_CLASSES]) * 0.5
    b2 = torch.zeros([N_CLASSES])
    acc = 0.0
    for epoch in range(epochs):
        h, logits = forward(x, w1, b1, w2, b2)
        loss, dlogits = cross_entropy(logits, y)
        acc = accuracy(logits, y)
        # Backpropagation through logits = h @ w2 + b2 and h = relu(x @ w1 + b1).
        dw2 = torch.matmul(h.t(), dlogits)
        db2 = dlogits.sum(0)
        dh = torch.matmul(dlogits, w2.t()) * (h > 0.0).to(torch.float32)
        dw1 = torch.matmul(x.t(), dh)
        db1 = dh.sum(0)
        w1 = w1 - LEARNING_RATE * dw1
        b1 = b1 - LEARNING_RATE * db1
        w2 = w2 - LEARNING_RATE * dw2
        b2 = b2 - LEARNING_RATE * db2
        if epoch % 10 == 0 or epoch == epochs - 1:
            print("epoch", epoch, "loss", fixed(loss, 4), "accuracy", fixed(acc, 4))
    return acc


def main(argv: List[str]) -> int:
    epochs = 100
    if len(argv) > 0:
        epochs = int(argv[0])
    acc = train(epochs)
    if acc < 0.9:
        print("accuracy too low:", acc)
        return 1
    return 0
