"""Logistic regression trained with eager autograd: forward, backward, a hand-written SGD step.

    python examples/logistic_regression.py
"""
import tensorscript as ts


def make_data(n: int = 512, features: int = 4):
    ts.manual_seed(0)
    true_w = ts.tensor([1.5, -2.0, 0.5, 3.0])
    x = ts.randn(n, features)
    logits = (x * true_w).sum(1) + 0.3
    y = (ts.rand(n) < ts.sigmoid(logits)).float()
    return x, y


def loss_fn(x, y, w, b):
    p = ts.sigmoid((x * w).sum(1) + b)
    eps = 1e-6
    return -(y * (p + eps).log() + (1 - y) * (1 - p + eps).log()).mean()


def main(steps: int = 200, lr: float = 0.5) -> list:
    x, y = make_data()
    w = ts.zeros(x.shape[1], requires_grad=True)
    b = ts.zeros(1, requires_grad=True)
    losses = []
    for step in range(steps):
        loss = loss_fn(x, y, w, b)
        loss.backward()
        with ts.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        losses.append(loss.item())
        if step % 20 == 0 or step == steps - 1:
            print(f"step {step:3d}  loss {loss.item():.4f}")
    print("learned w:", w.detach(), "b:", b.detach())
    return losses


if __name__ == "__main__":
    main()
