"""``ts.trace(module, example_inputs)``: a module's forward recorded into a graph whose
parameters and buffers stay attributes of the module.

Every tensor of the module tree (parameters, buffers, tensor attributes) enters the trace as
an input, not as a baked constant. The recorded graph is printed as a function
``_traced_forward(<weights>, <inputs>)``; the module tree becomes script classes with an
annotated attribute for each tensor, submodule and plain value, and the root class's
``forward`` calls ``_traced_forward(self.fc1.weight, ..., x)``. That source (``.code``) is
compiled by the ordinary pipeline into a :class:`TracedModule`, a ScriptModule over the *same*
tensors as the traced module: ``named_parameters()``, ``state_dict()``, ``load_state_dict``,
optimizers and ``ts.save`` all work on it as on the module itself.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from ..interpreter.tracer import TracingError, eliminate_dead_nodes, trace_scope
from ..jit.ir import graph as G
from ..jit.ir import types as T
from ..tracing import (TracingCheckError, _as_tuple, _bind_input, _compare_graphs, _input_type,
                       _output_value, _param_names, traced_source)
from .modules.module import Module
from .scripting import ScriptModule, _attr_name, _Node, build_script_module, declare_attributes

FORWARD_FN = "_traced_forward"


class TracedModule(ScriptModule):
    """A module traced by :func:`trace_module`: ``forward`` runs the recorded graph over the
    module's current parameters and buffers."""

    @property
    def code(self) -> str:
        """The TensorScript source: the recorded forward and the module's script classes."""
        return self._source

    def _get_name(self) -> str:
        return "TracedModule"

    def __repr__(self) -> str:
        return f"TracedModule(original_name={self.original_name})"


# ------------------------------------------------------------------ the module tree

def _tree(module: Module, counts: dict, classes: dict) -> _Node:
    """A _Node per module, with attributes declared as ``ts.script`` declares them and one
    script class per distinct (Python class, attributes) pair; no methods yet."""
    node = _Node(module)
    for name, child in module._modules.items():
        if child is None:
            continue
        node.children[name] = _tree(child, counts, classes)
        node.child_attr[name] = _attr_name(name)
    declare_attributes(node)
    signature = (type(module), tuple(node.decls))
    if signature not in classes:
        base = "Traced" + type(module).__name__
        n = counts.get(base, 0)
        counts[base] = n + 1
        classes[signature] = base if n == 0 else f"{base}_{n}"
    node.class_name = classes[signature]
    return node


def _tensors(node: _Node, path: tuple = ()) -> list:
    """(script path, Tensor) for every tensor attribute in the tree, in declaration order."""
    from ..eager import Tensor
    out = []
    for attr, value in node.values.items():
        if isinstance(value, Tensor):
            out.append((path + (attr,), value))
    for name, child in node.children.items():
        out += _tensors(child, path + (node.child_attr[name],))
    return out


def _class_sources(root: _Node, forward: Optional[str]) -> list:
    seen: set = set()
    texts = []

    def visit(node: _Node) -> None:
        for child in node.children.values():
            visit(child)
        if node.class_name in seen:
            return
        seen.add(node.class_name)
        lines = [f"class {node.class_name}(torch.nn.Module):"]
        lines += [f"    {attr}: {type_text}" for attr, type_text in node.decls]
        if node is root and forward:
            lines += ["", *("    " + line if line else "" for line in forward.splitlines())]
        texts.append("\n".join(lines) + "\n")

    visit(root)
    return texts


_HEADER = "import torch\nfrom torch import Tensor\nfrom typing import List, Optional, Tuple, Dict\n"


def _unique(name: str, taken: set) -> str:
    name = re.sub(r"\W", "_", name) or "w"
    if name[0].isdigit():
        name = "w_" + name
    while name in taken:
        name += "_"
    taken.add(name)
    return name


# ------------------------------------------------------------------ tracing

def _trace_graph(module: Module, weights: list, inputs: tuple, names: list) -> tuple:
    graph = G.Graph(FORWARD_FN)
    taken = set(names)
    weight_names = []
    with trace_scope(graph) as h:
        for path, tensor in weights:
            wname = _unique("_".join(path), taken)
            weight_names.append(wname)
            h.bind_tensor(tensor, graph.add_input(T.TensorType, wname))
        args = []
        for pname, value in zip(names, inputs):
            v = graph.add_input(_input_type(value, f"input '{pname}'"), pname)
            args.append(_bind_input(h, value, v))
        out = module(*args)
        graph.block.set_returns([_output_value(h, out)])
    eliminate_dead_nodes(graph)
    return graph, weight_names


def trace_module(module: Module, example_inputs: Any, check_inputs: Optional[list] = None,
                 strict: bool = True) -> TracedModule:
    """Trace ``module(*example_inputs)`` keeping its tensors as attributes (see the module doc)."""
    if isinstance(module, TracedModule):
        return module
    if isinstance(module, ScriptModule):
        raise TracingError("ts.trace: the module is already compiled (ts.script); trace the "
                           "Python module instead")
    inputs = _as_tuple(example_inputs)
    root = _tree(module, {}, {})
    weights = []
    seen: dict = {}
    for path, tensor in _tensors(root):
        if id(tensor) not in seen:  # tied weights enter once
            seen[id(tensor)] = path
            weights.append((path, tensor))
    fwd = module.forward
    names = [n if n != "self" else "self_" for n in _param_names(fwd, len(inputs))]
    graph, weight_names = _trace_graph(module, weights, inputs, names)
    out_t = graph.outputs[0].type
    if strict and isinstance(out_t, (T.ListType, T.DictType)) and graph.outputs[0].node is not None \
            and graph.outputs[0].node.kind in (G.LIST_CONSTRUCT, G.DICT_CONSTRUCT):
        raise TracingError("a traced module returned a list or dict: pass strict=False to "
                           "accept mutable outputs")
    for k, other in enumerate(check_inputs or ()):
        other_graph, _ = _trace_graph(module, weights, _as_tuple(other), names)
        _compare_graphs(graph, other_graph, k)
    params = ", ".join(f"{n}: {v.type}" for n, v in zip(names, graph.inputs[len(weights):]))
    call_args = [".".join(("self",) + path) for path, _ in weights] + list(names)
    forward = (f"def forward(self{', ' if params else ''}{params}) -> {out_t}:\n"
               f"    return {FORWARD_FN}({', '.join(call_args)})\n")
    text = "\n\n".join([_HEADER, traced_source(graph, FORWARD_FN)]
                         + _class_sources(root, forward))
    sources = [(text, f"<traced {type(module).__name__}>")]
    tm = build_script_module(root, sources, {}, cls=TracedModule)
    tm.__dict__["_signature"] = None
    tm.__dict__["_trace_graph"] = graph
    return tm


__all__ = ["TracedModule", "trace_module", "TracingCheckError"]
