"""Passphrase strength, estimated with zxcvbn (pattern-aware, not character-class rules)."""

from __future__ import annotations

from dataclasses import dataclass

REQUIRED_SCORE = 4
MIN_LENGTH = 12
MAX_CHECKED = 72


@dataclass(frozen=True)
class Strength:
    score: int  # 0..4
    acceptable: bool
    warning: str
    suggestions: tuple[str, ...]
    crack_time: str


def estimate(passphrase: str) -> Strength:
    # Imported here: loading zxcvbn's dictionaries costs about 0.4 s, needed only when a
    # passphrase is being chosen.
    from zxcvbn import zxcvbn

    # zxcvbn refuses input over 72 characters; the first 72 give a lower bound of the strength.
    result = zxcvbn(passphrase[:MAX_CHECKED])
    feedback = result.get("feedback", {})
    warning = str(feedback.get("warning") or "")
    suggestions = tuple(str(s) for s in feedback.get("suggestions", []))
    score = int(result["score"])
    if len(passphrase) < MIN_LENGTH:
        score = min(score, 2)
        warning = warning or "too short"
    crack = str(result["crack_times_display"]["offline_slow_hashing_1e4_per_second"])
    return Strength(
        score=score,
        acceptable=score >= REQUIRED_SCORE,
        warning=warning,
        suggestions=suggestions,
        crack_time=crack,
    )
