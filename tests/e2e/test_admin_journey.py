"""Admin journey: create a user with a role in Django admin; that user logs in and sees only
what the role allows."""

import pytest
from django.contrib.auth import get_user_model

from crm.roles import Role, role_of
from tests.e2e.conftest import VARIANTS
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-long-new-passphrase-42"


@pytest.mark.parametrize("variant", VARIANTS)
def test_admin_creates_a_rep_who_sees_only_what_reps_may(open_session, variant):
    UserFactory(username="boss", is_superuser=True, is_staff=True, password="boss-password-123")
    CustomerFactory(name="Visible Customer")

    admin = open_session(variant)
    admin.log_in("boss", "boss-password-123")
    admin.goto("/admin/auth/user/add/")
    admin.page.fill("#id_username", "newrep")
    # Django 5.2's add form asks whether to set a password ("usable_password").
    if admin.page.locator("input[name=usable_password][value=true]").count():
        admin.page.locator("input[name=usable_password][value=true]").check()
    admin.page.fill("#id_password1", NEW_PASSWORD)
    admin.page.fill("#id_password2", NEW_PASSWORD)
    admin.shot("admin-add-user")
    admin.page.locator("input[name=_continue]").click()
    admin.page.wait_for_load_state()
    # The change page: give the role (group) with the selector widget, then save.
    admin.page.select_option("#id_groups_from", label="sales_rep")
    admin.page.locator("#id_groups_add").click()
    admin.shot("admin-user-groups")
    admin.page.locator("input[name=_save]").click()
    admin.page.wait_for_load_state()
    assert admin.page.locator(".messagelist .success").count() == 1

    user = get_user_model().objects.get(username="newrep")
    assert role_of(user) is Role.SALES_REP

    rep = open_session(variant)
    rep.log_in("newrep", NEW_PASSWORD)
    assert rep.page.url.endswith("/customers/")
    assert rep.page.get_by_text("Visible Customer").count() == 1
    labels = rep.nav_labels()
    expected = {"en": ["Customers", "Orders", "Tickets"], "zh-hans": ["客户", "订单", "工单"]}[
        variant[2]
    ]
    for label in expected:
        assert any(label in text for text in labels), (label, labels)
    assert not any(word in " ".join(labels) for word in ("Analytics", "分析", "Admin", "管理员"))
    rep.shot("rep-customers")
    rep.expect_status("/analytics/", 403)
    response = rep.goto("/analytics/")
    assert response.status == 403
    rep.shot("rep-forbidden-analytics")
    rep.expect_status("/admin/", 302)
    rep.goto("/admin/")
    assert "/admin/login/" in rep.page.url
