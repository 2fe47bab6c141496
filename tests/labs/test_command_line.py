"""``import_hl7`` from the command line: a path it cannot read is one line on stderr and
a non-zero exit, never a traceback (the files are read before the database is)."""

from __future__ import annotations

import io

import pytest

from labs.management.commands.import_hl7 import Command


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("/nonexistent/results.hl7", "CommandError: /nonexistent/results.hl7: no such file."),
        ("/", "CommandError: /: is a folder, not a file."),
    ],
)
def test_an_unreadable_path_is_one_line_and_no_traceback(path, line):
    err = io.StringIO()
    command = Command(stdout=io.StringIO(), stderr=err)
    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["manage.py", "import_hl7", path])
    assert exited.value.code != 0
    assert err.getvalue().strip().splitlines() == [line]


def test_a_bad_option_is_one_line_too():
    err = io.StringIO()
    command = Command(stdout=io.StringIO(), stderr=err)
    with pytest.raises(SystemExit) as exited:
        command.run_from_argv(["manage.py", "import_hl7"])
    assert exited.value.code == 2
    assert len(err.getvalue().strip().splitlines()) == 1
