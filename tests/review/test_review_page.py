"""The dashboard's Review page drives the loop: queue, missed evidence, blind QA sample, double coding, Overview."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboards.access import SESSION_KEY
from tests.dashboard.conftest import APP
from tests.review.conftest import build_loop_study
from toolkit import schema as s
from toolkit.auth import User
from toolkit.store import Store


@pytest.fixture
def page(tmp_path, monkeypatch):
    folder = build_loop_study(tmp_path / "study")
    monkeypatch.setenv("TOOLKIT_STUDY", str(folder))
    monkeypatch.delenv("TOOLKIT_AUTH", raising=False)

    def open_as(name: str = "ana", target: str = "review") -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=90)
        at.session_state[SESSION_KEY] = User(name, "researcher")
        at.run()
        if target != "overview":
            at.switch_page(f"views/{target}.py").run()
        assert not at.exception, at.exception
        return at

    open_as.store = lambda: Store(f"sqlite:///{folder / 'store' / 'study.sqlite'}")  # type: ignore[attr-defined]
    return open_as


def _all_text(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "success", "info", "error", "warning")
             for e in getattr(at, kind) if isinstance(getattr(e, "value", None), str)]
    return "\n".join(parts + [p.proto.text for p in at.progress])


def test_a_blind_qa_sample_is_drawn_coded_and_its_accuracy_shown(page):
    at = page()
    at.slider(key="qa-width").set_value(0.5).run()
    at.button(key="qa-draw").click().run()
    assert not at.exception, at.exception
    assert "Drew QA sample qa-" in _all_text(at)
    assert "0 of" in _all_text(at)
    # blind: the theme chooser starts on "(no theme)", not on the machine's theme
    assert at.selectbox(key="qa-theme").value == "(no theme)"
    at.selectbox(key="qa-theme").set_value("trust_relationships")
    at.selectbox(key="qa-polarity").set_value(s.BARRIER)
    at.button(key="qa-save").click().run()
    assert not at.exception, at.exception
    text = _all_text(at)
    assert "Saved blind. You: Trust and relationships between partners · barrier; the machine had:" in text
    saved = page.store().table(s.HUMAN_CODINGS)
    assert saved[s.CONTEXT].str.startswith("qa:").all() and saved[s.BLIND].all()
    assert "1 of" in text
    assert any(m.label == "Theme right" for m in at.metric)


def test_missed_evidence_and_double_coding_from_the_page(page):
    at = page()
    key = at.selectbox(key="missed-pick").value
    at.selectbox(key=f"missed-{key}-theme").set_value("ig_capacity_advice")
    at.selectbox(key=f"missed-{key}-polarity").set_value(s.BARRIER)
    at.button(key="missed-save").click().run()
    saved = page.store().table(s.HUMAN_CODINGS)
    assert saved[[s.SEGMENT_KEY, s.DECISION, s.THEME]].values.tolist() == [[key, "add", "ig_capacity_advice"]]

    at.text_input(key="double-b").set_value("bo")
    at.number_input(key="double-size").set_value(3)
    at.button(key="double-assign").click().run()
    assert "Assigned batch double-" in _all_text(at)
    assert "**Your double coding** (3 left" in _all_text(at)
    at.selectbox(key="double-theme").set_value("trust_relationships")
    at.button(key="double-save").click().run()
    assert "**Your double coding** (2 left" in _all_text(at)
    saved = page.store().table(s.HUMAN_CODINGS)
    assert saved[s.CONTEXT].iloc[-1].startswith("double:") and bool(saved[s.BLIND].iloc[-1])


def test_the_overview_states_review_and_validation(page):
    at = page(target="overview")
    text = _all_text(at) + "\n".join(sub.value for sub in at.subheader)
    assert "Review and validation" in text
    assert "Nobody has reviewed any segment yet" in text
    assert {m.label: m.value for m in at.metric}["Theme right (QA)"] == "not measured"
