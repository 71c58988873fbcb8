import pytest

from marketing.models import EmailTemplate


@pytest.fixture
def template(db):
    return EmailTemplate.objects.create(
        name="Spring offer",
        subject_en="Hello {{ first_name }}",
        body_en="Dear {{ name }},\nour spring offer: https://shop.example.com/spring?a=1&b=2\nBye",
        subject_zh="{{ name }}，您好",
        body_zh="亲爱的 {{ name }}：春季优惠 https://shop.example.com/spring",
    )


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run the tasks a request or service queues on commit (as the real commit would)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
