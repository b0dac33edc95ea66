"""The Review page in a real browser: from the first decision to a findings report that states its accuracy.

On a copy of the sample study built by the real pipeline (or a copy of ``$TOOLKIT_BROWSER_STUDY``, a built study,
which is then never written to), served as ``toolkit dashboard`` with the real coder. One decision in the learning
queue, a QA sample drawn and two of its passages coded blind, then the Overview and the downloaded report say
how much was reviewed and what the QA sample measured. Screenshots go to ``tests/artifacts/screenshots/``.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_STUDY
from tests.dashboard.test_browser import (  # noqa: F401 - chromium is a fixture
    RENDER_TIMEOUT_MS,
    chromium,
    dashboard,
    exceptions,
    screenshot,
    wait_until_rendered,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def built_copy(tmp_path_factory, chromium) -> Path:  # noqa: F811
    folder = tmp_path_factory.mktemp("review-browser")
    reuse = os.environ.get("TOOLKIT_BROWSER_STUDY")
    if reuse:
        from toolkit.api import open_study

        return open_study(reuse).copy(folder / "interviews").root
    from toolkit.config import load_config
    from toolkit.pipeline import run_study

    copy = folder / "interviews"
    shutil.copytree(SAMPLE_STUDY, copy, ignore=shutil.ignore_patterns("store", "private", "exports"))
    run_study(load_config(copy))
    return copy


def _main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def _open(page, label: str) -> None:
    page.locator('[data-testid="stSidebarNavLink"]', has_text=label).first.click()
    wait_until_rendered(page)


def test_from_the_first_decision_to_a_report_that_states_its_accuracy(chromium, built_copy, tmp_path):  # noqa: F811
    with dashboard(built_copy, tmp_path / "streamlit.log", {"TOOLKIT_USER": "browser-test"}) as url:
        context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(RENDER_TIMEOUT_MS)
        try:
            page.goto(url + "/", wait_until="domcontentloaded")
            wait_until_rendered(page)
            _open(page, "Review")
            assert not exceptions(page)
            assert "The coder now suggests" in _main_text(page) and "Why now:" in _main_text(page)

            # the first decision: stored, the coder retrained, the queue re-ranked
            page.get_by_role("button", name="Accept", exact=True).click()
            wait_until_rendered(page)
            text = _main_text(page)
            assert "Saved: accept on 1 segment(s) by browser-test" in text
            assert re.search(r"retrained on 1 decision\(s\), re-ranked the queue in \d+\.\d s", text)
            screenshot(page, "review_queue_after_a_decision")

            # a QA sample, coded blind
            page.get_by_role("tab", name="QA sample").click()
            page.get_by_role("button", name=re.compile(r"^Draw \d+ segments$")).click()
            wait_until_rendered(page)
            page.get_by_role("tab", name="QA sample").click()
            assert "Drew QA sample qa-" in _main_text(page)
            for _ in range(2):
                page.get_by_role("button", name="Save blind coding").click()
                wait_until_rendered(page)
                page.get_by_role("tab", name="QA sample").click()
                assert "Saved blind. You: (no theme)" in _main_text(page)
            assert re.search(r"2 of \d+ coded blind", _main_text(page))
            screenshot(page, "review_qa_sample")

            _open(page, "Overview")
            overview = _main_text(page)
            assert "Review and validation" in overview and "Theme right (QA)" in overview
            screenshot(page, "overview_validation")

            _open(page, "Export")
            with page.expect_download() as download:
                page.get_by_role("button", name="Findings report (web page)").click()
            report = Path(download.value.path()).read_text(encoding="utf-8")
            plain = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", report)))
            assert "Review and validation" in plain
            assert "People reviewed 3 of" in plain
            assert "coded blind by browser-test" in plain
            assert re.search(r"Theme right \(including 'no theme'\) \d+% \(95% CI \d+.\d+%, n = 2\)", plain)
            assert not exceptions(page)
        finally:
            context.close()
