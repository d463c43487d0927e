"""Source text → AST: the Lark LALR parser over grammar/tensorscript.lark, and the callbacks
that build parser/ast.py nodes while it reduces.

Conventions of the AST the parser produces:

- Every node has a span (1-based lines and columns, columns in characters, end exclusive).
  A parenthesized expression's span includes its parentheses, so ``(a + b) * c`` starts at
  the '('; tuples, lists, calls and subscripts include their brackets. A function or class
  starts at ``def``/``class``, not at its decorators. An f-string field's expression has
  its place in the file.
- ``elif`` is an ``If`` nested alone in ``orelse``. A docstring stays an ``ExprStmt`` whose
  value is a str ``Constant``, the first statement of its body.
- ``a < b < c`` is one ``Compare`` (Python's chained meaning). ``-1`` is ``UnaryOp('-',
  Constant(1))``: folding is the constant folder's job, and the span stays exact.
- Decorators are expressions (``Attribute``, ``Name`` or ``Call``) in ``decorators``.
- Adjacent string literals are one ``Constant``; with an f-string among them, one
  ``JoinedStr`` whose ``values`` are str pieces and ``FormattedValue`` fields.
- A generator expression that is the only argument of a call (``sum(x for x in xs)``)
  becomes a ``ListComp``; anywhere else it is rejected.
- ``del a, b`` has two targets; ``x[1:, None, ...]`` has a ``Tuple`` index of ``Slice``,
  ``Constant(None)`` and ``Constant(Ellipsis)``.

Python constructs TensorScript does not accept parse, and are reported together with a
message that names them; text that is not Python stops at the first syntax error. Limits
(syntax_errors.py): 100 nested brackets, 100 indentation levels, expressions 200 levels
deep, so that no later stage that recurses over the tree can exhaust Python's stack.
"""
from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import re
import tempfile
import threading
import unicodedata
from importlib import resources
from pathlib import Path

from . import ast
from . import syntax_errors as errors
from .source import CompileError, SourceFile, Span
from .syntax_errors import SyntaxProblem, unsupported

__all__ = ["parse_module", "parse_expression"]


def parse_module(text: str, name: str = "<string>", line_offset: int = 0) -> ast.Module:
    """Parse a TensorScript module; raises CompileError for anything it cannot accept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    source = SourceFile(text, name, line_offset)
    # Parsing allocates many small objects and creates no reference cycles; the cyclic
    # collector would only walk the growing tree again and again (a third of the time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with _LOCK:
            return _parser().parse(source)
    finally:
        if collecting:
            gc.enable()


def parse_expression(text: str, name: str = "<string>", line_offset: int = 0) -> ast.Expr:
    """Parse one expression (a type written as a string, say); spans are relative to
    ``text`` as parse_module's are."""
    if "\n" in text.strip() or text[:1].isspace():
        # Newlines are only insignificant inside brackets; the spans keep the text's own
        # columns from the second line on, and the first line moves right by one.
        text = "(" + text + ")"
    module = parse_module(text, name, line_offset)
    if len(module.body) != 1 or not isinstance(module.body[0], ast.ExprStmt):
        span = module.body[0].span if module.body else None
        raise CompileError.at(span, errors.message("expected_expression"), errors.SYNTAX)
    return module.body[0].value


# ---------------------------------------------------------------- the parser
#
# Lark compiles the grammar: its terminals and its LALR(1) table, which this module keeps as
# JSON data (see _tables). Tokenizing and the LALR loop run here instead of in Lark's runtime,
# because they are the whole cost of parsing: a token passes through ~15 unit reductions
# (test → or_test → ... → atom) and this loop does each with two list operations, where
# Lark's calls three wrappers. Both follow Lark's conventions: the terminals are tried in
# Lark's order, a NAME that spells a keyword is that keyword, rules named ``_x`` are spliced
# into their parent, ``?rule`` with one child is that child, and every token is kept
# (keep_all_tokens).

_LOCK = threading.RLock()
_PARSER = None


def _parser() -> "_Parser":
    global _PARSER
    if _PARSER is None:
        _PARSER = _Parser(_tables())
    return _PARSER


def _grammar_text() -> str:
    return resources.files("tensorscript.grammar").joinpath("tensorscript.lark").read_text()


# ---------------------------------------------------------------- the tables, as data
#
# Lark takes about a second to build the LALR table and Lark's own cache is a pickle, which
# runs code when loaded. The table is stored instead as JSON next to this module's bytecode,
# under a name that hashes the grammar: a process loads it in a few milliseconds, without
# importing Lark, and nothing in it can run.

_TABLE_FORMAT = "tensorscript-lalr-v1"
_TABLE_KEYS = {"terminals", "ignore", "rules", "states", "start", "end"}


def _tables_path(grammar: str) -> Path:
    digest = hashlib.sha256(f"{_TABLE_FORMAT}\n{grammar}".encode()).hexdigest()[:24]
    return Path(__file__).resolve().parent / "__pycache__" / f"grammar-{digest}.json"


def _tables() -> dict:
    """The grammar's terminals, rules and LALR states, from the stored JSON when it is there
    and whole, else from Lark (and then stored, where the folder is writable)."""
    grammar = _grammar_text()
    path = _tables_path(grammar)
    try:
        tables = json.loads(path.read_text())
        if tables.get("format") == _TABLE_FORMAT and _TABLE_KEYS <= tables.keys():
            return tables
    except (OSError, ValueError, AttributeError):
        pass  # absent, unreadable or damaged: built again below
    tables = _tables_from_lark(grammar)
    _store(path, json.dumps(tables, separators=(",", ":")))
    return tables


def _store(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (another process may be reading it); a folder
    that cannot be written leaves the tables in memory only."""
    try:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.chmod(tmp, 0o644)  # mkstemp's 0o600 would hide it from other users
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass


def _tables_from_lark(grammar: str) -> dict:
    """What the lexer and the LALR loop need of Lark's analysis of ``grammar``. The table is
    reached through Lark's internals, so pyproject.toml pins the Lark versions tested."""
    from lark import Lark
    from lark.lexer import PatternStr
    from lark.parsers.lalr_analysis import Shift

    lark = Lark(grammar, start="module", parser="lalr", lexer="basic", keep_all_tokens=True,
                maybe_placeholders=False)
    terminals = [{"name": t.name, "regexp": t.pattern.to_regexp(), "value": t.pattern.value,
                  "string": isinstance(t.pattern, PatternStr), "priority": t.priority,
                  "max_width": t.pattern.max_width} for t in lark.terminals]
    table = lark.parser.parser.parser.parse_table
    rule_index: dict = {}
    rules = []
    states = [None] * len(table.states)
    for state, actions in table.states.items():
        row = {}
        for symbol, (action, rule) in actions.items():
            if action is Shift:
                row[symbol] = [0, rule]  # shift or goto: ``rule`` is the next state
                continue
            if rule not in rule_index:
                rule_index[rule] = len(rules)
                rules.append({"origin": rule.origin.name, "alias": rule.alias,
                              "expand1": bool(rule.options.expand1),
                              "expansion": [[sym.name, sym.is_term] for sym in rule.expansion]})
            row[symbol] = [1, rule_index[rule]]
        states[state] = row
    return {"format": _TABLE_FORMAT, "terminals": terminals,
            "ignore": list(lark.lexer_conf.ignore), "rules": rules, "states": states,
            "start": table.start_states["module"], "end": table.end_states["module"]}


class Token:
    """A token: its terminal's name, its text, and where it is (1-based, end exclusive)."""

    __slots__ = ("type", "value", "line", "column", "end_line", "end_column")

    def __init__(self, type, value, line, column, end_line, end_column):
        self.type = type
        self.value = value
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    def __repr__(self) -> str:
        return f"Token({self.type}, {self.value!r}, {self.line}:{self.column})"


_OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_CLOSERS = {"RPAR": "LPAR", "RSQB": "LSQB", "RBRACE": "LBRACE"}
_TAB = 8
_SPECIAL_TOKENS = frozenset(["_NEWLINE", "STRING", *_OPENERS, *_CLOSERS])


def _advance(text: str, start: int, end: int, line: int, line_start: int) -> tuple[int, int]:
    """The line and line start after text[start:end]."""
    newlines = text.count("\n", start, end)
    if newlines:
        return line + newlines, text.rfind("\n", start, end) + 1
    return line, line_start


class _Lexer:
    """Text → tokens, with Python's NEWLINE/INDENT/DEDENT and brackets checked."""

    def __init__(self, terminals: list, ignore: list) -> None:
        ignore = set(ignore)
        name_re = re.compile(next(t["regexp"] for t in terminals if t["name"] == "NAME"))
        self.keywords = {
            t["value"]: t["name"] for t in terminals
            if t["string"] and name_re.fullmatch(t["value"])
        }
        # Lark's order: priority, then longest possible match, then longest pattern.
        ordered = sorted(
            (t for t in terminals if t["value"] not in self.keywords or not t["string"]),
            key=lambda t: (-t["priority"], -t["max_width"], -len(t["value"]), t["name"]))
        # What the grammar ignores (spaces, line continuations) is matched in front of every
        # token, in the same regular expression. A comment is left to the newline token that
        # ends its line, where "# type:" comments are found.
        skip = "|".join(t["regexp"] for t in ordered
                        if t["name"] in ignore and t["name"] != "COMMENT")
        self.master = re.compile(
            f"(?:{skip})*(?:" + "|".join(f"(?P<{t['name']}>{t['regexp']})"
                                         for t in ordered if t["name"] not in ignore) + ")")
        self.skip = re.compile(f"(?:{skip})*")

    def tokenize(self, text: str) -> list:
        """All tokens, ending with $END; a lexical error becomes an $ERROR token, so that
        a syntax error earlier in the text is still the one reported."""
        match = self.master.match
        keywords = self.keywords
        special = _SPECIAL_TOKENS
        tokens: list = []
        append = tokens.append
        brackets: list = []
        indents = [0]
        pos, n = 0, len(text)
        line, line_start = 1, 0
        first = self.skip.match(text).end()
        if first < n and text[first] not in "#\n" and first > 0:
            problem = SyntaxProblem(errors.message("unexpected_indent"), 1, first + 1)
            append(_error_token(problem, 1, first + 1))
            return tokens
        while pos < n:
            m = match(text, pos)
            if m is None:
                # Only what the grammar ignores, or nothing, matched here.
                at = self.skip.match(text, pos).end()
                if at >= n:
                    break
                line, line_start = _advance(text, pos, at, line, line_start)
                col = at - line_start + 1
                append(_error_token(errors.unexpected_character_problem(text, line, col),
                                    line, col))
                return tokens
            kind = m.lastgroup
            value = m.group(kind)
            end = m.end()
            start = end - len(value)
            if start != pos and text.find("\\", pos, start) >= 0:
                line, line_start = _advance(text, pos, start, line, line_start)
            if kind == "NAME":
                append(Token(keywords.get(value, kind), value, line, start - line_start + 1,
                              line, end - line_start + 1))
            elif kind not in special:
                append(Token(kind, value, line, start - line_start + 1,
                              line, end - line_start + 1))
            elif kind == "_NEWLINE" or kind == "STRING":
                start_line, col = line, start - line_start + 1
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + value.rfind("\n") + 1
                token = Token(kind, value, start_line, col, line, end - line_start + 1)
                if kind == "STRING":
                    append(token)
                elif not brackets:
                    append(token)
                    problem = self._indentation(token, value, indents, append)
                    if problem is not None:
                        append(_error_token(problem, token.end_line, token.end_column))
                        return tokens
            else:
                col = start - line_start + 1
                if kind in _OPENERS:
                    brackets.append(kind)
                    if len(brackets) > errors.MAX_BRACKET_DEPTH:
                        append(_error_token(SyntaxProblem(
                            errors.message("too_many_brackets", limit=errors.MAX_BRACKET_DEPTH),
                            line, col, code=errors.LIMIT), line, col))
                        return tokens
                elif not brackets or brackets[-1] != _CLOSERS[kind]:
                    append(Token("$CLOSER", value, line, col, line, col + 1))
                    return tokens
                else:
                    brackets.pop()
                append(Token(kind, value, line, col, line, col + 1))
            pos = end
        last = tokens[-1] if tokens else None
        where = (last.end_line, last.end_column) if last is not None else (1, 1)
        for _ in range(len(indents) - 1):
            append(Token("_DEDENT", "", *where, *where))
        append(Token("$END", "", *where, *where))
        return tokens

    @staticmethod
    def _indentation(token, value, indents, append):
        indent_text = value[value.rfind("\n") + 1:]
        if "\t" in indent_text:
            width = 0
            for c in indent_text:
                # A tab moves to the next tab stop, as in Python's tokenizer.
                width = (width // _TAB + 1) * _TAB if c == "\t" else width + 1
        else:
            width = len(indent_text)
        if width > indents[-1]:
            indents.append(width)
            if len(indents) > errors.MAX_INDENT_DEPTH:
                return SyntaxProblem(
                    errors.message("too_many_indents", limit=errors.MAX_INDENT_DEPTH),
                    token.end_line, token.end_column, code=errors.LIMIT)
            append(Token("_INDENT", indent_text, token.line, token.column, token.end_line,
                          token.end_column))
            return None
        while width < indents[-1]:
            indents.pop()
            append(Token("_DEDENT", indent_text, token.line, token.column, token.end_line,
                          token.end_column))
        if width != indents[-1]:
            return SyntaxProblem(errors.message("bad_unindent"),
                                 token.end_line, token.end_column)
        return None


def _error_token(problem: SyntaxProblem, line: int, col: int) -> Token:
    token = Token("$ERROR", "", line, col, line, col)
    token.value = problem
    return token


class _Rule:
    """How the LALR loop reduces one grammar rule."""

    __slots__ = ("size", "origin", "build", "splice", "single", "unit")

    def __init__(self, rule: dict, builder) -> None:
        self.size = len(rule["expansion"])
        self.origin = rule["origin"]
        # Positions of children that are spliced-in rules (their value is a list).
        self.splice = tuple(i for i, (name, is_term) in enumerate(rule["expansion"])
                            if not is_term and name.startswith("_"))
        self.single = bool(rule["expand1"] and not rule["alias"])
        # A ?rule of one child that needs no splicing: the child stands for the rule.
        self.unit = self.single and self.size == 1 and not self.splice
        name = rule["alias"] or rule["origin"]
        if name.startswith("_"):
            self.build = None
        else:
            self.build = getattr(builder, name, None)
            if self.build is None and not self.single:
                raise AssertionError(f"the grammar rule {name!r} has no builder")
            if self.build is None:
                self.build = _no_builder(name)


def _no_builder(name: str):
    def build(children):
        raise AssertionError(f"the grammar rule {name!r} has no builder for {children!r}")
    return build


class _Parser:
    def __init__(self, tables: dict) -> None:
        self.builder = _Builder()
        self.lexer = _Lexer(tables["terminals"], tables["ignore"])
        # The loop that runs the table is ours: building the AST while reducing is several
        # times faster than Lark's tree + transformer.
        rules = [_Rule(rule, self.builder) for rule in tables["rules"]]
        # Each state: terminal or rule name → the next state (shift or goto) or a _Rule.
        self.states = {
            state: {symbol: rules[arg] if action else arg for symbol, (action, arg) in row.items()}
            for state, row in enumerate(tables["states"])
        }
        self.shortcuts: dict = {}
        self.start_state = tables["start"]
        self.end_state = tables["end"]

    @functools.cached_property
    def lark(self):
        """Lark's own analysis of the grammar (its rules and terminals), for tools that
        inspect the grammar; parsing reads only the tables."""
        from lark import Lark

        return Lark(_grammar_text(), start="module", parser="lalr", lexer="basic",
                    keep_all_tokens=True, maybe_placeholders=False)

    def parse(self, source: SourceFile) -> ast.Module:
        builder = self.builder
        builder.start(source)
        try:
            module = self._run(source, source.text)
            # f-string fields are parsed once the module is done; a field may hold another
            # f-string, so this runs until none is left.
            while builder.pending_fields:
                field, text, line, col = builder.pending_fields.pop()
                field.value = self._parse_field(source, text, line, col)
            builder.check_depth(module)
            if builder.errors:
                raise _collected(builder.errors)
            module.source = source
            return module
        finally:
            builder.start(None)

    def _run(self, source: SourceFile, text: str):
        if not text.endswith("\n"):
            text += "\n"
        tokens = self.lexer.tokenize(text)
        try:
            return self._lalr(tokens)
        except _Stuck as stuck:
            raise self._with_earlier(self._syntax_error(source, tokens, stuck))

    def _lalr(self, tokens: list):
        states = self.states
        end_state = self.end_state
        stack = [self.start_state]
        values: list = []
        limit = errors.MAX_PARSER_STACK
        shortcuts = self.shortcuts
        for index, token in enumerate(tokens):
            kind = token.type
            while True:
                action = states[stack[-1]].get(kind)
                if action is None:
                    raise _Stuck(index, stack[-1])
                if type(action) is int:
                    stack.append(action)
                    values.append(token)
                    if len(stack) > limit:
                        raise _Stuck(index, None)
                    break
                if action.unit:
                    # A chain of unit reductions (atom → ... → test) depends only on the
                    # state below, the state on top and the token: done once, remembered.
                    key = (stack[-2], stack[-1], kind)
                    top = shortcuts.get(key)
                    if top is None:
                        top = shortcuts[key] = self._unit_chain(stack[-2], stack[-1], kind)
                    stack[-1] = top
                    continue
                size = action.size
                if size:
                    children = values[-size:]
                    del values[-size:]
                    del stack[-size:]
                else:
                    children = []
                if action.splice:
                    children = _splice(children, action.splice)
                if action.build is None:
                    value = children
                elif action.single and len(children) == 1:
                    value = children[0]
                else:
                    value = action.build(children)
                state = states[stack[-1]][action.origin]
                stack.append(state)
                values.append(value)
                if state == end_state:
                    return value
        raise _Stuck(len(tokens) - 1, stack[-1])

    def _unit_chain(self, below: int, top: int, kind: str) -> int:
        states = self.states
        action = states[top].get(kind)
        while type(action) is _Rule and action.unit:
            top = states[below][action.origin]
            action = states[top].get(kind)
        return top

    def _syntax_error(self, source: SourceFile, tokens: list, stuck: "_Stuck") -> CompileError:
        token = tokens[stuck.index]
        brackets = _open_brackets(tokens[:stuck.index])
        if token.type == "$ERROR":
            return errors.from_problem(source, token.value)
        if token.type == "$CLOSER":
            opener = brackets[-1] if brackets else None
            return errors.from_problem(source, errors.unmatched_closer(token, opener))
        if stuck.state is None:
            return errors.error_at(source, token.line, token.column,
                                   errors.message("too_deep"), errors.LIMIT)
        expected = {s for s in self.states[stuck.state] if s.isupper() or s.startswith("$")
                    or s in ("_NEWLINE", "_INDENT", "_DEDENT")}
        return errors.from_unexpected(source, token, expected, brackets)

    def _with_earlier(self, error: CompileError) -> CompileError:
        # Unsupported constructs met before the syntax error are reported with it.
        if not self.builder.errors:
            return error
        return _collected(self.builder.errors + [(error.message, error.span, error.code)])

    def _parse_field(self, source: SourceFile, text: str, line: int, col: int) -> ast.Expr:
        # Padded so that the field's tokens have their positions in the real file: the
        # opening parenthesis takes column 1, spaces inside it reach the field's column.
        padded = "\n" * (line - 1) + "(" + " " * (col - 2) + text + ")"
        module = self._run(source, padded)
        value = module.body[0].value
        # The padding parentheses are not in the file: the field's span is its text.
        first = len(text) - len(text.lstrip())
        last = len(text.rstrip())
        value.span = _make_span(source, *_offset_position(text, first, line, col),
                                *_offset_position(text, last, line, col))
        return value


def _offset_position(text: str, offset: int, line: int, col: int) -> tuple[int, int]:
    """Where text[offset] is, for text that starts at line:col."""
    before = text[:offset]
    newlines = before.count("\n")
    if newlines == 0:
        return line, col + offset
    return line + newlines, offset - before.rfind("\n")


class _Stuck(Exception):
    """The LALR loop has no action for tokens[index] in ``state``."""

    def __init__(self, index: int, state) -> None:
        self.index, self.state = index, state


def _splice(children: list, positions: tuple) -> list:
    if positions == (0,):
        # A left-recursive repetition: extend the list it already built, in place.
        out = children[0]
        out.extend(children[1:])
        return out
    out = []
    for i, child in enumerate(children):
        if i in positions:
            out.extend(child)
        else:
            out.append(child)
    return out


def _open_brackets(tokens: list) -> list:
    stack = []
    for token in tokens:
        if token.type in _OPENERS:
            stack.append(token)
        elif token.type in _CLOSERS and stack:
            stack.pop()
    return stack


def _collected(found: list) -> CompileError:
    found = sorted(found, key=lambda e: (e[1].line, e[1].col) if e[1] is not None else (0, 0))
    message, span, code = found[0]
    error = CompileError.at(span, message, code)
    error.errors = [(m, s) for m, s, _ in found]
    error.args = (error.render(),)
    return error



# ---------------------------------------------------------------- building the AST

def _make_span(source, line, col, end_line, end_col) -> Span:
    # Span is a frozen dataclass; its generated __init__ sets each field through
    # object.__setattr__, which is most of the cost of a span. This sets them at once.
    span = _new_object(Span)
    _set_attribute(span, "__dict__", {"source": source, "line": line, "col": col,
                                      "end_line": end_line, "end_col": end_col})
    return span


_new_object = object.__new__
_set_attribute = object.__setattr__


def _is_token(x) -> bool:
    return type(x) is Token


class _Builder:
    """One method per grammar rule (or alias), called with the rule's children as the
    parser reduces it: tokens, and the values earlier callbacks returned."""

    def __init__(self) -> None:
        self.source: SourceFile | None = None
        self.errors: list = []
        self.pending_fields: list = []

    def start(self, source: SourceFile | None) -> None:
        self.source = source
        self.errors = []
        self.pending_fields = []

    # -- spans and diagnostics

    def span(self, first, last) -> Span:
        while type(first) is list:
            first = first[0]
        while type(last) is list:
            last = last[-1]
        if type(first) is Token:
            line, col = first.line, first.column
        else:
            s = first.span
            line, col = s.line, s.col
        if type(last) is Token:
            end_line, end_col = last.end_line, last.end_column
        else:
            s = last.span
            end_line, end_col = s.end_line, s.end_col
        return _make_span(self.source, line, col, end_line, end_col)

    def reject(self, construct: str, first, last=None) -> None:
        span = self.span(first, last if last is not None else first)
        self.errors.append((unsupported(construct), span, errors.UNSUPPORTED))

    def error(self, message: str, first, last=None) -> None:
        span = self.span(first, last if last is not None else first)
        self.errors.append((message, span, errors.SYNTAX))

    def placeholder(self, first, last) -> ast.Expr:
        return ast.Constant(None, span=self.span(first, last))

    def check_depth(self, module: ast.Module) -> None:
        """Reject expressions nested past the limit. Brackets and the parser's stack bound
        most nesting; left-recursive chains (``a + b + ...``, ``a.b.c...``) do not."""
        limit = errors.MAX_EXPRESSION_DEPTH
        stack = [(module, 0)]
        pop, push = stack.pop, stack.append
        while stack:
            node, depth = pop()
            if depth > limit:
                self.errors.append((
                    errors.message("expression_too_deep", limit=limit),
                    node.span, errors.LIMIT))
                return
            fields = _CHILD_FIELDS.get(type(node))
            if fields is None:
                fields = _CHILD_FIELDS[type(node)] = _child_fields(type(node))
            if isinstance(node, ast.Expr):
                depth += 1
            for name in fields:
                value = getattr(node, name)
                if value is None:
                    continue
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.Node):
                            push((item, depth))
                elif isinstance(value, ast.Node):
                    push((value, depth))

    # -- module and statements

    def module(self, children):
        body = _statements(children)
        lines = self.source.text.split("\n")
        span = Span(self.source, 1, 1, len(lines), len(lines[-1]) + 1)
        return ast.Module(body, span=span)

    def simple_stmt(self, children):
        statements = [c for c in children if not _is_token(c)]
        newline = children[-1]
        if newline.value[:1] == "#" and len(statements) == 1:
            comment = _TYPE_COMMENT.match(newline.value)
            if comment is not None and isinstance(statements[0], ast.Assign):
                statements[0].type_comment = comment.group(1).strip()
        return statements

    def suite(self, children):
        return _statements(children)

    def expr_stmt(self, children):
        value = children[0]
        return ast.ExprStmt(value, span=value.span)

    def assign(self, children):
        exprs = [c for c in children if not _is_token(c)]
        for target in exprs[:-1]:
            self.check_target(target, "assignment")
        return ast.Assign(exprs[:-1], exprs[-1], span=self.span(exprs[0], exprs[-1]))

    def ann_assign(self, children):
        target, annotation = children[0], children[2]
        value = children[4] if len(children) > 4 else None
        if not isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
            self.error(errors.message("annotated_target"), target)
        return ast.AnnAssign(target, annotation, value,
                             span=self.span(target, value if value is not None else annotation))

    def aug_assign(self, children):
        target, op, value = children
        if not isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
            self.error(errors.message("aug_target", what=_describe_expr(target)), target)
        return ast.AugAssign(target, op.value[:-1], value, span=self.span(target, value))

    def del_stmt(self, children):
        keyword, target = children
        targets = target.elts if isinstance(target, ast.Tuple) else [target]
        for t in targets:
            self.check_target(t, "del")
        return ast.Delete(targets, span=self.span(keyword, target))

    def pass_stmt(self, children):
        return ast.Pass(span=self.span(children[0], children[0]))

    def break_stmt(self, children):
        return ast.Break(span=self.span(children[0], children[0]))

    def continue_stmt(self, children):
        return ast.Continue(span=self.span(children[0], children[0]))

    def return_stmt(self, children):
        value = children[1] if len(children) > 1 else None
        return ast.Return(value, span=self.span(children[0], children[-1]))

    def raise_stmt(self, children):
        exc = children[1] if len(children) > 1 else None
        if len(children) > 2:
            self.reject("raise_from", children[2], children[-1])
        return ast.Raise(exc, span=self.span(children[0], children[-1]))

    def assert_stmt(self, children):
        msg = children[3] if len(children) > 3 else None
        return ast.Assert(children[1], msg, span=self.span(children[0], children[-1]))

    def import_stmt(self, children):
        names = [c for c in children if not _is_token(c)]
        return ast.Import(names, span=self.span(children[0], names[-1]))

    def import_from(self, children):
        module = children[1]
        last = children[-1]
        if _is_token(last) and last.value == "*":
            self.reject("import_star", children[0], last)
            names = []
        else:
            names = next(c for c in children[3:] if not _is_token(c))
        return ast.ImportFrom(module.name, names, span=self.span(children[0], last))

    def dotted_as_name(self, children):
        dotted = children[0]
        asname = children[2].value if len(children) > 2 else None
        return ast.Alias(dotted.name, asname, span=self.span(dotted, children[-1]))

    def import_as_name(self, children):
        asname = children[2].value if len(children) > 2 else None
        return ast.Alias(children[0].value, asname, span=self.span(children[0], children[-1]))

    def import_as_names(self, children):
        return [c for c in children if not _is_token(c)]

    def dotted_name(self, children):
        name = "".join(c.value for c in children)
        return _Dotted(name, self.span(children[0], children[-1]))

    def global_stmt(self, children):
        self.reject("global", children[0], children[-1])
        return ast.Pass(span=self.span(children[0], children[-1]))

    def nonlocal_stmt(self, children):
        self.reject("nonlocal", children[0], children[-1])
        return ast.Pass(span=self.span(children[0], children[-1]))

    def if_stmt(self, children):
        # if test : body (elif ...)* [else : body]
        test, body = children[1], children[3]
        clauses = [(children[0], test, body)]
        orelse: list = []
        for i, child in enumerate(children[4:], start=4):
            if isinstance(child, _Elif):
                clauses.append((child.keyword, child.test, child.body))
            elif _is_token(child) and child.value == "else":
                orelse = children[i + 2]
                break
        for keyword, test, body in reversed(clauses):
            last = orelse[-1] if orelse else body[-1]
            orelse = [ast.If(test, body, orelse, span=self.span(keyword, last))]
        return orelse[0]

    def elif_clause(self, children):
        return _Elif(children[0], children[1], children[3])

    def while_stmt(self, children):
        orelse = children[6] if len(children) > 4 else []
        if orelse:
            self.reject("while_else", children[4], children[4])
        last = (orelse or children[3])[-1]
        return ast.While(children[1], children[3], orelse, span=self.span(children[0], last))

    def for_stmt(self, children):
        target, iterable, body = children[1], children[3], children[5]
        self.check_target(target, "for")
        orelse = children[8] if len(children) > 6 else []
        if orelse:
            self.reject("for_else", children[6], children[6])
        last = (orelse or body)[-1]
        return ast.For(target, iterable, body, orelse, span=self.span(children[0], last))

    def with_stmt(self, children):
        items = [c for c in children[1:-2] if isinstance(c, ast.WithItem)]
        body = children[-1]
        return ast.With(items, body, span=self.span(children[0], body[-1]))

    def with_item(self, children):
        context = children[0]
        target = children[2] if len(children) > 2 else None
        if target is not None:
            self.check_target(target, "with")
        return ast.WithItem(context, target, span=self.span(context, children[-1]))

    def try_stmt(self, children):
        self.reject("try", children[0], children[0])
        return ast.Pass(span=self.span(children[0], children[0]))

    def except_clause(self, children):
        return children[0]

    def async_stmt(self, children):
        self.reject("async", children[0], children[0])
        return children[1]

    def decorated(self, children):
        definition = children[-1]
        definition.decorators = list(children[:-1])
        return definition

    def decorator(self, children):
        return children[1]

    def funcdef(self, children):
        name = children[1]
        params: list = []
        returns = None
        i = 3
        if not _is_token(children[i]):
            params = children[i]
            i += 1
        i += 1  # the ')'
        if children[i].value == "->":
            returns = children[i + 1]
            i += 2
        body = children[i + 1]
        self.check_params(params)
        real = [p for p in params if isinstance(p, ast.Param)]
        function = ast.FunctionDef(name.value, real, returns, body,
                                   span=self.span(children[0], body[-1]))
        function.type_comment = self.signature_comment(children[i], body[0])
        return function

    def signature_comment(self, colon, first) -> str | None:
        """The "# type: (...) -> ..." comment between a header's ':' and its body."""
        lines = self.source.text.split("\n", first.span.line)[colon.line - 1:first.span.line - 1]
        for text in lines[1:]:
            comment = _TYPE_COMMENT.match(text.strip())
            if comment is not None:
                return comment.group(1).strip()
        return None

    def parameters(self, children):
        return [c for c in children if not _is_token(c)]

    def param(self, children):
        name = children[0]
        annotation = default = None
        i = 1
        while i < len(children):
            if children[i].value == ":":
                annotation = children[i + 1]
            else:
                default = children[i + 1]
            i += 2
        return ast.Param(name.value, annotation, default, span=self.span(name, children[-1]))

    def star_param(self, children):
        if len(children) == 1:
            return _KeywordOnlyMarker(self.span(children[0], children[0]))
        return _BadParam("star_param", self.span(children[0], children[-1]))

    def star_star_param(self, children):
        return _BadParam("star_star_param", self.span(children[0], children[-1]))

    def slash_param(self, children):
        return _BadParam("slash_param", self.span(children[0], children[0]))

    def check_params(self, params: list) -> None:
        seen = set()
        after_default = False
        keyword_only = None
        for p in params:
            if isinstance(p, _KeywordOnlyMarker):
                if keyword_only is not None:
                    self.errors.append((errors.message("bare_star_repeated"), p.span,
                                        errors.SYNTAX))
                keyword_only = p
                after_default = False
                continue
            if isinstance(p, _BadParam):
                self.errors.append((unsupported(p.construct), p.span, errors.UNSUPPORTED))
                continue
            if keyword_only is not None:
                p.kw_only = True
            if p.name in seen:
                self.error(errors.message("duplicate_parameter", name=p.name), p)
            seen.add(p.name)
            if p.default is not None:
                after_default = True
            elif after_default and not p.kw_only:
                self.error(errors.message("default_order"), p)
        if keyword_only is not None and params[-1] is keyword_only:
            self.errors.append((errors.message("bare_star"), keyword_only.span, errors.SYNTAX))

    def classdef(self, children):
        name = children[1]
        bases: list = []
        if len(children) > 4 and children[2].value == "(" and not _is_token(children[3]):
            arguments = children[3]
            bases = arguments.args
            if arguments.keywords:
                self.reject("class_keywords", arguments.keywords[0])
        body = children[-1]
        return ast.ClassDef(name.value, bases, body, span=self.span(children[0], body[-1]))

    # -- expressions

    def if_exp(self, children):
        body, _, test, _, orelse = children
        return ast.IfExp(test, body, orelse, span=self.span(body, orelse))

    def lambdef(self, children):
        self.reject("lambda", children[0], children[-1])
        return self.placeholder(children[0], children[-1])

    def lambda_param(self, children):
        return None

    def walrus(self, children):
        self.reject("walrus", children[0], children[-1])
        return self.placeholder(children[0], children[-1])

    def or_test(self, children):
        values = children[0::2]
        return ast.BoolOp("or", values, span=self.span(values[0], values[-1]))

    def and_test(self, children):
        values = children[0::2]
        return ast.BoolOp("and", values, span=self.span(values[0], values[-1]))

    def not_op(self, children):
        return ast.UnaryOp("not", children[1], span=self.span(children[0], children[1]))

    def comparison(self, children):
        left = children[0]
        return ast.Compare(left, children[1::2], children[2::2],
                           span=self.span(left, children[-1]))

    def comp_op(self, children):
        return " ".join(c.value for c in children)

    def _binary_chain(self, children):
        left = children[0]
        for i in range(1, len(children), 2):
            right = children[i + 1]
            left = ast.BinOp(left, children[i].value, right, span=self.span(left, right))
        return left

    or_expr = xor_expr = and_expr = shift_expr = arith_expr = term = power = _binary_chain

    def unary_op(self, children):
        op, operand = children
        return ast.UnaryOp(op.value, operand, span=self.span(op, operand))

    def await_op(self, children):
        self.reject("await", children[0], children[-1])
        return children[1]

    def call(self, children):
        func, last = children[0], children[-1]
        args: list = []
        keywords: list = []
        if len(children) == 4:
            arguments = children[2]
            args, keywords = arguments.args, arguments.keywords
        return ast.Call(func, args, keywords, span=self.span(func, last))

    def arguments(self, children):
        args: list = []
        keywords: list = []
        names = set()
        for item in children:
            if _is_token(item):
                continue
            if isinstance(item, ast.Keyword):
                if item.name in names:
                    self.error(errors.message("repeated_keyword", name=item.name), item)
                names.add(item.name)
                keywords.append(item)
            else:
                if keywords:
                    self.error(errors.message("positional_after_keyword"), item)
                args.append(item)
        return _Arguments(args, keywords)

    def generator_argument(self, children):
        elt, generators = children[0]
        comp = ast.ListComp(elt, generators, span=self.span(elt, generators[-1]))
        return _Arguments([comp], [])

    def keyword(self, children):
        name, _, value = children
        if not isinstance(name, ast.Name):
            self.error(errors.message("keyword_expression"), name, value)
            return _placeholder_keyword(name, value)
        return ast.Keyword(name.id, value, span=self.span(name, value))

    def star_arg(self, children):
        self.reject("star_arg", children[0], children[-1])
        return children[1]

    def star_star_arg(self, children):
        self.reject("star_star_arg", children[0], children[-1])
        return children[1]

    def subscript(self, children):
        value, _, index, last = children
        return ast.Subscript(value, index, span=self.span(value, last))

    def subscripts(self, children):
        if len(children) == 1:
            return children[0]
        elts = [c for c in children if not _is_token(c)]
        return ast.Tuple(elts, span=self.span(children[0], children[-1]))

    def slice(self, children):
        parts: list = [None, None, None]
        position = 0
        for child in children:
            if _is_token(child):
                position += 1
            else:
                parts[position] = child
        return ast.Slice(*parts, span=self.span(children[0], children[-1]))

    def star_expr(self, children):
        self.reject("starred", children[0], children[-1])
        return ast.Starred(children[1], span=self.span(children[0], children[1]))

    def attribute(self, children):
        value, _, name = children
        return ast.Attribute(value, name.value, span=self.span(value, name))

    def name(self, children):
        token = children[0]
        return ast.Name(token.value, span=self.span(token, token))

    def int_literal(self, children):
        token = children[0]
        return ast.Constant(int(token.value, 0), span=self.span(token, token))

    def float_literal(self, children):
        token = children[0]
        return ast.Constant(float(token.value.replace("_", "")), span=self.span(token, token))

    def imaginary_literal(self, children):
        self.reject("complex", children[0])
        return self.placeholder(children[0], children[0])

    def string_literal(self, children):
        return _StringBuilder(self, children).build()

    def ellipsis(self, children):
        return ast.Constant(Ellipsis, span=self.span(children[0], children[0]))

    def none(self, children):
        return ast.Constant(None, span=self.span(children[0], children[0]))

    def true(self, children):
        return ast.Constant(True, span=self.span(children[0], children[0]))

    def false(self, children):
        return ast.Constant(False, span=self.span(children[0], children[0]))

    def paren(self, children):
        # The parentheses belong to the expression's span, so that an enclosing node
        # starts (or ends) where its text does: ``(a + b) * c`` starts at the '('.
        node = children[1]
        node.span = self.span(children[0], children[2])
        return node

    def tuple(self, children):
        elts = [c for c in children if not _is_token(c)]
        return ast.Tuple(elts, span=self.span(children[0], children[-1]))

    def list(self, children):
        elts = [c for c in children if not _is_token(c)]
        return ast.List(elts, span=self.span(children[0], children[-1]))

    def list_comp(self, children):
        elt, generators = children[1]
        return ast.ListComp(elt, generators, span=self.span(children[0], children[-1]))

    def generator_exp(self, children):
        self.reject("generator", children[0], children[-1])
        elt, generators = children[1]
        return ast.ListComp(elt, generators, span=self.span(children[0], children[-1]))

    def dict(self, children):
        keys, values = [], []
        for child in children:
            if isinstance(child, tuple):
                keys.append(child[0])
                values.append(child[1])
        return ast.Dict(keys, values, span=self.span(children[0], children[-1]))

    def key_value(self, children):
        return (children[0], children[2])

    def dict_unpack(self, children):
        self.reject("dict_unpack", children[0], children[-1])
        return None

    def dict_comp(self, children):
        key, value, generators = children[1]
        return ast.DictComp(key, value, generators, span=self.span(children[0], children[-1]))

    def set(self, children):
        self.reject("set", children[0], children[-1])
        return self.placeholder(children[0], children[-1])

    def set_comp(self, children):
        self.reject("set_comp", children[0], children[-1])
        return self.placeholder(children[0], children[-1])

    def comprehension(self, children):
        return (children[0], children[1:])

    def dict_comprehension(self, children):
        return (children[0], children[2], children[3:])

    def comp_for(self, children):
        target, iterable = children[1], children[3]
        self.check_target(target, "comprehension")
        ifs = children[4:]
        return ast.Comprehension(target, iterable, ifs,
                                 span=self.span(children[0], children[-1]))

    def comp_if(self, children):
        return children[1]

    def yield_expr(self, children):
        self.reject("yield", children[0], children[-1])
        return self.placeholder(children[0], children[-1])

    # -- targets

    def check_target(self, target, context: str) -> None:
        if isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.check_target(elt, context)
            return
        if isinstance(target, ast.Starred):
            return  # already reported
        what = _describe_expr(target)
        if context == "del":
            self.error(errors.message("delete_target", what=what), target)
        else:
            self.error(errors.message("assign_target", what=what), target)


_TYPE_COMMENT = re.compile(r"#\s*type:\s*([^#\n]+)")
_CHILD_FIELDS: dict = {}


def _child_fields(cls) -> tuple:
    """The fields of an AST class that can hold child nodes (as ast.iter_child_nodes)."""
    metadata = {"span", "type", "bound", "source", "swapped", "op_target", "type_comment"}
    if issubclass(cls, ast.Expr):
        metadata |= {"target", "targets"}
    return tuple(name for name in cls.__dataclass_fields__ if name not in metadata)


class _Dotted:
    __slots__ = ("name", "span")

    def __init__(self, name: str, span: Span) -> None:
        self.name, self.span = name, span


class _Elif:
    __slots__ = ("keyword", "test", "body")

    def __init__(self, keyword, test, body) -> None:
        self.keyword, self.test, self.body = keyword, test, body


class _KeywordOnlyMarker:
    __slots__ = ("span",)

    def __init__(self, span: Span) -> None:
        self.span = span


class _BadParam:
    __slots__ = ("construct", "span")

    def __init__(self, construct: str, span: Span) -> None:
        self.construct, self.span = construct, span


class _Arguments:
    __slots__ = ("args", "keywords")

    def __init__(self, args: list, keywords: list) -> None:
        self.args, self.keywords = args, keywords


def _placeholder_keyword(name, value) -> ast.Keyword:
    return ast.Keyword("<invalid>", value, span=name.span)


def _statements(children) -> list:
    body: list = []
    for child in children:
        if type(child) is list:
            body.extend(child)
        elif not _is_token(child):
            body.append(child)
    return body


_EXPR_DESCRIPTIONS = {
    ast.Call: "function call", ast.Constant: "literal", ast.BinOp: "expression",
    ast.UnaryOp: "expression", ast.BoolOp: "expression", ast.Compare: "comparison",
    ast.IfExp: "conditional expression", ast.ListComp: "list comprehension",
    ast.DictComp: "dict comprehension", ast.Dict: "dict literal", ast.JoinedStr: "f-string",
    ast.Slice: "slice",
}


def _describe_expr(expr) -> str:
    return _EXPR_DESCRIPTIONS.get(type(expr), "expression")


# ---------------------------------------------------------------- string literals

_PREFIX = re.compile(r"[rRbBuUfF]*")
_ESCAPE = re.compile(r"\\(.)", re.S)
_SIMPLE_ESCAPES = {
    "\n": "", "\\": "\\", "'": "'", '"': '"', "a": "\a", "b": "\b", "f": "\f", "n": "\n",
    "r": "\r", "t": "\t", "v": "\v",
}


class _StringBuilder:
    """Decodes adjacent string tokens into one Constant, or a JoinedStr with f-strings."""

    def __init__(self, builder: _Builder, tokens: list) -> None:
        self.builder = builder
        self.tokens = tokens
        self.pieces: list = []  # str and FormattedValue, adjacent str merged
        self.is_fstring = False

    def build(self) -> ast.Expr:
        first, last = self.tokens[0], self.tokens[-1]
        for token in self.tokens:
            self.add_token(token)
        span = self.builder.span(first, last)
        if not self.is_fstring:
            return ast.Constant("".join(self.pieces), span=span)
        return ast.JoinedStr([p for p in self.pieces if p != ""], span=span)

    def add_literal(self, text: str) -> None:
        if self.pieces and isinstance(self.pieces[-1], str):
            self.pieces[-1] += text
        else:
            self.pieces.append(text)

    def add_token(self, token: Token) -> None:
        text = token.value
        prefix = _PREFIX.match(text).group().lower()
        quote = 3 if text[len(prefix):len(prefix) + 3] in ('"""', "'''") else 1
        start = len(prefix) + quote
        body = text[start:len(text) - quote]
        if "b" in prefix:
            self.builder.reject("bytes", token)
            return
        raw = "r" in prefix
        if "f" in prefix:
            self.is_fstring = True
            self.add_fstring(token, body, start, raw)
        else:
            self.add_literal(body if raw else self.decode(body, token))

    def decode(self, body: str, token: Token) -> str:
        if "\\" not in body:
            return body
        out = []
        i, n = 0, len(body)
        while i < n:
            j = body.find("\\", i)
            if j < 0:
                out.append(body[i:])
                break
            out.append(body[i:j])
            i = self.decode_escape(body, j, out, token)
        return "".join(out)

    def decode_escape(self, body: str, j: int, out: list, token: Token) -> int:
        """Decodes the escape at body[j] into out; returns the index after it."""
        if j + 1 >= len(body):
            out.append("\\")
            return j + 1
        c = body[j + 1]
        if c in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[c])
            return j + 2
        if c in "01234567":
            k = j + 1
            while k < len(body) and k < j + 4 and body[k] in "01234567":
                k += 1
            out.append(chr(int(body[j + 1:k], 8)))
            return k
        width = {"x": 2, "u": 4, "U": 8}.get(c)
        if width is not None:
            digits = body[j + 2:j + 2 + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                self.builder.error(errors.message("bad_escape", char=c), token)
                return j + 2
            code = int(digits, 16)
            if code > 0x10FFFF:
                self.builder.error(errors.message("bad_escape", char="U"), token)
                return j + 2 + width
            out.append(chr(code))
            return j + 2 + width
        if c == "N":
            end = body.find("}", j)
            if body[j + 2:j + 3] == "{" and end > 0:
                try:
                    out.append(unicodedata.lookup(body[j + 3:end]))
                except KeyError:
                    self.builder.error(errors.message("unknown_character_name"), token)
                return end + 1
            self.builder.error(errors.message("malformed_character_name"), token)
            return j + 2
        out.append("\\" + c)  # unknown escapes stay as written, as in Python
        return j + 2

    def add_fstring(self, token: Token, body: str, start: int, raw: bool) -> None:
        i, n = 0, len(body)
        literal: list = []
        while i < n:
            c = body[i]
            if c == "\\" and not raw:
                if body[i + 1:i + 3] == "N{":
                    end = body.find("}", i)
                    literal.append(body[i:end + 1] if end > 0 else body[i:])
                    i = end + 1 if end > 0 else n
                else:
                    literal.append(body[i:i + 2])
                    i += 2
            elif c == "{" and body[i + 1:i + 2] == "{":
                literal.append("{")
                i += 2
            elif c == "}" and body[i + 1:i + 2] == "}":
                literal.append("}")
                i += 2
            elif c == "{":
                self.flush(literal, token, raw)
                literal = []
                i = self.add_field(token, body, i, start)
            elif c == "}":
                self.builder.error(errors.message("fstring_single_brace"), token)
                i += 1
            else:
                literal.append(c)
                i += 1
        self.flush(literal, token, raw)

    def flush(self, literal: list, token: Token, raw: bool) -> None:
        if literal:
            text = "".join(literal)
            self.add_literal(text if raw else self.decode(text, token))

    def add_field(self, token: Token, body: str, i: int, start: int) -> int:
        """Adds the field that opens at body[i]; returns the index after its '}'."""
        expr_start = i + 1
        j = _field_expression_end(body, expr_start)
        expr_text = body[expr_start:j]
        conversion = spec = None
        if j < len(body) and body[j] == "!":
            conversion = body[j + 1:j + 2]
            j += 2
            if conversion == "a":
                self.builder.reject("fstring_ascii", token)
            elif conversion not in ("r", "s"):
                self.builder.error(errors.message("fstring_conversion"), token)
        if j < len(body) and body[j] == ":":
            end = j + 1
            while end < len(body) and body[end] not in "{}":
                end += 1
            spec = body[j + 1:end]
            if end < len(body) and body[end] == "{":
                self.builder.reject("fstring_nested_spec", token)
                end = _skip_to_closing(body, end)
            j = end
        if j >= len(body) or body[j] != "}":
            self.builder.error(errors.message("fstring_unclosed"), token)
            return len(body)
        stripped = expr_text.strip()
        line, col = _position_in_token(token, start + expr_start)
        end_line, end_col = _position_in_token(token, start + j + 1)
        brace_line, brace_col = _position_in_token(token, start + i)
        field_span = Span(self.builder.source, brace_line, brace_col, end_line, end_col)
        if not stripped:
            self.builder.error(errors.message("fstring_empty"), token)
            return j + 1
        if stripped.endswith("=") and not stripped.endswith(("==", "!=", "<=", ">=")):
            self.builder.reject("fstring_self_doc", token)
            return j + 1
        if "#" in _outside_strings(expr_text):
            self.builder.error(errors.message("fstring_comment"), token)
            return j + 1
        field = ast.FormattedValue(None, conversion, spec, span=field_span)
        self.builder.pending_fields.append((field, expr_text, line, col))
        self.pieces.append(field)
        return j + 1


def _field_expression_end(body: str, i: int) -> int:
    """Index of the '!', ':' or '}' that ends the expression starting at body[i]."""
    depth = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c in "'\"":
            i = _skip_string(body, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and c == "!" and body[i + 1:i + 2] != "=":
            return i
        elif depth == 0 and c == ":":
            return i
        elif c in "=!<>" and body[i + 1:i + 2] == "=":
            i += 2
            continue
        i += 1
    return n


def _skip_string(body: str, i: int) -> int:
    quote = body[i]
    triple = body[i:i + 3] == quote * 3
    delim = quote * 3 if triple else quote
    j = i + len(delim)
    while j < len(body):
        if body[j] == "\\":
            j += 2
            continue
        if body.startswith(delim, j):
            return j + len(delim)
        j += 1
    return len(body)


def _skip_to_closing(body: str, i: int) -> int:
    depth = 0
    while i < len(body):
        if body[i] == "{":
            depth += 1
        elif body[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(body)


def _outside_strings(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        if text[i] in "'\"":
            i = _skip_string(text, i)
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _position_in_token(token: Token, offset: int) -> tuple[int, int]:
    before = token.value[:offset]
    newlines = before.count("\n")
    if newlines == 0:
        return token.line, token.column + offset
    return token.line + newlines, offset - before.rfind("\n")
