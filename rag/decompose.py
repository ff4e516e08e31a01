"""Split a question that asks two or more things into parts that are answered one by one.

"Chi coordina SmartCommunitiesTech e quando è stato lanciato il cluster?" asks for a name and a date. One
retrieval and one evidence ranking for the whole question find the sentence about one of them and miss the
other (measured on the gold set: before decomposition, 43% of the multi-document questions had all their key
facts). Each part is retrieved and answered on its own; a part that does not name its subject ("quando è
stato lanciato il cluster?") inherits the subject of the first part, and an elliptical part ("and when?",
"e in quale forma?") inherits the whole first part.

Only clear cases are split: a coordinating conjunction followed by an interrogative word ("... e quando
...", "..., and how many ..."), "How does X compare with Y", or two act numbers coordinated in one question.
A relative clause (", which admitted none ...") is not a second question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.followup import subject_of
from rag.glossary import Glossary
from rag.text_analysis import analyze_query, fold

_WH_IT = (r"quando|quanto|quanti|quante|quanta|chi|quale|quali|qual|come|dove|perch[eé]|cosa|che cosa|ogni quanto"
          r"|entro quando|entro quanto|a quando|a quanto|a chi|a quale|in quale|in quali|in che|di che|di quale"
          r"|da chi|da quale|per quale|con quale|su quale|su quanti|in quanti|per quanto|da quando|fino a quando")
_WH_EN = (r"when|how much|how many|how long|how|who|whom|whose|which|what|where|why|in which|on which|to whom"
          r"|by whom|from which|at what|in what|for how long|under which|by when|until when|since when|since which")
_SPLIT = re.compile(rf"(?:,\s*|\s+)(?:e|ed|and)\s+(?=(?:{_WH_IT}|{_WH_EN})\b)", re.IGNORECASE)
_COMPARE = re.compile(r"^(?P<head>.*?)\b(?:compare|compares|compared)\s+(?:with|to)\s+(?P<b>.+)$", re.IGNORECASE)
_CONFRONTO = re.compile(r"^(?P<head>.*?)\b(?:rispetto a|in confronto a|a confronto con)\s+(?P<b>.+)$", re.IGNORECASE)
# Meta sentences around a help-desk question ("Cosa gli diciamo?", "What should I tell them?").
_META = re.compile(
    r"^(?:cosa|che cosa|come)\s+(?:gli|le|li|lo)?\s*(?:diciamo|dico|rispondiamo|rispondo|posso dire|possiamo dire|"
    r"devo rispondere|rispondere)\b.*$"
    r"|^(?:what|how)\s+(?:should|do|can|could|shall)\s+(?:i|we)\s+(?:tell|answer|reply|say|respond)\b.*$"
    r"|^what (?:can|should) i tell (?:him|her|them)\b.*$",
    re.IGNORECASE)
_SEEN_FIGURES = re.compile(
    r"(?:(?<=[.?!:;])|^)\s*[^.?!:;]*\b(?:cifre|cifra|figures?|numbers?|dati|importi)\b[^.?!:;]*"
    r"\b(?:non coincidono|diverse|differenti|different|differ|don't match|do not match|discordanti)\b[^.?!:;]*[.?!]?",
    re.IGNORECASE)
_ACT = re.compile(r"\b(?:D\.?D\.?|D\.?M\.?|DD|DM|DL|decreto|decree)\s*(?:n\.\s*)?\d{2,5}\b", re.IGNORECASE)
# "Un utente chiede ...", "A journalist asks us ...": who asks is not part of the question.
_REPORTED = re.compile(
    r"^(?:(?:un|una|uno|il|la|lo|l')\s*[\w']+(?:\s+[\w']+){0,3}?\s+(?:ci\s+)?(?:chiede|domanda|vuole sapere|scrive|telefona)"
    r"(?:\s+(?:chiedendo|per sapere|per chiedere|e chiede))?\s*(?:se\s+|:\s*)?"
    r"|(?:a|an|the)\s+[\w']+(?:\s+[\w']+){0,3}?\s+(?:asks|wants to know|writes|emails|e-mails|calls)"
    r"(?:\s+(?:us|in))?(?:\s+(?:asking|to ask))?\s*(?:whether\s+|if\s+|:\s*)?)",
    re.IGNORECASE)
MAX_PARTS = 3


@dataclass(frozen=True)
class Part:
    text: str  # the part as the user wrote it (answer type and focus come from it)
    query: str  # what is retrieved for it: the part plus the subject it inherits


def strip_meta(question: str) -> str:
    """Drop what asks nothing about the documents: a "What should I tell them?" sentence, a remark that
    the user has seen two figures ("io ho trovato due cifre diverse"), which the answerer reads from the
    question itself, and who is asking ("Un giornalista ci scrive: ...")."""
    sentences = re.split(r"(?<=[?.!])\s+", question.strip())
    kept = [s for s in sentences if not _META.match(s.strip())]
    core = " ".join(kept) if kept else question.strip()
    without = _SEEN_FIGURES.sub("", core).strip()
    core = without if len(without.split()) >= 3 else core
    unreported = _REPORTED.sub("", core).strip()  # "Un utente chiede quanti ..." → "quanti ..."
    return unreported[0].upper() + unreported[1:] if len(unreported.split()) >= 3 else core


def _content_terms(text: str, lang: str | None) -> list[str]:
    """The part's content words (in the language that leaves fewest: its own stopwords are removed)."""
    langs = [lang] if lang in ("it", "en") else ["it", "en"]
    return min((analyze_query(text, lg) for lg in langs), key=len)


def decompose(question: str, lang: str | None = None) -> list[Part]:
    """The parts of a multi-part question; a single part (the question itself) when it asks one thing."""
    core = strip_meta(question)
    # Two questions in a row ("... prima o dopo l'apertura? Con quali date?") are two parts.
    sentences = [x for x in re.split(r"(?<=\?)\s+(?=[^(\s])(?=[^?]*\?\s*$)", core) if x.strip()]
    pieces = [p.strip(" ,;") for x in sentences for p in _SPLIT.split(x) if p.strip(" ,;")]
    if len(pieces) < 2:
        pieces = _split_compare(core) or _split_acts(core) or [core]
    if len(pieces) < 2:
        return [Part(question, question)]
    pieces = [_REPORTED.sub("", p) or p for p in pieces[:MAX_PARTS]]
    elliptical = [len(_content_terms(p, lang)) <= 1 for p in pieces]
    if all(elliptical):
        return [Part(question, question)]
    parts = []
    for i, piece in enumerate(pieces):
        text = _as_question(piece)
        if elliptical[i]:
            # "e in quale forma?", "When and where ...": the nearest full part is its context.
            order = list(range(i - 1, -1, -1)) + list(range(i + 1, len(pieces)))
            j = next(k for k in order if not elliptical[k])
            parts.append(Part(text, f"{text} ({pieces[j].rstrip('?')})"))
            continue
        donor = next(k for k in range(len(pieces)) if not elliptical[k])
        inherited = _inherit(piece, pieces[donor]) if i != donor else []
        parts.append(Part(text, f"{text} ({'; '.join(inherited)})" if inherited else text))
    return parts


def _subjects(text: str) -> dict[str, list[str]]:
    """What a part is about, by kind: acts (references and aliases), clusters, years, other names."""
    glossary = Glossary.load()
    out: dict[str, list[str]] = {"act": [], "cluster": [], "year": [], "name": []}
    folded = fold(text)
    out["act"] = [m.group(0) for m in _ACT.finditer(text)]
    out["act"] += [p for e in glossary.acts for p in e["phrases"] if fold(p) in folded]
    out["cluster"] = glossary.cluster_keys(text)
    out["year"] = re.findall(r"\b(?:19|20)\d\d\b", text)
    out["name"] = [s for s in subject_of(text) if not re.fullmatch(r"(?:19|20)\d\d", s)
                   and not _ACT.search(s) and s.lower() not in _GENERIC_NAMES]
    return out


_GENERIC_NAMES = {"gazzetta ufficiale", "court of auditors", "corte dei conti", "directorate-general",
                  "direzione generale", "mezzogiorno", "centro-nord"}


def _inherit(piece: str, donor: str) -> list[str]:
    """The subject a later part leaves implicit ("quando è stato lanciato il cluster?"), from the first
    full part: its acts if the part names none, its years if the part names no act and no year, its
    clusters and names if the part names none."""
    own, theirs = _subjects(piece), _subjects(donor)
    out: list[str] = []
    if not own["act"]:
        out += theirs["act"]
    if not own["act"] and not own["year"]:
        out += [y for y in theirs["year"] if not any(y in a for a in out)]
    if not own["cluster"] and not own["name"]:
        out += [n for n in theirs["name"] + theirs["cluster"] if not any(n.lower() in a.lower() for a in out)]
    return list(dict.fromkeys(out))


def _as_question(piece: str) -> str:
    piece = piece.strip()
    piece = piece[0].upper() + piece[1:] if piece else piece
    return piece if piece.endswith("?") else piece.rstrip(".") + "?"


def _split_compare(core: str) -> list[str] | None:
    """"How does A compare with B?" → "A?", "B?" (each with the head's wording)."""
    for pattern, ask in ((_COMPARE, "What is"), (_CONFRONTO, "Qual è")):
        m = pattern.match(core)
        if m:
            head = re.sub(r"^(?:how|in what way)\s+(?:does|do|did)\s+", "", m.group("head"), flags=re.IGNORECASE)
            head = re.sub(r"^(?:come\s+(?:si\s+)?(?:colloca|sta|va)\s+)", "", head, flags=re.IGNORECASE).strip()
            b = m.group("b").strip()
            if head and b:
                return [head if re.match(r"(?:what|quale|qual)\b", head, re.IGNORECASE) else f"{ask} {head}",
                        f"{ask} {b}"]
    return None


def _split_acts(core: str) -> list[str] | None:
    """"Quando sono stati emanati l'avviso X (DD 1610) e l'avviso Y (DD 1735)?": one part per act."""
    acts = _ACT.findall(core)
    if len({re.sub(r"\D", "", a) for a in acts}) < 2:
        return None
    m = re.match(r"^(?P<head>.*?\b(?:sono stat[ie]|were|are|was|è stat[oa])\s+\w+)\s+(?P<rest>.+)$", core, re.IGNORECASE)
    if not m:
        return None
    halves = re.split(r"\)\s+(?:e|and)\s+", m.group("rest"), maxsplit=1)
    if len(halves) != 2:
        return None
    return [f"{m.group('head')} {halves[0]})", f"{m.group('head')} {halves[1]}"]
