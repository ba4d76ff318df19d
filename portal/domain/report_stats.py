"""The arithmetic of the reports (docs/product.md §9): quantiles, rates, means and months. Pure.

Quantiles are interpolated between the two nearest ranks (as PostgreSQL's ``percentile_cont``):
the q-quantile of n sorted values sits at position 1 + q·(n − 1). q is given in tenths (5: the
median, 9: the 90th percentile), so that the database can pick the two ranks with integer
arithmetic (``rank_bounds``) and the report reads only those rows, never every value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

MEDIAN = 5
P90 = 9


def rank_bounds(n: int, tenths: int) -> tuple[int, int]:
    """The 1-based ranks (lower, upper) between which the quantile of ``n`` values lies."""
    if n <= 0:
        raise ValueError("no values")
    if not 0 <= tenths <= 10:
        raise ValueError("a quantile is given in tenths from 0 to 10")
    scaled = tenths * (n - 1)
    return scaled // 10 + 1, (scaled + 9) // 10 + 1


def quantile_from_ranks(n: int, tenths: int, at_rank: Mapping[int, float]) -> float | None:
    """The quantile from the values at its two ranks (``at_rank``: rank → value); None for no
    values."""
    if n <= 0:
        return None
    low, high = rank_bounds(n, tenths)
    fraction = (tenths * (n - 1) % 10) / 10
    return at_rank[low] + (at_rank[high] - at_rank[low]) * fraction


def quantile(values: Sequence[float], tenths: int) -> float | None:
    """The quantile of ``values`` (any order); None for none."""
    ordered = sorted(values)
    if not ordered:
        return None
    low, high = rank_bounds(len(ordered), tenths)
    return quantile_from_ranks(
        len(ordered), tenths, {low: ordered[low - 1], high: ordered[high - 1]}
    )


def rate(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` as a percentage to one decimal (2 of 3 → 66.7); None for 0 of 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def ratio(part: int, whole: int) -> Decimal | None:
    """``part`` per ``whole`` to two decimals (1 failed of 4 deliveries → 0.25)."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def one_decimal(value: float | Decimal | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def mean_of_means(means: Sequence[Decimal | float | None]) -> Decimal | None:
    """The mean of the dimensions' means to one decimal (5, 4, 5 → 4.7); None if any is
    missing."""
    if not means or any(m is None for m in means):
        return None
    total = sum(Decimal(str(m)) for m in means)
    return (total / len(means)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def change(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """The change from the previous figure (None when either is missing)."""
    if current is None or previous is None:
        return None
    return current - previous


# --- months ----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str | None) -> Month | None:
        """``YYYY-MM`` → Month; None for anything else."""
        text = (text or "").strip()
        if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit():
            return None
        year, month = int(text[:4]), int(text[5:])
        if not 1 <= month <= 12 or year < 2000 or year > 2999:
            return None
        return cls(year, month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def next_first_day(self) -> date:
        return self.shift(1).first_day

    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def compact(self) -> str:
        return f"{self.year:04d}{self.month:02d}"


def last_months(current: Month, count: int = 12) -> list[Month]:
    """The ``count`` months ending with ``current``, oldest first."""
    return [current.shift(i - count + 1) for i in range(count)]


def first_working_day(calendar, month: Month) -> date:
    """The first working day of ``month`` on a business calendar (``portal.domain.calendar``):
    the day the previous month's report is due. The month's first day if none is found."""
    day = month.first_day
    while day < month.next_first_day:
        if calendar.day(day).working:
            return day
        day = date.fromordinal(day.toordinal() + 1)
    return month.first_day


def report_due(calendar, today: date) -> Month:
    """The month whose report is due by ``today``: last month from the first working day of this
    one on, the month before it until then."""
    this = Month.of(today)
    if today >= first_working_day(calendar, this):
        return this.shift(-1)
    return this.shift(-2)
