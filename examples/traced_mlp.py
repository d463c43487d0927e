"""A small classifier head written as plain PyTorch-style Python, to be converted to TensorScript.

    tensorscript trace examples/traced_mlp.py:classify \
        --input 'float32[8,16]' --input 'int64[8]' --int-range 0:4 -o mlp_traced.py
    tensorscript run mlp_traced.py

The weights are module globals, so the trace keeps them as tensor constants.
"""
import math

import torch
import torch.nn.functional as F

IN, HIDDEN, CLASSES = 16, 32, 4
W1 = torch.sin(torch.arange(IN * HIDDEN, dtype=torch.float32)).reshape(IN, HIDDEN) * 0.3
B1 = torch.zeros(HIDDEN)
W2 = torch.cos(torch.arange(HIDDEN * CLASSES, dtype=torch.float32)).reshape(HIDDEN, CLASSES) * 0.3


def classify(x, labels):
    h = F.relu(x @ W1 + B1) / math.sqrt(x.shape[-1])
    h = h.view(x.size(0), -1)
    logits = h @ W2
    loss = F.cross_entropy(logits, labels)
    return logits.argmax(dim=-1), loss
