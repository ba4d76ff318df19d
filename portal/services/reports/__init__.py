"""The reports (docs/product.md §9): SLA compliance, times, hours, rework and satisfaction for a
period and filters, their 12-month trend, the drill-down to the requests behind each number,
and the monthly feedback analysis report (客户反馈分析报告).

- ``filters``: the filters, the period in the desk's time zone, who sees which figures;
- ``figures``: the aggregates, each one SQL statement grouped in the database;
- ``times``: medians and 90th percentiles picked by rank in SQL;
- ``trend``: the same figures by month over the last 12 months;
- ``drill``: the condition behind each number, for the queue's listing;
- ``page``: the page builder (a dataclass);
- ``export``: the XLSX of a report;
- ``monthly``: the monthly report, generated once a month and frozen.
"""
