"""The ``make run`` job (examples/train_spiral.py), with fewer epochs."""
import os
import re

import numpy as np
import pytest

import tensorscript as ts
from tensorscript import nn
from tensorscript.cli import main as cli_main

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
SPIRAL = os.path.join(EXAMPLES, "train_spiral.py")


class SpiralMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 3)

    def forward(self, x):
        return self.fc3(ts.relu(self.fc2(ts.relu(self.fc1(x)))))


def test_spiral_trains_saves_and_reloads(tmp_path, capsys):
    weights = tmp_path / "spiral.safetensors"
    rc = cli_main(["run", SPIRAL, "15", str(weights)])
    out = capsys.readouterr().out
    assert rc == 0, out
    epochs = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert len(epochs) == 15
    assert all("loss" in line and "examples/s" in line for line in epochs)
    m = re.search(r"reloaded model: test accuracy ([0-9.]+)", out)
    assert m is not None, out
    assert float(m.group(1)) >= 0.95

    # the weights are plain safetensors under PyTorch's names
    from safetensors.numpy import load_file
    raw = load_file(str(weights))
    assert {k: v.shape for k, v in raw.items()} == {
        "fc1.weight": (64, 2), "fc1.bias": (64,), "fc2.weight": (64, 64), "fc2.bias": (64,),
        "fc3.weight": (3, 64), "fc3.bias": (3,)}
    model = SpiralMLP()
    model.load_state_dict(ts.load_safetensors(weights))
    np.testing.assert_array_equal(model.fc2.weight.detach().numpy(), raw["fc2.weight"])
    probs = ts.softmax(model(ts.tensor([[0.0, 0.5]])), dim=-1)
    assert probs.shape == (1, 3)


def test_spiral_reports_a_load_error_for_a_corrupt_file(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    src = tmp_path / "load_bad.py"
    src.write_text("import torch\n\n\ndef main(argv: List[str]) -> int:\n"
                   "    d = torch.load(argv[0])\n    print(len(d))\n    return 0\n"
                   .replace("import torch\n", "import torch\nfrom typing import List\n"))
    rc = cli_main(["run", str(src), str(bad)])
    err = capsys.readouterr().err
    assert rc == 1
    assert "bad.safetensors" in err
