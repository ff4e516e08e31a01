"""The question, analysed once and read by every step: what is asked, in which language, in how many parts,
with what constraints, and by whom.

A help-desk agent often pastes a whole e-mail ("Buongiorno, siamo una PMI pugliese ... vorremmo sapere se
possiamo partecipare ... Cordiali saluti"). The message is reduced to the sentences that ask (a question mark,
a question word at the start, a request cue such as "vorrei sapere" or "could you confirm"; the word lists
are data in ``rag/data/<lang>.yaml``), and the facts about the asker that matter to an answer (the kind of
organisation, the region or country, years) are kept beside them, since eligibility depends on them.
Greetings, sign-offs and who-is-asking framing ("Un'azienda ci scrive: ...") are dropped.

A question asking several things is split into parts, each retrieved and answered on its own: separate
asking sentences, or a coordinator followed by a question word ("... e quando ...", "..., and how many").
A part that leaves its subject implicit inherits the first part's subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.followup import subject_of
from rag.glossary import Glossary
from rag.language import question_language
from rag.lexicon import words
from rag.sentences import split_sentences
from rag.text_analysis import analyze_query, fold
from rag.values import YEAR

MAX_PARTS = 3
_NUMBER = re.compile(r"\b\d[\d.,/]*\d\b|\b\d{3,}\b")


@dataclass(frozen=True)
class Part:
    text: str  # the part as the user wrote it
    query: str  # what is retrieved for it: the part, the subject it inherits, the asker's facts
    context: str = ""  # the question's first part, for a later part that leaves it implicit (lower weight)


@dataclass
class QuestionAnalysis:
    question: str  # as received
    core: str  # the question(s) asked, without greetings, sign-offs and framing
    language: str | None  # of the question (it, en), for stemming; None when unsure
    answer_language: str  # of the answer
    parts: list[Part]
    asker: list[str] = field(default_factory=list)  # "università", "Puglia", "2016"
    numbers: set[str] = field(default_factory=set)  # years and act numbers the question names
    act_keys: list[str] = field(default_factory=list)
    cluster_keys: list[str] = field(default_factory=list)
    rewritten: str | None = None  # a follow-up made whole

    @property
    def query(self) -> str:
        """The whole question's retrieval text."""
        return " ".join(dict.fromkeys(p.query for p in self.parts)) if self.parts else self.core


def _starts_with(text: str, phrases: tuple[str, ...]) -> bool:
    folded = " ".join(re.findall(r"[\w']+", fold(text)))
    return any(folded == fold(p) or folded.startswith(fold(p) + " ") for p in phrases)


def _contains(text: str, phrases: tuple[str, ...]) -> bool:
    folded = " " + " ".join(re.findall(r"[\w']+|:", fold(text))) + " "
    return any(" " + " ".join(re.findall(r"[\w']+|:", fold(p))) + " " in folded for p in phrases)


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in re.split(r"\n+", text):
        out += [s.strip() for s in split_sentences(line) if s.strip()]
    return out


def is_meta(sentence: str, lang: str | None) -> bool:
    """The agent asking how to reply ("Cosa gli rispondiamo?"), not asking the documents."""
    return _starts_with(sentence, words("meta_questions", lang))


def _reported_question(sentence: str, lang: str | None) -> re.Match[str] | None:
    """"... ci chiede se ...", "A company asks who checks ...": a reported verb followed by what is asked."""
    reported = "|".join(re.escape(fold(w)) for w in sorted(words("reported", lang), key=len, reverse=True))
    asked = "|".join(re.escape(fold(w)) for w in sorted(
        [*words("question_words", lang), "se", "whether", "if"], key=len, reverse=True))
    return re.search(rf"\b(?:{reported})\s+(?:(?:us|ci|mi|loro|a noi)\s+)?(?P<rest>(?:{asked})\b.*)$", fold(sentence))


def is_asking(sentence: str, lang: str | None) -> bool:
    s = sentence.strip()
    if is_meta(s, lang):
        return False
    return (s.endswith("?") or _starts_with(s, words("question_words", lang) + words("yes_no_openers", lang))
            or _contains(s, words("request_cues", lang)) or _reported_question(s, lang) is not None)


def _is_greeting(sentence: str, lang: str | None, kind: str) -> bool:
    tokens = re.findall(r"[\w']+", sentence)
    return len(tokens) <= 8 and _starts_with(sentence, words(kind, lang)) and not sentence.strip().endswith("?")


def _unframe(sentence: str, lang: str | None) -> str:
    """"Un'azienda ci scrive: possono ...?" → "possono ...?"; "A company asks whether X" → "X"."""
    head, sep, tail = sentence.partition(":")
    if sep and tail.strip() and _contains(head, words("reported", lang)) and len(head.split()) <= 12:
        return tail.strip()
    m = _reported_question(sentence, lang)
    if m and len(sentence[: m.start("rest")].split()) <= 14 and len(fold(sentence)) == len(sentence):
        rest = sentence[m.start("rest"):].strip()
        rest = re.sub(r"^(?:se|whether|if)\s+", "", rest, flags=re.IGNORECASE)
        return rest[0].upper() + rest[1:] if rest else sentence
    return sentence


def reduce_message(text: str, lang: str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """([(each sentence that asks, the sentence before it when that one does not ask)], the other sentences
    that are not greetings), in message order. The sentence before a question is where its pronouns point
    ("... the national cluster for cultural heritage. Could you tell me which university leads it?")."""
    sentences = _sentences(text)
    if len(sentences) <= 1:
        return [(_unframe(text.strip(), lang), "")], []
    kept: list[str] = []
    for s in sentences:
        if kept and _is_greeting(s, lang, "closings"):
            break  # a sign-off: what follows is a signature
        if _is_greeting(s, lang, "openings") or _is_greeting(s, lang, "closings"):
            continue
        kept.append(s)
    kept = [s for s in kept if not is_meta(s, lang)]
    asking: list[tuple[str, str]] = []
    context: list[str] = []
    for i, s in enumerate(kept):
        if not is_asking(s, lang):
            context.append(s)
            continue
        previous = kept[i - 1] if i and not is_asking(kept[i - 1], lang) else ""
        asking.append((_unframe(s, lang), previous))
    if not asking:
        return [(_unframe(" ".join(kept) or text.strip(), lang), "")], []
    return asking, context


def asker_facts(sentences: list[str], lang: str | None) -> list[str]:
    """The kinds of organisation, places and years an asker states about themselves, as written."""
    found: list[str] = []
    text = " ".join(sentences)
    folded = " " + " ".join(re.findall(r"[\w'-]+", fold(text))) + " "
    for phrase in words("asker_kinds", lang) + words("regions", lang):
        if " " + fold(phrase) + " " in folded and phrase not in found:
            found.append(phrase)
    found += [y for y in YEAR.findall(text) if y not in found]
    return found


def split_parts(sentence: str, lang: str | None) -> list[str]:
    """A sentence asking two things: cut where a coordinator is followed by a question word."""
    wh = sorted((w for w in words("question_words", lang) if len(w) > 3 or w in ("chi", "who", "come", "how")),
                key=len, reverse=True)
    preps = "|".join(re.escape(p) for p in words("part_prepositions", lang))
    pattern = re.compile(r"(?:,\s*|\s+)(?:e|ed|and|oppure|or)\s+(?=(?:(?:" + preps + r")\s+)?(?:"
                         + "|".join(re.escape(w) for w in wh) + r")\b)", re.IGNORECASE)
    pieces = [p.strip(" ,") for p in pattern.split(sentence) if p.strip(" ,")]
    return [p for p in pieces if len(p.split()) >= 2] or [sentence]


def analyse(question: str, history: list[str] | None = None, lang_hint: str | None = None,
            rewritten: str | None = None) -> QuestionAnalysis:
    history = [h for h in (history or []) if h.strip()]
    language, _prob = question_language(question, history)
    asking, context = reduce_message(question, language)
    core = " ".join(q for q, _ in asking)
    pieces: list[tuple[str, str]] = []  # (part, the sentence before its question)
    for sentence, previous in asking:
        pieces += [(p, previous) for p in split_parts(sentence, language)]
    if len(pieces) <= 1:
        pieces = [(core, asking[0][1] if len(asking) == 1 else "")]
    pieces = pieces[:MAX_PARTS]
    asker = [f for f in asker_facts(context, language) if fold(f) not in fold(core)]
    extra = (" " + " ".join(asker)) if asker else ""
    if rewritten and rewritten.startswith(question.rstrip()):
        extra += rewritten[len(question.rstrip()):]  # a follow-up's subject, for every part
    first_subject = subject_of(pieces[0][0]) if len(pieces) > 1 else []
    parts = []
    for i, (text, previous) in enumerate(pieces):
        inherit = ""
        if i and first_subject and not subject_of(text):
            inherit = " " + " ".join(first_subject)
        before = pieces[i - 1][0] if i else previous
        if before and len(analyze_query(text, language)) < 3:
            inherit += " " + before  # "Which cluster is that?", "If so, how many?": what it points at, at full weight
        context_text = " ".join(x for x in (previous, pieces[0][0] if i else "") if x)
        parts.append(Part(text, (text + inherit + extra).strip(), context_text))
    glossary = Glossary.load()
    whole = " ".join(p.query for p in parts)
    answer_language = lang_hint if lang_hint in ("it", "en") else (language or "en")
    numbers = {n.replace(".", "").replace(",", "") for n in _NUMBER.findall(core + " " + extra)}
    return QuestionAnalysis(question=question, core=core, language=language, answer_language=answer_language,
                            parts=parts, asker=asker, numbers=numbers, act_keys=glossary.act_keys(whole),
                            cluster_keys=glossary.cluster_keys(whole), rewritten=rewritten)


def content_terms(text: str, lang: str | None) -> list[str]:
    return analyze_query(text, lang)
