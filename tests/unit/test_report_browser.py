"""The written report renders in a real browser (headless Chromium).

Chromium parses the page and prints the DOM it built (``--dump-dom``), and
draws it (``--screenshot``): every section heading and every embedded image
must be in the DOM, and the screenshot must show something. Without a
Chromium binary the test is skipped, saying so; it never fails for a missing
browser (CI installs one: ``apt-get install chromium``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from lupsim.report.html import SECTIONS, build_report
from lupsim.scenario import Scenario

CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 60
FLAGS = (
    "--headless",
    "--no-sandbox",  # CI runs as root, where the sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> str | None:
    """The first Chromium-like browser found, or None."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def run_browser(browser: str, profile: Path, *args: str) -> str:
    """Run the browser to completion and return its standard output.

    It runs in a session of its own, so that on a timeout the whole process
    group it started (renderer, GPU and zygote children) is ended with it.
    """
    env = {
        **os.environ,
        "HOME": str(profile),
        "XDG_CONFIG_HOME": str(profile / "config"),
        "XDG_CACHE_HOME": str(profile / "cache"),
    }
    cmd = [browser, *FLAGS, f"--user-data-dir={profile / 'data'}", *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{browser} did not finish within {TIMEOUT_S} s: {' '.join(cmd)}")
    assert proc.returncode == 0, (
        f"{browser} exited with {proc.returncode}: {err.decode(errors='replace')[-2000:]}"
    )
    return out.decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def browser() -> str:
    found = find_chromium()
    if found is None:
        pytest.skip(
            f"no Chromium browser found (looked for {', '.join(CANDIDATES)}); "
            "install one, e.g. apt-get install chromium"
        )
    return found


def test_report_renders_in_chromium(browser: str, bliss52: Scenario, tmp_path: Path) -> None:
    report = build_report(bliss52, seed=1)
    page = report.write(tmp_path / "report.html")
    profile = tmp_path / "profile"
    profile.mkdir()

    dom = run_browser(browser, profile, "--dump-dom", page.as_uri())
    headings = re.findall(r"<h2>(.*?)</h2>", dom)
    expected = [t for k, t in SECTIONS.items() if k not in ("replicates", "power")]
    assert headings == expected
    images = re.findall(r'<img [^>]*src="data:image/png;base64,', dom)
    assert len(images) == len(report.figures)
    assert "<table" in dom
    assert "Reproducibility" in dom

    shot = tmp_path / "shot.png"
    run_browser(browser, profile, "--window-size=1100,3000", f"--screenshot={shot}", page.as_uri())
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (1100, 3000)
        # A page that failed to draw is a single colour.
        colours = im.convert("L").getcolors(maxcolors=256 * 256)
        assert colours is None or len(colours) > 10
