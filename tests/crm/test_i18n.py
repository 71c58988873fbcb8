"""English and Simplified Chinese, chosen by the user; every string translated."""

from pathlib import Path

import pytest
from django.urls import reverse

from crm.roles import Role

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.mark.django_db
def test_switching_to_chinese_turns_the_interface_chinese(client_for):
    client = client_for(Role.SALES_REP)
    assert "Customers" in client.get("/customers/").content.decode()
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/customers/"})
    assert response.status_code == 302
    page = client.get("/customers/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "客户" in page and "搜索客户" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/customers/"})
    assert "Search customers" in client.get("/customers/").content.decode()


@pytest.mark.django_db
def test_login_page_in_chinese_for_anonymous_visitors(client):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "登录" in client.get(reverse("login")).content.decode()


def _entries(text: str):
    """(msgid, msgstr, fuzzy) per entry of a .po file, joining continued lines."""
    entries, current, key, fuzzy = [], {}, None, False
    for raw in text.splitlines() + [""]:
        line = raw.strip()
        if not line:
            if current.get("msgid"):
                entries.append((current.get("msgid", ""), current.get("msgstr", ""), fuzzy))
            current, key, fuzzy = {}, None, False
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[0] ")):
            key, _, value = line.partition(" ")
            key = {"msgstr[0]": "msgstr"}.get(key, key)
            current[key] = current.get(key, "") + value.strip('"')
        elif line.startswith('"') and key:
            current[key] += line.strip('"')
    return entries


def test_every_string_has_a_chinese_translation():
    entries = _entries(CATALOGUE.read_text(encoding="utf-8"))
    assert len(entries) > 100
    untranslated = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]
    assert untranslated == []


def test_compiled_catalogue_is_up_to_date():
    import gettext

    with CATALOGUE.with_suffix(".mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [
        msgid
        for msgid, msgstr, _ in _entries(CATALOGUE.read_text(encoding="utf-8"))
        if "\\" not in msgid + msgstr and compiled.gettext(msgid) != msgstr
    ]
    assert stale == [], "run `make messages` to compile the catalogue"
