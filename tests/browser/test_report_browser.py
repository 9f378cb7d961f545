"""The HTML report end to end: written by ``cartsim run``, opened in headless Chromium.

The scenario is renamed ``<script>alert(1)</script>`` so that the page must show the name as
text; a copy of the run with a crafted manifest and tables (markup in arm names, labels,
parameter sources and distribution-spec keys) must render without running any of it. The
browser tests are skipped when Chromium or its driver is not installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from builders import BASELINE, ROOT
from plotly.offline import get_plotlyjs

from cartsim.report.html import write_report

EVIL = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
KEY = "<img src=x onerror=alert(3)>"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BROWSER_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1000",
)
# Installed before any script of the page runs: records errors and would-be alerts.
HOOKS = """
window.__errors = [];
window.__alerts = [];
window.onerror = function (message, source, line) {
  window.__errors.push(String(message) + ' (line ' + line + ')');
};
window.addEventListener('unhandledrejection', function (e) {
  window.__errors.push('unhandled rejection: ' + String(e.reason));
});
window.alert = function (message) { window.__alerts.push(String(message)); };
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A baseline run of two replications, renamed to a script tag, with its report."""
    out = tmp_path_factory.mktemp("report") / "run"
    command = [
        sys.executable,
        "-m",
        "cartsim.cli",
        "run",
        str(BASELINE.relative_to(ROOT)),
        "--out",
        str(out),
        "--replications",
        "2",
        "--set",
        f"name={EVIL}",
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (out / "report.html").is_file()
    return out


@pytest.fixture(scope="module")
def crafted_dir(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run with arm ``cart`` renamed to an ``<img onerror>`` payload everywhere, markup in
    its label, in a parameter source and in the keys of distribution specs."""
    folder = tmp_path_factory.mktemp("crafted") / "run"
    shutil.copytree(run_dir, folder)
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    scenario = manifest["scenario"]
    scenario["arms"] = {IMG if k == "cart" else k: v for k, v in scenario["arms"].items()}
    scenario["arms"][IMG]["label"] = EVIL
    for stage in scenario["arms"][IMG]["stages"]:
        if isinstance(stage.get("duration"), dict):
            stage["duration"][KEY] = 1
    for parameter in scenario["parameters"].values():
        parameter["source"] = EVIL
        if parameter.get("psa"):
            parameter["psa"][KEY] = 2
    path.write_text(json.dumps(manifest), encoding="utf-8")
    for table in folder.glob("*.parquet"):
        frame = pd.read_parquet(table)
        if "arm" in frame:
            frame["arm"] = frame["arm"].astype(str).replace({"cart": IMG})
            frame.to_parquet(table, index=False)
    (folder / "report.html").unlink()
    write_report(folder)
    return folder


def figure_count(html: str) -> int:
    match = re.search(r'<body data-figures="(\d+)"', html)
    assert match, "the report states how many figures it holds"
    return int(match.group(1))


def test_report_escapes_scenario_text_and_embeds_plotly_once(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count(get_plotlyjs()[:300]) == 1  # plotly.js embedded once, no CDN
    assert not re.search(r"<script[^>]*\bsrc=", html)  # nothing loaded from elsewhere
    assert figure_count(html) == html.count("Plotly.newPlot(") >= 5
    assert (run_dir / "report.html").stat().st_size < 8_000_000


def test_report_works_without_the_event_log(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "no-events"
    shutil.copytree(run_dir, folder)
    (folder / "events.parquet").unlink()
    (folder / "report.html").unlink()
    path = write_report(folder)
    assert path == folder / "report.html"
    html = path.read_text(encoding="utf-8")
    full = (run_dir / "report.html").read_text(encoding="utf-8")
    assert figure_count(html) == figure_count(full) - 1  # no journeys
    assert "No event log" in html


@pytest.fixture
def browser():
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.skip("needs Chromium and chromedriver (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOKS})
    yield driver
    driver.quit()


def test_a_crafted_run_folder_is_shown_as_text(crafted_dir: Path) -> None:
    html = (crafted_dir / "report.html").read_text(encoding="utf-8")
    for payload in (EVIL, IMG, KEY):
        assert payload not in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert figure_count(html) >= 5


def open_and_check(browser, report: Path) -> int:
    """Open ``report`` and wait for every figure; no error, no alert. Returns the figures."""
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(report.as_uri())
    expected = int(browser.find_element(By.TAG_NAME, "body").get_attribute("data-figures"))

    def plots_drawn(driver) -> bool:
        return len(driver.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")) == expected

    WebDriverWait(browser, 60).until(plots_drawn)
    assert browser.execute_script("return window.__errors") == []
    assert browser.execute_script("return window.__alerts") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it raises when there is none
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    return expected


@pytest.mark.browser
def test_a_crafted_run_folder_runs_no_script_in_the_browser(crafted_dir: Path, browser) -> None:
    from selenium.webdriver.common.by import By

    assert open_and_check(browser, crafted_dir / "report.html") >= 5
    assert browser.find_element(By.ID, "scenario-name").text == EVIL
    page = browser.find_element(By.TAG_NAME, "main").text
    assert IMG in page and KEY in page  # shown as text: arm name, spec keys
    assert not browser.find_elements(By.CSS_SELECTOR, "main img")  # no element was injected
    legends = browser.execute_script(
        "return Array.from(document.querySelectorAll('.legendtext')).map(e => e.textContent)"
    )
    assert any(IMG in t for t in legends)  # plotly shows the escaped arm name as text


@pytest.mark.browser
def test_report_renders_every_figure_without_errors(run_dir: Path, browser, tmp_path: Path):
    from selenium.webdriver.common.by import By

    assert open_and_check(browser, run_dir / "report.html") >= 5
    assert browser.find_element(By.ID, "scenario-name").text == EVIL
    assert EVIL in browser.title
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1400, min(int(height), 20_000))
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_report_of_a_folder_with_only_the_manifest_and_patients(run_dir: Path, tmp_path: Path):
    for name in ("manifest.json", "patients.parquet"):
        shutil.copy(run_dir / name, tmp_path / name)
    html = write_report(tmp_path).read_text(encoding="utf-8")
    assert figure_count(html) == html.count("Plotly.newPlot(") >= 3
    assert "No KPI table" in html and "No resource series" in html


@pytest.fixture(scope="module")
def therapies_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short run of the therapies scenario (eight arms, threshold prices), with its report."""
    out = tmp_path_factory.mktemp("therapies") / "run"
    command = [sys.executable, "-m", "cartsim.cli", "run", "scenarios/therapies_2026.yaml",
               "--replications", "2", "--workers", "1", "--out", str(out),
               "--set", "run.arrival_window_days=400", "--set", "run.horizon_days=800",
               "--set", "run.warmup_days=0"]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.browser
def test_the_capacity_and_value_comparison_renders(therapies_dir: Path, browser) -> None:
    from selenium.webdriver.common.by import By

    open_and_check(browser, therapies_dir / "report.html")
    section = browser.find_element(By.ID, "comparison")
    assert section.find_elements(By.CSS_SELECTOR, ".js-plotly-plot")
    assert "Threshold prices" in section.text and "teclistamab" in section.text
