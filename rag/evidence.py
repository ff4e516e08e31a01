"""Evidence selection: which sentences of the retrieved chunks answer the question.

Used by the extractive answerer (to compose the answer) and by the amendment step (to quote the
amending act). Sentences are scored by the question's weighted terms they contain (IDF-weighted, the
chunk's section title counting a little), by the rank of their chunk, and by whether they carry what the
question asks for (a date, an amount, a count, a contact, a name, a score). When nothing carries it, the
answer is "not found" rather than a loosely related quote.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.acts import parse_dates
from rag.glossary import Glossary
from rag.models import StoredChunk
from rag.sentences import sentence_spans
from rag.text_analysis import analyze, fold

ANSWER_TYPES: list[tuple[str, re.Pattern[str]]] = [
    ("gazette", re.compile(r"\b(gazzetta|gazette|g\.u\.|gu|gurs?)\b")),
    ("contact", re.compile(r"\b(pec|e-?mail|mail|telefono|telephone|phone|indirizz\w*|address|contatt\w*|contact\w*"
                           r"|sito web|website|url|fax|recapit\w*|ufficio relazioni)\b")),
    ("score", re.compile(r"\b(punteggio|punteggi|score|scores|scored|voto|punti|points)\b")),
    ("duration", re.compile(r"\b(quanto tempo|entro quanto tempo|per quanto tempo|ogni quanto|quanto dura\w*|how long"
                            r"|how often|within how|durata|duration|quanti (?:mesi|giorni|anni)|how many (?:months|days"
                            r"|years))\b")),
    ("date", re.compile(r"\b(quando|entro quando|scadenz\w*|scadeva|termine|data|date|when|deadline|until|by when"
                        r"|giorno|day|orario|ora|time|what time|a che ora|aperto|opened|open|chiusura|closed)\b")),
    ("amount", re.compile(r"\b(quanto|quanti soldi|dotazione|importo|budget|how much|amount|funding"
                          r"|finanziament\w*|stanziat\w*|risorse|lump sum|money|soldi|fondi|funds|valeva|vale|worth"
                          r"|ammonta\w*|totale|total value|value of|valore)\b")),
    ("count", re.compile(r"\b(quanti|quante|numero di|how many|number of|numero massimo|maximum number)\b")),
    ("person", re.compile(r"\b(presidente|president|presiede|chairs?|chaired|direttore|director|responsabile"
                          r"|ministro|minister|signed|firmat\w*)\b")),
    ("who", re.compile(r"\b(chi|who)\b")),
    ("definition", re.compile(r"\b(cos'e|che cos'e|cosa e|cosa si intende|what is a|what is an|what are the|define"
                              r"|definizione|definition|meaning|significa)\b")),
    ("yesno", re.compile(r"^(e |and )?(puo|possono|potevano|poteva|e possibile|e ammess\w*|sono ammess\w*|c'e|ce |is"
                         r"|are|can|could|does|do|did|was|were|may|must|deve|devono|serve|esiste|has|have|had)\b")),
    ("list", re.compile(r"\b(quali|which|what are|elenca|list|elenco|contenere|contenuto|contain|contained|include"
                        r"|included|comprendere)\b")),
]

_AMOUNT = re.compile(r"\d[\d.,]*\s*(?:milion\w*|million\w*|miliard\w*|billion|mila|thousand|euro|%|per cento|percent)"
                     r"|€\s*\d|\b(?:un|one|a) (?:dodicesimo|twelfth)|\b1/\d{1,2}\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b|\b(?:uno|due|tre|quattro|cinque|sei|sette|otto|nove|dieci|undici|dodici"
                     r"|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b", re.IGNORECASE)
# E-mail, web address, or an Italian phone number (landline 0..., mobile 3..., optional +39); "1654/2016"
# is an act number, not a phone.
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|\bhttps?://|\bwww\.|\bpec\s*:|\btel\.?\s*:?\s*\+?\d"
                      r"|(?<![\d/])(?:\+39[\s.]?)?(?:0\d{1,3}|3\d{2})[\s.]?\d{3,4}[\s.]?\d{3,4}(?![\d/])",
                      re.IGNORECASE)
_TIME = re.compile(r"\bore \d{1,2}[:.]\d\d|\b\d{1,2}:\d\d\b|\b\d{1,2}(?:am|pm)\b", re.IGNORECASE)
_MONTH_YEAR = re.compile(r"\b(?:gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre"
                         r"|dicembre|january|february|march|april|may|june|july|august|september|october|november"
                         r"|december)\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d\b", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z][a-zà-ù]+(?:\s+[A-Z][a-zà-ù]+)+\b")
_SCORE = re.compile(r"\b(punteggio|punti|score|points|ranked|classificat\w*|posto|place)\b", re.IGNORECASE)
DISCLAIMER = re.compile(r"^(sintesi non ufficiale|unofficial (?:summary|profile)|(?:scheda|profilo) non ufficiale"
                        r"|nota:? sintesi)", re.IGNORECASE)


PAIR_WEIGHT = 0.2
SAME_LANGUAGE_BONUS = 0.03
PRIMARY_TYPES = ("notice", "decree", "law", "guideline")
PRIMARY_BONUS = 0.1
HEARSAY_PENALTY = 0.1
RECITAL_PENALTY = 0.1
RECITAL = re.compile(r"^\s*(?:vist[oaie]|considerat[oaie]|ritenut[oaie]|preso atto|tenuto conto|having regard|whereas)\b",
                     re.IGNORECASE)
HEARSAY = re.compile(r"\b(?:rivist[ae]|stampa|giornal[ei]|quotidian[oi]|magazines?|press|newspapers?|reported"
                     r"|riportat[oa] da|secondo (?:alcune|una|un'altra|altre) font\w*|one (?:other )?source"
                     r"|some sources|according to (?:the )?press)\b", re.IGNORECASE)
_GAZETTE = re.compile(r"\b(?:gazzetta|gazette|G\.\s?U\.|GU)\b", re.IGNORECASE)
TYPED_KINDS = ("gazette", "date", "amount", "count", "contact", "score", "person", "duration")
_DURATION = re.compile(r"\b(?:\d+|un|una|uno|due|tre|quattro|cinque|sei|sette|otto|nove|dieci|dodici|diciotto|ventiquattro"
                       r"|trenta|sessanta|novanta|one|two|three|four|five|six|seven|eight|nine|ten|twelve|eighteen"
                       r"|thirty|sixty|ninety|a|an)\s+(?:\w+\s+)?(?:mes[ei]|giorn[oi]|ann[oi]|settiman[ae]|or[ae]|months?"
                       r"|days?|years?|weeks?|hours?)\b|\b(?:ogni anno|annual\w*|annually|every year|yearly|triennal\w*"
                       r"|three-year|biennal\w*|mensil\w*|monthly)\b", re.IGNORECASE)


_FOCUS = re.compile(
    r"\b(?:how many|how much|number of|numero di|quanti|quante|quanta|which|what|quale|quali|che)\s+"
    r"((?:[a-zà-ù'-]+\s*){1,4})", re.IGNORECASE)
_FOCUS_SKIP = {"the", "a", "an", "of", "il", "lo", "la", "i", "gli", "le", "un", "una", "di", "del", "della", "is",
               "are", "was", "were", "did", "does", "do", "e", "è", "era", "sono", "ha", "hanno", "has", "have",
               "kind", "type", "tipo", "sort", "cosa", "per", "to", "in", "on", "at", "it", "its", "their", "this"}


_ADJECTIVES = {"grandi", "grande", "principali", "principale", "nuovi", "nuove", "nuovo", "nuova", "maggiori", "primi",
               "prime", "ultimi", "ultime", "altri", "altre", "main", "new", "broad", "big", "major", "key", "first",
               "last", "other", "public", "pubblici", "pubbliche", "private", "privati"}


def _new_names(sentence: str, question_terms: set[str]) -> list[str]:
    """Proper names a sentence gives that the question does not ("CNR-IMM", "Leonardo"): the instances a
    "which body / which companies" question asks for, though the sentence never says "body"."""
    words = re.findall(r"(?<!^)(?<![.!?] )\b[A-Z][\w'-]+", sentence.strip())
    return [w for w in words if not set(analyze(w, "en")) & question_terms and not set(analyze(w, "it")) & question_terms
            and w.lower() not in _FOCUS_SKIP]


def focus_words(question: str) -> list[str]:
    """The noun the question asks about ("how many *members*", "in quale *Gazzetta Ufficiale*")."""
    m = _FOCUS.search(question)
    if not m:
        return []
    raw = re.findall(r"[a-zà-ù'-]+", m.group(1).lower())
    if raw and raw[0] in ("one", "ones", "uno", "una", "of", "di", "between", "tra", "fra"):
        return []  # "which one is right?", "quale dei due": a pronoun, no noun to look for
    if raw and raw[0] in ("did", "does", "do", "can", "could", "should", "will", "would", "must", "has", "had", "have"):
        return []  # "what did a proposal have to contain?": a verb question, no noun to look for
    words = [w for w in raw if w not in _FOCUS_SKIP and not _NUMBER.fullmatch(w)]
    if len(words) > 1 and words[0] in _ADJECTIVES:
        return words[:2]  # "quanti grandi ambiti": the noun comes after the adjective
    return words[:1]


_INTERROGATIVE = re.compile(r"\b(?:chi|cosa|che|quale|quali|qual|quanto|quanti|quante|quanta|quando|dove|come|perche"
                            r"|who|what|which|when|where|how|why|whom|whose)\b")


def answer_type(question: str) -> str:
    q = fold(question).strip()
    for name, pattern in ANSWER_TYPES:
        if pattern.search(q):
            return name
    if q.endswith("?") and not _INTERROGATIVE.search(q):
        return "yesno"  # "Il DD 18 modifica l'avviso 257/Ric?": Italian asks yes or no without an auxiliary
    return "other"


_LEADING_NUMBER = re.compile(r"^\s*(?:\d{1,2}[.)]|[a-z]\))\s+")
_ROLE_WORDS = re.compile(r"\b(presiden\w*|presied\w*|chair\w*|dirett(?:ore|rice|ori)|directors?|responsabil\w*|ministr[oi]"
                         r"|ministers?|capo|head of)\b", re.IGNORECASE)  # a person's role; "signed" alone names nobody


def carries(kind: str, sentence: str, question_terms: set[str] | None = None, lang: str = "en",
            focus: set[str] | None = None) -> bool:
    """Does the sentence carry the kind of thing the question asks for?"""
    sentence = _LEADING_NUMBER.sub("", sentence)  # "5. Il cluster..." numbers a paragraph, states nothing
    if kind == "count" and question_terms:
        # A count answers "how many X" only when a number stands next to X ("456 participants").
        words = re.findall(r"[\w'-]+", sentence)
        for i, word in enumerate(words):
            if _NUMBER.fullmatch(word) and not re.fullmatch(r"(?:19|20)\d\d", word):
                following = " ".join(words[i + 1 : i + 5])
                if set(analyze(following, lang)) & (focus or question_terms):
                    return True
        return False
    if kind == "person":
        return bool(_ROLE_WORDS.search(sentence)) and bool(_NAME.search(sentence))
    if kind == "who":
        return bool(re.search(r"(?<!^)(?<![.!?] )\b[A-Z][\w.]+", sentence.strip()))
    if kind == "contact":
        return bool(_CONTACT.search(sentence))
    if kind == "score":
        return bool(_SCORE.search(sentence)) and bool(re.search(r"\d", sentence))
    if kind == "date":
        return bool(parse_dates(sentence) or _TIME.search(sentence) or _MONTH_YEAR.search(sentence))
    if kind == "amount":
        return bool(_AMOUNT.search(sentence))
    if kind == "gazette":
        return bool(_GAZETTE.search(sentence))
    if kind == "duration":
        return bool(_DURATION.search(sentence))
    if kind == "count":
        return bool(_NUMBER.search(sentence))
    if kind == "person":
        return bool(_NAME.search(sentence))
    return True


@dataclass
class Evidence:
    chunk: StoredChunk
    rank: int
    start: int
    end: int
    text: str
    coverage: float
    typed: bool
    score: float
    terms: frozenset[str] = frozenset()
    own_terms: frozenset[str] = frozenset()

    @property
    def unknown(self) -> bool:
        return bool(UNKNOWN.search(self.text))


# Sentences saying the documents do not know something: quoting them is not an answer.
UNKNOWN = re.compile(r"\b(non (?:è|sono|e') not[io]|non (?:è|sono) (?:indicat|riportat|specificat)\w*|not known"
                     r"|(?:is|are) not (?:given|stated|known|reported)|(?:date|day|amount|name) not (?:given|known|stated)"
                     r"|data non (?:indicata|nota|riportata)|non (?:è|sono) stat[oi] trovat\w*"
                     r"|no (?:such|explicit) [^.;]{0,160}?(?:was|were|is|are) (?:found|given|stated)|unknown|incert\w*|uncertain"
                     r"|nessun[oa]? [^.;]{0,160}?(?:è|sono) stat[oi] trovat\w*"
                     r"|(?:corpus|documents?|documenti|this page|questa pagina) (?:does|do) not (?:list|give|name|state|say)"
                     r"|(?:il corpus|i documenti|questa pagina) non (?:li |le |lo |la )?(?:elenca|elencano|indica|indicano"
                     r"|riporta|riportano))\b", re.IGNORECASE)


_ARTICLE_HEADING = re.compile(r"^\s*(?:Art\.|Articolo|Article)\s*\d+[\w-]*\s*[-–—:]\s*\S[^.;]*$", re.IGNORECASE)


SIGNATURE = re.compile(r"^\s*(?:il|la|the)\s+(?:capo(?: del)? dipartimento|direttore generale|ministro|ministra|dirigente"
                       r"|minister|head of department|director[- ]general)\b[^.;:]{0,60}$", re.IGNORECASE)
SIGNING_TERMS = {"firm", "firmat", "firma", "firmatar", "sign", "signatur", "signatori"}


def sentences_of(chunk: StoredChunk, signatures: bool = False) -> list[tuple[int, int, str]]:
    """Candidate evidence: whole sentences and table rows, without headings, questions or disclaimers.
    ``signatures``: the question asks who signed, so an act's signature line ("Il Capo Dipartimento")
    is evidence too, though it reads like a heading."""
    out = []
    text = chunk.text
    for a, b in sentence_spans(text):
        pieces = [(a, b)]
        if " | " in text[a:b]:  # a table: each row is a statement of its own
            pieces, pos = [], a
            for line in text[a:b].split("\n"):
                if line.strip():
                    start = text.index(line, pos)
                    pieces.append((start, start + len(line)))
                    pos = start + len(line)
        for x, y in pieces:
            s = text[x:y]
            if DISCLAIMER.match(s) or len(s) < 12 or s.rstrip().endswith("?"):
                continue  # disclaimers and questions (FAQ headings) are not evidence
            if signatures and SIGNATURE.match(s) and chunk.metadata.get("doc_type") in PRIMARY_TYPES:
                out.append((x, y, s))
                continue
            if " | " not in s and not re.search(r"[.;:!?»\")]$", s.rstrip()) and len(s.split()) <= 20:
                continue  # a heading line, not a statement
            if (_ARTICLE_HEADING.match(s) or s.strip() == str(chunk.metadata.get("section", "")).split(" > ")[-1].strip()
                    or (s.strip() == str(chunk.metadata.get("title", "")).strip() and not s.rstrip().endswith("."))):
                continue  # "Art. 11 - Termini per la presentazione delle domande", a document title: headings
            out.append((x, y, s))
    return out


class EvidenceScorer:
    """Scores the sentences of retrieved chunks against a question's weighted terms."""

    def __init__(self, weights: dict[str, float], idf: dict[str, float], kind: str,
                 act_keys: list[str] | None = None, language: str | None = None,
                 focus: set[str] | None = None, equivalents: dict[str, list[str]] | None = None,
                 cluster_keys: list[str] | None = None) -> None:
        self.kind = kind
        self.act_numbers = {k.split(":")[1] for k in act_keys or []}
        self.language = language
        self.question_terms = set(weights)
        self.asks_signer = bool(self.question_terms & SIGNING_TERMS)  # "chi l'ha firmato?"
        self.focus = focus or set()
        # Terms no document contains cannot be matched by any sentence; they must not dilute coverage.
        # IDF is damped (square root): a rare verb of the question ("metteva") must not outweigh the
        # nouns that the answer sentence shares with it.
        self.weights = {t: w * math.sqrt(idf.get(t, 1.0)) for t, w in weights.items() if idf.get(t, 1.0) > 0}
        originals = [t for t, w in weights.items() if w >= 1.0 and t in self.weights] or list(self.weights)
        # Coverage counts concepts: each of the question's own terms, matched by itself or by one of its
        # glossary equivalents. A word no document uses ("promosso") is still a concept when an
        # equivalent is in the corpus ("promoted"), weighted by that equivalent.
        self.concepts: list[tuple[str, float, list[str]]] = []
        for t, w in weights.items():
            if w < 1.0:
                continue
            alts = [a for a in (equivalents or {}).get(t, []) if idf.get(a, 1.0) > 0 and a != t]
            if idf.get(t, 1.0) > 0:
                self.concepts.append((t, w * math.sqrt(idf.get(t, 1.0)), alts))
            elif alts:
                self.concepts.append((t, w * max(math.sqrt(idf.get(a, 1.0)) for a in alts), alts))
        self.total = sum(c[1] for c in self.concepts) or 1.0
        # The question's subject (years, act numbers and types, cluster names) is stated once by a
        # document, in its title or section, and not repeated by each sentence: a sentence of the right
        # document counts it as said.
        self.subject = {t for t in weights if re.fullmatch(r"\d{2,5}|dd|dm|dl|ddg|ric|d\.d|d\.m", t)}
        names = [p for e in Glossary.load().clusters if e["key"] in (cluster_keys or []) for p in e["phrases"]]
        self.subject |= {t for name in [*(cluster_keys or []), *names] for lg in ("en", "it") for t in analyze(name, lg)}
        self.recitals_asked = bool(re.search(r"\b(recital|premess|visto|vista|visti|considerato|preamble)", " ".join(weights)))
        # Adjacent pairs of the question's own terms ("partecipato a tutti gli otto cluster"): a sentence
        # repeating the question's wording, not just its words, is more likely the one that answers it.
        self.pairs = {frozenset(p) for p in zip(originals, originals[1:], strict=False) if p[0] != p[1]}

    def coverage(self, terms: set[str] | frozenset[str], cross: bool = False) -> float:
        """Weighted share of the question's concepts found. A concept is found by its own term (1.0) or
        by a glossary equivalent (1.0 in a sentence of the other language, where the equivalent is the
        only way to say it; 0.8 for a same-language synonym); a shared 5-letter stem prefix counts 0.7,
        which catches Italian-English cognates ("presented" / "presentazione")."""
        prefixes = {t[:5] for t in terms if len(t) >= 5}
        alt_credit = 1.0 if cross else 0.8
        got = 0.0
        for term, weight, alts in self.concepts:
            if term in terms:
                got += weight
                continue
            best = 0.0
            for t, credit in [(term, 1.0)] + [(a, alt_credit) for a in alts]:
                if t in terms:
                    best = max(best, credit)
                elif len(t) >= 5 and t[:5] in prefixes:
                    best = max(best, 0.7 * credit)
            got += weight * best
        return min(1.0, got / self.total)

    def score(self, chunks: list[StoredChunk], limit: int = 8) -> list[Evidence]:
        out: list[Evidence] = []
        top = max((c.score for c in chunks[:limit]), default=1.0) or 1.0
        for rank, chunk in enumerate(chunks[:limit]):
            lang = str(chunk.metadata.get("language", "en"))
            context = set(analyze(f"{chunk.metadata.get('section', '')} {chunk.metadata.get('title', '')} "
                                  f"{chunk.metadata.get('act', '')} {chunk.text}", lang))
            for a, b, sentence in sentences_of(chunk, signatures=self.asks_signer):
                sequence = analyze(sentence, lang)
                terms = set(sequence)
                cross = bool(self.language) and lang != self.language
                cov = self.coverage(terms | (context & self.subject), cross)
                cov_ctx = self.coverage(terms | context, cross)
                coverage = 0.65 * cov + 0.35 * cov_ctx
                typed = carries(self.kind, sentence, self.question_terms, lang, self.focus)
                if self.focus and self.kind in ("other", "list", "definition"):
                    names = self.kind == "list" and bool(_new_names(sentence, self.question_terms))
                    score_focus = 0.15 if terms & self.focus or names else -0.15
                else:
                    score_focus = 0.0
                length_penalty = 0.05 if len(sentence) > 400 else 0.0
                prior = max(0.0, chunk.score / top) if top > 0 else 0.0
                score = coverage + 0.25 * prior - 0.01 * rank - length_penalty + score_focus
                if self.pairs:
                    own_pairs = {frozenset(p) for p in zip(sequence, sequence[1:], strict=False)}
                    score += PAIR_WEIGHT * len(self.pairs & own_pairs) / len(self.pairs)
                if self.act_numbers:
                    key = str(chunk.metadata.get("act_key", ""))
                    if key and key.split(":")[-1] in self.act_numbers:
                        score += 0.1  # the act the question names
                    elif key:
                        score -= 0.05  # another act
                if self.language and lang == self.language:
                    score += SAME_LANGUAGE_BONUS
                if RECITAL.match(sentence) and not self.recitals_asked:
                    score -= RECITAL_PENALTY  # "Visto il decreto ...": what the act rests on, not what it says
                if HEARSAY.search(sentence):
                    score -= HEARSAY_PENALTY  # "one magazine reported ...": after what the acts state
                if chunk.metadata.get("doc_type") in PRIMARY_TYPES:
                    score += PRIMARY_BONUS  # the act itself, before an overview that restates it
                if self.kind in TYPED_KINDS:
                    score += 0.25 if typed else -0.25
                out.append(Evidence(chunk, rank, a, b, sentence, coverage, typed, score, frozenset(terms | context),
                                    frozenset(terms)))
        out.sort(key=lambda e: -e.score)
        return out


def typed_values(kind: str, sentence: str) -> set[str]:
    """The values of the asked-for kind a sentence states (normalised), for spotting conflicts."""
    if kind == "date":
        return {d for d, _, _ in parse_dates(sentence)}
    if kind == "amount":
        return {re.sub(r"[^\d]", "", m.group(0)) + re.sub(r"[\d\s.,]", "", m.group(0)).lower()[:3]
                for m in _AMOUNT.finditer(sentence) if re.search(r"\d", m.group(0))}
    if kind == "count":
        return {m.group(0).lower() for m in _NUMBER.finditer(sentence)}
    return set()


def idf_table(snapshot, terms: list[str]) -> dict[str, float]:  # noqa: ANN001 - rag.index.Snapshot
    """IDF of the question's terms from the keyword index's document frequencies."""
    n = max(len(snapshot), 1)
    dfs = snapshot.keyword.document_frequencies(terms)
    return {t: (math.log(1 + (n - df + 0.5) / (df + 0.5)) if df else 0.0) for t, df in dfs.items()}

