"""The `derive` command."""
from __future__ import annotations

import argparse
import contextlib
import sys
import traceback
import warnings
from pathlib import Path

import jinja2

from . import __version__, api
from .errors import DeriveError, DeriveWarning, SpecError
from .output import open_outputs, write_stdout
from .report.formats import FORMATS as DOCUMENT_FORMATS
from .report.formats import LATEX
from .report.pdf import build_pdf

FORMATS = (*DOCUMENT_FORMATS, "json")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="derive",
        description="Gradient descent, worked step by step: train a symbolic model with SGD and write "
                    "every numeric substitution as a worked solution.")
    top.add_argument("--debug", action="store_true", help="show Python tracebacks for errors")
    top.add_argument("--version", action="version", version=f"derive {__version__}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")

    run = _command(commands, "run", "train a spec and print its worked solution",
                   "Train the model of a TOML spec and write its worked solution.")
    run.add_argument("--format", choices=FORMATS, default="markdown",
                     help="markdown (default): GitHub Markdown with $$ math; latex: a LaTeX document; "
                          "html: one offline page with a step explorer; json: the trace as numbers")
    run.add_argument("-o", "--output", metavar="FILE", help="write to FILE (atomically) instead of printing")
    run.add_argument("--fragment", action="store_true",
                     help="with --format latex: the body alone, to \\input into lecture notes")
    run.add_argument("--heading-level", choices=("section", "subsection", "subsubsection"),
                     help="with --fragment: the level of the report's headings in your document (default subsection)")
    run.add_argument("--pdf", metavar="FILE", help="also build the PDF FILE from the LaTeX (needs pdflatex)")
    run.add_argument("--templates", metavar="DIR",
                     help="a folder of your own copies of the templates (markdown/, latex/); each file there "
                          "replaces the shipped one of the same name")

    check = _command(commands, "check", "mark hand-worked answers against the true working",
                     "Mark each answer correct, wrong, or following from an earlier error, and show the right "
                     "working for wrong ones. Exit code 0 when nothing is wrong, 1 when something is, 2 when a "
                     "file cannot be used.")
    check.add_argument("answers", metavar="ANSWERS", nargs="+",
                       help="answers files (TOML, [[steps]] tables), or folders of them")
    check.add_argument("--roster", metavar="ROSTER",
                       help="mark each student against their own variant ([variants]); a CSV with an id column")
    check.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                       help="text (default) for a terminal, markdown, or json")
    check.add_argument("--csv", metavar="FILE", help="also write a gradebook: one row per answers file")
    check.add_argument("--gradebook", choices=("derive", "canvas"), default="derive",
                       help="the --csv layout: derive's columns (default) or Canvas's gradebook import")
    check.add_argument("--assignment", metavar="NAME", help="the Canvas assignment's column (default: the spec's title)")
    check.add_argument("--tolerance", metavar="X", type=float,
                       help="accept answers within X of the true value (instead of comparing digits)")
    check.add_argument("--relative", metavar="X", type=float,
                       help="accept answers within X times the true value's size")
    check.add_argument("--decimals", metavar="N", type=int, help="answers must show at least N decimals")
    check.add_argument("--significant", metavar="N", type=int,
                       help="answers must show at least N significant figures (default 2)")
    sheet = _command(commands, "exercise", "write a worksheet with numbered blanks, its answers template and key",
                     "Write the problem as the report states it, with a numbered blank for each quantity "
                     "[exercise] asks for (default: values, loss, gradients and updates of step 1).")
    sheet.add_argument("--format", choices=("markdown", "latex"), default="markdown",
                       help="markdown (default) or latex (answer boxes)")
    sheet.add_argument("-o", "--output", metavar="FILE", help="write the worksheet to FILE instead of printing it")
    sheet.add_argument("--pdf", metavar="FILE", help="also build the worksheet as a PDF (needs pdflatex)")
    sheet.add_argument("--answers-template", metavar="FILE",
                       help="write the TOML answers file the student fills in (blanks are \"\")")
    sheet.add_argument("--key", metavar="FILE", help="write the answer key (in --format) to FILE")
    sheet.add_argument("--key-pdf", metavar="FILE", help="build the answer key as a PDF")
    variants = _command(commands, "variants", "write each student's own worksheet, answers template and solution",
                        "Draw each student's numbers as [variants] says, from the course salt and the student's "
                        "id, and write DIR/<id>/worksheet.md, answers.toml and solution.md, and DIR/key.csv.",
                        spec="the problem spec (TOML) with a [variants] table")
    variants.add_argument("--roster", metavar="ROSTER", required=True, help="a CSV with an id column")
    variants.add_argument("--out", metavar="DIR", required=True, help="the folder to write into")
    variants.add_argument("--jobs", metavar="N", type=int, default=1, help="students made on N processes (default 1)")
    variants.add_argument("--pdf", action="store_true", help="also build worksheet.pdf and solution.pdf (needs pdflatex)")
    export = _command(commands, "export", "questions and autograders for Moodle and Gradescope",
                      "Moodle XML cloze questions (one per student variant, or per random variant) and a "
                      "Gradescope autograder zip.", spec=None)
    export.add_argument("platform", choices=("moodle", "gradescope"), help="moodle (XML) or gradescope (zip)")
    export.add_argument("spec", metavar="SPEC", help="the problem spec (TOML)")
    export.add_argument("--roster", metavar="ROSTER", help="one question (Moodle) or variant (Gradescope) per student")
    export.add_argument("--count", metavar="N", type=int, default=10,
                        help="moodle without a roster: N random variants for a question bank (default 10)")
    export.add_argument("-o", "--output", metavar="FILE", required=True, help="the file to write")
    return top


def _command(commands, name: str, summary: str, description: str, spec: str | None = "the problem spec (TOML)"):
    """A subcommand with its --debug flag and, unless `spec` is None, its SPEC argument first."""
    command = commands.add_parser(name, help=summary, description=description)
    command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                         help="show Python tracebacks for errors")
    if spec is not None:
        command.add_argument("spec", metavar="SPEC", help=spec)
    return command


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is None:
        parser().print_help()
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", DeriveWarning)
            warnings.showwarning = _show_warning
            return COMMANDS[args.command](args)
    except DeriveError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"derive: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr, as errors are shown."""
    print(f"derive: warning: {message}", file=sys.stderr)


def check_text(problem, fmt: str | None, pdf) -> None:
    """Before any work: refuse text that the chosen format (and LaTeX, for a PDF) cannot print."""
    for chosen in (DOCUMENT_FORMATS.get(fmt), LATEX if pdf else None):
        if chosen is not None and chosen.check is not None:
            chosen.check(problem)


def run(args) -> int:
    if args.templates and not Path(args.templates).is_dir():
        raise SpecError(f"--templates: {args.templates} is not a folder; give the folder that holds markdown/ or latex/.")
    with contextlib.ExitStack() as stack:
        output, pdf = open_outputs(stack, ("-o", args.output), ("--pdf", args.pdf))
        problem = api.load(args.spec)
        check_text(problem, args.format, pdf)
        try:
            if args.format == "json":
                trace = _run_json(problem, output, pdf, args.templates)
            else:
                trace = _run_document(problem, output, pdf, args)
        except Exception as exc:
            if args.templates and (error := template_error(exc, args.templates)) is not None:
                raise error from None
            raise
        for finished in (pdf, output):
            if finished:
                finished.commit()
    if trace.diverged:
        d = trace.diverged
        print(f"derive: training stopped at step {d['step']}: {d['quantity']} became {d['value']}; "
              f"try a smaller learning rate.", file=sys.stderr)
    return 0


def template_error(exc: Exception, templates: str) -> SpecError | None:
    """A failure inside a template of the user's folder (--templates) as one line naming its file and
    line; None for a failure anywhere else."""
    folder = Path(templates).resolve()
    places = [(exc.filename, exc.lineno)] if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename else []
    places += [(frame.f_code.co_filename, line) for frame, line in traceback.walk_tb(exc.__traceback__)]
    inside = [(name, line) for name, line in places if Path(name).resolve().is_relative_to(folder)]
    if not inside:
        return None
    name, line = inside[-1]
    reason = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
    hint = " (computed values are placeholders: print them, test only the step's counters and shape)" \
        if isinstance(exc, TypeError) else ""
    return SpecError(f"{name}, line {line}: {reason}{hint}; fix the line, or remove the file to use the shipped "
                     f"template.", "--templates")


def _run_json(problem, output, pdf, templates):
    """The run's JSON streamed to its file (or standard output) as it trains; a PDF from its own run."""
    if pdf:
        build_pdf(api.render(api.train(problem, "latex"), "latex", templates=templates), pdf)
    with output.writer() if output else contextlib.nullcontext(sys.stdout) as handle:
        trace = api.train_json(problem, handle.write)
        handle.flush()
    return trace


def _run_document(problem, output, pdf, args):
    """A report (and its PDF) from one run."""
    trace = api.train(problem, args.format)
    options = {"fragment": args.fragment, "templates": args.templates, "heading_level": args.heading_level}
    if pdf:
        build_pdf(api.render(trace, "latex", templates=args.templates), pdf)
    chunks = api.render_chunks(trace, args.format, **options)
    if output:
        output.write_text(chunks)
    elif not pdf or args.format != "markdown":
        write_stdout(chunks)
    return trace


def check(args) -> int:
    from .grading import verdicts as marking
    from .grading.marking import mark
    from .grading.settings import read_check

    with contextlib.ExitStack() as stack:
        (gradebook,) = open_outputs(stack, ("--csv", args.csv))
        problem = api.load(args.spec)
        settings = read_check(args.spec, tolerance=args.tolerance, relative=args.relative, decimals=args.decimals,
                              significant=args.significant)
        if args.roster:
            from .grading.classroom import mark_class, read_roster

            results = mark_class(args.spec, read_roster(args.roster), args.answers, settings)
        else:
            results = mark(problem, args.answers, settings)
        if args.format == "json":
            several = bool(args.roster) or len(args.answers) > 1 or Path(args.answers[0]).is_dir()
            write_stdout([marking.as_json(results, several=several)])
        else:
            render = marking.as_markdown if args.format == "markdown" else marking.as_text
            write_stdout(render(result) for result in results)
        if gradebook and args.gradebook == "canvas":
            from .grading.exports import canvas_gradebook

            gradebook.write_text([canvas_gradebook(results, args.assignment or problem.title or "derive")])
        elif gradebook:
            gradebook.write_text([marking.gradebook(results)])
        if gradebook:
            gradebook.commit()
    return 1 if any(v.status in ("wrong", "imprecise") for r in results for v in r.verdicts) else 0


def exercise(args) -> int:
    from .grading.exercise import worksheet_for

    with contextlib.ExitStack() as stack:
        output, pdf, template, key, key_pdf = open_outputs(
            stack, ("-o", args.output), ("--pdf", args.pdf), ("--answers-template", args.answers_template),
            ("--key", args.key), ("--key-pdf", args.key_pdf))
        problem = api.load(args.spec)
        check_text(problem, args.format, pdf or key_pdf)
        sheet = worksheet_for(args.spec, problem)
        if pdf:
            build_pdf("".join(sheet.render("latex")), pdf)
        if key_pdf:
            build_pdf("".join(sheet.render("latex", key=True)), key_pdf)
        if template:
            template.write_text([sheet.answers_template()])
        if key:
            key.write_text(sheet.render(args.format, key=True))
        if output:
            output.write_text(sheet.render(args.format))
        elif not (pdf or template or key or key_pdf):
            write_stdout(sheet.render(args.format))
        for finished in (pdf, key_pdf, template, key, output):
            if finished:
                finished.commit()
    return 0


def variants(args) -> int:
    from .grading.classroom import make_class, read_roster

    if args.jobs < 1:
        raise SpecError(f"--jobs: {args.jobs} is below 1; give the number of processes to use.")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise SpecError(f"--out {out}: is not a folder; give a folder (it is created if missing).")
    problem = api.load(args.spec)
    check_text(problem, None, args.pdf)
    rows = make_class(args.spec, read_roster(args.roster), out, args.jobs, args.pdf)
    print(f"derive: {len(rows)} student{'s' if len(rows) != 1 else ''} written to {out} (key: {out / 'key.csv'})", file=sys.stderr)
    return 0


def export(args) -> int:
    from .grading import exports
    from .grading.classroom import _variants, read_roster
    from .grading.exercise import worksheet_for

    with contextlib.ExitStack() as stack:
        (output,) = open_outputs(stack, ("-o", args.output))
        problem = api.load(args.spec)
        roster = read_roster(args.roster) if args.roster else None
        if args.platform == "gradescope":
            if roster:
                _variants(args.spec)
            output.write_bytes(exports.gradescope_zip(args.spec, args.roster))
        else:
            if args.count < 1:
                raise SpecError(f"--count: {args.count} is below 1; give the number of variants to write.")
            if roster:
                ids = [row["id"] for row in roster]
            else:
                ids = [f"variant-{i}" for i in range(1, args.count + 1)] if "variants" in _tables(args.spec) else [""]
            questions = []
            for student in ids:
                variant = _variants(args.spec).variant(student)[0] if student else problem
                name = f"{problem.title or 'derive'}{' - ' + student if student else ''}"
                questions.append(exports.cloze_question(name, student, worksheet_for(args.spec, variant)))
            output.write_text([exports.moodle_xml(problem.title or "derive", questions)])
        output.commit()
    return 0


def _tables(spec: str) -> dict:
    import tomllib

    return tomllib.loads(Path(spec).read_text(encoding="utf-8"))


COMMANDS = {"run": run, "check": check, "exercise": exercise, "variants": variants, "export": export}


def entry() -> None:
    sys.exit(main())
