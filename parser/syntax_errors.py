"""Syntax errors: the parser's messages, and Lark's exceptions turned into CompileErrors.

Every message the parser can give is in this file. A message has a stable code: ``syntax``
for text that is not Python, ``unsupported-syntax`` for Python that TensorScript does not
accept (the message names the construct), ``limit`` for programs past a documented limit.
"""
from __future__ import annotations

from .source import CompileError, SourceFile, Span

SYNTAX = "syntax"
UNSUPPORTED = "unsupported-syntax"
LIMIT = "limit"

# Past these a program is rejected: deeper nesting is not something a person writes, and
# every later stage recurses over the tree.
MAX_BRACKET_DEPTH = 100
MAX_INDENT_DEPTH = 100
MAX_EXPRESSION_DEPTH = 200
# The parser's stack grows with nesting that is not in brackets (``- - - x``, ``a ** b **
# c``, ``x if c else y if ...``); past this the program is rejected before the tree is built.
MAX_PARSER_STACK = 2000

# Constructs of Python that TensorScript rejects, by the name the parser gives them.
UNSUPPORTED_MESSAGES = {
    "lambda": "lambda expressions are not supported in TensorScript",
    "yield": "'yield' is not supported in TensorScript (generators are not supported)",
    "await": "'await' is not supported in TensorScript",
    "async": "async functions and statements are not supported in TensorScript",
    "walrus": "assignment expressions (':=') are not supported in TensorScript",
    "global": "'global' statements are not supported in TensorScript",
    "nonlocal": "'nonlocal' statements are not supported in TensorScript",
    "set": "set literals are not supported in TensorScript",
    "set_comp": "set comprehensions are not supported in TensorScript",
    "generator": ("generator expressions are not supported in TensorScript, except as the "
                  "only argument of a call; use a list comprehension"),
    "starred": "starred expressions ('*x') are not supported in TensorScript",
    "star_arg": "argument unpacking ('*args') is not supported in TensorScript",
    "star_star_arg": "keyword argument unpacking ('**kwargs') is not supported in TensorScript",
    "star_param": "variadic parameters ('*args') are not supported in TensorScript",
    "star_star_param": "variadic keyword parameters ('**kwargs') are not supported in TensorScript",
    "slash_param": "positional-only parameters ('/') are not supported in TensorScript",
    "dict_unpack": "dict unpacking ('**') is not supported in TensorScript",
    "try": "try statements are not supported in TensorScript",
    "for_else": "'else' on a for loop is not supported in TensorScript",
    "while_else": "'else' on a while loop is not supported in TensorScript",
    "raise_from": "'raise ... from ...' is not supported in TensorScript",
    "import_star": "'from ... import *' is not supported in TensorScript",
    "complex": "complex numbers are not supported in TensorScript",
    "bytes": "bytes literals are not supported in TensorScript",
    "class_keywords": "keyword arguments in a class definition are not supported in TensorScript",
    "fstring_self_doc": ("self-documenting f-string fields ('{x=}') are not supported in "
                         "TensorScript"),
    "fstring_nested_spec": ("nested fields in an f-string format spec are not supported in "
                            "TensorScript"),
    "fstring_ascii": "the '!a' conversion in f-strings is not supported in TensorScript",
}

# Syntax errors found while building the tree, by name; ``{fields}`` are filled in.
SYNTAX_MESSAGES = {
    "expected_expression": "expected an expression",
    "unexpected_indent": "unexpected indent",
    "bad_unindent": "unindent does not match any outer indentation level",
    "too_many_brackets": "too many nested brackets (the limit is {limit})",
    "too_many_indents": "too many levels of indentation (the limit is {limit})",
    "too_deep": "program is nested too deeply",
    "expression_too_deep": "expression is nested too deeply (the limit is {limit} levels)",
    "annotated_target": "only a single name, attribute or subscript can be annotated",
    "aug_target": ("cannot assign to {what} (an augmented assignment updates a name, "
                   "attribute or subscript)"),
    "assign_target": "cannot assign to {what}",
    "delete_target": "cannot delete {what}",
    "duplicate_parameter": "duplicate parameter '{name}' in function definition",
    "bare_star": "named parameters must follow a bare '*'",
    "bare_star_repeated": "only one bare '*' is allowed in a parameter list",
    "default_order": "a parameter without a default follows a parameter with a default",
    "repeated_keyword": "keyword argument '{name}' repeated",
    "positional_after_keyword": "positional argument follows keyword argument",
    "keyword_expression": "expression cannot contain assignment; did you mean '=='?",
    "bad_escape": "invalid \\{char} escape in string literal",
    "unknown_character_name": "unknown Unicode character name in \\N escape",
    "malformed_character_name": "malformed \\N escape in string literal",
    "fstring_single_brace": "f-string: single '}}' is not allowed",
    "fstring_conversion": "f-string: invalid conversion character; expected 's' or 'r'",
    "fstring_unclosed": "f-string: expecting '}}'",
    "fstring_empty": "f-string: empty expression not allowed",
    "fstring_comment": "f-string expression part cannot include '#'",
}


def message(key: str, **fields) -> str:
    return SYNTAX_MESSAGES[key].format(**fields)


# Keywords that begin a Python construct TensorScript rejects; met where the grammar cannot
# take them, they still get the construct's message.
_KEYWORD_CONSTRUCTS = {
    "LAMBDA": "lambda", "YIELD": "yield", "AWAIT": "await", "ASYNC": "async",
    "GLOBAL": "global", "NONLOCAL": "nonlocal", "TRY": "try", "EXCEPT": "try",
    "FINALLY": "try",
}

_COMPOUND_KEYWORDS = ("if", "elif", "else", "while", "for", "def", "class", "with", "try",
                      "except", "finally")

_ATOM_TOKENS = {"NAME", "STRING", "DEC_NUMBER", "HEX_NUMBER", "OCT_NUMBER", "BIN_NUMBER",
                "FLOAT_NUMBER", "NONE", "TRUE", "FALSE", "LPAR", "LSQB", "LBRACE"}

_BRACKET_NAMES = {"(": "parenthesis", "[": "bracket", "{": "brace",
                  ")": "parenthesis", "]": "bracket", "}": "brace"}

_TOKEN_DESCRIPTIONS = {
    "_NEWLINE": "end of line", "_INDENT": "indent", "_DEDENT": "unindent", "$END": "end of file",
    "NAME": "name", "STRING": "string", "DEC_NUMBER": "number", "HEX_NUMBER": "number",
    "OCT_NUMBER": "number", "BIN_NUMBER": "number", "FLOAT_NUMBER": "number",
    "IMAG_NUMBER": "number",
}


class SyntaxProblem(Exception):
    """Raised inside the parser (indentation, brackets, literals) with where and what."""

    def __init__(self, message: str, line: int, col: int, end_line: int | None = None,
                 end_col: int | None = None, code: str = SYNTAX):
        super().__init__(message)
        self.message = message
        self.line, self.col = line, col
        self.end_line = end_line if end_line is not None else line
        self.end_col = end_col if end_col is not None else col + 1
        self.code = code


def unsupported(construct: str) -> str:
    return UNSUPPORTED_MESSAGES[construct]


def error_at(source: SourceFile, line: int, col: int, message: str, code: str = SYNTAX,
             end_line: int | None = None, end_col: int | None = None) -> CompileError:
    line, col = _clamp(source, line, col)
    end_line = line if end_line is None or end_line < line else end_line
    end_col = col + 1 if end_col is None or (end_line == line and end_col <= col) else end_col
    return CompileError.at(Span(source, line, col, end_line, end_col), message, code)


def from_problem(source: SourceFile, problem: SyntaxProblem) -> CompileError:
    return error_at(source, problem.line, problem.col, problem.message, problem.code,
                    problem.end_line, problem.end_col)


def from_unexpected(source: SourceFile, token, expected: set, brackets: list) -> CompileError:
    """The error for ``token`` where the parser can take only ``expected`` (terminal
    names); ``brackets`` are the opening bracket tokens not yet closed."""
    kind = token.type
    line, col = getattr(token, "line", 1) or 1, getattr(token, "column", 1) or 1
    end_line = getattr(token, "end_line", None)
    end_col = getattr(token, "end_column", None)

    if kind == "$END" and "_INDENT" not in expected:
        return _unclosed_or(source, brackets, line, col, "unexpected end of file")
    if kind in _KEYWORD_CONSTRUCTS:
        return error_at(source, line, col, unsupported(_KEYWORD_CONSTRUCTS[kind]), UNSUPPORTED,
                        end_line, end_col)
    if brackets and token.line > brackets[-1].line and _starts_line(source, token):
        return _unclosed(source, brackets[-1])
    if kind == "_INDENT":
        # The indent token sits on the newline before the indented line.
        return error_at(source, token.end_line, token.end_column, "unexpected indent")
    if kind == "_DEDENT" and "_INDENT" not in expected:
        return error_at(source, token.end_line, token.end_column, "unexpected unindent")
    if "_INDENT" in expected and kind in ("_NEWLINE", "_DEDENT"):
        return error_at(source, token.end_line, token.end_column,
                        "expected an indented block")
    if "_INDENT" in expected:
        return error_at(source, line, col, "expected an indented block", SYNTAX, end_line, end_col)
    if kind == "EQUAL" and "EQUAL" not in expected:
        return error_at(source, line, col,
                        "invalid syntax: '=' is assignment; did you mean '=='?",
                        SYNTAX, end_line, end_col)
    if "COLON" in expected and _in_compound_header(source, token, brackets):
        # The caret goes just after the header, where the colon belongs.
        return error_at(source, line, col, "expected ':'")
    if kind == "COLON" and "COLON" not in expected and not brackets:
        return error_at(source, line, col, "invalid syntax: unexpected ':'", SYNTAX, end_line,
                        end_col)
    closers = {"RPAR": ")", "RSQB": "]", "RBRACE": "}"}
    wanted = [closers[t] for t in ("RPAR", "RSQB", "RBRACE") if t in expected]
    if kind == "_NEWLINE" and brackets:
        return _unclosed(source, brackets[-1])
    message = f"invalid syntax: unexpected {_describe(token)}"
    if brackets and "COMMA" in expected and kind in _ATOM_TOKENS:
        return error_at(source, line, col, message + "; perhaps a missing ','?", SYNTAX,
                        end_line, end_col)
    if len(expected) == 1 and wanted:
        message += f"; expected '{wanted[0]}'"
    return error_at(source, line, col, message, SYNTAX, end_line, end_col)


def unexpected_character_problem(text: str, line: int, col: int) -> SyntaxProblem:
    """What is wrong where no token matches, at ``line``:``col`` of ``text``."""
    line_text = text.split("\n")[line - 1] if line <= text.count("\n") + 1 else ""
    rest = line_text[col - 1:]
    stripped = rest.lstrip("rRbBuUfF")
    quote = stripped[:1]
    if quote in ("'", '"') and col >= 3 and line_text[col - 3:col - 1] == quote * 2:
        # The lexer took the first two quotes of an unterminated triple quote as ''.
        return SyntaxProblem("unterminated triple-quoted string literal", line, col - 2)
    if quote in ("'", '"'):
        if stripped[:3] in ('"""', "'''"):
            return SyntaxProblem("unterminated triple-quoted string literal", line, col)
        return SyntaxProblem("unterminated string literal", line, col, line, len(line_text) + 1)
    char = rest[:1]
    if char == "\\":
        return SyntaxProblem("unexpected character after line continuation character", line, col)
    if char.isdigit() or (char == "." and rest[1:2].isdigit()):
        return SyntaxProblem("invalid number literal", line, col)
    if char == "" or char == "\n":
        return SyntaxProblem("invalid syntax", line, col)
    if char == "!":
        return SyntaxProblem("invalid syntax: unexpected '!'", line, col)
    if char.isprintable() and not char.isspace():
        return SyntaxProblem(f"invalid character '{char}' (U+{ord(char):04X})", line, col)
    return SyntaxProblem(f"invalid non-printable character U+{ord(char):04X}", line, col)


def _unclosed_or(source: SourceFile, brackets: list, line: int, col: int,
                 message: str) -> CompileError:
    if brackets:
        return _unclosed(source, brackets[-1])
    return error_at(source, line, col, message)


def _unclosed(source: SourceFile, bracket) -> CompileError:
    return error_at(source, bracket.line, bracket.column, f"'{bracket.value}' was never closed")


def unmatched_closer(token, opener) -> SyntaxProblem:
    if opener is None:
        return SyntaxProblem(f"unmatched '{token.value}'", token.line, token.column)
    if opener.line == token.line:
        where = ""
    else:
        where = f" on line {opener.line}"
    return SyntaxProblem(
        f"closing {_BRACKET_NAMES[token.value]} '{token.value}' does not match opening "
        f"{_BRACKET_NAMES[opener.value]} '{opener.value}'{where}", token.line, token.column)


def _starts_line(source: SourceFile, token) -> bool:
    return source.line(token.line)[: token.column - 1].strip() == ""


def _in_compound_header(source: SourceFile, token, brackets: list) -> bool:
    if brackets:
        return False
    first_word = source.line(token.line).strip().split(" ", 1)[0].split("(", 1)[0]
    return first_word.rstrip(":") in _COMPOUND_KEYWORDS


def _describe(token) -> str:
    kind = token.type
    if kind in ("_NEWLINE", "_INDENT", "_DEDENT", "$END"):
        return _TOKEN_DESCRIPTIONS[kind]
    value = str(token.value)
    if kind in _TOKEN_DESCRIPTIONS:
        shown = value if len(value) <= 20 else value[:17] + "..."
        return f"{_TOKEN_DESCRIPTIONS[kind]} {shown!r}" if kind != "STRING" else "string literal"
    if value.isidentifier():
        return f"keyword '{value}'"
    return f"'{value}'"


def _clamp(source: SourceFile, line: int, col: int) -> tuple[int, int]:
    lines = source.text.split("\n")
    line = min(max(1, int(line)), max(1, len(lines)))
    col = max(1, int(col))
    return line, col
