"""Nothing secret in the repository: Yelp's detect-secrets scans every tracked file against `.secrets.baseline`.

The baseline lists what the scanner flags and a person judged not to be a secret (each `is_secret: false`):
the development defaults every other environment refuses, the test suites' fixed passwords and keys, the
README's example URLs. Anything else it finds fails the build. To accept a new false positive, after
reading it: `.venv/bin/detect-secrets scan --baseline .secrets.baseline`, then `.venv/bin/detect-secrets
audit .secrets.baseline`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import ROOT

HOOK = ROOT / ".venv" / "bin" / "detect-secrets-hook"
BASELINE = ROOT / ".secrets.baseline"


def scan(*paths: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOOK), "--baseline", str(BASELINE), *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_no_tracked_file_holds_a_secret_the_baseline_does_not_know() -> None:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    tracked = [path for path in listed.split() if path != BASELINE.name]  # the scanner's own hashes
    assert len(tracked) > 100
    result = scan(*tracked)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_secret_planted_in_the_code_fails_the_scan(tmp_path: Path) -> None:
    """The scan can fail: an access key and a password in a new file are each named, with where they are."""
    planted = tmp_path / "settings.py"
    key = "AKIA" + "IOSFODNN7EXAMPLF"  # in two parts, or this file would hold it
    planted.write_text(f'AWS_ACCESS_KEY_ID = "{key}"\ndatabase_password = "p4ss-for-the-real-db!"\n')
    result = scan(planted)
    assert result.returncode == 1
    assert "AWS Access Key" in result.stdout and f"{planted}:1" in result.stdout
    assert "Secret Keyword" in result.stdout and f"{planted}:2" in result.stdout
