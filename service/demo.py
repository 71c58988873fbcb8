"""Demo rows of the service desk, built from the tickets the generator already wrote.

Conversations, status histories, service-level breaches, survey invitations and the
feedback on many resolved tickets (lower ratings where a target was missed), holidays, a
knowledge base of a dozen articles in English and Chinese, canned replies, and the
suggested-answers index. Everything is vectorised with pandas and written in bulk, and the
same seed gives the same rows.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import F
from django.utils import timezone

from crm.bulk import bulk_insert, reset_sequences

from .models import (
    Article,
    ArticleCategory,
    CannedReply,
    Feedback,
    Holiday,
    SLABreach,
    SuggestionIndex,
    SurveyInvitation,
    Ticket,
    TicketComment,
    TicketStatusChange,
)

# Share of resolved tickets whose customer answered the survey.
ANSWER_RATE = 0.45

FIRST_REPLY = {
    "en": "Hello, thank you for contacting us. I am looking into this now and will get back to you shortly.",
    "zh": "您好，感谢您的来信。我们正在处理您的问题，会尽快回复您。",
}
CUSTOMER_FOLLOW_UP = {
    "en": "Thanks. Any news on this? I still need it sorted out.",
    "zh": "谢谢，请问现在进展如何？问题还没有解决。",
}
INTERNAL_NOTE = {
    "en": "Checked the order history; this customer had a similar issue before.",
    "zh": "已查看订单记录，该客户之前遇到过类似问题。",
}
FEEDBACK_COMMENTS = {
    ("en", True): ["Fast and friendly, thank you!", "Problem solved on the first reply.", ""],
    ("en", False): ["It took far too long to get an answer.", "Had to ask three times.", ""],
    ("zh", True): ["处理很快，服务态度很好！", "一次就解决了，谢谢。", ""],
    ("zh", False): ["等了太久才有回复。", "问题反复了好几次才解决。", ""],
}

KB_ARTICLES = [
    # (category, title, body)
    (
        "Orders and delivery",
        "How to change your delivery address",
        "Open Profile > Addresses, add the new address and mark it as default. Orders that have "
        "not shipped yet can be changed by support: reply with the order number and the new "
        "address.",
    ),
    (
        "Orders and delivery",
        "International shipping and rates",
        "We ship to most countries. Rates depend on weight and destination; see the rate table "
        "in the shop footer. Customs duties are paid by the receiver.",
    ),
    (
        "Orders and delivery",
        "What to do when an order arrives late",
        "Check the tracking link in your confirmation email. If the parcel is more than three "
        "days late, contact us: we refund the shipping fee and chase the courier.",
    ),
    (
        "Returns and warranty",
        "Item broken on arrival: replacement and return label",
        "Send a photo of the damage. We ship a replacement at once and email a prepaid return "
        "label for the broken item.",
    ),
    (
        "Returns and warranty",
        "Missing part in the package",
        "Tell us which part is missing (for example the power cable). We send it by express "
        "at no cost.",
    ),
    (
        "Technical help",
        "Device does not turn on: reset steps",
        "Charge for at least 30 minutes, then hold the power button for 15 seconds to reset. "
        "If it still does not start, the firmware may need recovery: contact support.",
    ),
    (
        "订单与配送",
        "如何申请开具发票",
        "在订单详情页点击“申请发票”，填写发票抬头和税号。电子发票会在三个工作日内发送到您的邮箱。",
    ),
    (
        "订单与配送",
        "修改收货地址",
        "未发货的订单可以联系客服修改地址，请提供订单号和新的收货地址。已发货的订单请联系快递公司。",
    ),
    (
        "退换货与保修",
        "退货退款流程",
        "在订单页点击“申请退货”，系统会生成退货单。我们收到退货后三个工作日内退款到原支付账户。",
    ),
    (
        "退换货与保修",
        "商品颜色或款式与描述不符",
        "请拍照发给客服。我们会致歉并安排免费换货，补发正确的商品，无需您承担运费。",
    ),
    (
        "技术支持",
        "蓝牙耳机无法连接",
        "在手机蓝牙设置中删除旧的配对记录，长按耳机按键十秒重置，然后重新配对即可连接。",
    ),
    (
        "技术支持",
        "应用闪退怎么办",
        "请把应用更新到最新版本并重启手机。如果仍然闪退，请卸载后重新安装。",
    ),
]

CANNED_REPLIES = [
    ("Greeting", "", "Hello {customer},\n\nthank you for contacting us.\n\nBest regards,\n{agent}"),
    (
        "Ask for the order number",
        "question",
        "Hello {customer},\n\ncould you send us your order number so we can look into this?\n\n{agent}",
    ),
    (
        "Ask for a photo",
        "after_sales",
        "Hello {customer},\n\nplease send a photo of the product and its packaging.\n\n{agent}",
    ),
    (
        "Apology for the delay",
        "complaint",
        "Hello {customer},\n\nwe are sorry for the delay. We refunded the shipping fee.\n\n{agent}",
    ),
    (
        "Closing: solved",
        "",
        "Glad we could help! We are closing ticket #{ticket}; just reply if anything comes up.",
    ),
    ("问候", "", "{customer}您好，\n\n感谢您联系我们。\n\n{agent}"),
    ("索取订单号", "question", "{customer}您好，请提供您的订单号，以便我们为您查询。"),
    ("致歉", "complaint", "{customer}您好，非常抱歉给您带来不便，我们会尽快为您处理。"),
]


def _is_chinese(text: pd.Series) -> np.ndarray:
    return text.str.contains(r"[\u4e00-\u9fff]", regex=True).to_numpy()


def _pick(lang: np.ndarray, texts: dict[str, str]) -> np.ndarray:
    return np.where(lang, texts["zh"], texts["en"])


def clear_service_demo() -> None:
    """Remove the rows this module writes (the tickets' children go with the tickets)."""
    for model in (
        Feedback,
        SurveyInvitation,
        SLABreach,
        TicketStatusChange,
        TicketComment,
        Article,
        ArticleCategory,
        CannedReply,
        SuggestionIndex,
        Holiday,
    ):
        model._base_manager.all()._raw_delete(using="default")


def seed_service(*, tickets: pd.DataFrame, user_ids: dict[str, int], seed: int) -> dict[str, int]:
    """Write the service desk's demo rows for the given tickets; returns row counts."""
    rng = np.random.default_rng([seed, 6])
    clear_service_demo()
    now = pd.Timestamp(timezone.now())
    agents = [user_ids[u] for u in ("agent", "agent2") if u in user_ids] or [user_ids["admin"]]
    t = tickets.reset_index(drop=True).copy()
    for col in ("created_at", "first_responded_at", "resolved_at", "closed_at"):
        t[col] = pd.to_datetime(t[col], utc=True)
    for col in ("first_response_due", "resolution_due"):
        t[col] = pd.to_datetime(t[col], utc=True)
    zh = _is_chinese(t["subject"].astype(str))
    assignee = t["assignee_id"].astype("Int64")
    fallback = pd.Series(np.array(agents)[rng.integers(len(agents), size=len(t))], dtype="Int64")
    author = assignee.fillna(fallback)
    counts: dict[str, int] = {}

    # Conversations: a first reply, sometimes a customer follow-up and an internal note,
    # and the solution as the last public reply.
    responded = t["first_responded_at"].notna().to_numpy()
    done = t["resolved_at"].notna().to_numpy()
    parts = [
        pd.DataFrame(
            {
                "ticket_id": t["id"][responded],
                "author_id": author[responded],
                "body": _pick(zh, FIRST_REPLY)[responded],
                "is_public": True,
                "created_at": t["first_responded_at"][responded],
            }
        )
    ]
    follow = responded & (rng.random(len(t)) < 0.4)
    parts.append(
        pd.DataFrame(
            {
                "ticket_id": t["id"][follow],
                "author_id": pd.array([pd.NA] * int(follow.sum()), dtype="Int64"),
                "body": _pick(zh, CUSTOMER_FOLLOW_UP)[follow],
                "is_public": True,
                "created_at": (t["first_responded_at"] + pd.Timedelta(hours=3))[follow],
            }
        )
    )
    noted = rng.random(len(t)) < 0.25
    parts.append(
        pd.DataFrame(
            {
                "ticket_id": t["id"][noted],
                "author_id": author[noted],
                "body": _pick(zh, INTERNAL_NOTE)[noted],
                "is_public": False,
                "created_at": (t["created_at"] + pd.Timedelta(minutes=20))[noted],
            }
        )
    )
    parts.append(
        pd.DataFrame(
            {
                "ticket_id": t["id"][done],
                "author_id": author[done],
                "body": t["solution"][done],
                "is_public": True,
                "created_at": t["resolved_at"][done],
            }
        )
    )
    comments = pd.concat([p.reset_index(drop=True) for p in parts], ignore_index=True)
    comments = comments.sort_values(["ticket_id", "created_at"], kind="stable").reset_index(
        drop=True
    )
    comments["author_id"] = comments["author_id"].astype("Int64")
    comments["emailed_at"] = comments["created_at"].where(
        comments["is_public"] & comments["author_id"].notna()
    )
    comments.insert(0, "id", np.arange(1, len(comments) + 1))
    counts["service.ticketcomment"] = bulk_insert(TicketComment, comments)

    # Status histories, step by step.
    pending = (t["status"] == "pending").to_numpy()
    closed = t["closed_at"].notna().to_numpy()
    steps = [
        ("", "new", np.ones(len(t), bool), t["created_at"], pd.Series([pd.NA] * len(t))),
        ("new", "open", responded, t["first_responded_at"], author),
        (
            "open",
            "pending",
            pending,
            t["first_responded_at"] + pd.Timedelta(minutes=1),
            author,
        ),
        ("open", "resolved", done, t["resolved_at"], author),
        ("resolved", "closed", closed, t["closed_at"], author),
    ]
    history = pd.concat(
        [
            pd.DataFrame(
                {
                    "ticket_id": t["id"][mask].to_numpy(),
                    "from_status": src,
                    "to_status": dst,
                    "changed_by_id": pd.Series(who, dtype="Int64")[mask].to_numpy(),
                    "changed_at": when[mask].to_numpy(),
                    "note": "",
                }
            )
            for src, dst, mask, when, who in steps
        ],
        ignore_index=True,
    )
    history["changed_at"] = pd.to_datetime(history["changed_at"], utc=True)
    history["changed_by_id"] = history["changed_by_id"].astype("Int64")
    history = history.sort_values(["ticket_id", "changed_at"], kind="stable")
    history.insert(0, "id", np.arange(1, len(history) + 1))
    counts["service.ticketstatuschange"] = bulk_insert(TicketStatusChange, history)
    Ticket.objects.filter(status="pending", sla_paused_at__isnull=True).update(
        sla_paused_at=F("first_responded_at")
    )

    # Breaches, already escalated (so the first beat tick does not mail the whole history).
    late_first = (t["first_responded_at"].fillna(now) > t["first_response_due"]).to_numpy()
    late_res = (t["resolved_at"].fillna(now) > t["resolution_due"]).to_numpy()
    breaches = pd.concat(
        [
            pd.DataFrame(
                {
                    "ticket_id": t["id"][mask],
                    "kind": kind,
                    "due_at": t[due][mask],
                    "assignee_id": assignee[mask],
                }
            )
            for kind, due, mask in (
                ("first_response", "first_response_due", late_first),
                ("resolution", "resolution_due", late_res),
            )
        ],
        ignore_index=True,
    )
    breaches["detected_at"] = breaches["due_at"] + pd.Timedelta(minutes=5)
    breaches["notified_at"] = breaches["detected_at"]
    breaches["assignee_id"] = breaches["assignee_id"].astype("Int64")
    breaches.insert(0, "id", np.arange(1, len(breaches) + 1))
    counts["service.slabreach"] = bulk_insert(SLABreach, breaches)

    # Survey invitations for every resolved ticket; about half are answered.
    d = t[done].reset_index(drop=True)
    d_zh = zh[done]
    d_late = (late_first | late_res)[done]
    n = len(d)
    sent = d["resolved_at"] + pd.Timedelta(minutes=2)
    answered = rng.random(n) < ANSWER_RATE
    submitted = sent + pd.to_timedelta(rng.uniform(0.5, 72, size=n) * 3600, unit="s")
    answered &= (submitted < now).to_numpy()
    invitations = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "customer_id": d["customer_id"],
            "ticket_id": d["id"],
            "order_id": pd.Series([pd.NA] * n, dtype="Int64"),
            "nonce": [f"{x:016x}" for x in rng.integers(0, 2**62, size=n)],
            "created_at": d["resolved_at"],
            "expires_at": d["resolved_at"] + pd.Timedelta(days=14),
            "sent_at": sent,
            "used_at": submitted.where(answered),
        }
    )
    counts["service.surveyinvitation"] = bulk_insert(SurveyInvitation, invitations)

    # Ratings: mostly good, clearly worse where a service level was missed.
    good_p, bad_p = [0.04, 0.05, 0.11, 0.32, 0.48], [0.14, 0.2, 0.26, 0.25, 0.15]
    csat = np.where(
        d_late,
        rng.choice(np.arange(1, 6), size=n, p=bad_p),
        rng.choice(np.arange(1, 6), size=n, p=good_p),
    )
    ces = np.clip(np.rint(csat * 1.3 + rng.normal(0, 0.9, size=n)), 1, 7).astype(int)
    nps = np.clip(np.rint(csat * 2.1 - 0.5 + rng.normal(0, 1.3, size=n)), 0, 10).astype(int)
    positive = csat >= 4
    comment = [
        FEEDBACK_COMMENTS[("zh" if z else "en", bool(p))][k]
        for z, p, k in zip(d_zh, positive, rng.integers(0, 3, size=n), strict=True)
    ]
    feedback = pd.DataFrame(
        {
            "customer_id": d["customer_id"],
            "ticket_id": d["id"],
            "order_id": pd.Series([pd.NA] * n, dtype="Int64"),
            "invitation_id": invitations["id"],
            "agent_id": d["assignee_id"].astype("Int64"),
            "category": d["category"],
            "csat": csat,
            "ces": ces,
            "nps": nps,
            "comment": comment,
            "submitted_at": submitted,
        }
    )[answered].reset_index(drop=True)
    feedback.insert(0, "id", np.arange(1, len(feedback) + 1))
    counts["service.feedback"] = bulk_insert(Feedback, feedback)
    reset_sequences(TicketComment, TicketStatusChange, SLABreach, SurveyInvitation, Feedback)

    counts.update(_seed_knowledge(user_ids=user_ids, today=now.date()))
    from .services import suggestion_index_rebuild

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE service_ticketcomment, service_feedback")
    suggestion_index_rebuild()
    return counts


def _seed_knowledge(*, user_ids: dict[str, int], today: date) -> dict[str, int]:
    author = user_ids.get("agent")
    categories = {
        name: ArticleCategory.objects.create(name=name)
        for name in dict.fromkeys(c for c, _, _ in KB_ARTICLES)
    }
    Article.objects.bulk_create(
        Article(
            title=title,
            body=body,
            category=categories[cat],
            status="published",
            author_id=author,
        )
        for cat, title, body in KB_ARTICLES
    )
    Article.objects.create(
        title="Draft: loyalty programme questions",
        body="Work in progress: how points are earned and spent.",
        status="draft",
        author_id=author,
    )
    CannedReply.objects.bulk_create(
        CannedReply(title=title, category=cat, body=body, created_by_id=author)
        for title, cat, body in CANNED_REPLIES
    )
    holidays = []
    for year in (today.year - 1, today.year, today.year + 1):
        holidays += [
            Holiday(date=date(year, 1, 1), name="New Year's Day"),
            Holiday(date=date(year, 5, 1), name="Labour Day"),
            Holiday(date=date(year, 10, 1), name="National Day"),
            Holiday(date=date(year, 12, 25), name="Christmas Day"),
        ]
    Holiday.objects.bulk_create(holidays)
    return {
        "service.article": len(KB_ARTICLES) + 1,
        "service.cannedreply": len(CANNED_REPLIES),
        "service.holiday": len(holidays),
    }
