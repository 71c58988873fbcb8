"""Service-level policies for every priority, so due times work from the first ticket.

Urgent tickets are round the clock; the others count Monday to Friday, 09:00-18:00, in the
server's time zone. Admins change them (and add holidays) in the admin site."""

from datetime import time

from django.conf import settings
from django.db import migrations

# priority: (name, first response minutes, resolution minutes, round the clock)
DEFAULTS = {
    "urgent": ("Urgent (24/7)", 60, 8 * 60, True),
    "high": ("High", 4 * 60, 2 * 9 * 60, False),
    "normal": ("Normal", 9 * 60, 3 * 9 * 60, False),
    "low": ("Low", 2 * 9 * 60, 5 * 9 * 60, False),
}


def create(apps, schema_editor):
    SLAPolicy = apps.get_model("service", "SLAPolicy")
    BusinessHours = apps.get_model("service", "BusinessHours")
    for priority, (name, first, resolution, always) in DEFAULTS.items():
        policy, created = SLAPolicy.objects.get_or_create(
            priority=priority,
            defaults={
                "name": name,
                "first_response_minutes": first,
                "resolution_minutes": resolution,
                "time_zone": settings.TIME_ZONE,
            },
        )
        if not created:
            continue
        if always:
            hours = [(d, time(0), time(0)) for d in range(7)]
        else:
            hours = [(d, time(9), time(18)) for d in range(5)]
        BusinessHours.objects.bulk_create(
            BusinessHours(policy=policy, weekday=d, opens=o, closes=c) for d, o, c in hours
        )


class Migration(migrations.Migration):
    dependencies = [("service", "0002_service_desk")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
