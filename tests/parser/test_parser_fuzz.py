"""Fuzzing: whatever the text, parse_module returns a Module or raises CompileError."""
import json
import string
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tensorscript.parser import CompileError, ast, parse_module

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "cases"

FALLBACK = [
    "import torch\nfrom typing import List\n\n"
    "def f(x: torch.Tensor, n: int = 2) -> List[int]:\n"
    "    '''doc'''\n"
    "    out: List[int] = []\n"
    "    for i in range(n):\n"
    "        if i % 2 == 0 and x.sum() > 0:\n"
    "            out.append(i ** 2)\n"
    "        elif i > 3:\n"
    "            break\n"
    "        else:\n"
    "            out += [i, -i]\n"
    "    d = {'a': x[1:, None, ...], 'b': f'{n!r:>3}'}\n"
    "    return [v * 2 for v in out if v]\n",
]


def corpus_programs():
    sources = [json.loads(p.read_text())["source"] for p in sorted(CORPUS.glob("*/*.json"))]
    return sources or FALLBACK


PROGRAMS = corpus_programs()

TOKENS = [
    "def", "class", "if", "elif", "else", "while", "for", "in", "not", "and", "or", "is",
    "return", "pass", "break", "continue", "assert", "raise", "del", "with", "as", "import",
    "from", "lambda", "yield", "await", "async", "global", "try", "except", "None", "True",
    "x", "y", "f", "torch", "0", "1.5", "0x1f", "1e3", "'s'", '"t"', "f'{x}'", "'''u'''",
    "r'\\d'", "(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "...", "=", "==", "+=", "//=",
    "->", "+", "-", "*", "**", "/", "//", "%", "@", "<", ">", "<=", "!=", "|", "&", "^", "~",
    ":=", "\n", "\n    ", "\n        ", "\\\n", "#c\n", " ", "\t", "'", '"', "$", "!", "{x",
]


def check(text):
    try:
        result = parse_module(text)
    except CompileError as err:
        assert isinstance(err.lineno, int) and err.lineno >= 1
        assert isinstance(err.col, int) and err.col >= 1
        str(err)
    else:
        assert isinstance(result, ast.Module)


@given(st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join))
def test_random_token_streams(text):
    check(text)


@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_random_glued_tokens(text):
    check(text)


@given(st.text(alphabet=string.printable + "\u00e9\u2022", max_size=200))
def test_random_text(text):
    check(text)


def mutate(text, data, unit):
    pieces = _split(text, unit)
    for _ in range(data.draw(st.integers(1, 4))):
        if not pieces:
            break
        i = data.draw(st.integers(0, len(pieces) - 1))
        op = data.draw(st.sampled_from(["delete", "duplicate", "swap", "insert"]))
        if op == "delete":
            del pieces[i]
        elif op == "duplicate":
            pieces.insert(i, pieces[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(pieces) - 1))
            pieces[i], pieces[j] = pieces[j], pieces[i]
        else:
            pieces.insert(i, data.draw(st.sampled_from(TOKENS)))
    return "".join(pieces)


def _split(text, unit):
    if unit == "char":
        return list(text)
    # Tokens, roughly: words, runs of spaces, and single other characters.
    pieces, word = [], ""
    for c in text:
        if c.isalnum() or c == "_":
            word += c
            continue
        if word:
            pieces.append(word)
            word = ""
        pieces.append(c)
    if word:
        pieces.append(word)
    return pieces


@settings(max_examples=150)
@given(st.sampled_from(PROGRAMS), st.data())
def test_character_mutations_of_valid_programs(program, data):
    check(mutate(program, data, "char"))


@settings(max_examples=150)
@given(st.sampled_from(PROGRAMS), st.data())
def test_token_mutations_of_valid_programs(program, data):
    check(mutate(program, data, "token"))


@given(st.sampled_from(PROGRAMS), st.integers(0, 10_000))
def test_truncated_programs(program, cut):
    check(program[: cut % (len(program) + 1)])
