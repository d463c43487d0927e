"""``ts.script(module)``: an ``nn.Module`` instance compiled to a ScriptModule.

The module tree becomes script classes, written as TorchScript source and compiled by the same
pipeline as any other source: one class per distinct (Python class, attribute types) pair, with
an annotated attribute for every parameter, buffer, submodule and plain value of a supported
type, and the methods ``forward`` reaches (plus ``@ts.jit.export`` ones). The methods' Python
source is rewritten where Python and script differ: calling a submodule calls its ``forward``;
loops over a ModuleList/Sequential are unrolled (their length is known); ``self.layers[i]`` with a
constant ``i`` names the child. Then each module gets a ScriptObject that holds the *same*
parameter and buffer tensors, so gradients reach the module's parameters and an optimizer built
on ``module.parameters()`` trains the scripted model.
"""
from __future__ import annotations

import ast as pyast
import copy
import inspect
import keyword
import textwrap
import types
import typing
from typing import Any, Optional

from ..errors import CompileError
from ..eager import Tensor
from .modules.container import ModuleDict, ModuleList, Sequential
from .modules.module import Module

_INTERNAL = {"_parameters", "_buffers", "_non_persistent_buffers_set", "_modules",
             "_forward_hooks", "_forward_pre_hooks", "training", "forward"}
_BUILTIN_NAMES = {"torch", "ts", "tensorscript", "math"}
_TYPING_NAMES = ["List", "Optional", "Tuple", "Dict", "Union", "Any"]


# ------------------------------------------------------------------ attribute types

def _value_type(value: Any) -> Optional[str]:
    """The script type of a plain attribute value, or None when it has none."""
    if isinstance(value, Tensor):
        return "Tensor"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (list, tuple)) and value:
        elems = {_value_type(v) for v in value}
        if len(elems) == 1 and None not in elems:
            return f"List[{elems.pop()}]"
        return None
    if isinstance(value, dict) and value:
        keys = {_value_type(k) for k in value}
        vals = {_value_type(v) for v in value.values()}
        if len(keys) == 1 and len(vals) == 1 and None not in keys | vals:
            return f"Dict[{keys.pop()}, {vals.pop()}]"
    return None


def _annotation_text(hint: Any) -> Optional[str]:
    """A Python typing annotation as script source text (``Optional[float]`` ...)."""
    if hint is None or hint is type(None):
        return "None"
    if isinstance(hint, str):
        return hint
    if hint in (int, float, bool, str):
        return hint.__name__
    if isinstance(hint, type) and issubclass(hint, Tensor):
        return "Tensor"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1 and len(args) == 2:
            text = _annotation_text(inner[0])
            return f"Optional[{text}]" if text else None
        parts = [_annotation_text(a) for a in args]
        return f"Union[{', '.join(parts)}]" if all(parts) else None
    names = {list: "List", tuple: "Tuple", dict: "Dict"}
    if origin in names and args:
        parts = [_annotation_text(a) for a in args]
        return f"{names[origin]}[{', '.join(parts)}]" if all(parts) else None
    if getattr(hint, "__name__", None) == "Final" or str(hint).startswith("typing.Final"):
        return _annotation_text(args[0]) if args else None
    return None


def _class_hints(cls: type) -> dict:
    hints = {}
    for klass in reversed(cls.__mro__):
        hints.update(getattr(klass, "__annotations__", {}) or {})
    return hints


def _attr_name(name: str) -> str:
    if name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__"):
        return name
    return "m_" + "".join(c if c.isalnum() else "_" for c in name)


# ------------------------------------------------------------------ the per-module plan

class _Node:
    """One module of the tree: its script class, its attributes and its children."""

    def __init__(self, module: Module):
        self.module = module
        self.class_name = ""
        self.decls: list = []  # (script attr name, type text)
        self.values: dict = {}  # script attr name -> python value (tensors, plain values)
        self.children: dict = {}  # python name -> _Node
        self.child_attr: dict = {}  # python name -> script attr name
        self.methods: list = []  # method source texts


def _forward_function(module: Module):
    forward = module.__dict__.get("forward")
    if isinstance(forward, types.MethodType):
        return forward.__func__
    return type(module).forward


def _method_function(module: Module, name: str):
    if name == "forward":
        return _forward_function(module)
    return getattr(type(module), name, None)


def declare_attributes(node: _Node) -> None:
    """Fill ``node.decls`` and ``node.values`` from its module (children already built):
    ``training``, parameters and buffers, submodules, then plain values of script types."""
    module = node.module
    node.decls.append(("training", "bool"))
    node.values["training"] = module.training
    hints = _class_hints(type(module))
    for table in (module._parameters, module._buffers):
        for name, value in table.items():
            attr = _attr_name(name)
            hinted = _annotation_text(hints.get(name)) if name in hints else None
            node.decls.append((attr, hinted or ("Tensor" if value is not None
                                                else "Optional[Tensor]")))
            node.values[attr] = value
    for name, child in node.children.items():
        node.decls.append((node.child_attr[name], child.class_name))
    for name, value in module.__dict__.items():
        if name in _INTERNAL or name.startswith("__") or callable(value) and \
                not isinstance(value, Tensor):
            continue
        hinted = _annotation_text(hints.get(name)) if name in hints else None
        type_text = hinted or (_value_type(value) if value is not None else
                               "Optional[Tensor]")
        if type_text is None:
            continue
        if isinstance(value, tuple):
            value = list(value)
        attr = _attr_name(name)
        node.decls.append((attr, type_text))
        node.values[attr] = value


class _Builder:
    def __init__(self) -> None:
        self.classes: dict = {}  # signature -> class name
        self.sources: list = []
        self.imports: dict = {}  # alias -> canonical module name
        self.constants: dict = {}
        self.helpers: list = []
        self.helper_ids: set = set()
        self.counts: dict = {}

    # -------------------------------------------------------------- tree walk

    def build(self, module: Module) -> _Node:
        node = _Node(module)
        for name, child in module._modules.items():
            if child is None:
                continue
            node.children[name] = self.build(child)
            node.child_attr[name] = _attr_name(name)
        declare_attributes(node)
        node.methods = self._methods(node)
        signature = (type(module), tuple(node.decls), tuple(node.methods))
        if signature not in self.classes:
            base = type(module).__name__
            n = self.counts.get(base, 0)
            self.counts[base] = n + 1
            class_name = base if n == 0 else f"{base}_{n}"
            self.classes[signature] = class_name
            self.sources.append(self._class_source(class_name, node))
        node.class_name = self.classes[signature]
        return node

    def _class_source(self, class_name: str, node: _Node) -> str:
        lines = [f"class {class_name}(torch.nn.Module):"]
        lines += [f"    {attr}: {type_text}" for attr, type_text in node.decls]
        for method in node.methods:
            lines.append(textwrap.indent(method, "    "))
        return "\n".join(lines) + "\n"

    # -------------------------------------------------------------- methods

    def _methods(self, node: _Node) -> list:
        module = node.module
        if isinstance(module, Sequential):
            return [self._sequential_forward(node)]
        if isinstance(module, (ModuleList, ModuleDict)):
            return []
        wanted = ["forward"]
        for klass in type(module).__mro__:
            for name, fn in vars(klass).items():
                if getattr(fn, "_ts_export", False) and name not in wanted:
                    wanted.append(name)
        done: dict = {}
        while wanted:
            name = wanted.pop(0)
            if name in done:
                continue
            fn = _method_function(module, name)
            if fn is None or not callable(fn):
                raise CompileError(f"{type(module).__name__} has no method '{name}' to compile")
            if getattr(fn, "_ts_ignore", False):
                raise CompileError(f"{type(module).__name__}.{name} is @ignore'd but called "
                                   "from scripted code; calling back into Python is not "
                                   "supported")
            text, called = self._method_source(node, fn, name)
            done[name] = text
            for callee in called:
                if callee not in done and callee not in wanted:
                    wanted.append(callee)
        return list(done.values())

    def _sequential_forward(self, node: _Node) -> str:
        lines = ["def forward(self, input: Tensor) -> Tensor:"]
        for name in node.children:
            lines.append(f"    input = self.{node.child_attr[name]}.forward(input)")
        lines.append("    return input")
        return "\n".join(lines) + "\n"

    def _method_source(self, node: _Node, fn, name: str) -> tuple[str, list]:
        try:
            source = textwrap.dedent(inspect.getsource(fn))
        except (OSError, TypeError) as exc:
            raise CompileError(f"cannot get the source of {fn.__qualname__}: {exc}") from None
        tree = pyast.parse(source)
        fdef = tree.body[0]
        if not isinstance(fdef, pyast.FunctionDef):
            raise CompileError(f"{fn.__qualname__} is not a plain method")
        fdef.decorator_list = []
        fdef.name = name
        if getattr(fn, "_ts_unused", False):
            fdef.body = [pyast.Raise(exc=pyast.Call(
                func=pyast.Name("RuntimeError", pyast.Load()),
                args=[pyast.Constant(f"{fn.__qualname__} is @unused in script")], keywords=[]),
                cause=None)]
            if fdef.returns is None:
                fdef.returns = pyast.Name("Tensor", pyast.Load())
        self._note_globals(fn, fdef)
        rewriter = _Rewriter(node)
        fdef = rewriter.visit(fdef)
        pyast.fix_missing_locations(fdef)
        return pyast.unparse(fdef) + "\n", rewriter.called_methods

    def _note_globals(self, fn, fdef) -> None:
        """Imports for the module aliases the method reads (``F``, ``nn``), and the constants and
        helper functions it uses from its module's globals."""
        env = dict(getattr(fn, "__globals__", {}))
        names = {n.id for n in pyast.walk(fdef) if isinstance(n, pyast.Name)}
        for name in names:
            if name not in env or name in _BUILTIN_NAMES or name in _TYPING_NAMES:
                continue
            value = env[name]
            if isinstance(value, types.ModuleType):
                canonical = value.__name__
                if canonical.startswith("tensorscript"):
                    canonical = "torch" + canonical[len("tensorscript"):]
                    if canonical == "torch.eager":
                        canonical = "torch"
                self.imports[name] = canonical
            elif isinstance(value, (bool, int, float, str)):
                self.constants.setdefault(name, value)
            elif isinstance(value, types.FunctionType) and not getattr(value, "_ts_ignore", False):
                if id(value) not in self.helper_ids:
                    self.helper_ids.add(id(value))
                    self.helpers.append(value)

    def source(self) -> str:
        lines = ["import torch", "from torch import Tensor",
                 f"from typing import {', '.join(_TYPING_NAMES)}"]
        for alias, canonical in sorted(self.imports.items()):
            if alias == canonical:
                lines.append(f"import {canonical}")
            else:
                lines.append(f"import {canonical} as {alias}")
        return "\n".join(lines) + "\n\n\n" + "\n\n".join(self.sources)


def _self_path(node: _Node, child_names: list) -> pyast.expr:
    expr = pyast.Name("self", pyast.Load())
    current = node
    for name in child_names:
        expr = pyast.Attribute(expr, current.child_attr[name], pyast.Load())
        current = current.children[name]
    return expr


def _functional_name(value) -> Optional[str]:
    """``torch.nn.functional.relu`` for a ``ts.nn.functional`` function (or ``torch.tanh`` for a
    ``ts`` one), None for anything else."""
    module = getattr(value, "__module__", None)
    name = getattr(value, "__name__", None)
    if not callable(value) or name is None:
        return None
    if module == "tensorscript.nn.functional":
        return f"torch.nn.functional.{name}"
    if module == "tensorscript.eager":
        return f"torch.{name}"
    return None


def _constant_key(expr):
    """The value of a constant index (``0``, ``-1``, ``"name"``), or None."""
    if isinstance(expr, pyast.Constant) and isinstance(expr.value, (int, str)):
        return expr.value
    if isinstance(expr, pyast.UnaryOp) and isinstance(expr.op, pyast.USub) and \
            isinstance(expr.operand, pyast.Constant) and isinstance(expr.operand.value, int):
        return -expr.operand.value
    return None


class _Substitute(pyast.NodeTransformer):
    def __init__(self, mapping: dict):
        self.mapping = mapping

    def visit_Name(self, n):
        if isinstance(n.ctx, pyast.Load) and n.id in self.mapping:
            return copy.deepcopy(self.mapping[n.id])
        return n


class _Rewriter(pyast.NodeTransformer):
    """Rewrites a method body from Python's module protocol to script's."""

    def __init__(self, node: _Node):
        self.node = node
        self.called_methods: list = []

    def _path_of(self, expr) -> Optional[list]:
        """Python child names along ``self.a.b`` (None if not a submodule path)."""
        names = []
        while isinstance(expr, pyast.Attribute):
            names.append(expr.attr)
            expr = expr.value
        if not (isinstance(expr, pyast.Name) and expr.id == "self"):
            return None
        current, out = self.node, []
        for attr in reversed(names):
            found = None
            for name in current.children:
                if name == attr or current.child_attr[name] == attr:
                    found = name
                    break
            if found is None:
                return None
            out.append(found)
            current = current.children[found]
        return out

    def _node_of(self, names: list) -> _Node:
        current = self.node
        for name in names:
            current = current.children[name]
        return current

    def visit_Attribute(self, n):
        self.generic_visit(n)
        path = self._path_of(n)
        if path:
            return _self_path(self.node, path)
        return n

    def visit_Subscript(self, n):
        self.generic_visit(n)
        path = self._path_of(n.value)
        key = _constant_key(n.slice)
        if path is None or key is None:
            return n
        container = self._node_of(path)
        keys = list(container.children)
        if isinstance(container.module, ModuleDict) and key in container.children:
            return _self_path(self.node, path + [key])
        if isinstance(key, int) and -len(keys) <= key < len(keys):
            return _self_path(self.node, path + [keys[key % len(keys)]])
        return n

    def visit_Call(self, n):
        self.generic_visit(n)
        func = n.func
        if isinstance(func, pyast.Name) and func.id == "len" and len(n.args) == 1:
            path = self._path_of(n.args[0])
            if path is not None:
                return pyast.Constant(len(self._node_of(path).children))
        path = self._path_of(func)
        if path:
            n.func = pyast.Attribute(_self_path(self.node, path), "forward", pyast.Load())
            return n
        if isinstance(func, pyast.Attribute) and isinstance(func.value, pyast.Name) and \
                func.value.id == "self":
            stored = self.node.module.__dict__.get(func.attr)
            functional = _functional_name(stored)
            if functional is not None:
                # A function stored on the module (TransformerEncoderLayer.activation): call
                # the op it names.
                n.func = pyast.parse(functional, mode="eval").body
                return n
            attr = getattr(type(self.node.module), func.attr, None)
            if callable(attr) and not isinstance(attr, type):
                self.called_methods.append(func.attr)
        return n

    def _constant_test(self, test) -> Optional[bool]:
        """``self.sub is None`` / ``is not None`` on a submodule slot (a module, or None in
        place of one): known when scripting, as in TorchScript, so the other branch drops."""
        if not (isinstance(test, pyast.Compare) and len(test.ops) == 1
                and isinstance(test.ops[0], (pyast.Is, pyast.IsNot))
                and isinstance(test.comparators[0], pyast.Constant)
                and test.comparators[0].value is None
                and isinstance(test.left, pyast.Attribute)
                and isinstance(test.left.value, pyast.Name) and test.left.value.id == "self"):
            return None
        module = self.node.module
        name = test.left.attr
        if name in module._modules:
            is_none = module._modules[name] is None
        elif name in module.__dict__ and module.__dict__[name] is None and \
                name not in module._parameters and name not in module._buffers:
            is_none = True
        else:
            return None
        return is_none if isinstance(test.ops[0], pyast.Is) else not is_none

    def visit_If(self, n):
        known = self._constant_test(n.test)
        if known is None:
            self.generic_visit(n)
            return n
        body = n.body if known else n.orelse
        out = []
        for stmt in body:
            result = self.visit(stmt)
            if isinstance(result, list):
                out.extend(result)
            elif result is not None:
                out.append(result)
        return out or pyast.Pass()

    def visit_For(self, n):
        iterable, index_name, target = n.iter, None, n.target
        if isinstance(iterable, pyast.Call) and isinstance(iterable.func, pyast.Name) and \
                iterable.func.id == "enumerate" and len(iterable.args) == 1 and \
                isinstance(target, pyast.Tuple) and len(target.elts) == 2:
            index_name, target = target.elts[0], target.elts[1]
            iterable = iterable.args[0]
        values_call = False
        if isinstance(iterable, pyast.Call) and isinstance(iterable.func, pyast.Attribute) and \
                iterable.func.attr == "values" and not iterable.args:
            iterable, values_call = iterable.func.value, True
        path = self._path_of(iterable)
        if path is None or not isinstance(target, pyast.Name) or n.orelse:
            self.generic_visit(n)
            return n
        container = self._node_of(path)
        if isinstance(container.module, ModuleDict) and not values_call:
            self.generic_visit(n)
            return n
        unrolled = []
        for i, name in enumerate(container.children):
            mapping = {target.id: _self_path(self.node, path + [name])}
            if index_name is not None and isinstance(index_name, pyast.Name):
                mapping[index_name.id] = pyast.Constant(i)
            for stmt in n.body:
                stmt = _Substitute(mapping).visit(copy.deepcopy(stmt))
                unrolled.append(self.visit(stmt))
        if not unrolled:
            return pyast.Pass()
        return unrolled


# ------------------------------------------------------------------ the ScriptModule

class ScriptModule(Module):
    """A compiled module: ``forward`` (and exported methods) run the compiled graphs, over the
    same parameters and buffers as the module it was made from."""

    def __init__(self, original: Module, root: _Node, compiled, objects: list) -> None:
        super().__init__()
        d = self.__dict__
        d["_parameters"] = original._parameters
        d["_buffers"] = original._buffers
        d["_modules"] = original._modules
        d["_non_persistent_buffers_set"] = original._non_persistent_buffers_set
        d["training"] = original.training
        d["_original"] = original
        d["_root"] = root
        d["_compiled"] = compiled
        d["_objects"] = objects  # (node, ScriptObject) pairs
        d["_c"] = objects[-1][1]
        d["_signature"] = inspect.signature(_forward_function(original)) \
            if not isinstance(original, Sequential) else None
        d["original_name"] = type(original).__name__

    def _bind(self, args: tuple, kwargs: dict) -> tuple:
        sig = self._signature
        if sig is None or (not kwargs and len(args) == len(sig.parameters) - 1):
            return args
        bound = sig.bind(None, *args, **kwargs)
        bound.apply_defaults()
        return tuple(bound.args[1:])

    def forward(self, *args, **kwargs):
        return self._c.forward(*self._bind(args, kwargs))

    def __getattr__(self, name: str):
        d = self.__dict__
        if "_c" in d and not name.startswith("_"):
            qualified = f"{self._root.class_name}.{name}"
            if qualified in d["_compiled"].graphs:
                return getattr(d["_c"], name)
        if "_original" in d and not name.startswith("_"):
            return getattr(d["_original"], name)
        return super().__getattr__(name)

    @property
    def graph(self):
        return self._compiled.graphs[f"{self._root.class_name}.forward"]

    @property
    def code(self) -> str:
        name = f"{self._root.class_name}.forward"
        graph = self._compiled.graphs[name]
        try:
            from ..jit import graph_to_source
            return graph_to_source(graph, "forward")
        except Exception:  # the printer is best-effort; the IR always prints
            return str(graph)

    @property
    def source(self) -> str:
        """The script classes the module tree was written as."""
        return self._source

    def _sync(self) -> None:
        for node, obj in self._objects:
            module = node.module
            setattr(obj, "training", module.training)
            for table in (module._parameters, module._buffers):
                for name, value in table.items():
                    setattr(obj, _attr_name(name), value)

    def train(self, mode: bool = True) -> "ScriptModule":
        self._original.train(mode)
        self.__dict__["training"] = mode
        self._sync()
        return self

    def _apply(self, fn):
        self._original._apply(fn)
        self._sync()
        return self

    def _get_name(self) -> str:
        return "RecursiveScriptModule"

    def __repr__(self) -> str:
        return f"RecursiveScriptModule(original_name={self.original_name})"


def _make_objects(node: _Node, program, classes: dict, out: list):
    from ..interpreter.values import ScriptObject
    obj = ScriptObject(classes[node.class_name].type, program)
    for attr, value in node.values.items():
        setattr(obj, attr, value)
    for name, child in node.children.items():
        setattr(obj, node.child_attr[name], _make_objects(child, program, classes, out))
    out.append((node, obj))
    return obj


def script_module(module: Module) -> ScriptModule:
    """Compile ``module``'s class tree and return a ScriptModule sharing its tensors."""
    from ..compiler import _Compiled, _collect, _parse
    if isinstance(module, ScriptModule):
        return module
    builder = _Builder()
    root = builder.build(module)
    text = builder.source()
    sources = [(text, f"<script {type(module).__name__}>")]
    constants = dict(builder.constants)
    for helper in builder.helpers:
        helper_sources, helper_constants = _collect(helper)
        constants.update(helper_constants)
        sources = [(s.text, s.filename) for s in helper_sources] + sources
    return build_script_module(root, sources, constants)


def compile_sources(sources: list, globals_: Optional[dict] = None):
    """Compile ``[(text, filename), ...]`` as one module (the classes of a module tree)."""
    from ..compiler import _Compiled, _parse
    parsed = [_parse(t, n) for t, n in sources]
    return _Compiled(parsed, globals_ or None)


def build_script_module(root: _Node, sources: list, globals_: Optional[dict] = None,
                        compiled=None, cls: type = None) -> "ScriptModule":
    """A ScriptModule running the classes of ``sources`` over ``root``'s module tree (each
    node's class name, values and children set)."""
    if compiled is None:
        compiled = compile_sources(sources, globals_)
    classes = compiled.checked.classes
    objects: list = []
    _make_objects(root, compiled.program, classes, objects)
    # the root's object was appended last (post-order)
    sm = (cls or ScriptModule)(root.module, root, compiled, objects)
    d = sm.__dict__
    d["_source"] = sources[-1][0]
    d["_sources"] = [(t, n) for t, n in sources]
    d["_globals"] = dict(globals_ or {})
    return sm


__all__ = ["ScriptModule", "script_module", "build_script_module", "compile_sources",
           "declare_attributes"]
