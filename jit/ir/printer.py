"""The IR's text form: one node per line with its types and where it came from."""
from __future__ import annotations

from .graph import CONSTANT, Block, Graph, Node, Value


def _fmt_attr(value) -> str:
    if getattr(type(value), "_ts_tensor", False):  # a traced tensor constant: one line, no data
        return f"<Tensor {value.dtype.name}{list(value._data.shape)}>"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float):
        return repr(value)
    return str(value) if not hasattr(value, "name") or isinstance(value, (int, bool)) else str(getattr(value, "name"))


def _values(vs) -> str:
    return ", ".join(f"%{v.debug_name}" for v in vs)


def _typed(v: Value) -> str:
    """``%x : Tensor``, with what shape specialisation knows: ``%x : Tensor(f32[2, 3])``."""
    meta = v.meta
    if meta is None:
        return f"%{v.debug_name} : {v.type}"
    if isinstance(meta, tuple):
        meta = ", ".join("?" if m is None else str(m) for m in meta)
    return f"%{v.debug_name} : {v.type}({meta})"


def _node_line(node: Node) -> str:
    outs = ", ".join(_typed(o) for o in node.outputs)
    attrs = ""
    if node.attrs:
        shown = {k: v for k, v in node.attrs.items() if k != "subgraph"}
        if shown:
            attrs = "[" + ", ".join(f"{k}={_fmt_attr(v)}" for k, v in shown.items()) + "]"
    text = f"{node.name}{attrs}({_values(node.inputs)})"
    return f"{outs} = {text}" if outs else text


def _print_block(block: Block, indent: int, lines: list[str]) -> None:
    pad = "  " * indent
    for node in block.nodes:
        line = pad + _node_line(node)
        if node.span is not None and node.kind != CONSTANT:
            line = f"{line:<60}  # {node.span.location}"
        lines.append(line)
        for i, b in enumerate(node.blocks):
            params = f"({_values(b.params)})" if b.params else "()"
            lines.append(f"{pad}  block{i}{params}:")
            _print_block(b, indent + 2, lines)
            lines.append(f"{pad}    -> ({_values(b.returns)})")


def print_graph(graph: Graph) -> str:
    graph.number_values()
    params = ", ".join(_typed(v) for v in graph.inputs)
    out_types = ", ".join(str(v.type) for v in graph.outputs)
    lines = [f"graph {graph.name}({params}) -> ({out_types}):"]
    _print_block(graph.block, 1, lines)
    lines.append(f"  return ({_values(graph.outputs)})")
    return "\n".join(lines) + "\n"
