"""The SSA graph IR, in the spirit of TorchScript's.

A ``Graph`` is a top-level ``Block``: parameters (the inputs), nodes in order, and returns.
A ``Node`` applies a registry op (``node.op``, kind ``"op"``) or a built-in kind (``prim::...``)
to input ``Value``s, produces output Values, may own sub-blocks and carries the span it came
from. Control flow is structured:

    prim::If(%cond) -> outs          blocks: then, else; each returns len(outs) values
    prim::Loop(%trip_count, %cond, *carried) -> carried_outs
                                     block params: (%i, *carried); block returns (%cond', *carried')

``range`` loops pass their trip count; ``while`` loops pass a huge trip count and a condition.
The loop runs while ``i < trip_count`` and the condition holds (a negative trip count runs
nothing).

Conventions the lowering follows (and the executor, printer and passes rely on):

- ``prim::Constant[value=v]() -> T``: every literal, default argument and compile-time
  constant (``value`` is a Python int/float/bool/str/None, a ``DType``, or a list/tuple of
  those). Op nodes take all their arguments as inputs, in schema order, defaults included.
- An ``op`` node has one output (the result; a Tuple for schemas with several returns), or
  none for ``-> ()`` schemas.
- ``prim::RangeLength(%start, %stop, %step) -> int``: ``len(range(start, stop, step))``;
  raises ValueError when step is 0.
- ``prim::is_none(%x) -> bool`` / ``prim::is_not_none(%x) -> bool``: ``x is None`` /
  ``x is not None`` where the checker could not decide it statically.
- ``prim::SetGradEnabled(%mode) -> bool`` returns the previous mode; ``with torch.no_grad():``
  is ``%prev = SetGradEnabled(False)`` before the body and ``SetGradEnabled(%prev)`` after it.
- ``prim::RaiseException[exception=Name](%msg)``; ``assert`` is an If whose else block raises
  ``AssertionError``.
- ``prim::TupleIndex[index=i](%t)``; ``prim::TupleUnpack(%t) -> elems``;
  ``prim::DictConstruct(%k0, %v0, %k1, %v1, ...)``.
- ``prim::CreateObject[cls=ClassType]()`` then ``prim::CallMethod[name=__init__](%obj, ...)``.
- ``prim::DifferentiableGraph[subgraph=g](*inputs) -> outs``: a straight-line region (no
  blocks) of differentiable ops, run as ``g`` when nothing requires grad; otherwise a forward
  graph runs with grad mode off and one autograd node runs the matching backward graph
  (``jit.autodiff``, ``jit/passes/create_autodiff_subgraphs.py``). Inputs and outputs are
  Tensors or values holding no Tensor.

``Value.meta`` holds what shape specialisation knows about a value (``jit/ir/meta.py``): a
``TensorMeta(dtype, shape, requires_grad)`` for a tensor (``None`` for an unknown size, or for
an unknown rank as ``shape``), a tuple of them for a tuple of tensors, else None. Generic graphs
carry none; the printer shows them as ``Tensor(f32[2, 3])``.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterator, Optional

from . import types as T

# Built-in node kinds (registry ops have kind OP).
OP = "op"
CONSTANT = "prim::Constant"
LIST_CONSTRUCT = "prim::ListConstruct"
TUPLE_CONSTRUCT = "prim::TupleConstruct"
DICT_CONSTRUCT = "prim::DictConstruct"
TUPLE_INDEX = "prim::TupleIndex"  # attrs: index
TUPLE_UNPACK = "prim::TupleUnpack"
LIST_UNPACK = "prim::ListUnpack"
IF = "prim::If"
LOOP = "prim::Loop"
CALL_FUNCTION = "prim::CallFunction"  # attrs: name (qualified function name)
CALL_METHOD = "prim::CallMethod"  # attrs: name; inputs[0] is self
CREATE_OBJECT = "prim::CreateObject"  # attrs: cls
GET_ATTR = "prim::GetAttr"  # attrs: name
SET_ATTR = "prim::SetAttr"  # attrs: name
RAISE = "prim::RaiseException"  # attrs: exception (type name); inputs: message
UNINITIALIZED = "prim::Uninitialized"  # a value on a path that never reaches its use
UNCHECKED_CAST = "prim::unchecked_cast"  # Optional[T] -> T after refinement
ISINSTANCE = "prim::isinstance"  # attrs: types
GRAD_MODE = "prim::SetGradEnabled"  # inputs: bool; returns the previous mode
FUSION_GROUP = "prim::FusionGroup"  # attrs: subgraph
DIFFERENTIABLE_GRAPH = "prim::DifferentiableGraph"  # attrs: subgraph
RANGE_LENGTH = "prim::RangeLength"  # inputs: start, stop, step -> number of iterations
IS_NONE = "prim::is_none"  # inputs: x -> bool
IS_NOT_NONE = "prim::is_not_none"  # inputs: x -> bool

# Kinds whose nodes must never be removed or reordered past each other.
SIDE_EFFECT_KINDS = frozenset({RAISE, SET_ATTR, GRAD_MODE, CALL_FUNCTION, CALL_METHOD})


class Value:
    __slots__ = ("id", "name", "type", "node", "index", "uses", "meta")

    def __init__(self, type_: T.Type, name: str = "", node: Optional["Node"] = None, index: int = 0):
        self.id = -1
        self.name = name  # the source variable it holds, for readable IR
        self.type = type_
        self.node = node  # the producing node; None for block parameters
        self.index = index
        self.uses: list[tuple["Node", int]] = []
        self.meta: Any = None  # shape specialisation's knowledge (dtype, sizes)

    def __repr__(self) -> str:
        return f"%{self.debug_name}"

    @property
    def debug_name(self) -> str:
        return f"{self.name}.{self.id}" if self.name else str(self.id)

    def replace_all_uses_with(self, other: "Value") -> None:
        for node, i in list(self.uses):
            node.replace_input(i, other)


class Node:
    __slots__ = ("kind", "op", "inputs", "outputs", "attrs", "blocks", "span", "owner")

    def __init__(self, kind: str, op=None, inputs=(), output_types=(), attrs=None, span=None):
        self.kind = kind
        self.op = op
        self.inputs: list[Value] = []
        self.outputs: list[Value] = [Value(t, node=self, index=i) for i, t in enumerate(output_types)]
        self.attrs: dict = dict(attrs or {})
        self.blocks: list[Block] = []
        self.span = span
        self.owner: Optional[Block] = None
        for v in inputs:
            self.add_input(v)

    @property
    def name(self) -> str:
        return self.op.qualified_name if self.kind == OP else self.kind

    @property
    def output(self) -> Value:
        if len(self.outputs) != 1:
            raise ValueError(f"{self.name} has {len(self.outputs)} outputs")
        return self.outputs[0]

    def add_input(self, v: Value) -> None:
        v.uses.append((self, len(self.inputs)))
        self.inputs.append(v)

    def replace_input(self, i: int, v: Value) -> None:
        old = self.inputs[i]
        old.uses.remove((self, i))
        self.inputs[i] = v
        v.uses.append((self, i))

    def drop_inputs(self) -> None:
        for i, v in enumerate(self.inputs):
            v.uses.remove((self, i))
        self.inputs = []

    def add_block(self) -> "Block":
        b = Block(owner=self)
        self.blocks.append(b)
        return b

    def destroy(self) -> None:
        """Remove this node (its outputs must be unused)."""
        for b in self.blocks:
            for n in list(b.nodes):
                n.destroy()
            b.set_returns([])
        self.drop_inputs()
        if self.owner is not None:
            self.owner.nodes.remove(self)
            self.owner = None

    def __repr__(self) -> str:
        return f"<Node {self.name}>"


class Block:
    __slots__ = ("params", "nodes", "returns", "owner")

    def __init__(self, owner: Optional[Node] = None):
        self.params: list[Value] = []
        self.nodes: list[Node] = []
        self.returns: list[Value] = []
        self.owner = owner

    def add_param(self, type_: T.Type, name: str = "") -> Value:
        v = Value(type_, name)
        self.params.append(v)
        return v

    def append(self, node: Node) -> Node:
        node.owner = self
        self.nodes.append(node)
        return node

    def insert_before(self, anchor: Node, node: Node) -> Node:
        node.owner = self
        self.nodes.insert(self.nodes.index(anchor), node)
        return node

    def set_returns(self, values) -> None:
        # Returns count as uses by the owner of the block; the user is recorded as None.
        self.returns = list(values)

    def walk(self) -> Iterator[Node]:
        """Every node in this block and its sub-blocks, in order."""
        for n in self.nodes:
            yield n
            for b in n.blocks:
                yield from b.walk()


class Graph:
    """A function's body: ``inputs`` are the top block's params, ``outputs`` its returns."""

    def __init__(self, name: str = "graph"):
        self.name = name
        self.block = Block()
        # The FunctionType the source declared (lowering sets it): outputs may be narrower.
        self.signature: Optional[T.FunctionType] = None

    @property
    def inputs(self) -> list[Value]:
        return self.block.params

    @property
    def outputs(self) -> list[Value]:
        return self.block.returns

    def add_input(self, type_: T.Type, name: str = "") -> Value:
        return self.block.add_param(type_, name)

    def nodes(self) -> Iterator[Node]:
        return self.block.walk()

    def number_values(self) -> None:
        """Give every value a fresh id in program order (for printing)."""
        counter = itertools.count()

        def visit(block: Block) -> None:
            for p in block.params:
                p.id = next(counter)
            for n in block.nodes:
                for b in n.blocks:
                    visit(b)
                for o in n.outputs:
                    o.id = next(counter)

        # Outputs of a node are numbered after its blocks' values so nested reads in order.
        visit(self.block)

    def __str__(self) -> str:
        from .printer import print_graph
        return print_graph(self)
