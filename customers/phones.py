"""Vectorised check of phone numbers already written in E.164, around cleaning.normalize_phone.

Parsing with phonenumbers costs about 100 µs a number, so 100k distinct numbers would cost
ten seconds. Most import files (exports of other systems) hold E.164 already; for those the
validity test is phonenumbers' own metadata patterns (general description and the number
types) applied per calling code as one regular expression over the column. Only numbers
this fast check does not accept go through normalize_phone, which has the last word.
"""

from __future__ import annotations

import re
from functools import cache

import pandas as pd
import phonenumbers
from phonenumbers import PhoneMetadata

_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)
E164 = r"\+[1-9]\d{6,14}"


@cache
def _pattern(calling_code: int) -> re.Pattern | None:
    """A pattern the national number must fully match to be valid in some region of this
    calling code (phonenumbers' is_valid_number, region by region)."""
    options = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(calling_code, ()):
        if region == "001":
            meta = PhoneMetadata.metadata_for_nongeo_region(calling_code)
        else:
            meta = PhoneMetadata.metadata_for_region(region)
        if meta is None or meta.general_desc is None:
            continue
        general = meta.general_desc.national_number_pattern
        kinds = [
            getattr(meta, t).national_number_pattern
            for t in _TYPES
            if getattr(meta, t, None) is not None and getattr(meta, t).national_number_pattern
        ]
        if general and kinds:
            options.append(f"(?=(?:{general})$)(?:{'|'.join(kinds)})$")
    return re.compile("|".join(f"(?:{o})" for o in options)) if options else None


def valid_e164(numbers: pd.Series) -> pd.Series:
    """True where a value is an E.164 number that phonenumbers' metadata says is valid."""
    out = pd.Series(False, index=numbers.index)
    shaped = numbers[numbers.str.fullmatch(E164)]
    if shaped.empty:
        return out
    digits = shaped.str.slice(1)
    remaining = pd.Series(True, index=shaped.index)
    for length in (1, 2, 3):  # calling codes are prefix-free: at most one length fits
        codes = digits.str.slice(0, length)
        for code in pd.unique(codes[remaining]):
            pattern = _pattern(int(code))
            if pattern is None:
                continue
            mine = remaining & (codes == code)
            national = digits[mine].str.slice(length)
            out.loc[national.index] = national.map(lambda n, p=pattern: p.match(n) is not None)
            remaining &= ~mine
    return out
