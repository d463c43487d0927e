"""The training loop end to end: modules, losses, backward, optimizers and schedulers."""
import numpy as np

import tensorscript as ts
from tensorscript import nn, optim


def test_mlp_regression_learns():
    ts.manual_seed(0)
    rng = np.random.default_rng(0)
    x = ts.tensor(rng.standard_normal((64, 4)), dtype=ts.float32)
    y = (x[:, :1] * 2 - x[:, 1:2]).tanh()
    model = nn.Sequential(nn.Linear(4, 16), nn.GELU(), nn.LayerNorm(16), nn.Linear(16, 1))
    opt = optim.AdamW(model.parameters(), lr=0.02)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=150)
    loss_fn = nn.MSELoss()
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        first = first if first is not None else float(loss)
    assert float(loss) < 0.1 * first


def test_cnn_classifier_learns():
    ts.manual_seed(0)
    rng = np.random.default_rng(1)
    images = rng.standard_normal((16, 1, 6, 6)).astype(np.float32)
    labels = (images[:, 0, :3].sum(axis=(1, 2)) > images[:, 0, 3:].sum(axis=(1, 2))).astype(
        np.int64)
    x, t = ts.tensor(images), ts.tensor(labels)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.1), nn.Linear(36, 2))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(40):
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
    model.eval()
    with ts.no_grad():
        acc = float((model(x).argmax(1) == t).float().mean())
    assert acc >= 0.9


def test_lstm_sequence_model_trains():
    ts.manual_seed(0)
    x = ts.randn(4, 6, 3)
    target = x.sum(dim=(1, 2), keepdim=False).unsqueeze(1) * 0.1

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(3, 8, batch_first=True)
            self.head = nn.Linear(8, 1)

        def forward(self, seq):
            out, (h, c) = self.rnn(seq)
            return self.head(h[-1])

    model = Model()
    opt = optim.RMSprop(model.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
