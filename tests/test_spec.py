"""Every bad spec gets exit code 2 and one line that names the file, the field and the fix."""
from __future__ import annotations

import pytest

from support import EXAMPLES

from derive.cli import main

BASE = (EXAMPLES / "seed_a_linear_regression.toml").read_text()


def run_bad(tmp_path, capsys, text: str, *extra: str) -> str:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    assert main(["run", str(path), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"derive: {path}: "), err
    return err


CASES = [
    ("not-toml", lambda s: s + "\n[model\n", "not valid TOML"),
    ("misspelt-section", lambda s: s.replace("[train]\nlearning_rate = 0.05", "[training]\nlearning_rate = 0.05"),
     "training: unknown section or key. Did you mean 'train'?"),
    ("missing-train", lambda s: s.split("[train]")[0], "the [train] section is missing"),
    ("typo-key", lambda s: s.replace("batch_size = 1", "batchsize = 1"), "train.batchsize: unknown key. Did you mean 'batch_size'?"),
    ("wrong-type", lambda s: s.replace("epochs = 1", "epochs = \"one\""), "train.epochs: expected a whole number, got 'one'"),
    ("no-initial-value", lambda s: s.replace("w2 = -0.048\n", ""),
     "model.nodes.yhat: unknown name 'w2'. Did you mean 'x2'? Names must be inputs, targets, parameters or earlier "
     "nodes; if 'w2' is a parameter, give it a starting value under [params]."),
    ("undefined-name", lambda s: s.replace("w1*x1", "w1*x9"), "model.nodes.yhat: unknown name 'x9'"),
    ("cycle", lambda s: s.replace('yhat = "w1*x1 + w2*x2 + b"', 'yhat = "w1*x1 + w2*x2 + b + yhat"'),
     "model.nodes.yhat: the node uses itself (a cycle)"),
    ("later-node", lambda s: s.replace('yhat = "w1*x1 + w2*x2 + b"', 'yhat = "w1*x1 + w2*x2 + b + L"'),
     "model.nodes.yhat: uses 'L', which is defined after it"),
    ("loss-no-node", lambda s: s.replace('loss = "L"', 'loss = "Loss"'), "model.loss: 'Loss' is not a node"),
    ("lengths", lambda s: s.replace("y = [2, -14, 1, -1, -7, -8]", "y = [2, -14, 1]"),
     "data: the columns have different lengths (x1 has 6, x2 has 6, y has 3)"),
    ("empty-data", lambda s: s.replace("[4, 2, 1, 3, 1, 6]", "[]").replace("[1, 8, 0, 2, 4, 7]", "[]")
     .replace("[2, -14, 1, -1, -7, -8]", "[]"), "data: the data is empty"),
    ("text-in-data", lambda s: s.replace("[4, 2, 1, 3, 1, 6]", "[4, 2, \"one\", 3, 1, 6]"),
     "data.x1[2]: expected a number, got 'one'"),
    ("nan-in-data", lambda s: s.replace("[4, 2, 1, 3, 1, 6]", "[4, 2, nan, 3, 1, 6]"), "data.x1[2]: nan is not a finite number"),
    ("batch-below-1", lambda s: s.replace("batch_size = 1", "batch_size = 0"),
     "train.batch_size: 0 is not between 1 and the 6 rows"),
    ("batch-above-rows", lambda s: s.replace("batch_size = 1", "batch_size = 7"),
     "train.batch_size: 7 is not between 1 and the 6 rows"),
    ("epochs-below-1", lambda s: s.replace("epochs = 1", "epochs = 0"), "train.epochs: expected a whole number at least 1, got 0"),
    ("rate-not-positive", lambda s: s.replace("learning_rate = 0.05", "learning_rate = -0.05"),
     "train.learning_rate: -0.05 is not a positive number"),
    ("rate-text", lambda s: s.replace("learning_rate = 0.05", "learning_rate = \"fast\""),
     "train.learning_rate: 'fast' is not a positive number"),
    ("frozen-not-param", lambda s: s.replace("batch_size = 1", "batch_size = 1\nfrozen = [\"x1\"]"),
     "train.frozen: 'x1' is not a parameter"),
    ("bad-expression", lambda s: s.replace('L = "(yhat - y)**2"', 'L = "__import__(\'os\').system(\'true\')"'),
     "model.nodes.L: only calls to plain function names are allowed"),
]


@pytest.mark.parametrize("name,change,message", CASES, ids=[c[0] for c in CASES])
def test_bad_spec(tmp_path, capsys, name, change, message):
    assert message in run_bad(tmp_path, capsys, change(BASE))


def test_csv_missing(tmp_path, capsys):
    text = BASE.split("[data]")[0] + "[data]\ncsv = \"rows.csv\"\n\n[train]" + BASE.split("[train]")[1]
    message = run_bad(tmp_path, capsys, text)
    assert "data.csv: " in message and "rows.csv does not exist; the path is relative to the spec file." in message


def test_csv_missing_column(tmp_path, capsys):
    (tmp_path / "rows.csv").write_text("x1,x2\n4,1\n2,8\n")
    text = BASE.split("[data]")[0] + "[data]\ncsv = \"rows.csv\"\n\n[train]" + BASE.split("[train]")[1]
    assert "data.csv: rows.csv has no column 'y' (it has x1, x2); add it to the header row." in run_bad(tmp_path, capsys, text)


def test_csv_data_trains_like_inline_data(tmp_path, capsys):
    (tmp_path / "rows.csv").write_text("x1,x2,y\n4,1,2\n2,8,-14\n")
    text = BASE.split("[data]")[0] + "[data]\ncsv = \"rows.csv\"\n\n[train]" + BASE.split("[train]")[1]
    (tmp_path / "spec.toml").write_text(text)
    import derive

    step = derive.load(tmp_path / "spec.toml").train().steps[0]
    assert step.updated["w1"] == pytest.approx(0.8294, abs=1e-12)  # the article's first step


def test_missing_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: no such file; check the path." in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path, capsys):
    path = tmp_path / "spec.toml"
    path.write_text(BASE.replace("epochs = 1", "epochs = 0"))
    assert main(["--debug", "run", str(path)]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert main(["run", str(path), "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err
