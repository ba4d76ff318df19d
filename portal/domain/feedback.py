"""Feedback (客户反馈表, FB) and improvement measures: the rules, with no database and no Flask."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

SCORES = (1, 2, 3, 4, 5)
# the dimensions of the template, in its order: 响应及时性 / 处理效果 / 服务态度
DIMENSIONS = ("response", "effect", "attitude")

PORTAL = "portal"
# channels an agent may record a rating from (the customer's own is "portal")
RECORDED_CHANNELS = ("phone", "email", "on_site")

MEASURE_OPEN = "open"
MEASURE_IN_PROGRESS = "in_progress"
MEASURE_DONE = "done"
MEASURE_STATUSES = (MEASURE_OPEN, MEASURE_IN_PROGRESS, MEASURE_DONE)
# what the measures list shows: the ones not done (its default), the done ones, all
MEASURE_FILTERS = ("open", "done", "all")


class FeedbackError(ValueError):
    """``problems`` maps a field to a code."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(", ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def mean_score(response: int, effect: int, attitude: int) -> Decimal:
    """The mean of the three scores to one decimal, halves up: 5, 4, 5 → 4.7."""
    return (Decimal(response + effect + attitude) / 3).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def check_scores(scores: dict[str, int | None]) -> dict[str, int]:
    """Each dimension scored 1–5, or FeedbackError naming the ones that are not."""
    problems = {
        dim: "missing" if scores.get(dim) is None else "range"
        for dim in DIMENSIONS
        if scores.get(dim) not in SCORES
    }
    if problems:
        raise FeedbackError(problems)
    return {dim: int(scores[dim]) for dim in DIMENSIONS}  # type: ignore[arg-type]


@dataclass(frozen=True)
class MeasureDraft:
    measure: str
    owner_id: int
    deadline: date


def check_measure(
    measure: str | None, owner_id: int | None, deadline: date | None, today: date
) -> MeasureDraft:
    """A measure needs what is to be done, an owner and a deadline not in the past."""
    problems: dict[str, str] = {}
    text = (measure or "").strip()
    if not text:
        problems["measure"] = "missing"
    if not owner_id:
        problems["owner"] = "missing"
    if deadline is None:
        problems["deadline"] = "missing"
    elif deadline < today:
        problems["deadline"] = "past"
    if problems:
        raise FeedbackError(problems)
    return MeasureDraft(text, int(owner_id), deadline)  # type: ignore[arg-type]


def is_overdue(status: str, deadline: date, today: date) -> bool:
    return status != MEASURE_DONE and deadline < today


def feedback_window_passed(completed_at: datetime | None, now: datetime, window: timedelta) -> bool:
    """A completed request closes without feedback once ``window`` has passed since completion."""
    return completed_at is not None and now >= completed_at + window
