"""Algebraic simplification: identities on numbers always, on tensors only where the metas
prove dtype and shape unchanged and nothing writes in place."""
from tensorscript.jit.ir import dtypes
from tensorscript.jit.ir.meta import TensorMeta
from tensorscript.jit.passes.simplify_algebra import simplify_algebra
from tensorscript.jit.specialize import propagate_shapes

from jit_helpers import kinds
from pass_golden import golden


def simplify(name, source, metas=None):
    def prepare(g):
        for i, m in (metas or {}).items():
            g.inputs[i].meta = m
        propagate_shapes(g)
    return golden(f"simplify_algebra/{name}", source, simplify_algebra, prepare=prepare)


F32 = TensorMeta(dtypes.float32, (2, 3), False)
I64 = TensorMeta(dtypes.int64, (2, 3), False)


def test_number_identities():
    g = simplify("numbers", """
def f(a: int, x: float, b: bool) -> float:
    i = (a * 1 + 0) - 0
    y = -(-(x * 1)) / 1
    z = x + 0.0
    c = not (not b)
    k = a * 0
    return float(i) + y + z + float(c) + float(k)
""")
    names = kinds(g)
    assert "neg.float" not in names and "__not__.bool" not in names and "div.float" not in names
    assert names.count("add.float") == 5  # x + 0.0 stays: -0.0 + 0.0 is 0.0


def test_float_tensor_identities_with_metas():
    g = simplify("tensor_float", """
def f(x: torch.Tensor) -> torch.Tensor:
    y = ((x * 1.0) / 1) ** 1 - 0
    z = x.to(torch.float32).t().t()
    return -(-y) + z + (x + 0)
""", {0: F32})
    names = kinds(g)
    assert names == ["add.Tensor", "add.Scalar", "add.Tensor"], names


def test_int_tensor_keeps_promoting_ops():
    g = simplify("tensor_int", """
def f(x: torch.Tensor) -> torch.Tensor:
    return (x * 1.0) + (x / 1) + (x + 0) + x.to(torch.float32)
""", {0: I64})
    names = kinds(g)
    assert "mul.Scalar" in names and "div.Scalar" in names and "to.dtype" in names
    assert names.count("add.Scalar") == 0


def test_tensor_identities_need_metas():
    g = simplify("tensor_unknown", """
def f(x: torch.Tensor) -> torch.Tensor:
    return (x * 1) + x.to(torch.float32)
""")
    assert "mul.Scalar" in kinds(g) and "to.dtype" in kinds(g)


def test_no_tensor_identity_when_the_graph_writes_in_place():
    g = simplify("tensor_inplace", """
def f(x: torch.Tensor) -> torch.Tensor:
    y = x * 1
    y.add_(1.0)
    return x
""", {0: F32})
    assert "mul.Scalar" in kinds(g)


def test_permute_back_and_forth():
    g = simplify("permute", """
def f(x: torch.Tensor) -> torch.Tensor:
    y = x.permute([1, 2, 0]).permute([2, 0, 1])
    z = x.transpose(0, 1).transpose(1, 0)
    return y + z
""")
    assert kinds(g) == ["add.Tensor"]
