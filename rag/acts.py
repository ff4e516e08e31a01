"""Recognise references to legal acts and dates in Italian and English text.

Shared by ingestion (metadata of documents and chunks) and by retrieval (a question that names
"DD 257/Ric" or "decreto 1610" is steered to that act), so both sides normalise the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

IT_MONTHS = ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
             "ottobre", "novembre", "dicembre"]
EN_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
             "october", "november", "december"]
_MONTH = {m: i + 1 for i, m in enumerate(IT_MONTHS)} | {m: i + 1 for i, m in enumerate(EN_MONTHS)}
_MONTH_RE = "|".join(IT_MONTHS + EN_MONTHS)

DATE_RE = re.compile(
    rf"(?<!\d)(?P<d>[0-3]?\d)(?:°|º|st|nd|rd|th)?\s+(?P<m>{_MONTH_RE})\s+(?P<y>(?:19|20)\d\d)(?!\d)"
    rf"|(?P<m2>{_MONTH_RE})\s+(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?,?\s+(?P<y2>(?:19|20)\d\d)(?!\d)"
    r"|(?<![\d/])(?P<d3>[0-3]?\d)[/.](?P<m3>[01]?\d)[/.](?P<y3>(?:19|20)\d\d)(?!\d)"
    r"|(?<!\d)(?P<y4>(?:19|20)\d\d)-(?P<m4>[01]\d)-(?P<d4>[0-3]\d)(?!\d)",
    re.IGNORECASE,
)


def parse_dates(text: str) -> list[tuple[str, int, int]]:
    """Every date in the text as (ISO date, start, end); invalid dates are skipped."""
    out = []
    for m in DATE_RE.finditer(text):
        if m.group("m"):
            d, mo, y = int(m.group("d")), _MONTH[m.group("m").lower()], int(m.group("y"))
        elif m.group("m2"):
            d, mo, y = int(m.group("d2")), _MONTH[m.group("m2").lower()], int(m.group("y2"))
        elif m.group("m3"):
            d, mo, y = int(m.group("d3")), int(m.group("m3")), int(m.group("y3"))
        else:
            d, mo, y = int(m.group("d4")), int(m.group("m4")), int(m.group("y4"))
        try:
            day = date(y, mo, d)  # "31 febbraio" is no date
        except ValueError:
            continue
        out.append((day.isoformat(), m.start(), m.end()))
    return out


_TYPES: list[tuple[str, str]] = [
    ("DL", r"decreto[- ]legge|decree[- ]law|D\.\s?L\.|DL"),
    ("DLGS", r"decreto legislativo|legislative decree|D\.\s?Lgs\.?|DLgs"),
    ("DD", r"decreto direttoriale|directorial decree|D\.\s?D\.|DD"),
    ("DM", r"decreto ministeriale|ministerial decree|D\.\s?M\.|DM"),
    ("L", r"legge|law"),
    ("NOTA", r"nota ministeriale|nota|ministerial note|note"),
    ("REG", r"regolamento \((?:UE|CE)\)|regolamento|regulation \((?:EU|EC)\)|regulation"),
    ("DECREE", r"decreto|decree"),
]
_TYPE_RE = re.compile(
    r"(?<![\w.])(?:" + "|".join(f"(?P<{name}>{pat})" for name, pat in _TYPES) + r")(?![\w])",
    re.IGNORECASE,
)
_NUM_AFTER = re.compile(
    r"^\s*,?\s*(?:(?:prot\.|protocollo)\s*)?(?:n\.|no\.|n°|nr\.?|numero|number|num\.)?\s*"
    r"(?P<num>\d{1,5})(?:\s*/\s*(?P<suffix>[A-Za-z]{2,5}))?(?:\s*/\s*(?P<year>(?:19|20)\d\d))?(?![\d])",
    re.IGNORECASE,
)
_NUM_LATER = re.compile(
    r"^\s*,?\s*(?:n\.|no\.|n°|nr\.?|numero|number)\s*(?P<num>\d{1,5})(?:\s*/\s*(?P<suffix>[A-Za-z]{2,5}))?"
    r"(?:\s*/\s*(?P<year>(?:19|20)\d\d))?(?!\d)",
    re.IGNORECASE,
)
_OF = re.compile(r"^\s*,?\s*(?:del|dell'|of|dated|of the)?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ActRef:
    type: str  # DD, DM, DL, DLGS, L, NOTA, REG or DECREE (a decree of unstated kind)
    number: str | None
    suffix: str | None
    date: str | None
    year: int | None
    start: int = 0
    end: int = 0

    @property
    def key(self) -> str | None:
        """A matching key: type and number (the year is used only to disambiguate)."""
        return f"{self.type}:{self.number}" if self.number else None

    @property
    def label(self) -> str:
        parts = [self.type if self.type != "DECREE" else "Decree"]
        if self.number:
            parts.append(self.number + (f"/{self.suffix}" if self.suffix else ""))
        if self.date:
            parts.append(f"of {self.date}")
        elif self.year:
            parts.append(f"({self.year})")
        return " ".join(parts)

    def matches(self, act_type: str | None, number: str | None, year: int | None) -> bool:
        if not self.number or not number or self.number != str(number).split("/")[0]:
            return False
        if self.type not in ("DECREE",) and act_type and self.type != act_type.upper():
            if not (self.type in ("DD", "DM") and act_type.upper() in ("DD", "DM", "DECREE")):
                return False
        return not (self.year and year and self.year != int(year))


def parse_acts(text: str) -> list[ActRef]:
    """Act references such as "D.D. n. 257/Ric del 30 maggio 2012", "decreto direttoriale 3 agosto
    2016, n. 1610", "DM 298/2021", "Law 123/2017"."""
    refs: list[ActRef] = []
    for m in _TYPE_RE.finditer(text):
        act_type = next(name for name, _ in _TYPES if m.group(name))
        rest = text[m.end() : m.end() + 80]
        num = suffix = year = date = None
        consumed = 0
        nm = _NUM_AFTER.match(rest)
        if nm and not DATE_RE.match(rest.lstrip(" ,")):
            num, suffix, year = nm.group("num"), nm.group("suffix"), nm.group("year")
            consumed = nm.end()
            after = rest[consumed:]
            om = _OF.match(after)
            dm = DATE_RE.match(after[om.end() :]) if om else None
            if dm:
                date = parse_dates(dm.group(0))[0][0] if parse_dates(dm.group(0)) else None
                consumed += om.end() + dm.end()
        else:
            dm = DATE_RE.match(rest.lstrip(" ,"))
            if dm:
                parsed = parse_dates(dm.group(0))
                date = parsed[0][0] if parsed else None
                lead = len(rest) - len(rest.lstrip(" ,"))
                after = rest[lead + dm.end() :]
                nm2 = _NUM_LATER.match(after)
                consumed = lead + dm.end()
                if nm2:
                    num, suffix, year = nm2.group("num"), nm2.group("suffix"), nm2.group("year")
                    consumed += nm2.end()
        if suffix and suffix.isdigit():
            suffix = None
        if num is None and date is None:
            continue
        if act_type in ("NOTA", "L", "REG") and num is None:
            continue
        if num is not None and act_type == "NOTA" and not re.search(r"prot|n\.|no\.|numero", rest[:20], re.I):
            continue
        y = int(year) if year else (int(date[:4]) if date else None)
        refs.append(ActRef(act_type, num, suffix.capitalize() if suffix else None, date, y, m.start(),
                           m.end() + consumed))
    return refs


def act_keys(text: str) -> list[str]:
    """Distinct act keys mentioned in a text, in order of first mention."""
    seen: dict[str, None] = {}
    for ref in parse_acts(text):
        if ref.key:
            seen.setdefault(ref.key, None)
    return list(seen)


def format_act(act_type: str, number: str, date_iso: str, language: str, fallback: str = "") -> str:
    """An act's short name in the answer's language: "DD 1610 del 3 agosto 2016" / "DD 1610 of 3 August 2016"."""
    if not act_type or not (number or date_iso):
        return fallback
    parts = [act_type.upper() if len(act_type) <= 4 else act_type, number]
    label = " ".join(p for p in parts if p)
    try:
        y, m, d = (int(x) for x in str(date_iso)[:10].split("-"))
    except ValueError:
        return label or fallback
    months = IT_MONTHS if language == "it" else [m_.capitalize() for m_ in EN_MONTHS]
    return f"{label} {'del' if language == 'it' else 'of'} {d} {months[m - 1]} {y}"
