"""Building a PDF from the LaTeX report with latexmk or pdflatex, where installed."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import DeriveError

INSTALL_HINT = ("install TeX Live (on Debian or Ubuntu: apt-get install texlive-latex-base "
                "texlive-latex-recommended texlive-pictures latexmk)")


def build_pdf(latex: str, target: str | Path) -> None:
    """Compile a complete LaTeX document into `target`; raises DeriveError with what to install."""
    target = Path(target)
    tool = shutil.which("latexmk") or shutil.which("pdflatex")
    if tool is None:
        raise DeriveError(f"--pdf: neither latexmk nor pdflatex is installed; {INSTALL_HINT}, "
                          f"or use --format latex and compile it yourself.")
    with tempfile.TemporaryDirectory() as work:
        source = Path(work) / "report.tex"
        source.write_text(latex, encoding="utf-8")
        if Path(tool).name == "latexmk":
            command = [tool, "-pdf", "-halt-on-error", "-interaction=nonstopmode", "-quiet", source.name]
        else:
            command = [tool, "-halt-on-error", "-interaction=nonstopmode", source.name]
        result = subprocess.run(command, cwd=work, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                timeout=300)
        built = Path(work) / "report.pdf"
        if result.returncode != 0 or not built.exists():
            errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
            detail = errors[0] if errors else f"exit code {result.returncode}"
            raise DeriveError(f"--pdf: {Path(tool).name} could not compile the report ({detail}).")
        partial = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(built, partial)
        partial.replace(target)
