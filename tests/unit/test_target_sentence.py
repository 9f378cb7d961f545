"""A run's verdict on a planning target, in words."""

from __future__ import annotations

import math

from cartsim.report.text import target_sentence


def row(verdict: str, low: float, high: float) -> dict[str, object]:
    return {"target": "p90_vein_to_vein_days of cart at most 35", "confidence": 0.95,
            "mean": 34.9, "ci_low": low, "ci_high": high, "verdict": verdict,
            "worst_referral_year": math.nan}  # fmt: skip


def test_an_unclear_verdict_with_an_interval_says_it_straddles_the_target() -> None:
    text = target_sentence(row("unclear", 33.0, 36.5))
    assert "straddles" in text and "33.0–36.5" in text


def test_without_an_interval_the_verdict_says_what_is_missing_and_shows_no_nan() -> None:
    text = target_sentence(row("unclear", math.nan, math.nan))
    assert "at least 2 replications" in text and "straddles" not in text and "nan" not in text
    assert "34.9" in text
