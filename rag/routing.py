"""Is a question for this assistant? Prompt injections and unrelated questions are turned away.

Text inside documents is only ever quoted, never followed, so injection matters for the question only.
"""

from __future__ import annotations

import re

from rag.text_analysis import fold

INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|instructions|rules|prompt|previous|above)\b"
    r"|\b(ignora|dimentica|trascura)\w*\b.{0,40}\b(istruzion\w*|regol\w*|prompt|precedent\w*)\b"
    r"|\bsystem prompt\b|\bprompt di sistema\b|\byou are now\b|\bora sei\b|\bjailbreak\b|\bdeveloper mode\b"
    r"|\bact as\b|\bfingi di essere\b|\bpretend (to be|you are)\b",
    re.IGNORECASE,
)
OFF_TOPIC_TASKS = re.compile(
    r"\b(write|compose|scrivi|componi)\b.{0,30}\b(poem|poesia|song|canzone|story|racconto|essay|joke|barzelletta)\b"
    r"|\b(recipe|ricetta|weather|meteo|football|calcio|serie a|horoscope|oroscopo)\b"
    r"|\b(python|javascript|sql|code|codice|function|funzione)\b.{0,40}\b(write|fix|debug|scrivi|correggi)\b"
    r"|\b(write|fix|debug|scrivi|correggi)\b.{0,40}\b(python|javascript|sql|code|codice|script)\b",
    re.IGNORECASE,
)
DOMAIN_WORDS = {
    "cluster", "clusters", "avviso", "avvisi", "bando", "bandi", "decreto", "decree", "decreti", "notice", "call",
    "miur", "mur", "ministero", "ministry", "invitalia", "ricerca", "research", "innovazione", "innovation",
    "pnr", "first", "far", "pon", "mezzogiorno", "regione", "regioni", "region", "regions", "horizon",
    "finanziamento", "funding", "agevolazione", "aid", "grant", "contributo", "progetto", "progetti",
    "project", "projects", "proposta", "proposal", "scadenza", "deadline", "domanda", "application",
    "piano", "plan", "roadmap", "associazione", "fondazione", "association", "foundation", "universita",
    "university", "imprese", "companies", "partenariato", "partnership", "graduatoria", "ranking", "legge",
    "law", "cipe", "gazzetta", "gazette", "amendment", "modifica", "tecnologico", "tecnologici", "technology",
    "ctn", "sirio", "pec", "helpdesk", "cofinanziamento", "partner", "eligible", "ammissibili", "apply",
    "senato", "senate", "interrogazione", "nota", "note", "protocollo", "protocol", "enea", "cnr", "asi",
    "federchimica", "ue", "eu", "regolamento", "regulation", "smart", "distretti", "districts", "agenda",
}


def is_injection(question: str) -> bool:
    return bool(INJECTION.search(question))


def is_off_topic_task(question: str) -> bool:
    return bool(OFF_TOPIC_TASKS.search(question))


# Words of the program's questions that are just as common in any administrative question ("come fare
# domanda all'INPS per l'assegno unico"): alone they do not make a question about the program.
GENERIC_WORDS = {
    "domanda", "application", "apply", "progetto", "progetti", "project", "projects", "partner", "regione", "regioni",
    "region", "regions", "universita", "university", "imprese", "companies", "legge", "law", "nota", "note", "agenda",
    "smart", "ue", "eu", "first", "far", "piano", "plan", "proposta", "proposal",
}


def has_domain_words(question: str, extra: set[str] | None = None) -> bool:
    """Does the question use a word of the program's own vocabulary (not only generic administrative ones)?"""
    words = set(re.findall(r"[a-z0-9-]+", fold(question)))
    vocab = (DOMAIN_WORDS - GENERIC_WORDS) | (extra or set())
    return bool(words & vocab) or bool(re.search(r"\b(dd|dm|dl|d\.d\.|d\.m\.)\s*\d", fold(question)))
