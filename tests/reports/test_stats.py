"""The reports' arithmetic (portal/domain/report_stats.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.domain import report_stats as stats


def test_the_median_of_an_odd_count_is_the_middle_value():
    assert stats.quantile([5, 1, 3], stats.MEDIAN) == 3


def test_the_median_of_an_even_count_is_the_mean_of_the_two_middle_values():
    assert stats.quantile([3600, 10800, 3600, 36000], stats.MEDIAN) == 7200


def test_the_90th_percentile_interpolates_between_the_two_nearest_ranks():
    # position 1 + 0.9 × 3 = 3.7: 70 % of the way from the 3rd value to the 4th
    assert stats.quantile([3600, 3600, 10800, 36000], stats.P90) == pytest.approx(28440)
    assert stats.quantile(list(range(1, 11)), stats.P90) == pytest.approx(9.1)
    assert stats.quantile([7], stats.P90) == 7


def test_no_values_have_no_quantile():
    assert stats.quantile([], stats.MEDIAN) is None
    assert stats.quantile_from_ranks(0, stats.P90, {}) is None


@pytest.mark.parametrize("n", range(1, 30))
def test_the_ranks_are_those_the_interpolation_needs(n):
    for tenths in (stats.MEDIAN, stats.P90):
        low, high = stats.rank_bounds(n, tenths)
        position = 1 + tenths * (n - 1) / 10
        assert low <= position <= high and high - low <= 1 and 1 <= low and high <= n


def test_rates_are_percentages_to_one_decimal_and_none_for_nothing():
    assert stats.rate(2, 3) == Decimal("66.7")
    assert stats.rate(3, 4) == Decimal("75.0")
    assert stats.rate(0, 0) is None
    assert stats.ratio(1, 4) == Decimal("0.25")
    assert stats.ratio(0, 0) is None


def test_the_mean_of_the_three_dimensions_is_the_templates():
    assert stats.mean_of_means([5, 4, 5]) == Decimal("4.7")
    assert stats.mean_of_means([4.0, 4.0, 3.5]) == Decimal("3.8")
    assert stats.mean_of_means([4, None, 5]) is None


def test_months_shift_across_years_and_parse_strictly():
    month = stats.Month(2026, 1)
    assert month.shift(-1) == stats.Month(2025, 12)
    assert month.shift(13) == stats.Month(2027, 2)
    assert stats.Month(2026, 12).next_first_day == date(2027, 1, 1)
    assert stats.Month.parse("2026-11") == stats.Month(2026, 11)
    assert stats.Month.parse("2026-13") is None and stats.Month.parse("26-11") is None
    last = stats.last_months(stats.Month(2026, 10))
    assert (
        len(last) == 12 and last[0] == stats.Month(2025, 11) and last[-1] == stats.Month(2026, 10)
    )
    assert stats.Month(2026, 11).compact() == "202611"


def test_recurring_terms_come_from_chinese_segmentation_and_english_words():
    from portal.services.reports.terms import common_terms

    texts = [
        "希望增加故障预警功能",
        "响应太慢,希望增加故障预警",
        "登录仍然超时,请优化连接池参数",
        "Please add an outage alert; the alert came too late",
    ]
    terms = dict(common_terms(texts, top=30))
    assert terms["预警"] == 2 and terms["故障"] == 2
    assert "连接池" in terms and "alert" in terms
    # stop words and one-character words are not terms; a word counts once per text
    assert not {"希望", "增加", "the", "please", "请", ","} & set(terms)
    assert terms["alert"] == 1
