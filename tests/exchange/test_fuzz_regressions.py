"""Files the fuzzers (``python -m fuzz``) broke the importers with, kept as regression cases."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from mixtree.errors import ProjectFileError
from mixtree.exchange import import_dawproject, import_otio, import_rpp

CASES = Path(__file__).parent.parent / "data" / "malformed" / "fuzz"
IMPORTERS = {"dawproject": import_dawproject, "otio": import_otio, "rpp": import_rpp}
#: Cases that crashed the process itself: run in a child, so a regression fails one test only.
CRASHERS = [p for p in sorted(CASES.iterdir()) if "segfault" in p.name]
RAISERS = [p for p in sorted(CASES.iterdir()) if "segfault" not in p.name and p.name.split("-")[0] in IMPORTERS]


def _import(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        IMPORTERS[path.name.split("-")[0]](path)


@pytest.mark.parametrize("case", RAISERS, ids=lambda p: p.name)
def test_a_file_that_broke_an_importer_raises_project_file_error_naming_it(case: Path, tmp_path: Path) -> None:
    path = shutil.copy(case, tmp_path)  # a DAWproject's media are unpacked beside it
    with pytest.raises(ProjectFileError) as info:
        _import(Path(path))
    assert info.value.path.name == case.name
    assert case.name in str(info.value)


def test_files_that_crashed_opentimelineio_are_refused_without_crashing(tmp_path: Path) -> None:
    # in one child, so that a regression fails this test rather than killing the test run
    paths = [str(shutil.copy(case, tmp_path)) for case in CRASHERS]
    code = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "from mixtree.errors import ProjectFileError\nfrom mixtree.exchange import import_otio\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n        import_otio(path)\n    except ProjectFileError as exc:\n        print(exc)\n"
        "    else:\n        print('loaded', path)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    said = done.stdout.splitlines()
    assert len(said) == len(CRASHERS) >= 6
    for line, case in zip(said, CRASHERS, strict=True):
        assert case.name in line
        assert "a media reference must be an OTIO object" in line or "OpenTimelineIO crashed reading it" in line


def test_every_kept_case_is_run() -> None:
    assert len(RAISERS) + len(CRASHERS) == len(list(CASES.iterdir()))
