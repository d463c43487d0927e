"""Tensor element types and PyTorch's type promotion."""
from __future__ import annotations

import numpy as np

# Promotion categories, lowest first: a higher category always wins.
BOOL, INT, FLOAT = 0, 1, 2


class DType:
    """An element type. Instances are singletons compared by identity (``ts.float32``)."""

    __slots__ = ("name", "np", "category", "itemsize", "short")

    def __init__(self, name: str, np_dtype, category: int, short: str):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.short = short  # the IR's spelling: f32, i64, b8 ...

    @property
    def is_floating_point(self) -> bool:
        return self.category == FLOAT

    @property
    def is_signed(self) -> bool:
        return self.name != "uint8" and self.name != "bool"

    def __repr__(self) -> str:
        return f"tensorscript.{self.name}"

    def __reduce__(self):
        return (by_name, (self.name,))


bool_ = DType("bool", np.bool_, BOOL, "b8")
uint8 = DType("uint8", np.uint8, INT, "u8")
int8 = DType("int8", np.int8, INT, "i8")
int16 = DType("int16", np.int16, INT, "i16")
int32 = DType("int32", np.int32, INT, "i32")
int64 = DType("int64", np.int64, INT, "i64")
float16 = DType("float16", np.float16, FLOAT, "f16")
float32 = DType("float32", np.float32, FLOAT, "f32")
float64 = DType("float64", np.float64, FLOAT, "f64")

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "long": int64,
                 "int": int32, "short": int16, "bool": bool_})
_BY_NP = {d.np: d for d in ALL}

DEFAULT_FLOAT = float32
DEFAULT_INT = int64


def by_name(name: str) -> DType:
    return _BY_NAME[name]


def from_numpy(np_dtype) -> DType:
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"unsupported NumPy dtype {np.dtype(np_dtype)}") from None


def promote_types(a: DType, b: DType) -> DType:
    """``torch.promote_types``: the smallest dtype both values fit in."""
    if a is b:
        return a
    if a is bool_:
        return b
    if b is bool_:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == FLOAT:
        return a if a.itemsize >= b.itemsize else b
    # Integers: uint8 with a signed type needs a wider signed type, as in PyTorch.
    if a is uint8 or b is uint8:
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a.itemsize >= b.itemsize else b


def result_type(tensor_dtypes, zero_dim_dtypes=(), scalar_categories=()) -> DType:
    """PyTorch's result type for an op.

    ``tensor_dtypes`` are dtypes of operands with at least one dimension, ``zero_dim_dtypes``
    those of 0-d tensors, ``scalar_categories`` the categories of Python scalars (bool, int,
    float). A group only affects the result when its category is higher than the groups
    above it: a 0-d float64 does not widen a float32 tensor, a Python float makes an int tensor
    the default float type.
    """
    result = None
    for d in tensor_dtypes:
        result = d if result is None else promote_types(result, d)
    zero = None
    for d in zero_dim_dtypes:
        zero = d if zero is None else promote_types(zero, d)
    if zero is not None and (result is None or zero.category > result.category):
        result = zero
    if scalar_categories:
        top = max(scalar_categories)
        if result is None:
            result = {BOOL: bool_, INT: int64, FLOAT: DEFAULT_FLOAT}[top]
        elif top > result.category:
            result = {INT: int64, FLOAT: DEFAULT_FLOAT}[top]
    return result


def category_of_scalar(value) -> int:
    if isinstance(value, (bool, np.bool_)):
        return BOOL
    if isinstance(value, (int, np.integer)):
        return INT
    return FLOAT
