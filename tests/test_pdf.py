"""--pdf runs pdflatex locked down: no shell escape, no file read or written outside its folder, a time
limit reported cleanly, and on failure the log's first error with the line of the document it stopped on."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from support import require

from derive.errors import DeriveError
from derive.output import OutputFile
from derive.report import pdf

DOCUMENT = "\\documentclass{article}\n\\begin{document}\n%s\n\\end{document}\n"


@pytest.fixture
def build(tmp_path):
    require("pdflatex", shutil.which("pdflatex") is not None and shutil.which("pdftotext") is not None,
            "apt-get install texlive-latex-base poppler-utils")

    def run(body: str) -> str:
        """Build the document; return the PDF's text."""
        target = tmp_path / "out.pdf"
        with OutputFile(target, "--pdf") as output:
            pdf.build_pdf(DOCUMENT % body, output)
            output.commit()
        return subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout

    return run


def test_a_plain_document_builds(build):
    assert "derive" in build("Worked by derive.")


def test_files_outside_the_build_folder_are_not_read(build, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRETWORD\n")
    with pytest.raises(DeriveError, match=r"at line 3 of the LaTeX: \\input\{"):
        build(f"\\input{{{secret}}}")
    assert not (tmp_path / "out.pdf").exists()


def test_no_shell_command_runs(build):
    # kpsewhich is on TeX Live's list of commands allowed in its default restricted shell escape.
    with pytest.raises(DeriveError, match="could not compile"):
        build('\\input|"kpsewhich -var-value=TEXMFROOT"')


def test_files_outside_the_build_folder_are_not_written(build, tmp_path):
    planted = tmp_path / "planted.tex"
    with pytest.raises(DeriveError, match="could not compile"):
        build(f"\\newwrite\\f\\immediate\\openout\\f={planted}\\immediate\\write\\f{{x}}\\immediate\\closeout\\f")
    assert not planted.exists()


def test_a_failure_names_the_first_error_and_its_line(build):
    with pytest.raises(DeriveError) as failure:
        build("fine\n\\undefinedcommand here\n\\alsoundefined")
    message = str(failure.value)
    assert "\n" not in message
    # The document's line 4 is the body's second line: the first of two undefined commands.
    assert message.startswith("--pdf: pdflatex could not compile the report: ")
    assert "Undefined control sequence at line 4 of the LaTeX: \\undefinedcommand here" in message


def test_a_build_that_runs_too_long_is_stopped_and_said(build, monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "TIMEOUT", 3)
    with pytest.raises(DeriveError, match="did not finish within 3 s"):
        build("\\def\\forever{\\forever}\\forever")
    assert not (tmp_path / "out.pdf").exists() and list(tmp_path.iterdir()) == []
