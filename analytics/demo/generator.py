"""Deterministic, realistic demo data as pandas DataFrames (no database here).

The structure is what the analytics jobs look for, so that they find something real:
- purchase rates differ a lot between customers (gamma distributed) and each customer is
  active in a window of their own; about a third stop buying at some point (churn);
- revenue has a yearly season (November and December high, summer low) and grows as more
  customers join over time;
- baskets have structure: each customer prefers one or two categories, products within a
  category follow a Zipf popularity, and many products have a complementary partner that
  is often bought with them (the cross-sell rules);
- tickets are tied to orders, with categories, priorities and service-level times; the
  texts are English or Chinese like the names.
Everything follows from one numpy Generator seeded by `seed`, and dates count back from
`end` (a date), so the same seed and end date give the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from . import vocabulary as vocab


@dataclass(frozen=True)
class Scale:
    customers: int
    orders: int
    tickets: int
    products: int
    years: int = 3


SCALES = {
    # XS is for the test suite; S, M and L are the contract sizes of DESIGN.md.
    "XS": Scale(customers=300, orders=3_000, tickets=60, products=40),
    "S": Scale(customers=10_000, orders=100_000, tickets=1_000, products=500),
    "M": Scale(customers=100_000, orders=1_000_000, tickets=10_000, products=5_000),
    "L": Scale(customers=1_000_000, orders=10_000_000, tickets=100_000, products=20_000),
}

# Seasonality of orders by month (index 0 = January).
MONTH_WEIGHT = np.array([0.85, 0.8, 0.9, 0.95, 1.0, 0.85, 0.8, 0.85, 1.0, 1.1, 1.45, 1.7])
# Service-level targets in hours per priority: (first response, resolution).
SLA_HOURS = {"urgent": (1, 8), "high": (4, 24), "normal": (8, 72), "low": (24, 120)}


@dataclass
class DemoData:
    tags: pd.DataFrame
    products: pd.DataFrame
    customers: pd.DataFrame
    customer_tags: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame
    tickets: pd.DataFrame
    interactions: pd.DataFrame


def _utc(day0: pd.Timestamp, seconds: np.ndarray) -> pd.Series:
    return pd.Series(day0 + pd.to_timedelta(seconds.astype("int64"), unit="s"))


def generate(
    *, scale: Scale, seed: int, end: date, rep_ids: list[int], agent_ids: list[int]
) -> DemoData:
    """All demo rows; ids are explicit and start at 1 in every table."""
    rng = np.random.default_rng(seed)
    end_ts = pd.Timestamp(end, tz="UTC") + pd.Timedelta(hours=18)
    start_ts = end_ts - pd.Timedelta(days=365 * scale.years)
    span = (end_ts - start_ts).total_seconds()

    products, partner, prod_cat, prod_price = _products(rng, scale)
    customers, cust_meta = _customers(rng, scale, start_ts, span, rep_ids)
    orders, lines = _orders(
        rng, scale, start_ts, end_ts, span, cust_meta, partner, prod_cat, prod_price
    )
    customers = _lifecycle(customers, orders, end_ts)
    tickets = _tickets(rng, scale, orders, cust_meta, end_ts, agent_ids)
    interactions = _interactions(rng, scale, customers, cust_meta, start_ts, end_ts, rep_ids)
    tags = pd.DataFrame({"id": [1, 2, 3, 4], "name": ["vip", "wholesale", "newsletter", "partner"]})
    vip = customers.loc[customers["_value_rank"] < max(1, len(customers) // 50), "id"]
    n_news = len(customers) // 4
    news = pd.Series(rng.choice(customers["id"].to_numpy(), size=n_news, replace=False))
    orgs = customers.loc[customers["kind"] == "organisation", "id"]
    customer_tags = pd.concat(
        [
            pd.DataFrame({"customer_id": vip.to_numpy(), "tag_id": 1}),
            pd.DataFrame(
                {"customer_id": orgs.sample(frac=0.3, random_state=seed).to_numpy(), "tag_id": 2}
            ),
            pd.DataFrame({"customer_id": news.to_numpy(), "tag_id": 3}),
        ],
        ignore_index=True,
    )
    customer_tags.insert(0, "id", np.arange(1, len(customer_tags) + 1))
    return DemoData(
        tags=tags,
        products=products,
        customers=customers.drop(columns=["_value_rank"]),
        customer_tags=customer_tags,
        orders=orders,
        order_lines=lines,
        tickets=tickets,
        interactions=interactions,
    )


def _products(rng, scale):
    cats = list(vocab.PRODUCT_CATEGORIES)
    n = scale.products
    cat_idx = np.arange(n) % len(cats)
    rng.shuffle(cat_idx)
    nouns = [vocab.PRODUCT_CATEGORIES[c][0] for c in cats]
    base = np.array([vocab.PRODUCT_CATEGORIES[c][1] for c in cats], dtype=float)
    noun = np.array([nouns[c][rng.integers(len(nouns[c]))] for c in cat_idx])
    adj = np.array(vocab.ADJECTIVES)[rng.integers(len(vocab.ADJECTIVES), size=n)]
    price = np.round(base[cat_idx] * rng.lognormal(0, 0.45, size=n), 0) - 0.01
    price = np.maximum(price, 0.99)
    ids = np.arange(1, n + 1)
    # Each product's partner: another product of a related category, bought with it often.
    partner = np.where(rng.random(n) < 0.6, rng.integers(1, n + 1, size=n), 0)
    partner[partner == ids] = 0
    df = pd.DataFrame(
        {
            "id": ids,
            "sku": [f"SKU-{i:06d}" for i in ids],
            "name": [f"{a} {b} {i}" for a, b, i in zip(adj, noun, ids, strict=True)],
            "category": np.array(cats)[cat_idx],
            "unit_price": [f"{p:.2f}" for p in price],
            "active": rng.random(n) > 0.03,
        }
    )
    return df, partner, cat_idx, price


def _customers(rng, scale, start_ts, span, rep_ids):
    n = scale.customers
    ids = np.arange(1, n + 1)
    is_org = rng.random(n) < 0.12
    chinese = rng.random(n) < 0.4
    west = vocab.CITIES_WEST
    china = vocab.CITIES_CHINA
    w_west = np.array([c[5] for c in west], float)
    w_china = np.array([c[5] for c in china], float)
    city_w = rng.choice(len(west), size=n, p=w_west / w_west.sum())
    city_c = rng.choice(len(china), size=n, p=w_china / w_china.sum())
    city = np.where(chinese, [china[i][0] for i in city_c], [west[i][0] for i in city_w])
    region = np.where(chinese, [china[i][1] for i in city_c], [west[i][1] for i in city_w])
    country = np.where(chinese, [china[i][2] for i in city_c], [west[i][2] for i in city_w])
    cc = np.where(chinese, [china[i][3] for i in city_c], [west[i][3] for i in city_w])
    prefix = np.where(chinese, [china[i][4] for i in city_c], [west[i][4] for i in city_w])

    first = np.array(vocab.ENGLISH_FIRST)[rng.integers(len(vocab.ENGLISH_FIRST), size=n)]
    last = np.array(vocab.ENGLISH_LAST)[rng.integers(len(vocab.ENGLISH_LAST), size=n)]
    sur = np.array(vocab.CHINESE_SURNAMES)[rng.integers(len(vocab.CHINESE_SURNAMES), size=n)]
    given = np.array(vocab.CHINESE_GIVEN)[rng.integers(len(vocab.CHINESE_GIVEN), size=n)]
    org_w = np.array(vocab.ORG_WORDS_WEST)[rng.integers(len(vocab.ORG_WORDS_WEST), size=n)]
    org_c = np.array(vocab.ORG_WORDS_CHINA)[rng.integers(len(vocab.ORG_WORDS_CHINA), size=n)]
    person_name = np.where(
        chinese, np.char.add(sur, given), np.char.add(np.char.add(first, " "), last)
    )
    org_name = np.where(
        chinese,
        np.char.add(np.char.add(city, sur), np.char.add(org_c, "有限公司")),
        np.char.add(np.char.add(last, " "), org_w),
    )
    name = np.where(is_org, org_name, person_name)
    local = np.where(
        chinese,
        np.char.add("user", ids.astype(str)),
        np.char.add(np.char.add(np.char.lower(first), "."), np.char.lower(last)),
    )
    domain = np.where(is_org, "example.org", np.where(chinese, "example.cn", "example.com"))
    email = np.char.add(
        np.char.add(np.char.add(local, "."), ids.astype(str)), np.char.add("@", domain)
    )
    # Unique, valid national numbers: the city's prefix, then digits from the id.
    # US/CA: area code + exchange (200-999) + 4 digits; CN: 3 + 8; GB: 4 + 6; AU: 3 + 6.
    n_digits = np.where(cc == "86", 8, np.where(cc == "1", 4, 6))
    suffix = np.array([str(i).zfill(8)[-d:] for i, d in zip(ids, n_digits, strict=True)])
    exchange = np.where(cc == "1", (200 + (ids // 10_000) % 800).astype(str), "")
    phone = np.char.add(np.char.add("+", cc), np.char.add(prefix, np.char.add(exchange, suffix)))
    missing_phone = rng.random(n) < 0.08
    phone = np.where(missing_phone, "", phone)
    street_no = rng.integers(1, 400, size=n).astype(str)
    street = np.where(
        chinese,
        np.char.add(
            np.array(vocab.STREETS_CHINA)[rng.integers(7, size=n)], np.char.add(street_no, "号")
        ),
        np.char.add(
            np.char.add(street_no, " "), np.array(vocab.STREETS_WEST)[rng.integers(7, size=n)]
        ),
    )
    postal = rng.integers(10000, 99999, size=n).astype(str)

    edu_levels = np.array(["secondary", "vocational", "bachelor", "master", "doctorate", ""])
    edu_idx = rng.choice(len(edu_levels), size=n, p=[0.2, 0.15, 0.35, 0.18, 0.04, 0.08])
    education = np.where(is_org, "", edu_levels[edu_idx])
    income_base = np.array([38_000, 45_000, 62_000, 80_000, 95_000, 55_000])[edu_idx]
    income = np.round(income_base * rng.lognormal(0, 0.35, size=n), -2)
    has_income = (~is_org) & (rng.random(n) < 0.85)
    age_days = rng.integers(18 * 365, 80 * 365, size=n)
    birth = (pd.Timestamp(start_ts.date()) - pd.to_timedelta(age_days, unit="D")).strftime(
        "%Y-%m-%d"
    )
    gender = np.where(
        is_org, "", rng.choice(["female", "male", "other", ""], size=n, p=[0.48, 0.47, 0.01, 0.04])
    )

    # Behaviour: joining time (more joiners later: growth), purchase rate, churn.
    join_frac = 1 - np.sqrt(rng.random(n))  # skewed early so the first months have buyers
    join_frac = np.where(rng.random(n) < 0.5, rng.random(n), join_frac)
    join_sec = join_frac * span * 0.97
    rate = rng.gamma(0.8, 1.0, size=n) * np.where(is_org, 3.0, 1.0)
    lead = rng.random(n) < 0.15  # never bought
    rate[lead] = 0
    churns = rng.random(n) < 0.35
    stop_sec = np.where(churns, join_sec + rng.uniform(0.15, 1.0, size=n) * (span - join_sec), span)
    owner = np.array(rep_ids)[rng.integers(len(rep_ids), size=n)] if rep_ids else np.zeros(n, int)
    org_ids = ids[is_org]
    organisation = np.where(
        (~is_org) & (rng.random(n) < 0.2) & (len(org_ids) > 0),
        org_ids[rng.integers(max(len(org_ids), 1), size=n)] if len(org_ids) else 0,
        0,
    )
    consent = rng.random(n) < 0.6
    created = _utc(start_ts, join_sec - rng.uniform(0, 30 * 86400, size=n).clip(0, None))
    created = created.where(created >= start_ts, start_ts)
    sources = np.array(["web", "referral", "event", "campaign", "other"])
    df = pd.DataFrame(
        {
            "id": ids,
            "kind": np.where(is_org, "organisation", "person"),
            "external_id": [f"C{i:07d}" for i in ids],
            "name": name,
            "email": np.where(rng.random(n) < 0.05, "", email),
            "phone": phone,
            "street": street,
            "city": city,
            "region": region,
            "postal_code": postal,
            "country": country,
            "birth_date": pd.Series(birth).where(~is_org, None),
            "gender": gender,
            "annual_income": pd.Series([f"{v:.2f}" for v in income]).where(has_income, None),
            "education": education,
            "occupation": np.where(
                is_org,
                "",
                np.array(vocab.OCCUPATIONS)[rng.integers(len(vocab.OCCUPATIONS), size=n)],
            ),
            "industry": np.where(
                is_org, np.array(vocab.INDUSTRIES)[rng.integers(len(vocab.INDUSTRIES), size=n)], ""
            ),
            "size": pd.Series(rng.integers(5, 5000, size=n)).where(is_org, None).astype("Int64"),
            "website": np.where(
                is_org,
                np.char.add(np.char.add("https://www.org", ids.astype(str)), ".example.org"),
                "",
            ),
            "organisation_id": pd.Series(organisation)
            .where(organisation > 0, None)
            .astype("Int64"),
            "owner_id": owner,
            "lifecycle_stage": "lead",
            "lifecycle_changed_at": created,
            "source": sources[rng.integers(len(sources), size=n)],
            "marketing_consent": consent,
            "consent_at": created.where(consent, None),
            "consent_method": np.where(consent, "web form", ""),
            "created_at": created,
            "updated_at": created,
            "_value_rank": pd.Series(rate * (stop_sec - join_sec))
            .rank(ascending=False, method="first")
            .astype(int)
            - 1,
        }
    )
    meta = {
        "join": join_sec,
        "stop": stop_sec,
        "rate": rate,
        "chinese": chinese,
        "pref": rng.integers(len(vocab.PRODUCT_CATEGORIES), size=(n, 2)),
    }
    return df, meta


def _season_accept(rng, ts: pd.Series) -> np.ndarray:
    w = MONTH_WEIGHT[ts.dt.month.to_numpy() - 1]
    return rng.random(len(ts)) < w / MONTH_WEIGHT.max()


def _orders(rng, scale, start_ts, end_ts, span, meta, partner, prod_cat, prod_price):
    n_orders = scale.orders
    weight = meta["rate"] * (meta["stop"] - meta["join"]).clip(0, None)
    counts = rng.multinomial(n_orders, weight / weight.sum())
    cust = np.repeat(np.arange(1, len(counts) + 1), counts)
    lo = np.repeat(meta["join"], counts)
    hi = np.repeat(meta["stop"], counts)
    # Order times uniform in each customer's window, thinned by the season (resampled until
    # accepted, so the count stays exact).
    sec = np.empty(n_orders)
    todo = np.arange(n_orders)
    for _ in range(30):
        cand = lo[todo] + rng.random(len(todo)) * (hi[todo] - lo[todo])
        ok = _season_accept(rng, _utc(start_ts, cand))
        sec[todo[ok]] = cand[ok]
        todo = todo[~ok]
        if len(todo) == 0:
            break
    if len(todo):
        sec[todo] = lo[todo] + rng.random(len(todo)) * (hi[todo] - lo[todo])
    order_by_time = np.argsort(sec, kind="stable")
    cust = cust[order_by_time]
    sec = sec[order_by_time]
    ids = np.arange(1, n_orders + 1)
    ordered_at = _utc(start_ts, sec)

    # Lines: 1 + geometric extra lines; products from the customer's preferred categories.
    n_lines = np.minimum(1 + rng.geometric(0.55, size=n_orders) - 1, 6)
    line_order = np.repeat(ids, n_lines)
    line_cust = np.repeat(cust, n_lines)
    total = len(line_order)
    pref = meta["pref"][line_cust - 1, rng.integers(2, size=total)]
    cat = np.where(
        rng.random(total) < 0.75, pref, rng.integers(len(vocab.PRODUCT_CATEGORIES), size=total)
    )
    product = np.empty(total, dtype=np.int64)
    for c in range(len(vocab.PRODUCT_CATEGORIES)):
        members = np.flatnonzero(prod_cat == c) + 1
        mask = cat == c
        if not mask.any():
            continue
        if len(members) == 0:
            product[mask] = rng.integers(1, len(prod_cat) + 1, size=mask.sum())
            continue
        popularity = 1.0 / np.arange(1, len(members) + 1) ** 1.1
        product[mask] = rng.choice(members, size=mask.sum(), p=popularity / popularity.sum())
    # Cross-sell structure: a line's partner product joins the order often.
    first_line = np.r_[True, line_order[1:] != line_order[:-1]]
    part = partner[product - 1]
    add = first_line & (part > 0) & (rng.random(total) < 0.45)
    extra_order = line_order[add]
    extra_product = part[add]
    line_order = np.r_[line_order, extra_order]
    product = np.r_[product, extra_product]
    lines = pd.DataFrame({"order_id": line_order, "product_id": product})
    lines = lines.drop_duplicates(["order_id", "product_id"]).sort_values(
        ["order_id", "product_id"], kind="stable"
    )
    m = len(lines)
    qty = np.minimum(rng.geometric(0.6, size=m), 10)
    discount = rng.choice([1.0, 0.95, 0.9], size=m, p=[0.8, 0.12, 0.08])
    cents = np.round(prod_price[lines["product_id"].to_numpy() - 1] * discount * 100).astype(
        np.int64
    )
    lines["quantity"] = qty
    lines["_cents"] = cents
    lines.insert(0, "id", np.arange(1, m + 1))
    order_cents = (lines["_cents"] * lines["quantity"]).groupby(lines["order_id"]).sum()
    lines["unit_price"] = _cents_to_text(lines["_cents"].to_numpy())
    lines = lines.drop(columns=["_cents"])

    age_days = (end_ts - ordered_at).dt.total_seconds().to_numpy() / 86400
    status = np.where(
        rng.random(n_orders) < 0.02,
        "cancelled",
        np.where(age_days < 3, "confirmed", np.where(age_days < 10, "shipped", "completed")),
    )
    orders = pd.DataFrame(
        {
            "id": ids,
            "external_id": [f"ORD-{i:08d}" for i in ids],
            "customer_id": cust,
            "ordered_at": ordered_at,
            "status": status,
            "total": _cents_to_text(order_cents.reindex(ids, fill_value=0).to_numpy()),
            "created_by_id": None,
            "created_at": ordered_at,
        }
    )
    return orders, lines


def _cents_to_text(cents: np.ndarray) -> np.ndarray:
    cents = cents.astype(np.int64)
    whole = (cents // 100).astype(str)
    frac = np.char.zfill((cents % 100).astype(str), 2)
    return np.char.add(np.char.add(whole, "."), frac)


def _lifecycle(customers, orders, end_ts):
    last = orders.groupby("customer_id")["ordered_at"].agg(["min", "max"])
    c = customers.set_index("id")
    has = c.index.isin(last.index)
    first_order = last["min"].reindex(c.index)
    last_order = last["max"].reindex(c.index)
    lapsed = (end_ts - last_order) > pd.Timedelta(days=365)
    stage = np.where(
        has, np.where(lapsed, "former", "customer"), np.where(c.index % 3 == 0, "prospect", "lead")
    )
    c["lifecycle_stage"] = stage
    changed = pd.Series(np.where(has, first_order, c["lifecycle_changed_at"]), index=c.index)
    changed = changed.where(~(has & lapsed), last_order + pd.Timedelta(days=365))
    c["lifecycle_changed_at"] = pd.to_datetime(changed, utc=True)
    # Nobody was created after their first order.
    c["created_at"] = pd.concat([c["created_at"], first_order], axis=1).min(axis=1)
    c["updated_at"] = c["created_at"]
    c["consent_at"] = c["consent_at"].where(c["consent_at"].isna(), c["created_at"])
    return c.reset_index()


def _tickets(rng, scale, orders, meta, end_ts, agent_ids):
    n = scale.tickets
    ids = np.arange(1, n + 1)
    pick = rng.integers(len(orders), size=n)
    order_id = orders["id"].to_numpy()[pick]
    cust = orders["customer_id"].to_numpy()[pick]
    created = orders["ordered_at"].iloc[pick].reset_index(drop=True) + pd.to_timedelta(
        rng.uniform(0.5, 20, size=n) * 86400, unit="s"
    )
    created = created.where(created < end_ts, end_ts - pd.Timedelta(hours=2))
    cats = np.array(list(vocab.TICKET_TEXT))
    cat = rng.choice(cats, size=n, p=[0.3, 0.2, 0.25, 0.2, 0.05])
    prio = rng.choice(["low", "normal", "high", "urgent"], size=n, p=[0.2, 0.55, 0.2, 0.05])
    chinese = meta["chinese"][cust - 1]
    subject, problem, solution = [], [], []
    for c, zh in zip(cat, chinese, strict=True):
        options = [t for t in vocab.TICKET_TEXT[c] if _is_chinese(t[0]) == zh] or vocab.TICKET_TEXT[
            c
        ]
        s, p, sol = options[rng.integers(len(options))]
        subject.append(s)
        problem.append(p)
        solution.append(sol)
    first_h = np.array([SLA_HOURS[p][0] for p in prio])
    res_h = np.array([SLA_HOURS[p][1] for p in prio])
    age_h = (end_ts - created).dt.total_seconds().to_numpy() / 3600
    # Agents mostly meet the targets; some tickets breach them.
    resp_h = first_h * rng.lognormal(-0.5, 0.7, size=n)
    solve_h = res_h * rng.lognormal(-0.4, 0.6, size=n)
    done = solve_h < age_h
    responded = resp_h < age_h
    status = np.where(
        done,
        np.where(age_h - solve_h > 72, "closed", "resolved"),
        np.where(responded, rng.choice(["open", "pending"], size=n, p=[0.7, 0.3]), "new"),
    )
    assignee = (
        np.array(agent_ids)[rng.integers(len(agent_ids), size=n)] if agent_ids else np.zeros(n, int)
    )
    assignee = pd.Series(assignee).where(status != "new", None).astype("Int64")

    def after(hours):
        return created + pd.to_timedelta(hours * 3600, unit="s")

    return pd.DataFrame(
        {
            "id": ids,
            "customer_id": cust,
            "subject": subject,
            "problem": problem,
            "solution": np.where(done, solution, ""),
            "category": cat,
            "priority": prio,
            "status": status,
            "channel": rng.choice(["email", "phone", "chat", "web_form", "social"], size=n),
            "assignee_id": assignee,
            "order_id": order_id,
            "created_at": created,
            "updated_at": created,
            "first_response_due": after(first_h),
            "resolution_due": after(res_h),
            "first_responded_at": after(resp_h).where(responded, None),
            "resolved_at": after(solve_h).where(done, None),
            "closed_at": after(solve_h + 72).where(status == "closed", None),
        }
    )


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _interactions(rng, scale, customers, meta, start_ts, end_ts, rep_ids):
    n = scale.customers * 3 // 2
    cust = rng.integers(1, scale.customers + 1, size=n)
    created = customers["created_at"].to_numpy()[cust - 1]
    created = pd.Series(pd.to_datetime(created, utc=True))
    window = (end_ts - created).dt.total_seconds().to_numpy()
    occurred = created + pd.to_timedelta(rng.random(n) * window, unit="s")
    pick = rng.integers(len(vocab.INTERACTION_SUBJECTS), size=n)
    channel = np.array([vocab.INTERACTION_SUBJECTS[i][0] for i in pick])
    subject = np.array([vocab.INTERACTION_SUBJECTS[i][1] for i in pick])
    user = np.array(rep_ids)[rng.integers(len(rep_ids), size=n)] if rep_ids else np.zeros(n, int)
    duration = pd.Series(rng.integers(3, 60, size=n)).where(
        np.isin(channel, ["phone", "meeting"]), None
    )
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "customer_id": cust,
            "channel": channel,
            "direction": rng.choice(["inbound", "outbound"], size=n),
            "occurred_at": occurred,
            "user_id": user,
            "subject": subject,
            "body": "",
            "duration_minutes": duration.astype("Int64"),
            "related_type_id": None,
            "related_id": None,
            "created_at": occurred,
        }
    )
