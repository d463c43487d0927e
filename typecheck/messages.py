"""Every message the type checker can emit, each with a stable code (as mypy's message registry).

Codes never change once published: tests, docs and users' notes refer to them. A message is
formatted with ``str.format`` keywords; :func:`error` builds the ``CompileError`` entry.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    code: str
    template: str

    def format(self, **kw) -> str:
        return self.template.format(**kw)


# names and scopes
NAME_UNDEFINED = Message("name-defined", "name '{name}' is not defined{hint}")
NOT_IN_BRANCH = Message("name-branch", "{name} is not defined in the {branch} branch")
BRANCH_MISMATCH = Message(
    "branch-type",
    "type mismatch: {name} is set to type {true_type} in the true branch and type "
    "{false_type} in the false branch",
)
LOOP_ONLY = Message("name-loop", "{name} is only defined inside the loop body, not after the loop")
REASSIGN_OUTER = Message(
    "reassign-type",
    "variable '{name}' previously had type {old} but is now being assigned a value "
    "of type {new} (a variable keeps one type across loops and branches)",
)
REDECLARE = Message(
    "redeclare",
    "variable '{name}' is already defined in an outer block and cannot be annotated again here",
)
TOPLEVEL_VARIABLE = Message(
    "toplevel-variable",
    "'{name}' is a variable of the script's top level; functions can only use "
    "module constants (int, float, bool or str assigned once)",
)
GLOBAL_VALUE = Message(
    "global-value", "global '{name}' of Python type {pytype} cannot be used in script code"
)
FUNCTION_AS_VALUE = Message(
    "function-value", "function '{name}' can only be called, not used as a value"
)
MODULE_AS_VALUE = Message(
    "module-value", "module '{name}' can only be used to reach its attributes"
)
TYPE_AS_VALUE = Message("type-value", "type '{name}' cannot be used as a value here")

# annotations
ANNOTATION_INVALID = Message("valid-type", "'{text}' is not a valid type annotation{hint}")
TUPLE_ELLIPSIS = Message(
    "valid-type", "Tuple[{elem}, ...] is not supported: spell out each element's type"
)
DICT_KEY_TYPE = Message(
    "valid-type", "dict keys must be str, int, float, bool or Tensor, got {key}"
)
ANNOTATION_MISMATCH = Message(
    "assignment",
    "variable '{name}' is annotated with type {declared} but is being assigned a "
    "value of type {got}",
)
ATTRIBUTE_MISMATCH = Message(
    "assignment",
    "attribute '{name}' of {cls} has type {declared} but is being assigned a value of type {got}",
)
ANNOTATION_NO_VALUE = Message(
    "assignment", "a variable annotation needs a value: '{name}: {declared} = ...'"
)

# functions and returns
RETURN_MISMATCH = Message(
    "return-value",
    "return value was annotated as having type {declared} but is actually of type {got}",
)
RETURN_UNIFY = Message(
    "return-value",
    "previous return statement returned a value of type {previous} but this return "
    "statement returns a value of type {got}",
)
RETURN_OUTSIDE = Message("return", "'return' outside a function")
MISSING_RETURN = Message(
    "return",
    "function '{name}' is annotated to return {declared} but does not return along all paths",
)
RECURSION = Message("recursion", "recursive calls are not supported: {chain}")
CLOSURE = Message(
    "closure",
    "nested function '{name}' cannot be called: nested functions (closures) are not "
    "supported; define it at module level",
)
NESTED_DEF = Message(
    "closure", "nested function definitions are not supported; define '{name}' at module level"
)
DEFAULT_NOT_CONSTANT = Message(
    "default", "the default value of parameter '{name}' must be a constant"
)
DEFAULT_MISMATCH = Message(
    "default", "the default value of parameter '{name}' has type {got}, not {declared}"
)
STAR_PARAMS = Message("unsupported", "*args and **kwargs parameters are not supported")
DUPLICATE_FUNCTION = Message("redefinition", "'{name}' is defined twice in this module")

# calls and overloads
ARG_TYPE = Message("arg-type", "expected {expected} for argument '{arg}' of {callee}, got {got}")
NO_OVERLOAD = Message(
    "call-overload",
    "no overload of {callee} matches the arguments ({got}){reason}; candidates:\n{candidates}",
)
UNKNOWN_KEYWORD = Message(
    "call-arg", "{callee}() got an unexpected keyword argument '{keyword}'{hint}"
)
MISSING_ARG = Message("call-arg", "{callee}() missing required argument '{arg}'")
TOO_MANY_ARGS = Message(
    "call-arg", "{callee}() takes at most {limit} positional arguments but {given} were given"
)
DUPLICATE_ARG = Message("call-arg", "{callee}() got multiple values for argument '{arg}'")
STARRED_ARG = Message(
    "unsupported", "starred arguments (*args, **kwargs) are not supported in calls"
)
NOT_CALLABLE = Message("operator", "a value of type {type} is not callable")
UNKNOWN_FUNCTION = Message("name-defined", "{module}.{name} is not a known function{hint}")
UNKNOWN_MODULE_ATTR = Message("attr-defined", "module '{module}' has no attribute '{name}'{hint}")
UNKNOWN_ATTR = Message("attr-defined", "'{type}' object has no attribute or method '{name}'{hint}")
METHOD_AS_VALUE = Message("attr-defined", "method '{name}' of {type} can only be called")

# operators and expressions
BINARY_OPERATOR = Message(
    "operator", "unsupported operand types for {op}: {left} and {right}{candidates}"
)
UNARY_OPERATOR = Message("operator", "unsupported operand type for unary {op}: {operand}")
COMPARE_CHAIN = Message("operator", "a chained comparison needs bool results; '{op}' gives {got}")
TYPE_COMMENT = Message(
    "type-comment", "cannot read the signature comment '# type: {text}' (expected '(T, ...) -> R')"
)
TYPE_COMMENT_ARITY = Message(
    "type-comment",
    "the signature comment gives {types} parameter types but the function has {params} "
    "parameters",
)
IS_NONE_ONLY = Message(
    "operator",
    "'{op}' compares a value with None; {left} and {right} cannot be None (use == for values)",
)
EQ_NONE = Message(
    "operator",
    "'{op}' compares a value with None, but {left} cannot be None (use 'is None' on an Optional)",
)
CONDITION_TYPE = Message("condition", "a value of type {type} cannot be used as a condition")
IFEXP_MISMATCH = Message(
    "ifexp",
    "the branches of a conditional expression have different types: {true_type} and {false_type}",
)
LIST_ANNOTATION = Message(
    "list-item",
    "List type annotation `{declared}` did not match the types of the given list "
    "elements, which were unified to {got}",
)
LIST_ELEMENT = Message(
    "list-item", "list element of type {got} does not match the expected element type {declared}"
)
DICT_ENTRY = Message(
    "dict-item", "dict {part} of type {got} does not match the expected type {declared}"
)
DICT_UNIFY = Message("dict-item", "dict {part}s must have one type, got {first} and {second}")
ELLIPSIS_VALUE = Message("syntax", "'...' can only be used in a tensor index")
SLICE_VALUE = Message("syntax", "a slice can only appear inside brackets")
STARRED = Message("unsupported", "starred expressions are not supported")
NOT_SUBSCRIPTABLE = Message("index", "a value of type {type} is not subscriptable")
TUPLE_INDEX_RANGE = Message(
    "index", "tuple index out of range: {type} has {length} elements and the index is {index}"
)
TUPLE_INDEX_CONSTANT = Message(
    "index", "tuples can only be indexed by integer constants (here: {got})"
)
TENSOR_INDEX = Message(
    "index", "a tensor index must be int, slice, None, ..., Tensor or List[int], got {got}"
)
SLICE_PART = Message("index", "slice bounds must be int or None, got {got}")
TOO_DEEP = Message("too-deep", "the program is nested too deeply (more than {limit} levels)")

# statements
UNPACK_ARITY = Message("unpack", "cannot unpack {type} ({length} values) into {targets} targets")
UNPACK_TYPE = Message("unpack", "cannot unpack a value of type {type}")
NOT_ITERABLE = Message("iteration", "a value of type {type} cannot be iterated over")
RANGE_ARGS = Message("call-arg", "range() takes 1 to 3 int arguments, got ({got})")
RANGE_CONTEXT = Message(
    "unsupported", "{name}() can only be used as the iterable of a for loop or comprehension"
)
ASSIGN_TARGET = Message("assignment", "cannot assign to {what}")
DELETE_TARGET = Message(
    "unsupported", "del only supports names and list and dict items (del x, del xs[i], del d[k])"
)
BREAK_OUTSIDE = Message("syntax", "'{what}' outside a loop")
WITH_FORM = Message("unsupported", "only 'with torch.no_grad():' is supported as a context manager")
RAISE_FORM = Message("raise", 'raise needs an exception such as ValueError("message")')
EXCEPTION_VALUE = Message("raise", "exception {name} can only be used in a raise statement")
UNSUPPORTED = Message("unsupported", "{what} is not supported in TensorScript")
UNKNOWN_MODULE = Message(
    "import",
    "unknown module '{module}': only torch, torch.nn.functional, math, typing and "
    "tensorscript can be imported",
)
UNKNOWN_IMPORT = Message("import", "cannot import '{name}' from '{module}'")
DECORATOR = Message(
    "decorator",
    "unsupported decorator: only @torch.jit.script, @ts.script, "
    "@torch.jit.export, @torch.jit.ignore and @torch.jit.unused are allowed",
)
CLASS_ATTRIBUTE = Message("attr-defined", "{cls} has no attribute '{name}'{hint}")
CLASS_BODY = Message("class", "a class body may only hold methods and attribute annotations")
NAMEDTUPLE_FIELD = Message("class", "a NamedTuple body may only hold field annotations ('x: int')")
ISINSTANCE_TYPE = Message(
    "isinstance", "isinstance() needs a type or a tuple of types as its second argument"
)
ANNOTATE_ARGS = Message("call-arg", "torch.jit.annotate(T, value) takes a type and a value")
NO_GRAD_VALUE = Message("unsupported", "torch.no_grad() can only be used in a with statement")
INTERNAL = Message("internal", "internal error while checking this code: {what}")


def suggest(name: str, candidates, prefix: str = "; did you mean ") -> str:
    """``'; did you mean 'x'?'`` for the closest candidate, or an empty string."""
    pool = sorted(set(candidates) - {name})
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        # A shortened or lengthened spelling (``dimension`` for ``dim``) is as likely as a typo.
        close = [c for c in pool if len(c) >= 3 and (name.startswith(c) or c.startswith(name))][:1]
    return f"{prefix}'{close[0]}'?" if close else ""


ALL = {name: value for name, value in globals().items() if isinstance(value, Message)}
