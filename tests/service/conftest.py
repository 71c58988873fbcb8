"""Fixtures of the service-desk tests."""

from datetime import time

import pytest

from service.models import BusinessHours, SLAPolicy


@pytest.fixture
def office_policy(db):
    """The normal-priority policy: 2 h first response, 8 h resolution, Mon-Fri 09-17 UTC."""
    policy, _ = SLAPolicy.objects.update_or_create(
        priority="normal",
        defaults={
            "name": "Normal",
            "first_response_minutes": 120,
            "resolution_minutes": 480,
            "time_zone": "UTC",
        },
    )
    policy.hours.all().delete()
    BusinessHours.objects.bulk_create(
        BusinessHours(policy=policy, weekday=d, opens=time(9), closes=time(17)) for d in range(5)
    )
    return policy
