import pytest
from django.contrib.auth.models import AnonymousUser, Group

from crm import roles
from crm.roles import Role
from customers.models import Customer
from service.models import Ticket
from tests.factories import CustomerFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_role_groups_exist_with_model_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert {r.value for r in Role} <= names
    rep = Group.objects.get(name="sales_rep")
    codenames = set(rep.permissions.values_list("codename", flat=True))
    assert {"view_customer", "add_customer", "change_customer"} <= codenames
    assert "delete_customer" not in codenames
    admin = Group.objects.get(name="admin")
    assert admin.permissions.filter(codename="delete_ticket").exists()


def test_role_of_each_kind_of_user(users):
    assert roles.role_of(users[Role.SALES_REP]) is Role.SALES_REP
    assert roles.role_of(users[Role.MANAGER]) is Role.MANAGER
    assert roles.role_of(AnonymousUser()) is None
    assert roles.role_of(UserFactory(username="nobody")) is None
    assert roles.role_of(UserFactory(username="root", is_superuser=True)) is Role.ADMIN


def test_inactive_user_has_no_role(users):
    rep = users[Role.SALES_REP]
    rep.is_active = False
    assert roles.role_of(rep) is None


def test_strongest_role_wins():
    user = UserFactory(username="both", role=Role.SALES_REP)
    user.groups.add(Group.objects.get(name="manager"))
    assert roles.role_of(user) is Role.MANAGER


def test_rep_changes_only_own_customers(users):
    rep, peer = users[Role.SALES_REP], users["peer"]
    mine = CustomerFactory(owner=rep)
    theirs = CustomerFactory(owner=peer)
    assert roles.can(rep, "view", theirs)
    assert roles.can(rep, "change", mine)
    assert not roles.can(rep, "change", theirs)
    assert not roles.can(rep, "delete", mine)
    assert roles.can(rep, "add", Customer)
    assert roles.visible(rep, Customer).count() == 2


def test_agent_changes_contact_details_only(users):
    agent = users[Role.SUPPORT_AGENT]
    customer = CustomerFactory()
    assert roles.can(agent, "change_contact", customer)
    assert not roles.can(agent, "change", customer)
    assert not roles.can(agent, "add", Customer)


def test_rep_sees_only_tickets_of_own_customers(users):
    rep = users[Role.SALES_REP]
    mine = TicketFactory(customer=CustomerFactory(owner=rep))
    other = TicketFactory(customer=CustomerFactory(owner=users["peer"]))
    assert list(roles.visible(rep, Ticket)) == [mine]
    assert roles.can(rep, "view", mine)
    assert not roles.can(rep, "view", other)
    assert not roles.can(rep, "change", mine)
    assert set(roles.visible(users[Role.SUPPORT_AGENT], Ticket)) == {mine, other}
    assert roles.can(users[Role.SUPPORT_AGENT], "change", other)


def test_managers_and_admins_do_everything(users):
    customer = CustomerFactory()
    for role in (Role.MANAGER, Role.ADMIN):
        assert roles.can(users[role], "delete", customer)
        assert roles.may(users[role], "run_jobs")


def test_capabilities_follow_the_role_table(users):
    assert roles.may(users[Role.SUPPORT_AGENT], "view_service_figures")
    assert not roles.may(users[Role.SUPPORT_AGENT], "view_manager_dashboard")
    assert not roles.may(users[Role.SALES_REP], "view_sensitive_fields")
    assert not roles.may(users[Role.MANAGER], "use_admin_site")
    assert roles.may(users[Role.ADMIN], "use_admin_site")


def test_anonymous_sees_nothing():
    CustomerFactory()
    assert roles.visible(AnonymousUser(), Customer).count() == 0
    assert not roles.can(AnonymousUser(), "view", Customer)
