"""An independent reader of the reports' substituted formulas: parses the numeric LaTeX the
reports print and evaluates it with interval arithmetic at 50 digits, so that a test can say
whether 'a = <numbers> = value' is true within the printed rounding (or exactly)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import mpmath

mpmath.mp.dps = 50
mpf = mpmath.mpf
SLACK = mpf("1e-12")


@dataclass(frozen=True)
class Interval:
    lo: mpf
    hi: mpf

    @staticmethod
    def point(x) -> Interval:
        return Interval(mpf(x), mpf(x))

    def __add__(self, o):
        return Interval(self.lo + o.lo, self.hi + o.hi)

    def __sub__(self, o):
        return Interval(self.lo - o.hi, self.hi - o.lo)

    def __neg__(self):
        return Interval(-self.hi, -self.lo)

    def __mul__(self, o):
        p = [self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi]
        return Interval(min(p), max(p))

    def __truediv__(self, o):
        if o.lo <= 0 <= o.hi:
            return Interval(mpf("-inf"), mpf("inf"))
        return self * Interval(1 / o.hi, 1 / o.lo)

    def power(self, n: int):
        if n < 0:
            return Interval.point(1) / self.power(-n)
        values = [self.lo ** n, self.hi ** n]
        if n % 2 == 0 and self.lo <= 0 <= self.hi:
            return Interval(mpf(0), max(values))
        return Interval(min(values), max(values))

    def monotone(self, f):
        return Interval(f(self.lo), f(self.hi))

    def meets(self, o, slack=SLACK) -> bool:
        width = slack * max(1, abs(self.lo), abs(o.lo))
        return self.lo <= o.hi + width and o.lo <= self.hi + width


@dataclass(frozen=True)
class Matrix:
    """A matrix of Intervals (or Exacts), as a bmatrix prints it: sums (a column added to every
    column of a matrix with as many rows), products, scalar multiples, the Hadamard product (odot)
    and functions applied entry by entry."""

    rows: tuple

    @property
    def shape(self):
        return len(self.rows), len(self.rows[0])

    def entries(self):
        return [x for row in self.rows for x in row]

    def map(self, f):
        return Matrix(tuple(tuple(f(x) for x in row) for row in self.rows))

    def zip(self, o, f):
        if o.shape != self.shape and o.shape == (self.shape[0], 1):
            o = Matrix(tuple(row * self.shape[1] for row in o.rows))  # a bias added to every column
        if o.shape != self.shape and self.shape == (o.shape[0], 1):
            return Matrix(tuple(row * o.shape[1] for row in self.rows)).zip(o, f)
        assert o.shape == self.shape, f"shapes {self.shape} and {o.shape} do not match"
        return Matrix(tuple(tuple(f(a, b) for a, b in zip(r, s)) for r, s in zip(self.rows, o.rows)))

    def matmul(self, o):
        assert self.shape[1] == o.shape[0], f"cannot multiply {self.shape} by {o.shape}"
        columns = list(zip(*o.rows))
        out = []
        for row in self.rows:
            cells = []
            for column in columns:
                total = row[0] * column[0]
                for a, b in zip(row[1:], column[1:]):
                    total = total + a * b
                cells.append(total)
            out.append(tuple(cells))
        return Matrix(tuple(out))

    def __neg__(self):
        return self.map(lambda x: -x)

    def monotone(self, f):
        return self.map(lambda x: x.monotone(f))


def add(a, b):
    if isinstance(a, Matrix) or isinstance(b, Matrix):
        return a.zip(b, lambda x, y: x + y)
    return a + b


def subtract(a, b):
    if isinstance(a, Matrix) or isinstance(b, Matrix):
        return a.zip(b, lambda x, y: x - y)
    return a - b


def multiply(a, b):
    if isinstance(a, Matrix) and isinstance(b, Matrix):
        return a.matmul(b)
    if isinstance(a, Matrix):
        return a.map(lambda x: x * b)
    if isinstance(b, Matrix):
        return b.map(lambda x: a * x)
    return a * b


def divide(a, b):
    if isinstance(a, Matrix):
        return a.map(lambda x: x / b)
    return a / b


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


FUNCTIONS = {r"\log": mpmath.log, r"\sigma": _sigmoid, r"\operatorname{relu}": lambda x: max(x, 0),
             r"\tanh": mpmath.tanh, r"\exp": mpmath.exp, r"\sqrt": mpmath.sqrt,
             r"\operatorname{softplus}": lambda x: mpmath.log(1 + mpmath.exp(x)),
             r"\operatorname{log1p}": mpmath.log1p}

_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?(?:\s*\\times\s*10\^\{-?\d+\})?|\\left\(|\\right\)|\\left\[|\\right\]|"
                    r"\\begin\{bmatrix\}|\\end\{bmatrix\}|\\\\|&|"
                    r"\\mathbf\{1\}|\\operatorname\{\w+\}|\\[a-zA-Z]+|[-+(){}^>\[\],|])")


def tokens(text: str) -> list[str]:
    out, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"cannot read {text[position:position + 20]!r} in {text!r}")
        out.append(match.group(1))
        position = match.end()
    return out


class Reader:
    """Recursive descent over the numeric LaTeX; `literal(text)` makes each printed number's interval."""

    def __init__(self, text: str, literal):
        self.items = tokens(text)
        self.i = 0
        self.literal = literal

    def peek(self):
        return self.items[self.i] if self.i < len(self.items) else None

    def take(self, expected=None):
        item = self.peek()
        if expected is not None and item != expected:
            raise ValueError(f"expected {expected!r}, found {item!r} in {self.items}")
        self.i += 1
        return item

    def parse(self) -> Interval:
        value = self.expr()
        if self.peek() is not None:
            raise ValueError(f"unread {self.items[self.i:]}")
        return value

    def expr(self):
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            value = add(value, right) if op == "+" else subtract(value, right)
        return value

    def term(self):
        value = self.unary()
        while True:
            if self.peek() in (r"\times", r"\cdot"):
                self.take()
                value = multiply(value, self.unary())
            elif self.peek() == r"\odot":
                self.take()
                value = value.zip(self.unary(), lambda x, y: x * y)
            elif self.peek() in (r"\left(", "(", r"\frac", r"\begin{bmatrix}") or _is_number(self.peek()):
                value = multiply(value, self.unary())
            else:
                return value

    def unary(self):
        if self.peek() == "-":
            self.take()
            return -self.unary()
        return self.power()

    def power(self):
        base = self.atom()
        if self.peek() == "^":
            self.take()
            literal, self.literal = self.literal, lambda t: Interval.point(mpf(str(number_value(t))))
            exponent = self.group("{", "}")
            self.literal = literal
            n = int(exponent.lo)
            assert exponent.lo == exponent.hi == n, "only whole-number powers are printed"
            return base.power(n)
        return base

    def group(self, open_, close):
        self.take(open_)
        value = self.expr()
        self.take(close)
        return value

    def atom(self):
        item = self.peek()
        if _is_number(item):
            return self.literal(self.take())
        if item == r"\left(":
            return self.group(r"\left(", r"\right)")
        if item == "(":
            return self.group("(", ")")
        if item == "{":
            return self.group("{", "}")
        if item == r"\frac":
            self.take()
            top = self.group("{", "}")
            bottom = self.group("{", "}")
            return divide(top, bottom)
        if item == r"\begin{bmatrix}":
            self.take()
            rows, row = [], [self.expr()]
            while self.peek() != r"\end{bmatrix}":
                if self.take() == "&":
                    row.append(self.expr())
                else:
                    rows.append(tuple(row))
                    row = [self.expr()]
            self.take()
            rows.append(tuple(row))
            assert len({len(r) for r in rows}) == 1, f"ragged matrix in {self.items}"
            return Matrix(tuple(rows))
        if item == "e":
            self.take()
            self.take("^")
            return self.group("{", "}").monotone(mpmath.exp)
        if item == r"\mathbf{1}":
            self.take()
            self.take(r"\left[")
            left = self.expr()
            self.take(">")
            right = self.expr()
            self.take(r"\right]")
            difference = left - right
            if isinstance(difference, Exact):
                return Exact(Fraction(int(difference.value > 0)))
            if difference.lo > 0:
                return Interval.point(1)
            if difference.hi <= 0:
                return Interval.point(0)
            return Interval(mpf(0), mpf(1))
        if item in FUNCTIONS:
            self.take()
            if self.peek() == "{":
                argument = self.group("{", "}")  # \sqrt{x}, \log{\left(x \right)}
            else:
                argument = self.group(r"\left(", r"\right)")
            return argument.monotone(FUNCTIONS[item])
        raise ValueError(f"unexpected {item!r} in {self.items}")


def _is_number(item) -> bool:
    return item is not None and item[0].isdigit()


def number_value(text: str) -> Decimal:
    """The value of a printed literal: '6.144 \\times 10^{-6}' is 6.144e-6."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(?:\s*\\times\s*10\^\{(-?\d+)\})?", text.strip())
    mantissa, exponent = match.group(1), match.group(2)
    value = Decimal(mantissa)
    return value.scaleb(int(exponent)) if exponent else value


def half_unit(text: str) -> Decimal:
    """Half a unit in the last digit a printed number shows: 0.00005 for '0.8294'."""
    return Decimal(5).scaleb(number_value(text).as_tuple().exponent - 1)


@dataclass(frozen=True)
class Exact:
    """A number for the exact check: a Fraction, or, after exp, log, sigma or tanh, the value to 60
    digits (which decides the rounding at the printed digits except on an exact tie, which an
    irrational value cannot be). Same interface as Interval, so the Reader evaluates with either."""

    value: Fraction

    @property
    def lo(self):
        return mpf(self.value.numerator) / self.value.denominator

    hi = lo

    def __add__(self, o):
        return Exact(self.value + o.value)

    def __sub__(self, o):
        return Exact(self.value - o.value)

    def __neg__(self):
        return Exact(-self.value)

    def __mul__(self, o):
        return Exact(self.value * o.value)

    def __truediv__(self, o):
        return Exact(self.value / o.value)

    def power(self, n: int):
        return Exact(self.value ** n)

    def monotone(self, f):
        if f is mpmath.sqrt:
            root = Fraction(math.isqrt(self.value.numerator), math.isqrt(self.value.denominator))
            if root * root == self.value:
                return Exact(root)
        with mpmath.workdps(60):
            return Exact(Fraction(mpmath.nstr(f(self.lo), 60)))


def equation_rows(document: str, fmt: str) -> list[list[str]]:
    """Every aligned row of the document, as its '='-separated parts."""
    pattern = r"\\begin\{aligned\}(.*?)\\end\{aligned\}" if fmt == "markdown" else r"\\begin\{align\*\}(.*?)\\end\{align\*\}"
    rows = []
    for block in re.findall(pattern, document, flags=re.S):
        joined = []
        for row in block.strip().split("\\\\\n"):
            row = row.strip()
            if row.startswith("&=") and joined:
                joined[-1] += " " + row
            else:
                joined.append(row)
        for row in joined:
            row = re.sub(r"\s*\\\\\s*&\\qquad", " ", row)  # a matrix line continued between its matrices
            row = re.sub(r"\s*\\\\\s*&=", " =", row).replace("&=", "=")
            rows.append([p.strip() for p in row.split(" = ")])
    return rows


def numeric(part: str) -> bool:
    """True when a part holds numbers and operators only (the substituted form or a value)."""
    stripped = re.sub(r"\\(begin|end)\{bmatrix\}|\\\\|&|\\odot", "", part)
    stripped = re.sub(r"\\(left|right|times|cdot|frac|log|sigma|tanh|exp|sqrt|mathbf|operatorname)", "", stripped)
    stripped = re.sub(r"\{(relu|softplus|log1p|1)\}", "", stripped)
    return re.search(r"[a-zA-Z\\]", stripped) is None


def check_row(parts: list[str], mode: str) -> str | None:
    """None when the row's last substitution gives its printed value, else a description.

    mode "rounded": every printed number is exactly what was used, so the substitution is evaluated
    exactly (Fractions) and rounded half up to the digits the printed result shows; it must equal
    the printed result, with no tolerance. "full": each printed number stands for any value within
    half a unit in its last printed digit (interval arithmetic), and the intervals must meet.
    "exact": fractions, equal. A matrix result is checked entry by entry, each at its own digits.
    """
    if len(parts) < 3 or not numeric(parts[-2]) or not numeric(parts[-1]):
        return None
    expression, printed = parts[-2], parts[-1]
    exact = mode == "rounded"

    def literal(text):
        value = number_value(text)
        if exact:
            return Exact(Fraction(value))
        if mode != "full":
            return Interval.point(mpf(str(value)))
        h = half_unit(text) if "." in text else 0  # whole numbers are given (data) or exact
        return Interval(mpf(str(value - h)), mpf(str(value + h)))

    computed = Reader(expression, literal).parse()
    if isinstance(computed, Matrix):
        cells = matrix_cells(printed)
        if cells is None or len(cells) != computed.shape[0] or any(len(r) != computed.shape[1] for r in cells):
            return f"{expression} = {printed}: the result is not a matrix of shape {computed.shape}"
        for i, (row, texts) in enumerate(zip(computed.rows, cells), start=1):
            for j, (value, text) in enumerate(zip(row, texts), start=1):
                problem = _check_value(value, text, mode, literal)
                if problem:
                    return f"{expression} = {printed}: entry ({i}, {j}): {problem}"
        return None
    problem = _check_value(computed, printed, mode, literal)
    return None if problem is None else f"{expression} = {printed}: {problem}"


def matrix_cells(text: str) -> list[list[str]] | None:
    """The printed entries of a result that is one bmatrix, as rows of strings."""
    match = re.fullmatch(r"\\begin\{bmatrix\}(.*)\\end\{bmatrix\}", text.strip(), flags=re.S)
    if match is None:
        return None
    return [[c.strip() for c in row.split("&")] for row in match.group(1).split(r"\\")]


def _check_value(computed, printed: str, mode: str, literal) -> str | None:
    """None when one computed value gives the printed number, else why not."""
    if mode == "rounded":
        sign, digits = (-1, printed[1:].strip()) if printed.startswith("-") else (1, printed)
        if re.fullmatch(r"\d+(?:\.\d+)?(?:\s*\\times\s*10\^\{-?\d+\})?", digits) is None:
            return "the result is not one number"
        shown = sign * number_value(digits)
        with localcontext() as context:
            context.prec = 100
            value = computed.value
            exact = Decimal(value.numerator) / Decimal(value.denominator)
            rounded = exact.quantize(Decimal(1).scaleb(shown.as_tuple().exponent), rounding=ROUND_HALF_UP)
        if rounded == shown:
            return None
        return f"by hand it is {exact:.12g}, which rounds to {rounded}"
    shown = Reader(printed, literal).parse()
    if mode == "full":
        ok = computed.meets(shown)
    else:
        target = Reader(printed, lambda t: Interval.point(mpf(str(number_value(t))))).parse().lo
        ok = abs(computed.lo - target) <= mpf("1e-40") * max(1, abs(target))
    return None if ok else f"the left side is [{computed.lo}, {computed.hi}]"


ELLIPSES = (r"\cdots", r"\vdots", r"\ddots")
_BMATRIX = re.compile(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", re.S)


def shortened(parts: list[str]) -> bool:
    """Whether a row's numbers leave matrix entries out (⋯, ⋮)."""
    return len(parts) >= 3 and any(e in p for p in parts[-2:] for e in ELLIPSES)


def _grid(body: str) -> list[list[str]]:
    return [[c.strip() for c in row.split("&")] for row in body.split(r"\\")]


def _places(shown: list[str], whole: int, mark: str) -> list[int | None]:
    """Where each shown row (column) sits in the whole matrix: those before the mark are the first
    ones, those after it the last ones; the mark itself sits nowhere."""
    if mark not in shown:
        return list(range(len(shown))) if len(shown) == whole else [None] * len(shown)
    cut = shown.index(mark)
    after = len(shown) - cut - 1
    return [*range(cut), None, *range(whole - after, whole)]


def check_shortened(parts: list[str], full: list[str], mode: str) -> str | None:
    """A row that leaves entries out, against the same row with every entry: the whole row must
    check (check_row), and every entry the short row shows must be the whole row's entry in the same
    place, the first columns before ⋯ and the last after it (rows likewise around ⋮)."""
    short_matrices = [_grid(b) for p in parts[-2:] for b in _BMATRIX.findall(p)]
    full_matrices = [_grid(b) for p in full[-2:] for b in _BMATRIX.findall(p)]
    if len(short_matrices) != len(full_matrices):
        return f"{parts[0]}: {len(short_matrices)} matrices shortened, {len(full_matrices)} in full"
    for k, (short, whole) in enumerate(zip(short_matrices, full_matrices), start=1):
        rows = _places([row[0] for row in short], len(whole), r"\vdots")
        columns = _places(short[0], len(whole[0]), r"\cdots")
        if None in rows and r"\vdots" not in [row[0] for row in short] or \
                None in columns and r"\cdots" not in short[0]:
            return f"{parts[0]}: matrix {k} has another shape in full"
        for i, row in zip(rows, short):
            for j, cell in zip(columns, row):
                if i is not None and j is not None and whole[i][j] != cell:
                    return f"{parts[0]}: matrix {k} shows {cell} where in full it is {whole[i][j]}"
    problem = check_row(full, mode)
    return None if problem is None else f"{parts[0]} in full: {problem}"


def check_shortened_rows(rows: list[list[str]], mode: str) -> tuple[int, list[str]]:
    """Every row that leaves entries out, checked against the first later row with the same left
    side and form and every entry (see check_shortened): (how many were checked, the failures)."""
    checked, failures = 0, []
    for i, parts in enumerate(rows):
        if not shortened(parts):
            continue
        full = next((r for r in rows[i + 1:] if r[:-2] == parts[:-2] and len(r) == len(parts)
                     and not shortened(r)), None)
        if full is None:
            failures.append(f"{parts[0]}: no row gives it with every entry")
            continue
        checked += 1
        if (problem := check_shortened(parts, full, mode)) is not None:
            failures.append(problem)
    return checked, failures
