"""The customer list filters by the segment the segmentation job put customers in."""

import pytest

from analytics.models import CustomerSegment, JobRun, Segment
from crm.roles import Role
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_list_filters_by_segment(client_for):
    run = JobRun.objects.create(kind="segmentation", status="succeeded")
    regulars = Segment.objects.create(run=run, number=0, name="high_regular", size=1)
    lapsed = Segment.objects.create(run=run, number=1, name="high_lapsed", size=1)
    ann = CustomerFactory(name="Ann Regular")
    bob = CustomerFactory(name="Bob Lapsed")
    CustomerFactory(name="Cy Unsegmented")
    CustomerSegment.objects.create(customer=ann, segment=regulars)
    CustomerSegment.objects.create(customer=bob, segment=lapsed)
    client = client_for(Role.SALES_REP)

    page = client.get("/customers/", {"segment": regulars.pk}).content.decode()
    assert "Ann Regular" in page and "Bob Lapsed" not in page and "Cy Unsegmented" not in page
    assert "High-value regulars" in page  # the segment is offered by its readable name
    everyone = client.get("/customers/").content.decode()
    assert all(n in everyone for n in ("Ann Regular", "Bob Lapsed", "Cy Unsegmented"))
    bad = client.get("/customers/", {"segment": "999999"})
    assert bad.status_code == 200  # an unknown segment is a message at the filter, not a 500
