"""Output files (-o, --pdf, --csv): a regular file or a new path only, refused before any work otherwise,
the mode a new file gets from the umask, an existing file's mode kept, replaced whole, nothing left behind."""
from __future__ import annotations

import ctypes
import os
import stat
import subprocess
import sys

import pytest

from support import EXAMPLES, ROOT

from derive import api
from derive.cli import main
from derive.output import OutputError, OutputFile

SEED_B = str(EXAMPLES / "seed_b_straight_line.toml")
MISSING_SPEC = "/nonexistent/spec.toml"  # a refused output must be reported before the spec is even read


def refused(capsys, argv, *words):
    """Run the CLI; it must exit 2 with one line naming the option's problem, and no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    assert "spec.toml" not in err, "the output path must be checked before any work"
    return err


def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    refused(capsys, ["run", MISSING_SPEC, "-o", str(fifo)], str(fifo), "named pipe")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


def test_a_device_is_refused_before_anything_is_created():
    with pytest.raises(OutputError, match="character device"):
        OutputFile("/dev/null", "-o")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [name for name in os.listdir("/dev") if name.startswith(".null.")]


@pytest.mark.parametrize("option", ["-o", "--pdf"])
def test_a_folder_is_refused_and_nothing_is_left_in_it(tmp_path, capsys, option):
    folder = tmp_path / "reports"
    folder.mkdir()
    refused(capsys, ["run", MISSING_SPEC, option, str(folder)], option, "is a folder")
    assert list(folder.iterdir()) == [] and os.listdir(tmp_path) == ["reports"]


@pytest.mark.parametrize("option", ["-o", "--pdf"])
def test_a_missing_folder_is_refused_cleanly(capsys, option):
    refused(capsys, ["run", MISSING_SPEC, option, "/nonexistent/x.pdf"], option, "/nonexistent", "does not exist")


def test_an_unwritable_place_is_refused():
    # /proc/version is a regular file in a folder no one may create files in (even root).
    with pytest.raises(OutputError, match="cannot"):
        OutputFile("/proc/version", "-o")


def test_a_path_under_a_regular_file_is_refused(tmp_path, capsys):
    (tmp_path / "notes.md").write_text("kept\n")
    refused(capsys, ["run", MISSING_SPEC, "-o", str(tmp_path / "notes.md" / "out.md")], "-o", "Not a directory")
    assert os.listdir(tmp_path) == ["notes.md"] and (tmp_path / "notes.md").read_text() == "kept\n"


CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def without_root_override() -> None:
    """In the child, before it runs derive: drop root's override of file permissions from its capabilities,
    so a place without write permission stops it as it stops any other user (on any file system)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def refused_in_child(argv, *words):
    """As `refused`, with the CLI in a child process that file permissions stop, root or not."""
    done = subprocess.run([sys.executable, "-m", "derive", *argv], capture_output=True, text=True, cwd=ROOT,
                          preexec_fn=without_root_override)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr
    assert "spec.toml" not in done.stderr, "the output path must be checked before any work"


def test_a_folder_that_cannot_be_written_is_refused_before_any_work(tmp_path):
    folder = tmp_path / "handouts"
    folder.mkdir(mode=0o555)
    try:
        refused_in_child(["run", MISSING_SPEC, "--pdf", str(folder / "week3.pdf")], "--pdf",
                         f"cannot write in the folder {folder} (Permission denied)")
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o755)


def test_a_file_that_cannot_be_written_is_refused_and_kept(tmp_path):
    report = tmp_path / "week3.md"
    report.write_text("last week\n")
    report.chmod(0o444)
    refused_in_child(["run", MISSING_SPEC, "-o", str(report)], "-o", "is not writable")
    assert report.read_text() == "last week\n" and os.listdir(tmp_path) == ["week3.md"]


def test_csv_gradebook_path_is_checked_before_marking(tmp_path, capsys):
    refused(capsys, ["check", MISSING_SPEC, "answers.toml", "--csv", str(tmp_path)], "--csv", "is a folder")


def test_the_same_file_for_two_options_is_refused(tmp_path, capsys):
    path = str(tmp_path / "same")
    refused(capsys, ["run", MISSING_SPEC, "-o", path, "--pdf", path], "-o and --pdf")
    assert os.listdir(tmp_path) == []


def test_a_symlink_is_followed_to_its_target(tmp_path, capsys):
    target = tmp_path / "handouts" / "week3.md"
    target.parent.mkdir()
    target.write_text("last week\n")
    link = tmp_path / "latest.md"
    link.symlink_to(target)
    assert main(["run", SEED_B, "-o", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("# ") and "last week" not in target.read_text()
    dangling = tmp_path / "next.md"
    dangling.symlink_to(tmp_path / "handouts" / "week4.md")
    assert main(["run", SEED_B, "-o", str(dangling)]) == 0
    assert dangling.is_symlink() and (tmp_path / "handouts" / "week4.md").read_text().startswith("# ")
    assert sorted(os.listdir(tmp_path / "handouts")) == ["week3.md", "week4.md"]


@pytest.mark.parametrize("umask,expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path, umask, expected):
    previous = os.umask(umask)
    try:
        assert main(["run", SEED_B, "-o", str(tmp_path / "new.md")]) == 0
        assert main(["run", SEED_B, "--format", "json", "-o", str(tmp_path / "new.json")]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "new.md").st_mode) == expected
    assert stat.S_IMODE(os.stat(tmp_path / "new.json").st_mode) == expected


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664])
def test_an_existing_file_keeps_its_mode(tmp_path, mode):
    out = tmp_path / "report.md"
    out.write_text("old\n")
    os.chmod(out, mode)
    previous = os.umask(0o077)
    try:
        assert main(["run", SEED_B, "-o", str(out)]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(out).st_mode) == mode and out.read_text().startswith("# ")


@pytest.mark.parametrize("failure", [KeyboardInterrupt, MemoryError])
def test_no_temporary_file_is_left_on_any_failure(tmp_path, monkeypatch, failure):
    out = tmp_path / "report.md"
    out.write_bytes(b"kept\n")

    def broken(trace, fmt="markdown", **options):
        yield "# half a report\n"
        raise failure()

    monkeypatch.setattr(api, "render_chunks", broken)
    if failure is KeyboardInterrupt:
        assert main(["run", SEED_B, "-o", str(out)]) == 130
    else:
        with pytest.raises(failure):
            main(["run", SEED_B, "-o", str(out)])
    assert out.read_bytes() == b"kept\n" and os.listdir(tmp_path) == ["report.md"]
