"""Small programs covering every construct lowering handles, each with calls to check.

Every program is valid Python too, so the oracle is Python itself: the tests run each call
through the compiled graph (and through the graph printed back as source and compiled again)
and compare with running the same function as plain Python.
"""

PROGRAMS = {
    "straight_line": ("""
def f(a: int, b: int) -> int:
    c = a * b + 3
    d = c - a
    return d // 2
""", [(3, 4), (-7, 2)]),

    "if_else_merge": ("""
def f(x: int) -> int:
    if x > 0:
        y = x * 2
        z = 1
    elif x < -5:
        y = -x
        z = 2
    else:
        y = 0
        z = 3
    return y * 10 + z
""", [(4,), (-9,), (-1,)]),

    "early_return": ("""
def f(x: int) -> int:
    if x < 0:
        return -1
    if x == 0:
        return 0
    y = x + 1
    return y
""", [(-3,), (0,), (5,)]),

    "return_in_nested_if": ("""
def f(x: int, y: int) -> str:
    if x > 0:
        if y > 0:
            return "both"
        z = "x"
    else:
        z = "none"
    return z
""", [(1, 1), (1, -1), (-1, 1)]),

    "for_range_forms": ("""
def f(n: int) -> List[int]:
    out: List[int] = []
    for i in range(n):
        out.append(i)
    for i in range(2, n):
        out.append(i * 10)
    for i in range(n, 0, -2):
        out.append(i * 100)
    for i in range(1, n, 3):
        out.append(-i)
    return out
""", [(7,), (0,), (1,)]),

    "range_dynamic_step": ("""
def f(a: int, b: int, s: int) -> int:
    total = 0
    for i in range(a, b, s):
        total += i
    return total
""", [(0, 10, 3), (10, 0, -4), (5, 5, 1), (0, 10, -1)]),

    "while_loop": ("""
def f(n: int) -> int:
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps
""", [(6,), (1,), (27,)]),

    "break_continue": ("""
def f(xs: List[int]) -> Tuple[int, int]:
    total = 0
    seen = 0
    for x in xs:
        if x < 0:
            continue
        if x > 100:
            break
        total += x
        seen += 1
    return total, seen
""", [([1, -2, 3, 200, 5],), ([],), ([-1, -1],)]),

    "nested_break_inner": ("""
def f(rows: List[List[int]]) -> List[int]:
    out: List[int] = []
    for row in rows:
        first = -1
        for v in row:
            if v % 2 == 0:
                first = v
                break
        out.append(first)
    return out
""", [([[1, 3, 4, 6], [5], [2]],)]),

    "return_inside_loop": ("""
def f(xs: List[int], t: int) -> int:
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            if xs[i] + xs[j] == t:
                return i * 100 + j
    return -1
""", [([1, 4, 6, 9], 10), ([1, 2], 7)]),

    "while_true_return": ("""
def f(n: int) -> int:
    k = 0
    while True:
        k += 1
        if k * k >= n:
            return k
    return -1
""", [(10,), (1,)]),

    "continue_in_while": ("""
def f(n: int) -> int:
    i = 0
    acc = 0
    while i < n:
        i += 1
        if i % 3 == 0:
            continue
        acc += i
    return acc
""", [(10,), (0,)]),

    "enumerate_zip": ("""
def f(a: List[int], b: List[str]) -> List[str]:
    out: List[str] = []
    for i, x in enumerate(a):
        out.append(str(i) + ":" + str(x))
    for i, x in enumerate(a, 10):
        out.append(str(i))
    for x, s in zip(a, b):
        out.append(s + str(x))
    return out
""", [([1, 2, 3], ["a", "b"]),]),

    "iterate_str_dict_tuple": ("""
def f(s: str, d: Dict[str, int]) -> List[str]:
    out: List[str] = []
    for ch in s:
        out.append(ch + ch)
    for k in d:
        out.append(k)
    for k, v in d.items():
        out.append(k + str(v))
    for v in (1, 2, 3):
        out.append(str(v))
    return out
""", [("ab", {"x": 1, "y": 2}),]),

    "tuple_heterogeneous_loop": ("""
def f(x: int) -> List[str]:
    out: List[str] = []
    for v in (x, "s", 2.5):
        out.append(str(v))
    return out
""", [(4,)]),

    "comprehensions": ("""
def f(n: int) -> Tuple[List[int], Dict[int, int], List[int]]:
    a = [i * i for i in range(n) if i % 2 == 1]
    b = {i: i + 1 for i in range(n)}
    c = [x + y for x in range(3) for y in range(x)]
    return a, b, c
""", [(6,), (0,)]),

    "bool_ops_and_chains": ("""
def f(a: int, b: int, c: int) -> List[bool]:
    return [a < b < c, a < b and b < c, a > b or c > b, not a == b, 0 <= a < 10 != c]
""", [(1, 2, 3), (3, 2, 1), (5, 5, 10)]),

    "short_circuit": ("""
def f(xs: List[int]) -> bool:
    return len(xs) > 0 and xs[0] == 1
""", [([],), ([1],), ([2],)]),

    "conditional_expression": ("""
def f(x: int) -> str:
    return "pos" if x > 0 else ("zero" if x == 0 else "neg")
""", [(3,), (0,), (-3,)]),

    "optional_refinement": ("""
def f(x: Optional[int], y: Optional[int]) -> int:
    if x is None:
        x = 0
    total = x
    if y is not None:
        total += y
    return total
""", [(None, None), (3, 4), (None, 5)]),

    "optional_assert": ("""
def f(x: Optional[int]) -> int:
    assert x is not None
    return x + 1
""", [(4,)]),

    "assert_raise": ("""
def f(x: int) -> int:
    assert x >= 0, "x must be non-negative"
    if x > 10:
        raise ValueError("too big")
    return x
""", [(3,)]),

    "fstrings": ("""
def f(name: str, n: int, x: float) -> str:
    return f"{name}={n} ({x:.2f}) {{literal}}"
""", [("a", 3, 2.5),]),

    "list_mutation": ("""
def f(xs: List[int]) -> List[int]:
    del xs[0]
    xs[-1] = 100
    xs[0] += 5
    xs.append(7)
    return xs[1:] + xs[:1]
""", [([1, 2, 3, 4],)]),

    "dict_ops": ("""
def f(words: List[str]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    if "a" in counts:
        counts["a"] += 10
    return counts
""", [(["a", "b", "a"],), ([],)]),

    "tuples": ("""
def f(a: int, b: int) -> Tuple[int, int, int]:
    a, b = b, a
    t = (a, b, a + b)
    x, y, z = t
    return t[2], t[-3], x * y * z
""", [(2, 3),]),

    "helper_functions": ("""
def sq(x: int) -> int:
    return x * x

def add(a: int, b: int = 10) -> int:
    return a + b

def f(x: int) -> int:
    return add(sq(x)) + add(x, b=1)
""", [(3,)]),

    "loop_carried_defined_in_branch": ("""
def f(n: int) -> Tuple[int, float]:
    best = 0
    score = 0.0
    for i in range(n):
        v = (i * 7) % 11
        if v > best:
            best = v
            score = score + v / 2
        else:
            score = score - 0.25
    return best, score
""", [(10,)]),

    "fibonacci_swap": ("""
def f(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
""", [(10,), (0,)]),

    "string_methods": ("""
def f(s: str) -> List[str]:
    out: List[str] = []
    for part in s.split(","):
        if len(part) > 0:
            out.append(part.upper())
    return out
""", [("a,bc,,d",)]),
}

# Calls expected to raise when run (the script error's original exception type).
RAISING = {
    "assert_raise": [((-1,), "AssertionError"), ((11,), "ValueError")],
    "range_dynamic_step": [((0, 3, 0), "ValueError")],
}
