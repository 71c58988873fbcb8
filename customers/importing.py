"""Importing customers from CSV (columns fixed by DESIGN.md's Contracts).

Rows are matched to stored customers on external_id, else email, else phone. A row whose
email or phone belongs to a customer with a different external ID is rejected rather than
merged, and so is one that matches several stored customers: guessing there is how other
CRMs end up with one email on every row. An empty cell never erases a stored value; tags
in the file are added to the customer's tags. See crm.importing for the engine.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import registry
from crm.importing import (
    Cleaner,
    Importer,
    ParsedFile,
    Plan,
    as_text,
    collapse_last,
    count_references,
    db_timestamp,
    delete_ids,
    fetch_values,
    insert_frame,
    is_blank,
    map_distinct,
    reserve_ids,
    update_from_frame,
)

from .choices import CustomerKind, LifecycleStage
from .cleaning import normalize_education, normalize_email, normalize_gender, normalize_phone
from .models import Customer, Tag
from .phones import valid_e164

CUSTOMER_COLUMNS = [
    "external_id",
    "name",
    "kind",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "birth_date",
    "gender",
    "annual_income",
    "education",
    "organisation_external_id",
    "owner_username",
    "lifecycle_stage",
    "tags",
]

KIND_SYNONYMS = {
    "person": CustomerKind.PERSON,
    "individual": CustomerKind.PERSON,
    "people": CustomerKind.PERSON,
    "private": CustomerKind.PERSON,
    "个人": CustomerKind.PERSON,
    "organisation": CustomerKind.ORGANISATION,
    "organization": CustomerKind.ORGANISATION,
    "org": CustomerKind.ORGANISATION,
    "company": CustomerKind.ORGANISATION,
    "business": CustomerKind.ORGANISATION,
    "公司": CustomerKind.ORGANISATION,
    "组织": CustomerKind.ORGANISATION,
    "企业": CustomerKind.ORGANISATION,
    "机构": CustomerKind.ORGANISATION,
}
STAGE_SYNONYMS = {
    "lead": LifecycleStage.LEAD,
    "线索": LifecycleStage.LEAD,
    "prospect": LifecycleStage.PROSPECT,
    "潜在客户": LifecycleStage.PROSPECT,
    "customer": LifecycleStage.CUSTOMER,
    "client": LifecycleStage.CUSTOMER,
    "客户": LifecycleStage.CUSTOMER,
    "former": LifecycleStage.FORMER,
    "former customer": LifecycleStage.FORMER,
    "ex-customer": LifecycleStage.FORMER,
    "churned": LifecycleStage.FORMER,
    "流失客户": LifecycleStage.FORMER,
    "前客户": LifecycleStage.FORMER,
}

# The stored columns an import writes; the undo record keeps their previous values.
UPDATE_COLUMNS = [
    "external_id",
    "name",
    "kind",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "birth_date",
    "gender",
    "annual_income",
    "education",
    "organisation_id",
    "owner_id",
    "lifecycle_stage",
    "lifecycle_changed_at",
    "updated_at",
]
# Columns compared to decide whether a matched row changes (the others follow from them).
COMPARED = [c for c in UPDATE_COLUMNS if c not in ("lifecycle_changed_at", "updated_at")]
TEXT_LIMITS = {
    "external_id": 64,
    "name": 200,
    "street": 200,
    "city": 100,
    "region": 100,
    "postal_code": 20,
    "organisation_external_id": 64,
    "owner_username": 150,
}
TAG_LINKS = "customers.customer_tags"
# Lower-case ASCII addresses that Django's EmailValidator accepts (dot-atom local part,
# a domain of letter-digit labels, a top-level domain of letters).
PLAIN_EMAIL = (
    r"[a-z0-9_%+\-]+(?:\.[a-z0-9_%+\-]+)*@"
    r"(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
SAMPLE = 20


def _owner_of(previous: Any) -> int | None:
    """The owner id in an update's undo record (a dict, or its JSON)."""
    if isinstance(previous, str):
        previous = json.loads(previous)
    owner = (previous or {}).get("owner_id")
    return None if is_blank(owner) else int(float(owner))


class CustomerImporter(Importer):
    kind = "customers"
    label = gettext_lazy("Customers")
    columns = CUSTOMER_COLUMNS
    required = ["name"]
    # Order files name customers by external ID only, which erasure keeps on the customer
    # as the business record (like the orders themselves): they are left as they are.
    person_columns = {"external_id": "external_id", "email": "email", "phone": "phone"}
    help_rows = [
        ("external_id", gettext_lazy("Your system's ID; matched first. Up to 64 characters.")),
        ("name", gettext_lazy("Required for new customers.")),
        ("kind", gettext_lazy("person or organisation (blank: person).")),
        ("email", gettext_lazy("Matched second; stored lower-case.")),
        ("phone", gettext_lazy("Matched third; stored in E.164 (+14155550123).")),
        ("country", gettext_lazy("Two-letter code (US, CN); also the region for phone numbers.")),
        ("birth_date", gettext_lazy("A date such as 1990-05-31, 31.05.1990 or 1990年5月31日.")),
        ("gender", gettext_lazy("female, male, other or synonyms (F, M, 女, 男).")),
        ("annual_income", gettext_lazy("A number; currency signs and separators are fine.")),
        ("education", gettext_lazy("primary, secondary, vocational, bachelor, master, doctorate.")),
        ("organisation_external_id", gettext_lazy("The external_id of the person's organisation.")),
        ("owner_username", gettext_lazy("The user name of the owning sales rep.")),
        ("lifecycle_stage", gettext_lazy("lead, prospect, customer or former (blank: lead).")),
        ("tags", gettext_lazy("Tags separated by | or ; — added to existing tags.")),
    ]

    # --- plan -------------------------------------------------------------------------
    def plan(self, parsed: ParsedFile, *, user) -> Plan:
        frame, rejects, notes, cl = self.start_plan(parsed)
        c = pd.DataFrame(index=frame.index)
        for name, limit in TEXT_LIMITS.items():
            c[name] = cl.text(name, max_length=limit)
        # One search over all names first: most files have no doubled spaces at all.
        if re.search(r"\s{2,}", "\x00".join(c["name"].tolist())):
            spaced = c["name"].str.replace(r"\s{2,}", " ", regex=True)
            notes["names_spaced"] += int((spaced != c["name"]).sum())
            c["name"] = spaced
        c["kind"] = cl.choice("kind", KIND_SYNONYMS)
        country = frame["country"].str.upper()
        notes["country_upper"] += int((country != frame["country"]).sum())
        rejects.add(
            (country != "") & ~country.str.fullmatch(r"[A-Z]{2}"),
            "country",
            lambda v: _("“%(value)s” is not a two-letter country code.") % {"value": v},
            values=frame["country"],
        )
        c["country"] = country.where(country.str.fullmatch(r"[A-Z]{2}"), "")
        c["email"] = self._emails(frame, cl)
        rejects.add(c["email"].str.len() > 254, "email", _("Longer than 254 characters."))
        c["phone"] = self._phones(frame, cl, c["country"])
        c["birth_date"] = cl.date(
            "birth_date", earliest=date(1900, 1, 1), latest=timezone.localdate()
        )
        c["gender"] = cl.with_rule("gender", normalize_gender, note="gender_synonym")
        c["education"] = cl.with_rule("education", normalize_education, note="education_synonym")
        c["annual_income"] = cl.decimal("annual_income", max_digits=14, decimal_places=2)
        c["lifecycle_stage"] = cl.choice("lifecycle_stage", STAGE_SYNONYMS)
        c["tags"] = self._tags(frame["tags"], rejects, notes)
        c["owner_id"] = self._owners(c["owner_username"], rejects)

        work = c[~rejects.mask(c.index)].copy()
        key = self._keys(work)
        collapsed, first_row = collapse_last(work.astype(object).where(work.notna(), ""), key)
        into = first_row[first_row != first_row.index.to_series()]
        notes["collapsed"] += len(into)
        for name in ("birth_date", "annual_income", "owner_id"):
            collapsed[name] = collapsed[name].where(collapsed[name] != "", None)

        target = self._match(collapsed, rejects)
        collapsed["target"] = target
        ok = ~rejects.mask(collapsed.index)
        org_ids = self._organisations(collapsed, ok, rejects)
        collapsed["organisation_id"] = org_ids
        creating = collapsed["target"].isna()
        rejects.add(
            creating & (collapsed["name"] == "") & ok,
            "name",
            _("A name is required for a new customer."),
        )
        ok = ~rejects.mask(collapsed.index)
        # Rows collapsed into a rejected row share its fate.
        dropped = into[into.isin(list(rejects.rows))]
        rejects.add(
            pd.Series(True, index=dropped.index),
            "",
            lambda r: _("Duplicate of row %(row)s, which was rejected.") % {"row": r},
            values=dropped,
        )
        ok_rows = collapsed[ok]
        creates = self._creates(ok_rows[ok_rows["target"].isna()])
        updates, previous, unchanged, changes, tags_added = self._updates(
            ok_rows[ok_rows["target"].notna()]
        )
        return Plan(
            kind=self.kind,
            total_rows=len(parsed.original),
            creates=creates,
            updates=updates,
            unchanged=unchanged,
            rejects=rejects.frame(),
            original=parsed.original,
            notes=notes,
            encoding=parsed.encoding,
            delimiter=parsed.delimiter,
            ignored_columns=parsed.ignored_columns,
            create_rows=list(creates.index[:SAMPLE]),
            changes=changes,
            extra={
                "previous": previous,
                "tags_added": tags_added,
                "collapsed_into": [[int(r), int(t)] for r, t in into.head(50).items()],
            },
        )

    @staticmethod
    def _emails(frame: pd.DataFrame, cl) -> pd.Series:
        """Lower-case, valid emails: plain ones (a strict subset of what Django's validator
        accepts) are checked by one regular expression over the column; the others go
        through cleaning.normalize_email once per distinct value."""
        raw = frame["email"]
        fast = raw.str.fullmatch(PLAIN_EMAIL)
        if fast.all():
            return raw.astype(object)
        slow = Cleaner(frame.loc[~fast], cl.rejects, cl.notes).with_rule(
            "email", normalize_email, note="email_lowered"
        )
        return raw.astype(object).where(fast, slow.reindex(raw.index))

    @staticmethod
    def _phones(frame: pd.DataFrame, cl, country: pd.Series) -> pd.Series:
        """E.164 phones: numbers already in that form are checked in bulk (customers.phones);
        the rest go through cleaning.normalize_phone once per distinct (number, country)."""
        raw = frame["phone"]
        fast = valid_e164(raw)
        if not fast.any():
            return cl.with_rule(
                "phone",
                lambda v, region: normalize_phone(v, region or None),
                note="phone_e164",
                by=country,
            )
        slow = Cleaner(frame.loc[~fast], cl.rejects, cl.notes).with_rule(
            "phone",
            lambda v, region: normalize_phone(v, region or None),
            note="phone_e164",
            by=country.loc[~fast],
        )
        return raw.where(fast, slow.reindex(raw.index)).astype(object)

    def _tags(self, col: pd.Series, rejects, notes: Counter) -> pd.Series:
        def clean(raw: str) -> str:
            names = [t.strip().lower() for t in raw.replace(";", "|").replace(",", "|").split("|")]
            return "|".join(sorted({" ".join(t.split()) for t in names if t.strip()}))

        uniques = {u: clean(u) for u in pd.unique(col.to_numpy())}
        out = col.map(uniques)
        notes["tags_normalised"] += int(((out != col) & (col != "")).sum())
        too_long = map_distinct(out, lambda v: any(len(t) > 50 for t in v.split("|")))
        rejects.add(too_long, "tags", _("A tag is longer than 50 characters."))
        return out

    def _owners(self, usernames: pd.Series, rejects) -> pd.Series:
        wanted = [u for u in pd.unique(usernames.to_numpy()) if u]
        users = dict(
            get_user_model()
            ._default_manager.filter(username__in=wanted, is_active=True)
            .values_list("username", "id")
        )
        ids = usernames.map(users)
        rejects.add(
            ids.isna() & (usernames != ""),
            "owner_username",
            lambda v: _("No active user is called “%(value)s”.") % {"value": v},
            values=usernames,
        )
        return ids.astype("Int64").astype(object).where(ids.notna(), None)

    @staticmethod
    def _keys(work: pd.DataFrame) -> pd.Series:
        """Which rows describe the same customer: same external_id; a row without one
        joins the first row with its email, else its phone."""
        key = pd.Series(None, index=work.index, dtype=object)
        has_ext = work["external_id"] != ""
        if has_ext.all():  # a machine-written file: the external ID says it all
            return "x:" + work["external_id"].astype(object)
        key[has_ext] = "x:" + work.loc[has_ext, "external_id"]
        for col, prefix in (("email", "e:"), ("phone", "p:")):
            has = work[col] != ""
            known = key.notna() & has
            first_key = key[known].groupby(work.loc[known, col]).first()
            todo = key.isna() & has
            key[todo] = work.loc[todo, col].map(first_key)
            todo = key.isna() & has
            key[todo] = prefix + work.loc[todo, col]
        rest = key.isna()
        key[rest] = "r:" + rest[rest].index.astype(str)
        return key

    def _match(self, rows: pd.DataFrame, rejects) -> pd.Series:
        """The id of the stored customer each row updates (NA for new rows)."""
        by_ext = fetch_values(Customer, "external_id", rows["external_id"], ["external_id", "id"])
        target = rows["external_id"].map(
            dict(zip(by_ext["external_id"], by_ext["id"], strict=True))
        )
        target = target.where(rows["external_id"] != "")
        for col, label in (("email", _("email")), ("phone", _("phone"))):
            todo = target.isna() & (rows[col] != "")
            if not todo.any():
                continue
            found = fetch_values(Customer, col, rows.loc[todo, col], [col, "id", "external_id"])
            counts = found.groupby(col)["id"].count()
            one = found[found[col].map(counts) == 1].set_index(col)
            ambiguous = todo & rows[col].map(counts).gt(1)
            rejects.add(
                ambiguous,
                col,
                lambda v, label=label: (
                    _(
                        "Several stored customers have the %(field)s “%(value)s”; merge them "
                        "first (see Data quality)."
                    )
                    % {"field": label, "value": v}
                ),
                values=rows[col],
            )
            hit_id = rows[col].map(one["id"])
            hit_ext = rows[col].map(one["external_id"]).astype(object)
            hit_ext = hit_ext.where(hit_ext.notna(), "")
            conflict = todo & hit_id.notna() & (rows["external_id"] != "") & (hit_ext != "")
            conflict &= hit_ext != rows["external_id"]
            rejects.add(
                conflict,
                col,
                lambda ext, label=label: (
                    _("This %(field)s belongs to the stored customer with external ID “%(ext)s”.")
                    % {"field": label, "ext": ext}
                ),
                values=hit_ext,
            )
            take = todo & hit_id.notna() & ~conflict & ~ambiguous
            target = target.where(~take, hit_id)
        # Two rows of the file must not update the same stored customer.
        known = target.notna()
        first = (
            pd.Series(rows.index, index=rows.index)[known].groupby(target[known]).transform("min")
        )
        twice = first[first != first.index.to_series()]
        rejects.add(
            pd.Series(True, index=twice.index),
            "",
            lambda r: _("Matches the same stored customer as row %(row)s.") % {"row": r},
            values=twice,
        )
        return target.astype("Int64")

    def _organisations(self, rows: pd.DataFrame, ok: pd.Series, rejects) -> pd.Series:
        """organisation_id per row: a stored organisation's id, "new:<external_id>" for an
        organisation created by this file, None when the cell is blank."""
        ref = rows["organisation_external_id"]
        wanted = ref[ref != ""]
        out = pd.Series(None, index=rows.index, dtype=object)
        if wanted.empty:
            return out
        stored = fetch_values(Customer, "external_id", wanted, ["external_id", "id", "kind"])
        stored_kind = dict(zip(stored["external_id"], stored["kind"], strict=True))
        stored_id = dict(zip(stored["external_id"], stored["id"], strict=True))
        in_file = rows[ok & (rows["external_id"] != "")]
        file_kind = in_file["kind"].where(
            in_file["kind"] != "",
            in_file["external_id"]
            .map(stored_kind)
            .astype(object)
            .where(in_file["external_id"].isin(list(stored_kind)), "person"),
        )
        file_orgs = set(in_file.loc[file_kind == CustomerKind.ORGANISATION, "external_id"])
        file_people = set(in_file.loc[file_kind != CustomerKind.ORGANISATION, "external_id"])
        is_stored_org = ref.map(stored_kind).eq(CustomerKind.ORGANISATION) & ~ref.isin(file_people)
        is_new_org = ref.isin(file_orgs)
        self_ref = (ref != "") & (ref == rows["external_id"])
        rejects.add(self_ref, "organisation_external_id", _("A customer cannot belong to itself."))
        missing = (ref != "") & ~is_stored_org & ~is_new_org & ~self_ref
        rejects.add(
            missing,
            "organisation_external_id",
            lambda v: _("No organisation has the external ID “%(value)s”.") % {"value": v},
            values=ref,
        )
        new_in_file = is_new_org & ~ref.isin(list(stored_id)) & ~self_ref
        take = is_stored_org & ~self_ref
        out[take] = ref[take].map(lambda v: int(stored_id[v]))
        out[new_in_file] = "new:" + ref[new_in_file]
        return out

    def _creates(self, rows: pd.DataFrame) -> pd.DataFrame:
        out = rows[[*COMPARED, "tags"]].copy()
        out["kind"] = out["kind"].where(out["kind"] != "", CustomerKind.PERSON)
        out["lifecycle_stage"] = out["lifecycle_stage"].where(
            out["lifecycle_stage"] != "", LifecycleStage.LEAD
        )
        return out

    def _updates(self, rows: pd.DataFrame):
        """Merged values of matched rows (file value where given, else the stored one),
        the stored values for undo, the unchanged count and a sample of the changes."""
        empty = pd.DataFrame(columns=["id", *UPDATE_COLUMNS, "tags"])
        if rows.empty:
            return empty, {}, 0, [], {}
        ids = rows["target"].astype("int64")
        stored = fetch_values(Customer, "id", ids, ["id", *UPDATE_COLUMNS]).set_index("id")
        stored_text = stored.apply(lambda s: s.map(as_text)).astype(object)
        stored_text = stored_text.where(stored_text.notna(), None)
        tags = _tags_of(ids)
        merged = pd.DataFrame(index=rows.index)
        merged["id"] = ids.to_numpy()
        for col in COMPARED:
            old = stored_text[col].reindex(ids.to_numpy()).to_numpy()
            new = rows[col].to_numpy() if col in rows.columns else old
            new_s = pd.Series(new, index=rows.index, dtype=object)
            if col in ("organisation_id", "owner_id", "annual_income", "birth_date"):
                new_s = new_s.map(_id_or_text if col.endswith("_id") else _text_or_none)
            given = new_s.notna() & (new_s != "")
            merged[col] = new_s.where(given, pd.Series(old, index=rows.index, dtype=object))
        old_frame = stored_text.reindex(ids.to_numpy())
        old_frame.index = rows.index
        diff = pd.Series(False, index=rows.index)
        changed_cols: dict[int, list[str]] = {}
        for col in COMPARED:
            d = _norm(merged[col]) != _norm(old_frame[col])
            if col == "annual_income":
                d = _decimal_differs(merged[col], old_frame[col])
            diff |= d
            for r in d[d].index[: SAMPLE * 5]:
                changed_cols.setdefault(int(r), []).append(col)
        file_tags = rows["tags"].map(lambda v: set(v.split("|")) if v else set())
        have = ids.map(lambda i: tags.get(int(i), set()))
        new_tags = pd.Series(
            [sorted(f - h) for f, h in zip(file_tags, have, strict=True)], index=rows.index
        )
        tag_diff = new_tags.map(bool)
        for r in tag_diff[tag_diff].index[: SAMPLE * 5]:
            changed_cols.setdefault(int(r), []).append("tags")
        diff |= tag_diff
        now = timezone.now()
        stage_changed = merged["lifecycle_stage"] != old_frame["lifecycle_stage"]
        merged["lifecycle_changed_at"] = old_frame["lifecycle_changed_at"].where(
            ~stage_changed, now.isoformat()
        )
        merged["updated_at"] = now.isoformat()
        merged["tags"] = new_tags.map("|".join)
        changed = merged[diff]
        old_rows = old_frame.loc[changed.index, UPDATE_COLUMNS]
        old_rows = old_rows.astype(object).where(old_rows.notna(), None)
        previous = dict(
            zip(
                (int(i) for i in changed["id"]),
                old_rows.to_dict("records"),
                strict=True,
            )
        )
        sample = []
        for r in list(changed.index[:SAMPLE]):
            fields = []
            for col in changed_cols.get(int(r), []):
                if col == "tags":
                    fields.append(["tags", "", merged.loc[r, "tags"]])
                else:
                    fields.append([col, _shown(old_frame.loc[r, col]), _shown(merged.loc[r, col])])
            sample.append(
                {
                    "row": int(r),
                    "id": int(merged.loc[r, "id"]),
                    "label": merged.loc[r, "name"],
                    "fields": fields,
                }
            )
        tags_added = {int(i): t for i, t in zip(changed["id"], new_tags[diff], strict=True) if t}
        return changed, previous, int((~diff).sum()), sample, tags_added

    # --- write ------------------------------------------------------------------------
    def write(self, plan: Plan, *, user, batch_id: int) -> list[tuple[str, int, Any]]:
        now = pd.Timestamp(timezone.now()).tz_convert("UTC")
        records: list[tuple[str, int, Any]] = []
        creates = plan.creates.copy()
        new_ids = reserve_ids(Customer, len(creates))
        creates["id"] = new_ids
        new_by_ext = dict(
            zip(
                creates["external_id"][creates["external_id"] != ""],
                creates["id"][creates["external_id"] != ""],
                strict=True,
            )
        )

        def resolve(series: pd.Series) -> pd.Series:
            """Stored ids, "new:<external_id>" of rows created here, or blank -> int or None,
            column-wise."""
            text = series.astype(object).where(series.notna(), "").astype(str)
            new = text.str.startswith("new:")
            ids = pd.to_numeric(text.where(~new & (text != ""), None), errors="coerce")
            if new.any():
                ids[new] = text[new].str.slice(4).map(new_by_ext).astype("float64")
            # An object array of ints and None: a float column would write "12.0".
            out = np.full(len(series), None, dtype=object)
            known = ids.notna().to_numpy()
            out[known] = ids[known].astype("int64").to_numpy().astype(object)
            return pd.Series(out, index=series.index, dtype=object)

        if len(creates):
            rows = creates.drop(columns=["tags"]).copy()
            rows["organisation_id"] = resolve(rows["organisation_id"])
            rows["owner_id"] = resolve(rows["owner_id"])
            rows["source"] = "import"
            stamp = db_timestamp(now)  # one text for all rows: no per-row formatting
            rows["created_at"] = stamp
            rows["updated_at"] = stamp
            rows["lifecycle_changed_at"] = stamp
            insert_frame(Customer, rows)
            records += [("customers.customer", int(i), None) for i in new_ids]
        updates = plan.updates
        if len(updates):
            rows = updates[["id", *UPDATE_COLUMNS]].copy()
            rows["organisation_id"] = resolve(rows["organisation_id"])
            rows["owner_id"] = resolve(rows["owner_id"])
            for col in ("lifecycle_changed_at", "updated_at"):
                rows[col] = pd.to_datetime(rows[col], utc=True, format="ISO8601")
            update_from_frame(Customer, rows)
            previous = plan.extra["previous"]
            records += [("customers.customer", int(i), previous[int(i)]) for i in rows["id"]]
            registry.customers_reassigned(
                int(i)
                for i, owner in zip(rows["id"], rows["owner_id"], strict=True)
                if _owner_of(previous[int(i)]) != owner
            )
        links = pd.concat(
            [
                pd.DataFrame({"customer_id": creates["id"], "names": creates["tags"]}),
                pd.DataFrame(
                    {
                        "customer_id": list(plan.extra["tags_added"]),
                        "names": ["|".join(v) for v in plan.extra["tags_added"].values()],
                    }
                ),
            ],
            ignore_index=True,
        )
        records += self._write_tags(links, created_customers=set(int(i) for i in new_ids))
        return records

    def _write_tags(self, links: pd.DataFrame, *, created_customers: set[int]):
        links = links[links["names"] != ""]
        if links.empty:
            return []
        pairs = links.assign(name=links["names"].str.split("|")).explode("name")[
            ["customer_id", "name"]
        ]
        pairs = pairs[pairs["name"] != ""].drop_duplicates()
        names = list(pd.unique(pairs["name"]))
        stored = fetch_values(Tag, "name", names, ["name", "id"])
        tag_ids = dict(zip(stored["name"], stored["id"], strict=True))
        missing = [n for n in names if n not in tag_ids]
        records: list[tuple[str, int, Any]] = []
        if missing:
            ids = reserve_ids(Tag, len(missing))
            insert_frame(Tag, pd.DataFrame({"id": ids, "name": missing}))
            tag_ids.update(zip(missing, (int(i) for i in ids), strict=True))
            records += [("customers.tag", int(i), None) for i in ids]
        through = Customer.tags.through
        pairs["tag_id"] = pairs["name"].map(tag_ids).astype("int64")
        pairs["customer_id"] = pairs["customer_id"].astype("int64")
        link_ids = reserve_ids(through, len(pairs))
        frame = pd.DataFrame(
            {
                "id": link_ids,
                "customer_id": pairs["customer_id"].to_numpy(),
                "tag_id": pairs["tag_id"].to_numpy(),
            }
        )
        insert_frame(through, frame)
        on_updated = ~frame["customer_id"].isin(list(created_customers))
        records += [(TAG_LINKS, int(i), None) for i in frame.loc[on_updated, "id"]]
        return records

    # --- undo -------------------------------------------------------------------------
    def undo(self, records: pd.DataFrame) -> None:
        through = Customer.tags.through
        mine = records[records["model"] == "customers.customer"]
        created = mine.loc[mine["previous"].isna(), "object_id"].astype("int64").tolist()
        updated = mine[mine["previous"].notna()]
        delete_ids(through, records.loc[records["model"] == TAG_LINKS, "object_id"].tolist())
        if len(updated):
            rows = pd.DataFrame(list(updated["previous"].map(_loads)))
            rows.insert(0, "id", updated["object_id"].astype("int64").to_numpy())
            rows = rows.astype(object).where(rows.notna(), None)
            for col in ("lifecycle_changed_at", "updated_at"):
                rows[col] = pd.to_datetime(rows[col], utc=True, format="ISO8601")
            update_from_frame(Customer, rows[["id", *UPDATE_COLUMNS]])
            registry.customers_reassigned(rows["id"].astype("int64").tolist())
        if created:
            blocking = count_references(Customer, created)
            if blocking:
                raise UndoBlocked(
                    _(
                        "Customers created by this import are now used elsewhere (%(what)s); "
                        "undo would lose that data."
                    )
                    % {"what": ", ".join(f"{n} {label}" for label, n in blocking.items())}
                )
            delete_ids(through, created, column="customer_id")
            delete_ids(Customer, created)
        new_tags = records.loc[records["model"] == "customers.tag", "object_id"].astype("int64")
        if len(new_tags):
            used = set(
                through._default_manager.filter(tag_id__in=new_tags.tolist()).values_list(
                    "tag_id", flat=True
                )
            )
            delete_ids(Tag, [t for t in new_tags if t not in used])


class UndoBlocked(Exception):
    """Undo would lose data made after the import; the message is for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)


def _shown(value: Any) -> str:
    return "" if is_blank(value) else str(value)


def _norm(series: pd.Series) -> pd.Series:
    """Text for comparing: blanks of every kind (None, NaN, "") are one value."""
    obj = series.astype(object)
    return obj.where(obj.notna(), "").astype(str)


def _id_or_text(value: Any) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, str) and value.startswith("new:"):
        return value
    return str(int(float(value)))


def _text_or_none(value: Any) -> str | None:
    return None if is_blank(value) else str(value)


def _loads(value: Any) -> dict:
    return json.loads(value) if isinstance(value, str) else value


def _tags_of(ids: pd.Series) -> dict[int, set[str]]:
    through = Customer.tags.through
    out: dict[int, set[str]] = {}
    id_list = [int(i) for i in ids]
    for start in range(0, len(id_list), 5000):
        part = id_list[start : start + 5000]
        for cid, name in through._default_manager.filter(customer_id__in=part).values_list(
            "customer_id", "tag__name"
        ):
            out.setdefault(cid, set()).add(name)
    return out


def _decimal_differs(new: pd.Series, old: pd.Series) -> pd.Series:
    a = pd.to_numeric(new, errors="coerce")
    b = pd.to_numeric(old, errors="coerce")
    both_na = a.isna() & b.isna()
    return ~both_na & ((a - b).abs().fillna(1) > 0.001)
