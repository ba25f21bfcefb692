"""Building a PDF from the LaTeX report with pdflatex, locked down: no shell escape, no files read or
written outside its own folder, a time limit, and the first error of the log when it fails."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import DeriveError
from ..output import OutputFile

INSTALL_HINT = ("install TeX Live (on Debian or Ubuntu: apt-get install texlive-latex-base "
                "texlive-latex-recommended texlive-pictures)")
TIMEOUT = 120  # seconds for each pdflatex pass
PASSES = 3  # at most, while the log asks for a rerun
COMMAND = ["-no-shell-escape", "-halt-on-error", "-interaction=nonstopmode"]
# kpathsea's paranoid mode: no absolute paths, no parent folders, no dot files, for reading and writing.
LOCKED = {"openin_any": "p", "openout_any": "p"}


def build_pdf(latex: str, output: OutputFile) -> None:
    """Compile a complete LaTeX document into `output`; raises DeriveError saying what went wrong."""
    tool = shutil.which("pdflatex")
    if tool is None:
        raise DeriveError(f"--pdf: pdflatex is not installed; {INSTALL_HINT}, "
                          f"or use --format latex and compile it yourself.")
    env = {**os.environ, **LOCKED}
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "report.tex"
        source.write_text(latex, encoding="utf-8")
        for _ in range(PASSES):
            try:
                result = subprocess.run([tool, *COMMAND, source.name], cwd=work, env=env, capture_output=True,
                                        stdin=subprocess.DEVNULL, timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                raise DeriveError(f"--pdf: pdflatex did not finish within {TIMEOUT} s and was stopped; "
                                  f"no PDF was written.") from None
            log = _read(Path(work) / "report.log")
            if result.returncode != 0 or not (Path(work) / "report.pdf").exists():
                raise DeriveError(f"--pdf: pdflatex could not compile the report: {first_error(log, latex)}")
            if "Rerun to get" not in log and "Label(s) may have changed" not in log:
                break
        output.copy_from(Path(work) / "report.pdf")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def first_error(log: str, latex: str) -> str:
    """The log's first error and the line of the document it stopped on."""
    lines = log.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("! ")), None)
    if start is None:
        return "pdflatex stopped without an error in its log."
    message = lines[start][2:].strip()
    number = next((int(m.group(1)) for line in lines[start + 1:start + 20] if (m := re.match(r"l\.(\d+) ", line))),
                  None)
    source = latex.splitlines()
    if number is None or number > len(source):
        return message
    text = source[number - 1].strip()
    shown = text if len(text) <= 120 else text[:117] + "..."
    return (f"{message.rstrip('.')} at line {number} of the LaTeX: {shown} "
            f"(--format latex -o FILE writes the LaTeX to read it whole).")
