"""Rule-by-rule derivations: the rules a teacher uses, in order, ending in the form a teacher writes.

Every expected rule sequence and final form below is written out by hand; the values are checked
at points against derivatives worked by hand, never against derive's own output."""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import sympy

from support import require

import derive
from derive.cli import main
from derive.engine import steps as steps_module
from derive.engine.steps import definitions, derivations, differentiate, local_steps
from derive.engine.verify import same
from derive.model.expressions import FUNCTIONS, parse
from derive.model.graph import symbol
from derive.report.derivations import read_result, spec_text
from derive.report.slots import symbolic

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def problem(nodes: dict, params=("w",), inputs=("x",), targets=("y",)):
    return derive.Problem.build(inputs=list(inputs), targets=list(targets), nodes=nodes, loss=list(nodes)[-1],
                                params={p: 0.5 for p in params}, data={c: [1.0] for c in (*inputs, *targets)},
                                learning_rate=0.1)


def derived(nodes: dict, node: str, parent: str, **kw):
    p = problem(nodes, **kw)
    step = local_steps(p.graph, node, parent, p.display.get(node))
    assert derive.engine.steps.check(step, definitions(p.graph))
    return step


def rules(step) -> list[str]:
    return [s.rule for s in step.walk()]


def at(expr, **values) -> float:
    return float(expr.doit().subs({symbol(k): v for k, v in values.items()}).evalf(30))


def test_squared_error_is_the_power_rule_inside_the_chain_rule():
    step = derived({"yhat": "w*x", "L": "(yhat - y)**2"}, "L", "yhat")
    assert rules(step) == ["chain", "power", "sum"]
    assert step.inner == symbol("yhat") - symbol("y")
    assert spec_text(step.result) == "2*(yhat - y)"


def test_squared_error_written_target_first_takes_the_minus_sign_inside():
    # d/dŷ (y − ŷ)² = 2(y − ŷ)·(−1) = −2(y − ŷ), which a teacher writes 2(ŷ − y).
    step = derived({"yhat": "w*x", "L": "(y - yhat)**2"}, "L", "yhat")
    # The sum rule gives d/dŷ (y − ŷ) = −1 at once: −ŷ is a bare term and needs no step of its own.
    assert rules(step) == ["chain", "power", "sum", "squared_error"]
    assert spec_text(step.result) == "2*(yhat - y)"


def test_binary_cross_entropy_with_respect_to_the_probability():
    step = derived({"F": "sigmoid(w*x)", "L": "-(y*log(F) + (1 - y)*log(1 - F))"}, "L", "F")
    # −(...) is a constant multiple of a sum; y log F by the log rule; log(1 − F) by the chain rule, u = 1 − F.
    # d/dF (1 − F) = −1 is the sum rule's own result (−F is a bare term).
    assert rules(step) == ["constant_multiple", "sum", "constant_multiple", "log", "constant_multiple", "chain",
                           "log", "sum"]
    chain = [s for s in step.walk() if s.rule == "chain"][0]
    assert chain.inner == 1 - symbol("F")
    assert spec_text(step.result) == "(1 - y)/(1 - F) - y/F"
    # At F = 0.25, y = 1: (1 − 1)/(0.75) − 1/0.25 = −4.
    assert at(step.result, F=0.25, y=1) == pytest.approx(-4.0, rel=1e-15)


def test_sigmoid_is_collected_into_the_node_symbol():
    step = derived({"z": "w*x", "F": "sigmoid(z)", "L": "(F - y)**2"}, "F", "z")
    assert rules(step) == ["sigmoid", "collect"]
    assert spec_text(step.result) == "F*(1 - F)"
    # sigma' = sigma(1 - sigma), the factor before the sum, as a teacher writes it (not (1 - sigma) sigma).
    assert spec_text(step.steps[0].expr) == "sigmoid(z)*(1 - sigmoid(z))"
    names = {symbol("z"): "z", symbol("F"): "F"}
    assert symbolic(step.steps[0].expr, names) == r"\sigma\left(z\right) \left(1 - \sigma\left(z\right)\right)"
    assert symbolic(step.result, names) == r"F \left(1 - F\right)"


def test_a_factor_comes_before_the_sum_it_appears_in():
    p1, p2, y = symbol("p1"), symbol("p2"), symbol("y")
    names = {p1: "p_{1}", p2: "p_{2}", y: "y"}
    assert symbolic((1 - p1) * p1, names) == r"p_{1} \left(1 - p_{1}\right)"
    assert spec_text((1 - p1) * p1) == "p1*(1 - p1)"
    # dp/dm = x p (1 - p) for p = sigma(m x + ...): the input first, then p(1 - p).
    x = symbol("x")
    assert symbolic(x * p1 * (1 - p1), {**names, x: "x"}) == r"x p_{1} \left(1 - p_{1}\right)"
    # A sum without the other factor in it keeps its place: (1 - y) log(1 - p1), p1 p2.
    assert symbolic((1 - y) * sympy.log(1 - p1), names) == r"\left(1 - y\right) \log{\left(1 - p_{1} \right)}"


def test_product_of_a_weight_and_an_input_is_a_constant_multiple():
    step = derived({"L": "w*x"}, "L", "w")
    assert rules(step) == ["constant_multiple"]
    assert step.result == symbol("x")


def test_product_rule_when_both_factors_hold_the_variable():
    step = derived({"L": "w*sigmoid(w)"}, "L", "w")
    assert rules(step) == ["product", "sigmoid"]
    # d/dw w σ(w) = σ(w) + w σ(w)(1 − σ(w)); at w = 0: 1/2 + 0 = 0.5, at w = 1: s + s(1 − s), s = σ(1).
    s = 1 / (1 + math.exp(-1))
    assert at(step.result, w=0) == pytest.approx(0.5, rel=1e-15)
    assert at(step.result, w=1) == pytest.approx(s + s * (1 - s), rel=1e-14)


def test_quotient_rule():
    step = derived({"L": "x/(1 + w*x)"}, "L", "w")
    assert rules(step)[0] == "constant_multiple"
    step = derived({"L": "w/(1 + w)"}, "L", "w")
    assert rules(step) == ["quotient", "sum"]
    # d/dw w/(1 + w) = ((1 + w) − w)/(1 + w)² = 1/(1 + w)²: 1/4 at w = 1.
    assert at(step.result, w=1) == pytest.approx(0.25, rel=1e-15)


def test_softmax_cross_entropy_written_with_logsumexp():
    nodes = {"z1": "a*x", "z2": "b*x", "z3": "c*x",
             "L": "logsumexp(z1, z2, z3) - (y1*z1 + y2*z2 + y3*z3)"}
    step = derived(nodes, "L", "z1", params=("a", "b", "c"), targets=("y1", "y2", "y3"))
    assert rules(step) == ["sum", "logsumexp", "constant_multiple", "sum", "constant_multiple"]
    # ∂L/∂z1 = e^{z1} / (e^{z1} + e^{z2} + e^{z3}) − y1: the softmax minus the target.
    z1, z2, z3, y1 = (symbol(n) for n in ("z1", "z2", "z3", "y1"))
    assert spec_text(step.result) == "exp(z1)/(exp(z1) + exp(z2) + exp(z3)) - y1"
    assert at(step.result, z1=0, z2=0, z3=0, y1=1) == pytest.approx(1 / 3 - 1, rel=1e-15)
    assert step.result.free_symbols == {z1, z2, z3, y1}


def test_sigmoid_with_cross_entropy_collapses_to_F_minus_y(example):
    p = example("seed_c_relu_sigmoid_network.toml")
    _, collapses = derivations(derive.api.differentiate(p), p.display)
    (collapse,) = collapses
    assert collapse.key == ("L", "zF") and collapse.step.rule == "sigmoid_cross_entropy"
    assert spec_text(collapse.step.result) == "F - y"


def test_softmax_with_cross_entropy_needs_one_hot_targets(example):
    p = example("softmax_three_classes.toml")
    _, collapses = derivations(derive.api.differentiate(p), p.display)
    assert [(c.key, spec_text(c.step.result), c.step.condition) for c in collapses] == [
        (("L", "z1"), "p1 - y1", "one_hot"), (("L", "z2"), "p2 - y2", "one_hot"), (("L", "z3"), "p3 - y3", "one_hot")]
    # Without the condition the sum is p1 (y1 + y2 + y3) − y1, which differs from p1 − y1 when the targets don't sum to 1.
    nodes = definitions(p.graph)
    c = collapses[0].step
    assert not same(c.expr.xreplace(nodes), c.form.xreplace(nodes))


# Each function's own rule; the argument is w*x so that the chain rule is needed, except where noted.
FUNCTION_CASES = {
    "exp": "exp(w*x)", "log": "log(w*x)", "sqrt": "sqrt(w*x)", "abs": "abs(w*x)", "sigmoid": "sigmoid(w*x)",
    "tanh": "tanh(w*x)", "relu": "relu(w*x)", "leaky_relu": "leaky_relu(w*x, 0.1)", "softplus": "softplus(w*x)",
    "elu": "elu(w*x)", "gelu": "gelu(w*x)", "log1p": "log1p(w*x)", "max": "max(w*x, y)", "min": "min(w*x, y)",
    "mse": "mse(w*x, y)", "mae": "mae(w*x, y)", "bce": "bce(sigmoid(w*x), y)", "huber": "huber(w*x, y, 1.0)",
    "logsumexp": "logsumexp(w*x, y)",
}
BOTH_ARGUMENTS = ["max(w*x, w)", "min(w*x, w)", "leaky_relu(w*x, w)", "logsumexp(w*x, w, y)"]


def test_every_function_in_the_parser_has_a_case():
    assert set(FUNCTION_CASES) == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(FUNCTION_CASES))
def test_each_function_is_derived_and_every_step_checks(name):
    p = problem({"L": FUNCTION_CASES[name]})
    found, _ = derivations(derive.api.differentiate(p), p.display)
    step = found[("L", "w")]
    assert step is not None, f"{name}: not derived by rules"
    expected = {"mse": "power", "mae": "abs", "bce": "log", "huber": "huber", "logsumexp": "logsumexp"}
    assert expected.get(name, name) in rules(step)


@pytest.mark.parametrize("node", BOTH_ARGUMENTS)
def test_functions_with_the_variable_in_several_arguments(node):
    p = problem({"L": node})
    found, _ = derivations(derive.api.differentiate(p), p.display)
    assert found[("L", "w")] is not None


@pytest.mark.parametrize("spec", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_every_example_partial_is_derived_and_matches_the_engine(spec):
    p = derive.load(EXAMPLES / spec)
    derivation = derive.api.differentiate(p)
    found, _ = derivations(derivation, p.display)
    nodes = definitions(p.graph)
    for key, step in found.items():
        assert step is not None, f"{spec}: {key} is stated, not derived"
        # The last form against the engine's partial, independently of the check inside derivations.
        a, b = step.result.xreplace(nodes), derivation.local[key].xreplace(nodes)
        f = sympy.lambdify(sorted(a.free_symbols | b.free_symbols, key=str), a - b, "mpmath")
        args = [0.3 + 0.1 * i for i in range(len(a.free_symbols | b.free_symbols))]
        assert abs(f(*args)) < 1e-12


def test_a_wrong_rule_is_never_shown(monkeypatch):
    """A rule that gives a wrong derivative (here: log' = 2/u) fails its check, and the partial is stated."""
    real = steps_module._leaf

    def broken(rule, expr, by, form):
        return real(rule, expr, by, 2 * form if rule == "log" else form)

    monkeypatch.setattr(steps_module, "_leaf", broken)
    p = problem({"L": "log(w*x)"}, targets=())
    found, _ = derivations(derive.api.differentiate(p), p.display)
    assert found[("L", "w")] is None
    report = derive.render(p.train(), "markdown")
    assert "(stated: derive does not derive this one by rules)" in report
    assert "logarithm rule" not in report


def test_a_step_that_is_only_numerically_equal_is_checked_at_points():
    w = symbol("w")
    assert same(sympy.Max(w, 0).diff(w), sympy.Heaviside(w, sympy.S.Half))
    assert not same(sympy.Heaviside(w, 0) + w * 1e-9, sympy.Heaviside(w, 0))


def test_differentiate_refuses_what_it_has_no_rule_for():
    with pytest.raises(NotImplementedError):
        differentiate(sympy.gamma(symbol("w")), symbol("w"))


def test_derivations_setting(tmp_path):
    text = (EXAMPLES / "seed_a_linear_regression.toml").read_text()
    for mode, present, absent in (("summary", "derived by these rules", "1.1"), ("off", None, "Deriving")):
        spec = tmp_path / f"{mode}.toml"
        spec.write_text(text.replace("[report]", f'[report]\nderivations = "{mode}"'))
        report = derive.render(derive.load(spec).train(), "markdown")
        if present:
            assert present in report
        assert absent not in report.split("## Step 1")[0]
    spec = tmp_path / "bad.toml"
    spec.write_text(text.replace("[report]", '[report]\nderivations = "some"'))
    with pytest.raises(derive.errors.SpecError, match="report.derivations"):
        derive.load(spec)


def test_json_derivations_follow_the_interface(example):
    import json

    p = example("seed_c_relu_sigmoid_network.toml")
    data = json.loads(derive.render(p.train(), "json"))["derivations"]
    assert data["F/zF"]["rule"] == "sigmoid" and data["F/zF"]["result"] == "F*(1 - F)"
    assert [s["rule"] for s in data["F/zF"]["steps"]] == ["collect"]
    assert data["L/F"]["result"] == "(1 - y)/(1 - F) - y/F"
    assert data["L/zF"]["result"] == "F - y"
    for entry in data.values():
        assert set(entry) >= {"rule", "latex", "result", "steps", "srepr"}
        # The result parses with the spec's own whitelist and equals the srepr.
        names = {n: symbol(n) for n in ("F", "y", "zD", "zE", "zF", "D", "E", "A", "B", "C", "AD", "BD", "CD",
                                        "AE", "BE", "CE", "DF", "EF")}
        assert same(read_result(entry["result"], names), sympy.sympify(entry["srepr"]))
    # relu' is written with the registry's step function, which the whitelist reads back.
    assert data["D/zD"]["rule"] == "relu" and data["D/zD"]["result"] == "heaviside(zD)"


def test_the_readme_excerpt_is_the_report():
    readme = (EXAMPLES.parent / "README.md").read_text()
    report = (EXAMPLES / "reports" / "seed_a_linear_regression.md").read_text()
    excerpt = readme.split("Seed A's ∂L/∂ŷ:", 1)[1].split("```markdown\n", 1)[1].split("...\n", 1)[0]
    assert excerpt.strip() and excerpt in report


def test_every_example_report_derives_before_the_first_step():
    for report in sorted((EXAMPLES / "reports").glob("*.md")):
        text = report.read_text()
        assert text.index("## Deriving the derivatives") < text.index("## Step 1"), report.name
        assert "(stated:" not in text and "**The whole gradient**" in text, report.name


def test_summary_section_compiles_to_pdf(tmp_path):
    require("pdflatex", shutil.which("pdflatex") is not None, "apt-get install texlive-latex-base")
    spec = tmp_path / "summary.toml"
    spec.write_text((EXAMPLES / "seed_c_relu_sigmoid_network.toml").read_text()
                    .replace("[report]", '[report]\nderivations = "summary"'))
    tex, pdf = tmp_path / "summary.tex", tmp_path / "summary.pdf"
    assert main(["run", str(spec), "--format", "latex", "-o", str(tex), "--pdf", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    text = tex.read_text()
    assert "derived by these rules" in text and r"\textbf{1.1}" not in text


def results(entry: dict):
    """Every (result, srepr) of a JSON derivation, its steps' included."""
    yield entry["result"], entry["srepr"]
    for step in entry["steps"]:
        yield from results(step)


def value(expr: sympy.Expr, point: dict) -> complex:
    return complex(expr.xreplace(point).doit().evalf(30))


@pytest.mark.parametrize("spec", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_every_json_result_parses_back_and_equals_the_engines_derivative(spec):
    import json
    import random

    p = derive.load(EXAMPLES / spec)
    derivation = derive.api.differentiate(p)
    graph = p.graph
    # A chain rule's outer derivative is written in its inner variable u (named in the step's "inner").
    names = {n: symbol(n) for n in (*graph.columns, *graph.params, *graph.node_names, "u")}
    data = json.loads(derive.render(p.train(), "json"))["derivations"]
    nodes = definitions(graph)
    rng = random.Random(spec)
    for key, entry in data.items():
        for text, srepr in results(entry):
            assert "Heaviside" not in text and "Piecewise" not in text, (key, text)
            assert same(read_result(text, names), sympy.sympify(srepr)), (key, text)
        # The final result against the engine's partial (through the nodes in between for a collapse,
        # with one-hot targets), at random points on both sides of every kink.
        node, parent = key.split("/")
        engine = (derivation.local[(node, parent)] if "via" not in entry else
                  sum(derivation.local.get((node, v), 0) * derivation.local.get((v, parent), 0) for v in entry["via"]))
        ours, theirs = read_result(entry["result"], names).xreplace(nodes), engine.xreplace(nodes)
        for _ in range(10):
            point = {symbol(n): sympy.Rational(rng.randint(-2000, 2000), 1000) for n in (*graph.inputs, *graph.params)}
            hot = rng.randrange(len(graph.targets))
            point.update({symbol(t): sympy.Integer(i == hot) for i, t in enumerate(graph.targets)})
            a, b = value(ours, point), value(theirs, point)
            assert abs(a - b) <= 1e-20 * max(1.0, abs(b)), (spec, key, entry["result"], point)


@pytest.mark.parametrize("name", sorted(FUNCTION_CASES))
def test_each_functions_result_is_written_in_the_spec_syntax(name):
    p = problem({"L": FUNCTION_CASES[name]})
    found, _ = derivations(derive.api.differentiate(p), p.display)
    names = {n: symbol(n) for n in ("w", "x", "y", "L", "u")}
    for step in found[("L", "w")].walk():
        assert same(read_result(spec_text(step.result), names), step.result), spec_text(step.result)


def test_derivatives_at_kinks_are_written_as_taught():
    w, x, y = (symbol(n) for n in ("w", "x", "y"))
    # relu'(u) = 1 for u > 0, else 0; |u|' = sign(u); huber'(d) = d clipped to [-delta, delta].
    assert spec_text(differentiate(parse("relu(w)", {"w": w}), w).result) == "heaviside(w)"
    assert spec_text(differentiate(parse("abs(w)", {"w": w}), w).result) == "sign(w)"
    assert spec_text(differentiate(parse("huber(w, y, 0.5)", {"w": w, "y": y}), w).result) == \
        "max(-0.5, min(w - y, 0.5))"
    # heaviside(0) = 0, as PyTorch takes relu'(0).
    assert read_result("heaviside(w)", {"w": w}).subs(w, 0) == 0
    assert read_result("heaviside(w)", {"w": w}).subs(w, sympy.Rational(1, 10)) == 1


def test_whole_gradient_is_written_as_the_article_writes_it(example):
    # Seed A (its Eqn 6.2): dL/dw1 = dL/dyhat . dyhat/dw1 = 2(yhat - y) . x1; dL/db = 2(yhat - y).
    seed_a = derive.render(example("seed_a_linear_regression.toml").train(), "markdown")
    assert (r"\frac{\partial L}{\partial w_{1}} &= \frac{\partial L}{\partial \hat{y}} \cdot "
            r"\frac{\partial \hat{y}}{\partial w_{1}} = 2 \left(\hat{y} - y\right) \cdot x_{1}") in seed_a
    # Softmax: dL/db1 = dL/dz1 . dz1/db1 = p1 - y1, the lone sum without parentheses.
    softmax = derive.render(example("softmax_three_classes.toml").train(), "markdown")
    assert (r"\frac{\partial L}{\partial b_{1}} &= \frac{\partial L}{\partial z_{1}} \cdot "
            r"\frac{\partial z_{1}}{\partial b_{1}} = p_{1} - y_{1}") in softmax
    assert r"\left(p_{1} - y_{1}\right) \cdot x_{1}" in softmax


def test_sub_steps_show_terms_as_the_spec_writes_them(example):
    # Seed C writes zD = wAD*A + ...: the constant multiple step acts on (w_AD A), as written,
    # bracketed after d/dw_AD; SymPy's own order would be A w_AD.
    report = derive.render(example("seed_c_relu_sigmoid_network.toml").train(), "markdown")
    assert (r"1.1 constant multiple rule: the factors without $w_{AD}$ stay as they are: "
            r"$\frac{\partial}{\partial w_{AD}} \left(w_{AD} A\right) = A$") in report
