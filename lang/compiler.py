"""script, CompilationUnit, trace and the torch.jit names.

One pipeline for every way in: source text is parsed, type-checked, lowered to graphs, and the
graphs optimised; a :class:`ScriptFunction` checks its arguments against the function's
signature, runs its graph on the executor and hands back Python values of the static result
type.

``TENSORSCRIPT_JIT=0`` makes :func:`script` return what it was given (like ``PYTORCH_JIT=0``),
so the same program can be debugged as plain Python.
"""
from __future__ import annotations

import ast as _pyast
import inspect
import os
import sys
import textwrap
import types as _pytypes
from typing import Any, Callable, Optional

import numpy as np

from .interpreter import autograd
from .interpreter.errors import ScriptError
from .interpreter.executor import PreparedGraph, Program, run_prepared
from .interpreter.tensor import Tensor
from .interpreter.values import ScriptObject, _identity, is_tensor, normaliser, type_of
from .jit.ir import dtypes
from .jit.ir import types as T
from .parser.source import CompileError

# ------------------------------------------------------------------ the front end, as one call


def _front_end():
    """The stages, imported when first needed (they are large)."""
    def load():
        from .parser import parse_module
        from .typecheck import check_module
        from .jit import lower_module, run_pipeline
        return parse_module, check_module, lower_module, run_pipeline
    return _stage("compiler set-up", load)


def _internal_error(exc: BaseException, stage: str) -> CompileError:
    span = getattr(exc, "span", None)
    message = f"internal error in the {stage}: {type(exc).__name__}: {exc}"
    if span is not None and hasattr(span, "source"):
        return CompileError(message, span=span, code="internal")
    return CompileError(message, code="internal")


def _stage(stage: str, fn: Callable, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except CompileError:
        raise
    except RecursionError:
        raise CompileError(f"the program is nested too deeply to compile ({stage})") from None
    except Exception as exc:  # the user gets a CompileError, never an internal traceback
        err = _internal_error(exc, stage)
        err.internal = exc  # kept for whoever debugs the compiler
        raise err from None


def _merge_modules(modules: list):
    from .parser import ast as A

    if len(modules) == 1:
        return modules[0]
    first = modules[0]
    body = [stmt for m in modules for stmt in m.body]
    return A.Module(body, span=first.span, source=first.source)


class _Compiled:
    """What the pipeline made of one module: the checked module, the graphs, the program."""

    def __init__(self, modules: list, globals_: Optional[dict] = None):
        parse_module, check_module, lower_module, run_pipeline = _front_end()
        module = _merge_modules(modules)
        if globals_:
            self.checked = _stage("type checker", check_module, module, globals=globals_)
        else:
            self.checked = _stage("type checker", check_module, module)
        lowered = _stage("lowering", lower_module, self.checked)
        graphs = dict(lowered.graphs)
        from .jit.specialize import copy_graph
        # Shape specialisation starts again from the lowered graphs.
        self.unoptimised = {name: copy_graph(g) for name, g in graphs.items()}
        for name, graph in list(graphs.items()):
            optimised = _stage("optimiser", run_pipeline, graph)
            if optimised is not None:
                graphs[name] = optimised
        self.lowered = lowered
        self.graphs = graphs
        self.program = Program(graphs)
        self.functions = _function_defs(self.checked)


def _parse(text: str, name: str):
    parse_module = _front_end()[0]
    return _stage("parser", parse_module, text, name=name)


def _function_defs(checked) -> dict:
    """Top-level function name -> its typed FunctionDef (or whatever the checker keeps)."""
    functions = getattr(checked, "functions", None) or {}
    if isinstance(functions, dict):
        return dict(functions)
    return {getattr(f, "name", str(i)): f for i, f in enumerate(functions)}


# ------------------------------------------------------------------ signatures

class _Param:
    __slots__ = ("name", "type", "has_default", "default")

    def __init__(self, name: str, type_: T.Type, has_default: bool, default: Any):
        self.name = name
        self.type = type_
        self.has_default = has_default
        self.default = default


_NO_VALUE = object()


def _constant_value(expr) -> Any:
    """The value of a default argument's expression (literals, negations, tuples, names)."""
    from .parser import ast as A
    from .typecheck.targets import ConstantTarget

    if expr is None:
        return _NO_VALUE
    target = getattr(expr, "target", None)
    if isinstance(target, ConstantTarget):
        return target.value
    if isinstance(expr, A.Constant):
        return expr.value
    if isinstance(expr, A.UnaryOp) and expr.op in ("-", "+"):
        v = _constant_value(expr.operand)
        if v is _NO_VALUE:
            return v
        return -v if expr.op == "-" else v
    if isinstance(expr, (A.Tuple, A.List)):
        items = [_constant_value(e) for e in expr.elts]
        if any(v is _NO_VALUE for v in items):
            return _NO_VALUE
        return tuple(items) if isinstance(expr, A.Tuple) else items
    if isinstance(expr, A.Name) and expr.id in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[expr.id]
    return _NO_VALUE


def _signature(fn_def, graph) -> tuple[list, T.Type]:
    ftype = getattr(fn_def, "type", None)
    params: list[_Param] = []
    if isinstance(ftype, T.FunctionType):
        ast_params = list(getattr(fn_def, "params", []) or [])
        for i, (name, ptype, has_default) in enumerate(ftype.params):
            default = _NO_VALUE
            if has_default and i < len(ast_params):
                default = _constant_value(ast_params[i].default)
            params.append(_Param(name, ptype, default is not _NO_VALUE, default))
        returns = ftype.returns
    else:
        for i, v in enumerate(graph.inputs):
            params.append(_Param(v.name or f"arg{i}", v.type, False, None))
        outs = graph.outputs
        returns = outs[0].type if len(outs) == 1 else (T.NoneType if not outs else T.TupleType(tuple(v.type for v in outs)))
    return params, returns


def schema_type(t: T.Type) -> str:
    """A type in the schema language: ``Tensor``, ``int[]``, ``Tensor?``, ``Dict(str, int)``."""
    if isinstance(t, T.ListType):
        return f"{schema_type(t.elem)}[]"
    if isinstance(t, T.OptionalType):
        return f"{schema_type(t.elem)}?"
    if isinstance(t, T.DictType):
        return f"Dict({schema_type(t.key)}, {schema_type(t.value)})"
    if isinstance(t, T.TupleType) and not t.class_name:
        return "(" + ", ".join(schema_type(e) for e in t.elems) + ")"
    if t == T.NumberType:
        return "Scalar"
    return str(t)


def _default_repr(value: Any) -> str:
    if isinstance(value, dtypes.DType):
        return value.name
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_default_repr(v) for v in value) + "]"
    return repr(value)


# ------------------------------------------------------------------ argument conversion

class _ArgMismatch(Exception):
    pass


def _to_tensor(value):
    from . import eager

    from_numpy = getattr(eager, "from_numpy", None)
    if from_numpy is not None:
        return from_numpy(np.ascontiguousarray(value))
    from .interpreter.runtime import wrap
    return wrap(np.array(value))


def convert_argument(value: Any, t: T.Type) -> Any:
    """``value`` as the static type ``t`` accepts it, or raise _ArgMismatch. Containers are
    copied, as TorchScript does when values cross into a script."""
    if t == T.TensorType:
        if is_tensor(value):
            return value
        if isinstance(value, np.ndarray):
            return _to_tensor(value)
        raise _ArgMismatch
    if t == T.IntType:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise _ArgMismatch
        return int(value)
    if t == T.FloatType:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise _ArgMismatch
        return float(value)
    if t == T.BoolType:
        if not isinstance(value, (bool, np.bool_)):
            raise _ArgMismatch
        return bool(value)
    if t == T.StrType:
        if not isinstance(value, str):
            raise _ArgMismatch
        return value
    if t == T.NoneType:
        if value is not None:
            raise _ArgMismatch
        return None
    if t == T.AnyType:
        return value
    if t == T.NumberType:
        if isinstance(value, (np.integer, np.floating, np.bool_)):
            return value.item()
        if not isinstance(value, (int, float)):
            raise _ArgMismatch
        return value
    if t == T.DTypeType:
        if not isinstance(value, dtypes.DType):
            raise _ArgMismatch
        return value
    if t == T.DeviceType:
        return value
    if isinstance(t, T.OptionalType):
        return None if value is None else convert_argument(value, t.elem)
    if isinstance(t, T.UnionType):
        for m in t.members:
            try:
                return convert_argument(value, m)
            except _ArgMismatch:
                pass
        raise _ArgMismatch
    if isinstance(t, T.ListType):
        if not isinstance(value, (list, tuple)):
            raise _ArgMismatch
        return [convert_argument(v, t.elem) for v in value]
    if isinstance(t, T.TupleType):
        if not isinstance(value, (tuple, list)) or len(value) != len(t.elems):
            raise _ArgMismatch
        return tuple(convert_argument(v, e) for v, e in zip(value, t.elems))
    if isinstance(t, T.DictType):
        if not isinstance(value, dict):
            raise _ArgMismatch
        return {convert_argument(k, t.key): convert_argument(v, t.value) for k, v in value.items()}
    if isinstance(t, T.ClassType):
        if isinstance(value, ScriptObject) and value._ts_type is t:
            return value
        raise _ArgMismatch
    raise _ArgMismatch


def _converter(t: T.Type) -> Callable[[Any], Any]:
    """``convert_argument`` for one parameter, with the common cases decided once."""
    if t == T.TensorType:
        def tensor_(v):
            if type(v) is Tensor or is_tensor(v):
                return v
            return convert_argument(v, t)
        return tensor_
    if t == T.IntType:
        def int_(v):
            if type(v) is int:
                return v
            return convert_argument(v, t)
        return int_
    if t == T.FloatType:
        def float_(v):
            if type(v) is float:
                return v
            return convert_argument(v, t)
        return float_
    return lambda v: convert_argument(v, t)


# ------------------------------------------------------------------ ScriptFunction

class ScriptFunction:
    """A compiled function: call it like the Python function it came from."""

    def __init__(self, name: str, compiled: _Compiled, python_fn: Optional[Callable] = None):
        self.name = name
        self.qualified_name = name
        self._compiled = compiled
        graph = compiled.graphs[name]
        self._graph = graph
        self._params, self._returns = _signature(compiled.functions.get(name), graph)
        self._index = {p.name: i for i, p in enumerate(self._params)}
        self._converters = [_converter(p.type) for p in self._params]
        normalise = normaliser(self._returns)
        self._normalise = None if normalise is _identity else normalise
        self._prepared = None
        self._specs = None  # the shape-specialised variants, made with the first plan
        self._plan = None
        self._python_fn = python_fn
        if python_fn is not None:
            self.__doc__ = python_fn.__doc__
            self.__wrapped__ = python_fn
            self.__module__ = getattr(python_fn, "__module__", None)

    # -------------------------------------------------------------- what users look at

    @property
    def graph(self):
        return self._graph

    @property
    def code(self) -> str:
        try:
            from .jit import graph_to_source
        except ImportError:
            return str(self._graph)
        try:
            return graph_to_source(self._graph, self.name)
        except Exception:  # the printer is best-effort; the IR is always printable
            return str(self._graph)

    @property
    def schema(self) -> str:
        parts = []
        for p in self._params:
            s = f"{schema_type(p.type)} {p.name}"
            if p.has_default:
                s += f"={_default_repr(p.default)}"
            parts.append(s)
        return f"{self.name}({', '.join(parts)}) -> {schema_type(self._returns)}"

    def graph_for(self, *args, **kwargs):
        """The graph that runs for these arguments (specialised to their shapes); the generic
        graph for arguments the function does not accept."""
        try:
            values = self._bind(args, kwargs)
        except TypeError:
            return self._graph
        if self._prepared is None:
            self._make_plan()
        if self._specs is None:
            return self._graph
        return self._specs.graph_for(values)

    def save(self, path) -> None:
        from .serialization import save
        save(self, path)

    def __repr__(self) -> str:
        return f"<ScriptFunction {self.schema}>"

    # -------------------------------------------------------------- calling

    def _bind(self, args: tuple, kwargs: dict) -> list:
        params = self._params
        if not kwargs and len(args) == len(params):
            try:
                return [convert(v) for convert, v in zip(self._converters, args)]
            except _ArgMismatch:
                pass  # the slow path below names the argument
        if len(args) > len(params):
            raise TypeError(f"{self.name}() expected at most {len(params)} argument(s) but received "
                            f"{len(args) + len(kwargs)} argument(s). Declaration: {self.schema}")
        values = list(args)
        if kwargs or len(values) < len(params):
            for k in kwargs:
                i = self._index.get(k)
                if i is None:
                    raise TypeError(f"{self.name}() got an unexpected keyword argument '{k}'. "
                                    f"Declaration: {self.schema}")
                if i < len(args):
                    raise TypeError(f"{self.name}() got multiple values for argument '{k}'. "
                                    f"Declaration: {self.schema}")
            for p in params[len(args):]:
                if p.name in kwargs:
                    values.append(kwargs[p.name])
                elif p.has_default:
                    values.append(p.default)
                else:
                    raise TypeError(f"{self.name}() is missing value for argument '{p.name}'. "
                                    f"Declaration: {self.schema}")
        out = []
        for i, (convert, v) in enumerate(zip(self._converters, values)):
            try:
                out.append(convert(v))
            except _ArgMismatch:
                p = params[i]
                raise TypeError(
                    f"{self.name}() expected a value of type '{p.type}' for argument '{p.name}' "
                    f"but instead found type '{type_of(v)}'.\nPosition: {i}\n"
                    f"Declaration: {self.schema}") from None
        return out

    def _make_plan(self):
        from .jit import specialize

        program = self._compiled.program
        pg = self._prepared = program.prepared(self.name)
        tensors = [i for i, p in enumerate(self._params) if p.type == T.TensorType]
        if tensors and specialize.enabled():
            self._specs = specialize.SpecializedPlans(
                self._compiled.unoptimised.get(self.name, self._graph), tensors, lambda g: PreparedGraph(g, program), lambda: pg)
            self._plan = self._specs.plan  # the guard: arguments -> the variant's plan
        return pg

    def __call__(self, *args, **kwargs):
        # The common call, every parameter given by position, converts without _bind's checks;
        # _bind is the slow path and the one that names a mismatching argument.
        if kwargs or len(args) != len(self._converters):
            values = self._bind(args, kwargs)
        else:
            try:
                values = [convert(v) for convert, v in zip(self._converters, args)]
            except _ArgMismatch:
                values = self._bind(args, kwargs)
        plan = self._plan
        if plan is not None:
            pg = plan(values)
        else:
            pg = self._prepared
            if pg is None:
                pg = self._make_plan()
                if self._plan is not None:
                    pg = self._plan(values)
        # run_prepared's contract, inlined on this hot path: grad mode is restored however
        # the script ends.
        grad_mode = autograd._grad_enabled
        try:
            result = pg.run_list(values)
        except ScriptError as err:
            # The script traceback is in the message; the executor's Python frames are noise.
            raise err.with_traceback(None) from None
        finally:
            if autograd._grad_enabled != grad_mode:
                autograd._set_enabled(grad_mode)
        normalise = self._normalise
        return result if normalise is None else normalise(result)


# ------------------------------------------------------------------ CompilationUnit

class CompilationUnit:
    """Compiles TorchScript-style source; its functions become attributes (``cu.f(...)``)."""

    def __init__(self, source: str = "", name: str = "<string>", _globals: Optional[dict] = None):
        self._sources: list[tuple[str, str]] = []
        self._globals = dict(_globals or {})
        self._functions: dict[str, ScriptFunction] = {}
        self._compiled: Optional[_Compiled] = None
        self._name = name
        if source:
            self.define(source, name)

    def define(self, source: str, name: Optional[str] = None) -> "CompilationUnit":
        """Add functions to the unit; they may call the unit's earlier functions."""
        sources = self._sources + [(source, name or self._name)]
        modules = [_parse(text, n) for text, n in sources]
        compiled = _Compiled(modules, self._globals)
        self._sources = sources
        self._compiled = compiled
        self._functions = {
            fname: ScriptFunction(fname, compiled)
            for fname in compiled.functions if fname in compiled.graphs}
        return self

    def get_function(self, name: str) -> ScriptFunction:
        try:
            return self._functions[name]
        except KeyError:
            raise AttributeError(f"the compilation unit has no function '{name}'") from None

    def find_function(self, name: str) -> Optional[ScriptFunction]:
        return self._functions.get(name)

    @property
    def functions(self) -> dict:
        return dict(self._functions)

    @property
    def graphs(self) -> dict:
        return dict(self._compiled.graphs) if self._compiled else {}

    @property
    def program(self) -> Optional[Program]:
        return self._compiled.program if self._compiled else None

    def run_main(self) -> Any:
        """Run the top-level statements of a script file (the ``__main__`` graph), if any."""
        if self._compiled is None or "__main__" not in self._compiled.graphs:
            return None
        return run_prepared(self._compiled.program.prepared("__main__"), [])

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        functions = self.__dict__.get("_functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(f"the compilation unit has no function '{name}'")

    def __dir__(self):
        return list(super().__dir__()) + list(self._functions)


# ------------------------------------------------------------------ script

def _jit_enabled() -> bool:
    return os.environ.get("TENSORSCRIPT_JIT", "1") not in ("0", "false", "False")


_CONSTANT_TYPES = (bool, int, float, str)


class _PySource:
    """A Python function's own source, placed at its line in its file, decorators blanked."""

    def __init__(self, fn: Callable):
        try:
            lines, first = inspect.getsourcelines(fn)
        except (OSError, TypeError) as exc:
            raise CompileError(f"cannot get the source of {getattr(fn, '__qualname__', fn)!r}: {exc}") from None
        text = textwrap.dedent("".join(lines))
        try:
            tree = _pyast.parse(text)
        except SyntaxError:
            tree = None
        body_lines = text.split("\n")
        self.tree = None
        if tree is not None and tree.body and isinstance(tree.body[0], (_pyast.FunctionDef, _pyast.AsyncFunctionDef)):
            node = tree.body[0]
            self.tree = node
            # Decorators are Python's business: blank them, keeping every line where it was.
            for i in range(node.lineno - 1):
                body_lines[i] = ""
        filename = inspect.getsourcefile(fn) or getattr(fn, "__code__", None) and fn.__code__.co_filename or "<unknown>"
        self.filename = filename
        self.text = "\n" * max(first - 1, 0) + "\n".join(body_lines)

    def names(self) -> tuple[set, set]:
        """The names the function reads, and those it calls (``name(...)``)."""
        loaded: set = set()
        called: set = set()
        if self.tree is None:
            return loaded, called
        for node in _pyast.walk(self.tree):
            if isinstance(node, _pyast.Name) and isinstance(node.ctx, _pyast.Load):
                loaded.add(node.id)
            elif isinstance(node, _pyast.Call) and isinstance(node.func, _pyast.Name):
                called.add(node.func.id)
        return loaded, called


def _environment(fn: Callable) -> dict:
    env = dict(getattr(fn, "__globals__", {}) or {})
    closure = getattr(fn, "__closure__", None)
    if closure:
        for name, cell in zip(fn.__code__.co_freevars, closure):
            try:
                env[name] = cell.cell_contents
            except ValueError:
                pass
    return env


def _is_python_function(obj: Any) -> bool:
    return isinstance(obj, _pytypes.FunctionType)


def _collect(fn: Callable) -> tuple[list, dict]:
    """The sources of ``fn`` and of every Python function it calls by name (callees first), and
    the Python globals it reads that are constants (int, float, bool, str)."""
    order: list = []
    seen: set = set()
    constants: dict = {}

    def visit(f: Callable) -> None:
        if id(f) in seen:
            return
        seen.add(id(f))
        src = _PySource(f)
        env = _environment(f)
        loaded, called = src.names()
        for name in sorted(loaded):
            value = env.get(name, _NO_VALUE)
            if isinstance(value, ScriptFunction) and value._python_fn is not None:
                value = value._python_fn
            if name in called and _is_python_function(value):
                if not getattr(value, "_ts_ignore", False):
                    visit(value)
            elif isinstance(value, _CONSTANT_TYPES):
                constants.setdefault(name, value)
        order.append(src)

    visit(fn)
    return order, constants


def script(obj: Any, optimize: Any = None, example_inputs: Any = None):
    """Compile a Python function (and the Python functions it calls) into a ScriptFunction."""
    if not _jit_enabled():
        return obj
    if isinstance(obj, (ScriptFunction, CompilationUnit)):
        return obj
    from .nn.modules.module import Module as _Module
    if isinstance(obj, _Module):
        from .nn.scripting import script_module
        return script_module(obj)
    if isinstance(obj, type):
        raise NotImplementedError(
            f"scripting classes is not supported yet: {obj.__name__} (script functions, or "
            "write the class in a source given to CompilationUnit)")
    if not _is_python_function(obj):
        kind = type(obj).__name__
        raise NotImplementedError(f"ts.script of a {kind} is not supported yet: pass a function")
    sources, constants = _collect(obj)
    modules = [_parse(src.text, src.filename) for src in sources]
    compiled = _Compiled(modules, constants)
    if obj.__name__ not in compiled.graphs:
        raise CompileError(f"'{obj.__name__}' did not compile to a function")
    return ScriptFunction(obj.__name__, compiled, python_fn=obj)


def trace(fn: Callable, example_inputs: Any = None, *args, **kwargs):
    """Record the ops ``fn`` applies to ``example_inputs`` into a graph (see ``tracing``)."""
    try:
        from .tracing import trace as impl
    except ImportError:
        raise NotImplementedError("ts.trace is not available in this build: use ts.script or "
                                  "ts.CompilationUnit") from None
    return impl(fn, example_inputs, *args, **kwargs)


# ------------------------------------------------------------------ ts.jit

def annotate(the_type: Any, the_value: Any) -> Any:
    """``torch.jit.annotate(List[int], [])``: in Python, the value itself."""
    return the_value


def is_scripting() -> bool:
    """False in Python; the type checker makes it True inside scripts."""
    return False


def is_tracing() -> bool:
    return False


def export(fn: Callable) -> Callable:
    fn._ts_export = True
    return fn


def ignore(fn: Callable = None, *, drop: bool = False) -> Callable:
    """Leave a function to Python: scripts that reach it do not compile it."""
    def mark(f):
        f._ts_ignore = True
        f._ts_drop = drop
        return f
    return mark(fn) if callable(fn) else mark


def unused(fn: Callable) -> Callable:
    fn._ts_unused = True
    return fn


class _FinalAlias:
    """``Final[int]``: a constant's annotation."""

    def __getitem__(self, item):
        return item

    def __repr__(self) -> str:
        return "tensorscript.jit.Final"


Final = _FinalAlias()


class _JitNamespace(_pytypes.ModuleType):
    """``ts.jit``: the torch.jit names. ``tensorscript.jit`` is also the package that holds
    the compiler's internals; names not defined here are looked up there."""

    def __getattr__(self, name: str):
        internal = sys.modules.get("tensorscript.jit")
        if internal is not None and internal is not self and name != "__path__":
            try:
                return getattr(internal, name)
            except AttributeError:
                pass
        raise AttributeError(f"tensorscript.jit has no attribute '{name}'")


jit = _JitNamespace("tensorscript.jit", "The torch.jit names: script, trace, annotate, ...")
for _name, _value in {
    "script": script, "trace": trace, "annotate": annotate, "is_scripting": is_scripting,
    "is_tracing": is_tracing, "export": export, "ignore": ignore, "unused": unused,
    "Final": Final, "CompilationUnit": CompilationUnit, "ScriptFunction": ScriptFunction,
    "Error": ScriptError,
}.items():
    setattr(jit, _name, _value)

__all__ = ["script", "CompilationUnit", "ScriptFunction", "jit"]
