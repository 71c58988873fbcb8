from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .choices import (
    Channel,
    ConsentMethod,
    CustomerKind,
    Direction,
    Education,
    Gender,
    LifecycleStage,
    NeedStatus,
    Priority,
    Source,
)
from .querysets import CustomerQuerySet, InteractionQuerySet


class Tag(models.Model):
    """A free label on customers ("vip", "wholesale"); names are unique, case-insensitively
    by convention of the services that create them (stored lower-case)."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A person or an organisation the company sells to or serves.

    A person may belong to an organisation (its contact persons). Phone numbers are stored
    in E.164, emails lower-case; both are normalised by the forms and the importer.
    Annual income and birth date are sensitive: only managers and admins see them.
    """

    kind = models.CharField(
        _("kind"), max_length=12, choices=CustomerKind, default=CustomerKind.PERSON
    )
    external_id = models.CharField(
        _("external ID"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("The identifier in another system (ERP, import file)."),
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), max_length=254, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="")
    street = models.CharField(_("street"), max_length=200, blank=True, default="")
    city = models.CharField(_("city"), max_length=100, blank=True, default="")
    region = models.CharField(_("region"), max_length=100, blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True, default="")
    country = models.CharField(
        _("country"), max_length=2, blank=True, default="", help_text=_("ISO 3166 two-letter code.")
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender, blank=True, default="")
    annual_income = models.DecimalField(
        _("annual income"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    education = models.CharField(
        _("education"), max_length=12, choices=Education, blank=True, default=""
    )
    occupation = models.CharField(_("occupation"), max_length=100, blank=True, default="")
    # Organisation-only fields.
    industry = models.CharField(_("industry"), max_length=100, blank=True, default="")
    size = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    website = models.URLField(_("website"), blank=True, default="")
    organisation = models.ForeignKey(
        "self",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        limit_choices_to={"kind": CustomerKind.ORGANISATION},
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        # The (owner, lifecycle_stage) index below serves owner lookups; a second index
        # would only slow every insert (an import of 100k customers maintains them all).
        db_index=False,
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=10, choices=LifecycleStage, default=LifecycleStage.LEAD
    )
    lifecycle_changed_at = models.DateTimeField(_("stage changed"), default=timezone.now)
    source = models.CharField(_("source"), max_length=10, choices=Source, blank=True, default="")
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    consent_at = models.DateTimeField(_("consent given"), null=True, blank=True)
    consent_method = models.CharField(
        _("consent method"), max_length=50, choices=ConsentMethod, blank=True, default=""
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # The audit trail (crm.history): every save and delete, with who and the values. The
    # trail is read by object id and date only, so its copies of the foreign keys carry no
    # index, and who made the change is not a checked constraint (a bulk import writes a
    # history row per customer: each index and check there costs seconds at 100k rows).
    history = HistoricalRecords(user_db_constraint=False, no_db_index=["organisation", "owner"])
    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # Each sortable column of the list ends in id, the list's tie-break, so a page in the
        # middle of 100k+ rows is an index walk rather than a sort; the same indexes serve
        # equality filters (email, phone for duplicates; city, country, stage filters).
        indexes = [
            models.Index(fields=["name", "id"]),
            models.Index(fields=["email", "id"]),
            models.Index(fields=["phone", "id"]),
            models.Index(fields=["city", "id"]),
            models.Index(fields=["country", "id"]),
            models.Index(fields=["owner", "lifecycle_stage"]),
            models.Index(fields=["lifecycle_stage", "id"]),
            models.Index(fields=["created_at", "id"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="customer_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:customer_detail", args=[self.pk])

    @property
    def is_organisation(self) -> bool:
        return self.kind == CustomerKind.ORGANISATION


class Need(models.Model):
    """Something a customer wants, tracked until it is met or dropped."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="needs"
    )
    description = models.CharField(_("description"), max_length=300)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=NeedStatus, default=NeedStatus.OPEN
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")

    def __str__(self) -> str:
        return self.description


class Interaction(models.Model):
    """One communication with a customer on any channel.

    It may concern a deal or a ticket; that link is generic (content type and id) so this
    app never depends on the sales or service apps.
    """

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="interactions",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel)
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction, default=Direction.OUTBOUND
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("notes"), blank=True, default="")
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    related_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    related_id = models.PositiveBigIntegerField(null=True, blank=True)
    related_object = GenericForeignKey("related_type", "related_id")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    # The audit trail (crm.history): every save and delete, with who and the values.
    history = HistoricalRecords()
    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            models.Index(fields=["related_type", "related_id"]),
        ]

    def __str__(self) -> str:
        return self.subject


class LifecycleChange(models.Model):
    """One move of a customer between lifecycle stages, with when and by whom; the customer
    keeps only the current stage, this table is its history."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="lifecycle_changes",
    )
    from_stage = models.CharField(
        _("from stage"), max_length=10, choices=LifecycleStage, blank=True, default=""
    )
    to_stage = models.CharField(_("to stage"), max_length=10, choices=LifecycleStage)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("lifecycle change")
        verbose_name_plural = _("lifecycle changes")
        indexes = [models.Index(fields=["customer", "-changed_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_stage or '-'} -> {self.to_stage}"


class SavedView(models.Model):
    """A user's saved list filter ("my views"): a name and the list page's query string."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="saved_customer_views",
    )
    name = models.CharField(_("name"), max_length=80)
    query_string = models.CharField(_("query string"), max_length=1000, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_user_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        url = reverse("customers:customer_list")
        return f"{url}?{self.query_string}" if self.query_string else url


class CustomerMerge(models.Model):
    """The record of a merge: which customer was folded into which, a snapshot of the
    merged customer's fields, and how many related rows moved per relation."""

    kept = models.ForeignKey(
        Customer,
        verbose_name=_("kept customer"),
        on_delete=models.CASCADE,
        related_name="merges",
    )
    merged_id = models.PositiveBigIntegerField(_("merged customer ID"))
    merged_name = models.CharField(_("merged customer"), max_length=200)
    snapshot = models.JSONField(_("merged customer's data"), default=dict)
    moved = models.JSONField(_("moved rows"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_at = models.DateTimeField(_("merged"), default=timezone.now)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self) -> str:
        return f"{self.merged_name} -> {self.kept_id}"


class ErasureRecord(models.Model):
    """The record of one personal-data erasure: which customer (by id; its name is gone),
    who erased it, when, and how many rows of each kind were anonymised. Holds no personal
    data itself."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="erasures",
    )
    customer_ref = models.PositiveBigIntegerField(_("customer ID"))
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    erased_at = models.DateTimeField(_("erased"), default=timezone.now)
    counts = models.JSONField(_("rows anonymised"), default=dict)

    class Meta:
        ordering = ["-erased_at", "-id"]
        verbose_name = _("personal-data erasure")
        verbose_name_plural = _("personal-data erasures")

    def __str__(self) -> str:
        return f"#{self.customer_ref} · {self.erased_at:%Y-%m-%d %H:%M}"


class SimilarNamePair(models.Model):
    """Two customers in the same city whose names are very similar (pg_trgm similarity at
    least the threshold), found by the nightly job (customers.duplicates) so the duplicates
    page reads a short precomputed list instead of comparing names while the user waits.
    `first` has the lower id; a merge deletes one of the two, and the pair with it."""

    first = models.ForeignKey(
        Customer, verbose_name=_("first customer"), on_delete=models.CASCADE, related_name="+"
    )
    second = models.ForeignKey(
        Customer, verbose_name=_("second customer"), on_delete=models.CASCADE, related_name="+"
    )
    similarity = models.FloatField(_("similarity"))
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        ordering = ["-similarity", "first_id", "second_id"]
        verbose_name = _("similar-name pair")
        verbose_name_plural = _("similar-name pairs")
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="similar_pair_unique"),
        ]
        indexes = [models.Index(fields=["-similarity", "first", "second"])]

    def __str__(self) -> str:
        return f"{self.first_id} ~ {self.second_id} ({self.similarity:.2f})"


class SimilarNameRun(models.Model):
    """One run of the similar-name job: when it finished, the newest customer change it
    saw (a later change makes the next scheduled check run again) and the pairs found."""

    finished_at = models.DateTimeField(_("finished"), default=timezone.now)
    customers_changed_at = models.DateTimeField(_("customers last changed"), null=True)
    pairs = models.PositiveIntegerField(_("pairs found"), default=0)
    seconds = models.FloatField(_("seconds"), default=0)

    class Meta:
        ordering = ["-finished_at", "-id"]
        verbose_name = _("similar-name run")
        verbose_name_plural = _("similar-name runs")

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M} ({self.pairs})"


# Import batches live in their own module (imported here so Django sees the models).
from .import_models import ImportBatch, ImportRecord  # noqa: E402, F401
