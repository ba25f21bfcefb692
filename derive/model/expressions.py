"""Expression strings to SymPy through a whitelist over Python's ast; nothing is evaluated as code."""
from __future__ import annotations

import ast
import io
import math
import tokenize
import warnings
from collections.abc import Callable, Mapping

import sympy

from ..errors import ExpressionError, closest
from .functions import FUNCTIONS

MAX_LENGTH = 1_000_000
MAX_DEPTH = 100
MAX_EXPONENT = 100

_BINARY = {  # + and - are read as one sum (see _Builder._sum)
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}

_REFUSED = {
    ast.Attribute: "attribute access is",
    ast.Subscript: "subscripts are",
    ast.Lambda: "lambdas are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.IfExp: "conditionals are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "boolean operators are",
    ast.JoinedStr: "strings are",
    ast.List: "lists are",
    ast.Tuple: "tuples are",
    ast.Dict: "dicts are",
    ast.Set: "sets are",
    ast.NamedExpr: "assignments are",
    ast.Starred: "starred arguments are",
}


def parse(text: str, symbols: Mapping[str, sympy.Symbol],
          functions: Mapping[str, Callable[..., sympy.Expr]] = FUNCTIONS,
          evaluate: bool = True, name_exponents: bool = False) -> sympy.Expr:
    """Parse `text` into a SymPy expression over `symbols`.

    Only numbers, the names in `symbols`, + - * / **, unary minus, parentheses and
    calls to `functions` are accepted; anything else raises ExpressionError.
    With evaluate=False the terms and factors stay as written, for display. Exponents must be
    numbers unless name_exponents (derive's own update rules, never user input, use beta1**t).

    >>> x = sympy.Symbol("x")
    >>> parse("2*x + 1", {"x": x})
    2*x + 1
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression as a string, got {text!r}.")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}.")
    if not text.strip():
        raise ExpressionError("the expression is empty; write a formula such as 'w1*x1 + b'.")
    builder = _Builder(symbols, functions, _BINARY if evaluate else _AS_WRITTEN, evaluate, name_exponents)
    try:
        return builder.build(_syntax_tree(text), 0)
    except _TooDeep:
        pass
    # Python's parser recurses once per term of a long sum: parse the terms one by one.
    terms = []
    for sign, start, end in _top_level_cuts(text):
        try:
            term = builder.build(_syntax_tree(text[start:end]), 1)
        except _TooDeep:
            raise ExpressionError(f"the expression nests deeper than {MAX_DEPTH} levels.") from None
        terms.append(term if sign == "+" else (-term if evaluate else _negate_as_written(term)))
    return sympy.Add(*terms, evaluate=evaluate)


class _TooDeep(Exception):
    """Python's parser ran out of stack: a long sum, or an expression nested too deep."""


def _syntax_tree(text: str) -> ast.AST:
    try:
        with warnings.catch_warnings():  # '2x' makes Python warn on stderr before it refuses
            warnings.simplefilter("ignore")
            return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"{text!r} is not a valid expression ({exc.msg}).") from None
    except (RecursionError, MemoryError):
        raise _TooDeep() from None
    except ValueError:
        raise ExpressionError(f"{text!r} is not a valid expression.") from None


def _top_level_cuts(text: str) -> list[tuple[str, int, int]]:
    """(sign, start, end) of each term of `text` read as a sum: split at each + or - outside
    parentheses that follows an operand (a name, a number or a closing parenthesis)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        raise ExpressionError(f"{text[:40]!r}... is not a valid expression.") from None
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    cuts, depth, previous, sign, begin = [], 0, None, "+", 0
    for token in tokens:
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth -= 1
        elif token.type == tokenize.OP and token.string in "+-" and depth == 0 and previous is not None and \
                (previous.type in (tokenize.NAME, tokenize.NUMBER) or previous.string in ")]}"):
            offset = starts[token.start[0] - 1] + token.start[1]
            cuts.append((sign, begin, offset))
            sign, begin = token.string, offset + 1
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER,
                              tokenize.COMMENT):
            previous = token
    cuts.append((sign, begin, len(text)))
    if len(cuts) == 1:
        raise ExpressionError(f"the expression nests deeper than {MAX_DEPTH} levels.")
    return cuts


def _negate_as_written(a: sympy.Expr) -> sympy.Expr:
    return -a if a.is_Number else sympy.Mul(sympy.S.NegativeOne, a, evaluate=False)


_AS_WRITTEN = {
    ast.Mult: lambda a, b: sympy.Mul(a, b, evaluate=False),
    ast.Div: lambda a, b: sympy.Mul(a, sympy.Pow(b, -1, evaluate=False), evaluate=False),
    ast.Pow: lambda a, b: sympy.Pow(a, b, evaluate=False),
}


class _Builder:
    def __init__(self, symbols, functions, operators, evaluate, name_exponents=False):
        self.symbols = symbols
        self.functions = functions
        self.operators = operators
        self.evaluate = evaluate
        self.name_exponents = name_exponents

    def build(self, node: ast.AST, depth: int) -> sympy.Expr:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression nests deeper than {MAX_DEPTH} levels.")
        if isinstance(node, ast.Constant):
            return self._constant(node.value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return operand
            return -operand if self.evaluate else _negate_as_written(operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            return self._sum(node, depth)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Pow) and not (self.name_exponents and not right.is_number):
                self._check_power(left, right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise ExpressionError("the expression divides by zero.")
            return self.operators[type(node.op)](left, right)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.BinOp):
            raise ExpressionError(f"the operator {type(node.op).__name__!r} is not allowed; use + - * / **.")
        if isinstance(node, ast.UnaryOp):
            raise ExpressionError(f"the operator {type(node.op).__name__!r} is not allowed; use + - * / **.")
        what = _REFUSED.get(type(node), f"{type(node).__name__} is")
        raise ExpressionError(f"{what} not allowed in expressions; use numbers, names, + - * / ** and functions.")

    def _sum(self, node: ast.BinOp, depth: int) -> sympy.Expr:
        """a + b - c + ... as one sum: adding term by term re-sorts the sum each time."""
        negate = (lambda term: -term) if self.evaluate else _negate_as_written
        terms = []
        while isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            right = self.build(node.right, depth + 1)
            terms.append(right if isinstance(node.op, ast.Add) else negate(right))
            node = node.left
        terms.append(self.build(node, depth + 1))
        return sympy.Add(*reversed(terms), evaluate=self.evaluate)

    def _constant(self, value) -> sympy.Expr:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            kind = "strings" if isinstance(value, str) else type(value).__name__
            raise ExpressionError(f"{kind} are not allowed in expressions; use numbers and names.")
        if isinstance(value, float) and not math.isfinite(value):
            raise ExpressionError("a number in the expression is too large to be finite (such as 1e999); use a smaller one.")
        if isinstance(value, float):
            return sympy.Float(value) if value != int(value) or abs(value) > 1e15 else sympy.Integer(int(value))
        if abs(value) > 10**30:
            raise ExpressionError(f"the number {value} is too large.")
        return sympy.Integer(value)

    def _name(self, name: str) -> sympy.Expr:
        if name.startswith("__"):
            raise ExpressionError(f"the name {name!r} is not allowed.")
        if name in self.symbols:
            return self.symbols[name]
        if name in self.functions:
            raise ExpressionError(f"{name!r} is a function; call it as {name}(...).")
        hint = closest(name, self.symbols)
        raise ExpressionError(f"unknown name {name!r}.{hint} Names must be inputs, targets, parameters or earlier "
                              f"nodes; if {name!r} is a parameter, give it a starting value under [params].")

    def _call(self, node: ast.Call, depth: int) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only calls to plain function names are allowed, such as exp(x).")
        name = node.func.id
        if name not in self.functions:
            known = ", ".join(sorted(self.functions))
            hint = closest(name, self.functions)
            raise ExpressionError(f"unknown function {name!r}.{hint} Known functions: {known}.")
        if node.keywords:
            raise ExpressionError(f"keyword arguments are not allowed in {name}(...).")
        args = [self.build(arg, depth + 1) for arg in node.args]
        try:
            if self.evaluate:
                return self.functions[name](*args)
            return self.functions[name](*args, evaluate=False)
        except TypeError:
            raise ExpressionError(f"{name}(...) was called with {len(args)} arguments.") from None

    @staticmethod
    def _check_power(base: sympy.Expr, exponent: sympy.Expr) -> None:
        if not exponent.is_number:
            raise ExpressionError("exponents must be numbers, not expressions with names.")
        if sympy.im(exponent) != 0:
            raise ExpressionError(f"the exponent {exponent} has no real value.")
        if abs(exponent) > MAX_EXPONENT:
            raise ExpressionError(f"the exponent {exponent} is too large; the limit is {MAX_EXPONENT}.")
        if base.is_number and base.is_negative and not exponent.is_integer:
            raise ExpressionError(f"({base})**{float(exponent):g} has no real value: a negative number to a fractional power.")
        if base.is_number and base.is_finite and (abs(base) > 1) is sympy.true:
            digits = float(abs(exponent)) * float(sympy.log(abs(base), 10).evalf(5))
            if digits > 300:
                raise ExpressionError("the power is too large: the result would have more than 300 digits.")
