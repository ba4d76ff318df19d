"""A notification leads its reader to the place where they act (docs/product.md §9)."""

from portal.domain.notice_kinds import KIND_CATEGORY, category_of
from portal.presentation.notice_links import notice_link


def test_each_side_is_led_to_its_own_request_page(app):
    with app.app_context():
        assert notice_link("reply", "SR-20261201-001", staff=False) == (
            "/requests/SR-20261201-001#panel-reply"
        )
        assert notice_link("acceptance_failed", "SR-20261201-001", staff=True) == (
            "/staff/requests/SR-20261201-001#panel-deliver"
        )
        # a measure is worked on the measures page, whatever request it came from
        assert notice_link("measure_overdue:7", "SR-20261201-001", staff=True) == "/staff/measures"


def test_mail_links_are_absolute_on_the_configured_base(app):
    with app.app_context():
        link = notice_link(
            "delivery_ready", "SR-20261201-001", staff=False, base_url="https://desk.example/"
        )
        assert link == "https://desk.example/requests/SR-20261201-001#panel-acceptance"


def test_every_kind_has_a_category():
    assert set(KIND_CATEGORY.values()) == {
        "conversation",
        "acceptance",
        "feedback",
        "sla",
        "measures",
    }
    assert category_of("measure_overdue:7") == "measures"
    assert category_of("response_breach") == "sla"
