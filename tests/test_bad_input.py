"""Careless and hostile specs, each as found: exit code 2 and one line naming the file, the field
and the fix, never a traceback or a silently wrong number."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from support import EXAMPLES, ROOT, hang_guard, require

import derive
from derive.cli import main
from derive.model.spec import loads

SEED_A = (EXAMPLES / "seed_a_linear_regression.toml").read_text()
LAYERS = (EXAMPLES / "layers_three_four_one.toml").read_text()
SEED_B = (EXAMPLES / "seed_b_straight_line.toml").read_text()
ROWS = "[data]\ncsv = \"rows.csv\"\n\n[train]"


def csv_spec(text: str = SEED_A) -> str:
    return text.split("[data]")[0] + ROWS + text.split("[train]")[1]


def node(old: str, new: str):
    return lambda s: s.replace(old, new)


YHAT = 'yhat = "w1*x1 + w2*x2 + b"'

# (id, change to seed A (or another example), files written next to the spec, field and message)
CASES = [
    ("loss-listed-twice", node('loss = "L"', 'loss = ["L", "L"]'), {}, "model.loss: 'L' is listed twice"),
    ("penalty-replaces-node-R", lambda s: s.replace('loss = "L"', 'loss = ["L", "R"]\npenalty = { kind = "l2", '
                                                    'weight = 0.1 }').replace('L = "(yhat - y)**2"',
                                                                              'L = "(yhat - y)**2"\nR = "w1**2"'),
     {}, "model.nodes.R: the penalty makes a node 'R'; give yours another name."),
    ("node-named-like-a-layer-node", lambda s: LAYERS.replace('L = "bce(h2_1, y)"', 'z1_1 = "x1"\nL = "bce(h2_1, y)"'),
     {}, "model.nodes.z1_1: the layers already make a node 'z1_1'"),
    ("w1-and-w_1", lambda s: s.replace("w2*x2", "w_1*x2").replace("w2 = -0.048", "w_1 = -0.048"), {},
     "'w1' and 'w_1' both print as w_{1}"),
    ("double-underscore", lambda s: s.replace("w2", "w__2"), {}, "'w__2' would print with a superscript"),
    ("zero-denominator-data", node("x1 = [4, 2, 1, 3, 1, 6]", 'x1 = [4, 2, "1/0", 3, 1, 6]'), {},
     "data.x1[2]: '1/0' divides by zero"),
    ("zero-denominator-param", node("w1 = -0.017", 'w1 = "1/0"'), {}, "params.w1: '1/0' divides by zero"),
    ("zero-denominator-rate", node("learning_rate = 0.05", 'learning_rate = "1/0"'), {},
     "train.learning_rate: '1/0' divides by zero"),
    ("overflowing-constant", node(YHAT, 'yhat = "w1*x1 + w2*x2 + b + 1e999"'), {},
     "model.nodes.yhat: a number in the expression is too large"),
    ("negative-seed", node("batch_size = 1", "batch_size = 1\nseed = -1"), {},
     "train.seed: expected a whole number at least 0 and at most 4294967295, got -1"),
    ("schedule-kind-list", lambda s: s + '\n[train.schedule]\nkind = ["step"]\n', {},
     "train.schedule.kind: expected a schedule's name such as \"step\", got ['step']"),
    ("schedule-nan", lambda s: s + '\n[train.schedule]\nkind = "exponential"\ngamma = nan\n', {},
     "train.schedule.gamma: nan is not a finite number"),
    ("csv-is-a-folder", lambda s: csv_spec(s).replace('csv = "rows.csv"', 'csv = "."'), {},
     "data.csv: . is a folder; give the CSV file's name."),
    ("csv-not-utf8", csv_spec, {"rows.csv": b"x1,x2,y\n4,1,2\n\xe9,8,-14\n"},
     "data.csv: rows.csv is not UTF-8 text; save it as CSV UTF-8."),
    ("csv-duplicate-header", csv_spec, {"rows.csv": b"x1,x2,y,x1\n4,1,2,5\n"},
     "data.csv: rows.csv has the column 'x1' twice in its header"),
    ("csv-missing-value", csv_spec, {"rows.csv": b"x1,x2,y\n4,1,2\n2,,-14\n"},
     "data.csv: rows.csv line 3, column 'x2': the value is missing"),
    ("csv-blank-line-inside", csv_spec, {"rows.csv": b"x1,x2,y\n4,1,2\n\n2,8,-14\n"},
     "data.csv: rows.csv line 3 is blank, with data after it"),
    ("overrides-negative", lambda s: s + "overrides = { w1 = -5 }\n", {},
     "report.overrides.w1: expected a whole number at least 0 and at most 15, got -5"),
    ("momentum-nan", node("batch_size = 1", "batch_size = 1\nmomentum = nan"), {},
     "train.momentum: nan is not a finite number"),
    ("eps-inf", node("batch_size = 1", 'batch_size = 1\noptimizer = "adam"\neps = inf'), {},
     "train.eps: inf is not a finite number"),
    ("unknown-optimizer", node("batch_size = 1", 'batch_size = 1\noptimizer = "adamm"'), {},
     "train.optimizer: 'adamm' is not a known optimiser. Did you mean 'adam'?"),
    ("name-lambda", lambda s: s.replace("b = 0", "lambda = 0").replace("+ b", "+ lambda"), {},
     "params.lambda: 'lambda' is a reserved word"),
    ("name-None", lambda s: s.replace("b = 0", "None = 0").replace("+ b", "+ None"), {},
     "params.None: 'None' is a reserved word"),
    ("name-in", lambda s: s.replace('inputs = ["x1", "x2"]', 'inputs = ["in", "x2"]'), {},
     "model.inputs: 'in' is a reserved word"),
    ("name-micro-sign", lambda s: s.replace("b = 0", '"\u00b5" = 0').replace("+ b", "+ \u00b5"), {},
     "is read as '\u03bc' in expressions (Unicode NFKC)"),
    ("name-ligature", lambda s: s.replace("b = 0", '"\ufb01" = 0').replace("+ b", "+ \ufb01"), {},
     "is read as 'fi' in expressions (Unicode NFKC)"),
    ("names-input-file", lambda s: s + "\n[report.names]\nyhat = '\\input{/etc/hostname}'\n", {},
     "report.names.yhat: \\input is not allowed in names"),
    ("names-nul", lambda s: s + '\n[report.names]\nyhat = "y\\u00001\\u0000"\n', {},
     "report.names.yhat: the character '\\x00' is not allowed in names"),
    ("names-unbalanced", lambda s: s + "\n[report.names]\nyhat = '\\hat{y'\n", {},
     "report.names.yhat: the braces in '\\\\hat{y' do not balance"),
    ("negative-base-constant", node(YHAT, 'yhat = "w1*x1 + w2*x2 + b + (-8)**0.5"'), {},
     "model.nodes.yhat: (-8)**0.5 has no real value: a negative number to a fractional power."),
    # w1 x1 = -0.017 * 4 at the starting values: no real square root, logarithm or power at step 1, row 1.
    ("sqrt-of-negative", node(YHAT, 'r = "sqrt(w1*x1)"\n' + YHAT[:-1] + ' + r"'), {},
     "model.nodes.r: has no real value at step 1, data row 1 (w1 = -0.017, x1 = 4)"),
    ("log-of-negative-from-starting-values", node(YHAT, 'r = "log(w1*x1 + b - 5)"\n' + YHAT[:-1] + ' + r"'), {},
     "model.nodes.r: has no real value at step 1, data row 1 (b = 0, w1 = -0.017, x1 = 4)"),
    ("fractional-power-of-negative", node(YHAT, 'r = "(w1*x1)**1.5"\n' + YHAT[:-1] + ' + r"'), {},
     "model.nodes.r: has no real value at step 1, data row 1 (w1 = -0.017, x1 = 4)"),
    ("fractional-power-batched", lambda s: s.replace(YHAT, 'r = "(w1*x1)**1.5"\n' + YHAT[:-1] + ' + r"')
     .replace("batch_size = 1", "batch_size = 2"), {},
     "model.nodes.r: has no real value at step 1, data row 1 (w1 = -0.017, x1 = 4)"),
    ("sqrt-exact-rounded", lambda s: s.replace(YHAT, 'r = "sqrt(w1*x1)"\n' + YHAT[:-1] + ' + r"')
     .replace("precision = 4", 'precision = 4\ncarry = "rounded"'), {},
     "model.nodes.r: has no real value at step 1, data row 1 (w1 = -0.017, x1 = 4)"),
    ("exact-with-adam", lambda s: SEED_B.replace("learning_rate", 'optimizer = "adam"\nlearning_rate'), {},
     "train.optimizer: exact = true needs every value to be a fraction, and optimizer 'adam' uses sqrt, which has no exact value"),
    ("exact-fractions-outgrow-the-budget", lambda s: SEED_B.replace('yhat = "m*x + c"', 'yhat = "(m*x + c)**7"')
     .replace("epochs = 1", "epochs = 3"), {}, "digits, more than 300; set exact = false"),
    ("exact-with-sigmoid", lambda s: SEED_B.replace('yhat = "m*x + c"', 'yhat = "sigmoid(m*x + c)"'), {},
     "model.nodes.yhat: exact = true needs every value to be a fraction, and sigmoid of a fraction is not one"),
]


@pytest.mark.parametrize("name,change,files,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_file_and_field(tmp_path, capsys, name, change, files, message):
    for file, content in files.items():
        (tmp_path / file).write_bytes(content)
    spec = tmp_path / "spec.toml"
    spec.write_text(change(SEED_A), encoding="utf-8")
    assert main(["run", str(spec), "-o", str(tmp_path / "out.md")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not (tmp_path / "out.md").exists()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, captured.err
    assert captured.err.startswith(f"derive: {spec}: "), captured.err
    assert message in captured.err, captured.err


BUILD = {"inputs": ["x1", "x2"], "targets": ["y"], "nodes": {"yhat": "w1*x1 + w2*x2", "L": "(yhat - y)**2"},
         "loss": "L", "params": {"w1": 0.5, "w2": -0.5}, "data": {"x1": [1.0], "x2": [2.0], "y": [3.0]}}


# The Python API (Problem.build) holds names to the rules a spec's names keep: (id, change, message).
BUILD_CASES = [
    ("w1-and-w_1", {"nodes": {"yhat": "w1*x1 + w_1*x2", "L": "(yhat - y)**2"}, "params": {"w1": 0.5, "w_1": 1}},
     "params.w_1: 'w1' and 'w_1' both print as w_{1}"),
    ("reserved-word", {"inputs": ["lambda", "x2"], "data": {"lambda": [1.0], "x2": [2.0], "y": [3.0]}},
     "model.inputs: 'lambda' is a reserved word of expressions"),
    ("nfkc-unstable", {"params": {"w1": 0.5, "w2": -0.5, "\u00b5": 1.0}},
     "params.\u00b5: '\u00b5' is read as '\u03bc' in expressions"),
    ("double-underscore", {"targets": ["y__1"], "data": {"x1": [1.0], "x2": [2.0], "y__1": [3.0]}},
     "model.targets: 'y__1' would print with a superscript"),
    ("loss-listed-twice", {"loss": ["L", "L"]}, "model.loss: 'L' is listed twice"),
    ("unsafe-latex-name", {"report": {"names": {"yhat": "\\input{/etc/hostname}"}}},
     "report.names.yhat: \\input is not allowed in names"),
    ("function-name", {"nodes": {"relu": "w1*x1 + w2*x2", "L": "(relu - y)**2"}},
     "model.nodes.relu: 'relu' is the name of a function"),
]


@pytest.mark.parametrize("name,change,message", BUILD_CASES, ids=[c[0] for c in BUILD_CASES])
def test_problem_build_keeps_the_name_rules_of_a_spec(name, change, message):
    with pytest.raises(derive.SpecError) as caught:
        derive.Problem.build(**{**BUILD, **change})
    assert str(caught.value).startswith(message), str(caught.value)


def test_problem_build_of_names_that_keep_the_rules_trains():
    trace = derive.Problem.build(**BUILD).train()
    # yhat = 0.5*1 - 0.5*2 = -0.5; dL/dw1 = 2*(yhat - y)*x1 = -7; w1 = 0.5 - 0.01*(-7) = 0.57.
    assert trace.steps[0].updated["w1"] == pytest.approx(0.57, abs=1e-12)


SQUARINGS = "".join(f'a{k} = "a{k - 1}**2"\n' for k in range(1, 31))

# Exact fractions that grow within one step: each squaring doubles the digits (9, 81, 6561, ...: 9**(2**30)
# has about 10**9 digits), so the budget must hold while a step is worked, not only between steps.
GROWTH = [
    ("thirty-squarings-in-a-chain", lambda s: s.replace('yhat = "m*x + c"', f'a0 = "m*x + c"\n{SQUARINGS}yhat = "a30"')),
    ("one-huge-power", lambda s: s.replace('yhat = "m*x + c"', 'yhat = "((((m*x + c)**100)**100)**100)**100"')),
    ("squarings-in-one-expression", lambda s: s.replace('yhat = "m*x + c"', 'yhat = "' + "(" * 30 + "m*x + c"
                                                        + "".join(f")**2 + {k}" for k in range(30)) + '"')),
]


@pytest.mark.parametrize("name,change", GROWTH, ids=[c[0] for c in GROWTH])
def test_exact_fractions_that_grow_within_a_step_stop_it(tmp_path, capsys, name, change):
    spec = tmp_path / "spec.toml"
    spec.write_text(change(SEED_B), encoding="utf-8")
    with hang_guard(30):
        assert main(["run", str(spec), "-o", str(tmp_path / "out.md")]) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(rf"derive: {re.escape(str(spec))}: report\.exact: a fraction worked in step 1 grew to "
                        r"\d+ digits, more than 3000; set exact = false \(or carry = \"rounded\"\), or train fewer "
                        r"steps\.\n", err), err
    assert not (tmp_path / "out.md").exists()


def test_csv_as_a_spreadsheet_writes_it_trains_like_inline_data(tmp_path):
    # A byte-order mark, CRLF, quoted fields, spaces around values and trailing blank lines.
    (tmp_path / "rows.csv").write_bytes('\ufeff"x1", x2 ,y\r\n"4", 1 , 2\r\n2,"8",-14\r\n\r\n  \r\n'.encode())
    (tmp_path / "spec.toml").write_text(csv_spec())
    trace = derive.load(tmp_path / "spec.toml").train()
    assert [s.updated["w1"] for s in trace.steps][0] == pytest.approx(0.8294, abs=1e-12)  # the article's step 1
    assert len(trace.steps) == 2


def test_unused_parts_give_one_warning_line_each(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(SEED_A.replace("b = 0", "b = 0\nc = 1").replace('L = "(yhat - y)**2"',
                                                                    'L = "(yhat - y)**2"\nextra = "c*x1"'))
    assert main(["run", str(spec), "-o", str(tmp_path / "out.md")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"derive: warning: {spec}: params.c: 'c' is not used by the loss; remove it or use it.",
                   f"derive: warning: {spec}: model.nodes.extra: 'extra' is not used by the loss; remove it or use it."]


def test_unicode_names_and_titles_print_as_latex(tmp_path):
    spec = tmp_path / "spec.toml"
    text = SEED_A.replace('yhat = "', '"yhat" = "').replace("yhat", "\u0177")
    text = re.sub(r"(?m)^title = .*$", "title = 'R\u00e9gression, \u03bb and \u0177'", text)
    spec.write_text(text.replace("b = 0", '"\u03bb" = 0').replace("+ b", "+ \u03bb"), encoding="utf-8")
    report = derive.render(derive.load(spec).train(), "latex")
    assert r"\hat{y} &= w_{1} x_{1} + w_{2} x_{2} + \lambda" in report
    assert r"R\'{e}gression, \ensuremath{\lambda} and \^{y}" in report
    assert not any(ord(c) > 127 for c in report.split(r"\begin{document}")[1])
    require("pdflatex", shutil.which("pdflatex") is not None, "apt-get install texlive-latex-base")
    assert main(["run", str(spec), "--pdf", str(tmp_path / "out.pdf"), "-o", str(tmp_path / "out.md")]) == 0


def test_typographic_characters_print_in_the_pdf(tmp_path):
    spec = tmp_path / "spec.toml"
    title = "Stra\u00dfe \u2013 Erd\u0151s \u00d7 2 \u2264 3\u00b0 \u201cquoted\u201d\u2026 \u00f8 \u0142"
    spec.write_text(re.sub(r"(?m)^title = .*$", f"title = '{title}'", SEED_A), encoding="utf-8")
    report = derive.render(derive.load(spec).train(), "latex")
    assert (r"Stra\ss{}e \textendash{} Erd\H{o}s \ensuremath{\times} 2 \ensuremath{\leq} 3\ensuremath{^\circ} "
            r"``quoted''\ldots{} \o{} \l{}") in report
    require("pdflatex", shutil.which("pdflatex") is not None, "apt-get install texlive-latex-base")
    assert main(["run", str(spec), "--pdf", str(tmp_path / "out.pdf"), "-o", str(tmp_path / "out.md")]) == 0


# Text pdflatex cannot print, refused before any work where LaTeX is asked for: (id, command, message).
UNPRINTABLE = [
    ("emoji-title-latex", lambda s: re.sub(r"(?m)^title = .*$", "title = 'Fast \U0001F600'", s),
     ["run", "--format", "latex"], "title: the character '\U0001F600' (U+1F600) cannot be printed by pdflatex"),
    ("emoji-title-pdf", lambda s: re.sub(r"(?m)^title = .*$", "title = 'Fast \U0001F600'", s),
     ["run", "--pdf", "{out}.pdf"], "title: the character '\U0001F600' (U+1F600) cannot be printed by pdflatex"),
    ("cjk-notes-pdf", lambda s: re.sub(r"(?m)^notes = .*$", "notes = '\u68af\u5ea6'", s),
     ["run", "--pdf", "{out}.pdf"], "report.notes: the character '\u68af' (U+68AF) cannot be printed by pdflatex"),
    ("ogonek-title-worksheet", lambda s: re.sub(r"(?m)^title = .*$", "title = 'Si\u0119'", s),
     ["exercise", "--format", "latex"], "title: the character '\u0119' (U+0119) cannot be printed by pdflatex"),
]


@pytest.mark.parametrize("name,change,command,message", UNPRINTABLE, ids=[c[0] for c in UNPRINTABLE])
def test_text_pdflatex_cannot_print_is_refused_for_latex(tmp_path, capsys, name, change, command, message):
    spec = tmp_path / "spec.toml"
    spec.write_text(change(SEED_A), encoding="utf-8")
    out = tmp_path / "out"
    args = [command[0], str(spec), *(a.format(out=out) for a in command[1:]), "-o", f"{out}.tex"]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not list(tmp_path.glob("out*"))
    assert captured.err == f"derive: {spec}: {message}; remove it for LaTeX and PDF output (Markdown and HTML " \
                           f"keep it).\n"
    assert main(["run", str(spec), "-o", f"{out}.md"]) == 0  # Markdown keeps it
    assert spec.read_text(encoding="utf-8").split("\n")[0][-1] in (tmp_path / "out.md").read_text(encoding="utf-8")


def chain_spec(nodes: str, loss_of: str, x: float = 1.0) -> str:
    return (f'[model]\ninputs = ["x"]\ntargets = ["y"]\nloss = "L"\n[model.nodes]\n{nodes}\nL = "({loss_of} - y)**2"\n'
            f"[params]\nw = 0.1\n[data]\nx = [{x}]\ny = [2.0]\n[train]\nlearning_rate = 0.01\n")


def test_a_sum_of_ten_thousand_terms_parses():
    # s = w*x + 2*w*x + ... + 10000*w*x = 50005000 w x; at w = 0.1, x = 0.001: s = 5000.5,
    # L = (s - 2)^2 and dL/dw = 2 (s - 2) 50005000 x.
    terms = " + ".join(f"{k}*w*x" for k in range(1, 10_001))
    step = loads(chain_spec(f's = "{terms}"', "s", x=0.001)).train().steps[0]
    assert step.loss == pytest.approx((5000.5 - 2) ** 2, rel=1e-12)
    assert step.gradients["w"] == pytest.approx(2 * (5000.5 - 2) * 50005000 * 0.001, rel=1e-12)


def test_a_parameter_shared_by_a_long_chain_compiles():
    # n_k = n_(k-1) + w with n_0 = w*x: n_2999 = w (x + 2999) = 300 at w = 0.1, x = 1, and
    # dL/dw = 2 (300 - 2) 3000. The chain is three times Python's recursion limit.
    nodes = "\n".join(['n0 = "w*x"'] + [f'n{i} = "n{i - 1} + w"' for i in range(1, 3000)])
    step = loads(chain_spec(nodes, "n2999")).train().steps[0]
    assert step.gradients["w"] == pytest.approx(2 * 298 * 3000, rel=1e-12)


def test_a_layer_of_a_hundred_inputs_trains():
    # One linear unit over 100 inputs, all weights 0.01 and every input 1: h = 1 (bias 0),
    # L = (h - 3)^2, so every weight's gradient is 2 (1 - 3) = -4.
    names = [f"x{i}" for i in range(1, 101)]
    spec = (f"[model]\ninputs = {names!r}\ntargets = [\"y\"]\nlayers = [{{ size = 1 }}]\n"
            f"init = {{ kind = \"uniform\", low = 0.01, high = 0.01 }}\nloss = \"L\"\n[model.nodes]\n"
            f"L = \"(h1_1 - y)**2\"\n[data]\n" + "".join(f"{n} = [1.0]\n" for n in names)
            + "y = [3.0]\n[train]\nlearning_rate = 0.1\n").replace("'", '"')
    step = loads(spec).train().steps[0]
    assert step.loss == pytest.approx(4.0, rel=1e-12)
    assert all(step.gradients[f"w1_{i}_1"] == pytest.approx(-4.0, rel=1e-12) for i in range(1, 101))


def test_json_never_holds_bare_infinity(tmp_path, capsys):
    # An unused node overflows in every row of a two-row batch: the loss and gradients are finite,
    # so training goes on, and the JSON says "inf" where it has no number to write.
    spec = tmp_path / "spec.toml"
    spec.write_text(SEED_A.replace('L = "(yhat - y)**2"', 'L = "(yhat - y)**2"\nbig = "exp(1000*x1)"')
                    .replace("batch_size = 1", "batch_size = 2"))
    assert main(["run", str(spec), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "'big' is not used by the loss" in captured.err

    def refuse(constant):
        raise AssertionError(f"bare {constant} in the JSON")

    trace = json.loads(captured.out, parse_constant=refuse)
    assert trace["steps"][0]["values"]["big"] == ["inf", "inf"]
    assert trace["steps"][0]["loss"] == pytest.approx(((-0.116 - 2) ** 2 + (-0.418 + 14) ** 2) / 2, rel=1e-12)


@pytest.mark.parametrize("line,reason", [
    ("{% if step.loss > 1 %}big{% endif %}", "'>' not supported between instances of 'Markup' and 'int' (computed "
                                             "values are placeholders"),
    ("{{ nope }}", "'nope' is undefined"),
    ("{% if %}", "Expected an expression, got 'end of statement block'"),
], ids=["computed-value-tested", "unknown-name", "syntax-error"])
def test_a_failing_user_template_is_one_line_naming_its_file_and_line(tmp_path, capsys, line, reason):
    shipped = (ROOT / "derive" / "report" / "templates" / "markdown" / "step.md.j2").read_text()
    (tmp_path / "mine" / "markdown").mkdir(parents=True)
    template = tmp_path / "mine" / "markdown" / "step.md.j2"
    template.write_text(shipped + line + "\n")
    (tmp_path / "report.md").write_text("last week\n")
    argv = ["run", str(EXAMPLES / "seed_a_linear_regression.toml"), "--templates", str(tmp_path / "mine"),
            "-o", str(tmp_path / "report.md")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    number = shipped.count("\n") + 1
    assert err.startswith(f"derive: --templates: {template}, line {number}: {reason}"), err
    assert (tmp_path / "report.md").read_text() == "last week\n" and sorted(p.name for p in tmp_path.iterdir()) == [
        "mine", "report.md"]
