"""Factories for the sales tests (deals go through the service, so histories are real)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from sales import services
from sales.models import Pipeline, PipelineStage, Task
from tests.factories import CustomerFactory, ProductFactory


class PipelineFactory(DjangoModelFactory):
    class Meta:
        model = Pipeline

    name = factory.Sequence(lambda n: f"Pipeline {n}")


def make_pipeline(name=None, stages=None) -> Pipeline:
    """A pipeline with stages Lead (10%), Proposal (50%), Won and Lost, or as given."""
    pipeline = PipelineFactory(**({"name": name} if name else {}))
    stages = stages or [
        ("Lead", 10, "open"),
        ("Proposal", 50, "open"),
        ("Won", 100, "won"),
        ("Lost", 0, "lost"),
    ]
    for order, (stage, prob, outcome) in enumerate(stages, start=1):
        PipelineStage.objects.create(
            pipeline=pipeline, name=stage, order=order, probability=prob, outcome=outcome
        )
    return pipeline


def stage(pipeline: Pipeline, name: str) -> PipelineStage:
    return pipeline.stages.get(name=name)


def make_deal(
    *,
    pipeline,
    owner,
    stage_name="Lead",
    customer=None,
    lines=((Decimal("10.00"), 2),),
    title="Deal",
    expected_close=None,
    user=None,
):
    """A deal created through the service with product lines given as (unit price, quantity)."""
    line_inputs = [
        services.LineInput(product=ProductFactory(unit_price=price), quantity=qty, unit_price=price)
        for price, qty in lines
    ]
    return services.deal_create(
        customer=customer or CustomerFactory(owner=owner),
        title=title,
        pipeline=pipeline,
        stage=stage(pipeline, stage_name),
        owner=owner,
        user=user or owner,
        lines=line_inputs,
        expected_close=expected_close,
        lost_reason="price" if stage_name == "Lost" else "",
    )


class TaskFactory(DjangoModelFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Follow up {n}")
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    customer = factory.SubFactory(CustomerFactory)
