"""Follow-up tasks: my list with overdue first, ticking done with htmx, reminders once."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.celery import app as celery_app
from crm.roles import Role
from sales import services
from sales.models import Notification, Task
from sales.tasks import send_task_reminders_task
from tests.factories import CustomerFactory
from tests.sales.factories import TaskFactory, make_deal

pytestmark = pytest.mark.django_db

R, A, M = Role.SALES_REP, Role.SUPPORT_AGENT, Role.MANAGER


def test_my_tasks_overdue_first_then_by_due_time_and_not_others(client_for, users):
    now = timezone.now()
    rep = users[R]
    later = TaskFactory(assignee=rep, title="later", due_at=now + timedelta(days=3))
    soon = TaskFactory(assignee=rep, title="soon", due_at=now + timedelta(hours=2))
    overdue = TaskFactory(assignee=rep, title="overdue", due_at=now - timedelta(days=1))
    TaskFactory(assignee=rep, title="finished", due_at=now - timedelta(days=5), done=True)
    TaskFactory(assignee=users["peer"], title="peer's")
    response = client_for(R).get(reverse("sales:task_list"))
    assert [t.title for t in response.context["tasks"]] == [overdue.title, soon.title, later.title]
    assert "Overdue" in response.content.decode()
    done = client_for(R).get(reverse("sales:task_list"), {"state": "done"}).context["tasks"]
    assert [t.title for t in done] == ["finished"]


def test_complete_with_htmx_swaps_the_row(client_for, users):
    task = TaskFactory(assignee=users[R])
    url = reverse("sales:task_done", args=[task.pk])
    response = client_for(R).post(url, {"done": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()
    assert "<html" not in response.content.decode()
    task.refresh_from_db()
    assert task.done and task.done_at is not None
    client_for(R).post(url, {"done": "0"})
    task.refresh_from_db()
    assert not task.done and task.done_at is None


def test_another_users_task_is_404(client_for, users):
    task = TaskFactory(assignee=users["peer"])
    response = client_for(R).post(reverse("sales:task_done", args=[task.pk]), {"done": "1"})
    assert response.status_code == 404
    task.refresh_from_db()
    assert not task.done


def test_rep_adds_a_task_about_a_deal(client_for, users, pipeline):
    deal = make_deal(pipeline=pipeline, owner=users[R])
    url = reverse("sales:task_create") + f"?deal={deal.pk}"
    response = client_for(R).post(
        url, {"title": "Call back", "due_at": "2030-02-03T09:15", "notes": ""}
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.deal, task.customer, task.assignee) == (deal, deal.customer, users[R])
    bad = client_for(R).post(url, {"title": "", "due_at": "tomorrow"})
    assert bad.status_code == 400 and Task.objects.count() == 1
    theirs = make_deal(pipeline=pipeline, owner=users["peer"])
    assert client_for(R).get(reverse("sales:task_create") + f"?deal={theirs.pk}").status_code == 404


def test_manager_assigns_a_task_to_a_rep_about_a_customer(client_for, users):
    customer = CustomerFactory()
    url = reverse("sales:task_create") + f"?customer={customer.pk}"
    response = client_for(M).post(
        url, {"title": "Visit", "due_at": "2030-02-03T09:15", "assignee": users[R].pk}
    )
    assert response.status_code == 302
    assert Task.objects.get().assignee == users[R]
    assert "Visit" in client_for(R).get(reverse("sales:task_list")).content.decode()


def test_reminder_goes_out_once_by_email_and_in_app(users, client_for):
    now = timezone.now()
    rep = users[R]
    due = TaskFactory(assignee=rep, title="Send the quote", due_at=now - timedelta(minutes=1))
    TaskFactory(assignee=rep, title="Not yet", due_at=now + timedelta(hours=1))
    TaskFactory(assignee=rep, title="Done already", due_at=now - timedelta(hours=1), done=True)
    assert send_task_reminders_task.delay().get() == 1
    assert send_task_reminders_task.delay().get() == 0  # the next beat run sends nothing
    assert services.send_due_task_reminders(now=now + timedelta(minutes=5)) == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [rep.email] and "Send the quote" in message.subject
    due.refresh_from_db()
    assert due.reminder_sent_at is not None
    notice = Notification.objects.get()
    assert notice.user == rep and notice.task == due
    page = client_for(R).get(reverse("sales:task_list")).content.decode()
    assert "Task due: Send the quote" in page
    client_for(R).post(reverse("sales:notification_read"))
    assert Notification.objects.get().read_at is not None


def test_a_failed_email_is_retried_on_the_next_run(users, monkeypatch):
    task = TaskFactory(assignee=users[R], due_at=timezone.now() - timedelta(minutes=1))
    from sales import services as svc

    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(svc, "send_mail", broken)
    assert svc.send_due_task_reminders() == 0
    task.refresh_from_db()
    assert task.reminder_sent_at is None and not Notification.objects.exists()
    monkeypatch.undo()
    assert svc.send_due_task_reminders() == 1
    assert len(mail.outbox) == 1


def test_beat_schedule_runs_the_reminders():
    entries = [e["task"] for e in celery_app.conf.beat_schedule.values()]
    assert entries.count("sales.tasks.send_task_reminders_task") == 1
