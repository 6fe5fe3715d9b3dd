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


@pytest.mark.parametrize("case", CRASHERS, ids=lambda p: p.name)
def test_a_file_that_crashed_opentimelineio_is_refused_before_it_reaches_it(case: Path, tmp_path: Path) -> None:
    path = shutil.copy(case, tmp_path)
    code = (
        "import sys, warnings; warnings.simplefilter('ignore')\n"
        "from mixtree.errors import ProjectFileError\nfrom mixtree.exchange import import_otio\n"
        "try:\n    import_otio(sys.argv[1])\nexcept ProjectFileError as exc:\n    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    said = done.stdout
    assert "a media reference must be an OTIO object" in said or "OpenTimelineIO crashed reading it" in said, said


def test_every_kept_case_is_run() -> None:
    assert len(RAISERS) + len(CRASHERS) == len(list(CASES.iterdir()))
