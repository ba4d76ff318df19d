import pytest


@pytest.fixture
def org_setup(factory):
    """Two organisations: in the first an admin and two contacts, in the second one contact."""
    org = factory.organisation()
    other_org = factory.organisation()
    return {
        "org": org,
        "admin": factory.customer(org, admin=True, name="王管理"),
        "alice": factory.customer(org, name="李小红"),
        "bob": factory.customer(org, name="赵大明"),
        "stranger": factory.customer(other_org, name="陈外人"),
    }
