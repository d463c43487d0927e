"""Syntax errors: every rejected text is a CompileError at the right place, with a message a
person can act on; Python constructs TensorScript lacks are named as unsupported."""
import pytest

from tensorscript.parser import CompileError, parse_module
from tensorscript.parser import syntax_errors


def error(text):
    with pytest.raises(CompileError) as info:
        parse_module(text)
    return info.value


# (source, line, col, message) — the message is matched as a substring.
SYNTAX_ERRORS = [
    ("def f(x: int) -> int:\n    if x > 0\n        return x\n    return -x\n",
     2, 13, "expected ':'"),
    ("def f(x)\n    return x\n", 1, 9, "expected ':'"),
    ("while True\n    pass\n", 1, 11, "expected ':'"),
    ("for i in range(3)\n    pass\n", 1, 18, "expected ':'"),
    ("class A\n    pass\n", 1, 8, "expected ':'"),
    ("if x:\n    pass\nelse\n    pass\n", 3, 5, "expected ':'"),
    ("x = 1\n    y = 2\n", 2, 5, "unexpected indent"),
    ("  x = 1\n", 1, 3, "unexpected indent"),
    ("def f(x):\n    return x\n  y = 1\n", 3, 3,
     "unindent does not match any outer indentation level"),
    ("def f():\nreturn 1\n", 2, 1, "expected an indented block"),
    ("if x:\n", 2, 1, "expected an indented block"),
    ("x = 'abc\n", 1, 5, "unterminated string literal"),
    ("x = \"abc\ny = 2\n", 1, 5, "unterminated string literal"),
    ('x = """abc\n\ny = 1\n', 1, 5, "unterminated triple-quoted string literal"),
    ("x = f(1,\ny = 2\n", 1, 6, "'(' was never closed"),
    ("x = [1, 2\ndef g():\n    pass\n", 1, 5, "'[' was never closed"),
    ("x = {'a': 1\n", 1, 5, "'{' was never closed"),
    ("x = (1 + \n", 1, 5, "'(' was never closed"),
    ("x = (1, 2]\n", 1, 10, "closing bracket ']' does not match opening parenthesis '('"),
    ("x = (1,\n 2]\n", 2, 3, "does not match opening parenthesis '(' on line 1"),
    ("x = 1)\n", 1, 6, "unmatched ')'"),
    ("if x = 1:\n    pass\n", 1, 6, "did you mean '=='?"),
    ("x = 1 2\n", 1, 7, "unexpected number '2'"),
    ("x = [1 2]\n", 1, 8, "perhaps a missing ','?"),
    ("f(a b)\n", 1, 5, "perhaps a missing ','?"),
    ("x = $\n", 1, 5, "invalid character '$'"),
    ("x = 1 ? 2\n", 1, 7, "invalid character '?'"),
    ("x = 007\n", 1, 5, "invalid number literal"),
    ("x = 0b12\n", 1, 5, "invalid number literal"),
    ("x = 1.real\n", 1, 5, "invalid number literal"),
    ("x = 1_\n", 1, 5, "invalid number literal"),
    ("x = 1\\ 2\n", 1, 6, "unexpected character after line continuation character"),
    ("else:\n    pass\n", 1, 1, "unexpected keyword 'else'"),
    ("x = 1 +\n", 1, 8, "unexpected end of line"),
    ("f(a=1, 2)\n", 1, 8, "positional argument follows keyword argument"),
    ("f(a=1, a=2)\n", 1, 8, "keyword argument 'a' repeated"),
    ("f(x + 1=2)\n", 1, 3, "did you mean '=='?"),
    ("def f(a=1, b):\n    pass\n", 1, 12, "a parameter without a default follows"),
    ("def f(x, x):\n    pass\n", 1, 10, "duplicate parameter 'x'"),
    ("1 = x\n", 1, 1, "cannot assign to literal"),
    ("f() = 3\n", 1, 1, "cannot assign to function call"),
    ("for f() in x:\n    pass\n", 1, 5, "cannot assign to function call"),
    ("[x for 1 in y]\n", 1, 8, "cannot assign to literal"),
    ("x + 1 += 2\n", 1, 1, "cannot assign to expression"),
    ("a, b += 1\n", 1, 1, "augmented assignment"),
    ("a, b: int = 1, 2\n", 1, 1, "only a single name, attribute or subscript can be annotated"),
    ("del f()\n", 1, 5, "cannot delete function call"),
    ("x = '\\x4'\n", 1, 5, "invalid \\x escape"),
    ("x = '\\N{NO SUCH NAME}'\n", 1, 5, "unknown Unicode character name"),
    ("x = f'{}'\n", 1, 5, "f-string: empty expression not allowed"),
    ("x = f'{a!x}'\n", 1, 5, "invalid conversion character"),
    ("x = f'a}'\n", 1, 5, "single '}' is not allowed"),
    ("x = f'{a'\n", 1, 5, "expecting '}'"),
    ("x = f'{a +}'\n", 1, 11, "unexpected ')'"),
    ("x = f'{a # c}'\n", 1, 5, "cannot include '#'"),
    ("x.1\n", 1, 2, "unexpected number"),
    ("from . import x\n", 1, 6, "unexpected '.'"),
]


@pytest.mark.parametrize("source, line, col, message", SYNTAX_ERRORS)
def test_syntax_errors(source, line, col, message):
    err = error(source)
    assert message in err.message
    assert (err.lineno, err.col) == (line, col), err.message
    assert err.code == syntax_errors.SYNTAX
    # The rendered message shows the line and a caret under the column.
    rendered = str(err)
    assert f"<string>:{line}:{col}: error:" in rendered
    assert "^" in rendered.splitlines()[2]
    assert rendered.splitlines()[2].index("^") - rendered.splitlines()[1].index("|") == col + 1


UNSUPPORTED = [
    ("g = lambda y: y + 1\n", 1, 5, "lambda expressions are not supported in TensorScript"),
    ("f(lambda: 0)\n", 1, 3, "lambda expressions"),
    ("def f():\n    yield 1\n", 2, 5, "'yield' is not supported"),
    ("def f():\n    x = yield\n", 2, 9, "'yield' is not supported"),
    ("async def f():\n    pass\n", 1, 1, "async functions and statements are not supported"),
    ("async with a:\n    pass\n", 1, 1, "async"),
    ("x = await y\n", 1, 5, "'await' is not supported"),
    ("y = (x := 3)\n", 1, 6, "assignment expressions (':=') are not supported"),
    ("def f(*args):\n    pass\n", 1, 7, "variadic parameters ('*args')"),
    ("def f(**kw):\n    pass\n", 1, 7, "variadic keyword parameters ('**kwargs')"),
    ("def f(a, /, b):\n    pass\n", 1, 10, "positional-only parameters"),
    ("f(*a)\n", 1, 3, "argument unpacking ('*args')"),
    ("f(**a)\n", 1, 3, "keyword argument unpacking ('**kwargs')"),
    ("global x\n", 1, 1, "'global' statements are not supported"),
    ("def f():\n    nonlocal x\n", 2, 5, "'nonlocal' statements are not supported"),
    ("x = {1, 2}\n", 1, 5, "set literals are not supported"),
    ("x = {a for a in b}\n", 1, 5, "set comprehensions are not supported"),
    ("*a, b = c\n", 1, 1, "starred expressions"),
    ("x = [*a, 1]\n", 1, 6, "starred expressions"),
    ("x = {**a}\n", 1, 6, "dict unpacking"),
    ("x = (y for y in z)\n", 1, 5, "generator expressions are not supported"),
    ("try:\n    pass\nexcept E:\n    pass\n", 1, 1, "try statements are not supported"),
    ("try:\n    pass\nfinally:\n    pass\n", 1, 1, "try statements"),
    ("raise E from e\n", 1, 9, "'raise ... from ...' is not supported"),
    ("from x import *\n", 1, 1, "'from ... import *' is not supported"),
    ("x = 1j\n", 1, 5, "complex numbers are not supported"),
    ("x = 1.5e-3J\n", 1, 5, "complex numbers are not supported"),
    ("x = b'a'\n", 1, 5, "bytes literals are not supported"),
    ("class A(metaclass=M):\n    pass\n", 1, 9, "keyword arguments in a class definition"),
    ("x = f'{a=}'\n", 1, 5, "self-documenting f-string fields"),
    ("x = f'{a:{w}}'\n", 1, 5, "nested fields in an f-string format spec"),
    ("x = f'{a!a}'\n", 1, 5, "'!a' conversion"),
    ("x = 1\nexcept:\n", 2, 1, "try statements are not supported"),
]


@pytest.mark.parametrize("source, line, col, message", UNSUPPORTED)
def test_unsupported_python_is_named(source, line, col, message):
    err = error(source)
    assert message in err.message
    assert (err.lineno, err.col) == (line, col), err.message


def test_unsupported_messages_say_tensorscript():
    for message in syntax_errors.UNSUPPORTED_MESSAGES.values():
        assert "not supported in TensorScript" in message


def test_unsupported_constructs_are_all_reported_in_source_order():
    err = error("def f(*a):\n    g = lambda: 0\n    global q\n    return {1}\n")
    assert [span.line for _, span in err.errors] == [1, 2, 3, 4]
    assert err.lineno == 1
    assert "set literals" in str(err) and "lambda" in str(err)


def test_unsupported_construct_before_a_syntax_error_is_reported_with_it():
    err = error("x = lambda: 1\ny = (\n")
    assert len(err.errors) == 2
    assert "lambda" in err.errors[0][0] and "never closed" in err.errors[1][0]


def test_first_syntax_error_wins_over_a_later_lexical_error():
    err = error("x = = 1\ny = 'unterminated\n")
    assert err.lineno == 1


def test_line_offset_shifts_reported_lines():
    with pytest.raises(CompileError) as info:
        parse_module("x = (\n", name="m.py", line_offset=20)
    assert info.value.lineno == 21
    assert str(info.value).startswith("m.py:21:5: error: '(' was never closed")


def test_errors_carry_spans_into_the_source():
    err = error("x = lambda: 1\n")
    assert err.span.source.text == "x = lambda: 1\n"
    assert (err.span.line, err.span.col, err.span.end_line, err.span.end_col) == (1, 5, 1, 14)


def test_conformance_missing_colon_case():
    import json
    from pathlib import Path
    cases = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases"
    case = cases / "compile_error" / "syntax_error_missing_colon.json"
    if not case.exists():
        pytest.skip("conformance corpus not present")
    source = json.loads(case.read_text())["source"]
    err = error(source)
    assert err.lineno == 2 and err.message == "expected ':'"


@pytest.mark.parametrize("source, line, col, message", [
    ("def f(a, *):\n    pass\n", 1, 10, "named parameters must follow a bare '*'"),
    ("def f(a, *, b, *, c):\n    pass\n", 1, 16, "only one bare '*' is allowed"),
])
def test_bare_star_errors(source, line, col, message):
    err = error(source)
    assert message in err.message
    assert (err.lineno, err.col) == (line, col), err.message
