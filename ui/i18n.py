"""Interface texts in Italian and English, and the choice of language from the browser's Accept-Language.

Only the interface is translated here; answers keep the language of the question they reply to.
"""

from __future__ import annotations

LANGUAGES = ("it", "en")
DEFAULT_LANGUAGE = "en"

TEXTS: dict[str, dict[str, str]] = {
    "it": {
        "title": "Assistente dei Cluster Tecnologici Nazionali",
        "subtitle": ("Risposte citate dai documenti ufficiali del programma. Ogni [n] rimanda alla fonte; "
                     "se i documenti non rispondono, l'assistente lo dice."),
        "ui_language": "Lingua / Language",
        "tab_chat": "Chat",
        "tab_documents": "Documenti",
        "chat": "Conversazione",
        "question": "Domanda",
        "question_placeholder": "Scrivi una domanda sul programma e premi Invio…",
        "send": "Invia",
        "new_chat": "Nuova conversazione",
        "examples": "Domande di esempio",
        "filters": "Filtri",
        "doc_type": "Tipo di documento",
        "act": "Atto (es. DD 257/Ric)",
        "year": "Anno",
        "doc_language": "Lingua del documento",
        "any": "Tutti",
        "sources": "Fonti",
        "sources_empty": "Le fonti citate nella risposta compariranno qui.",
        "open_page": "Apri il documento a pagina {page}",
        "open_document": "Apri il documento",
        "page": "pag.",
        "status_retrieving": "Ricerca nei documenti…",
        "status_answered": "Risposta tratta dai documenti",
        "status_not_found": "Non trovato nei documenti",
        "status_not_found_hint": "I documenti non contengono la risposta. I documenti più vicini alla domanda:",
        "status_out_of_scope": "Fuori ambito: l'assistente risponde solo su Cluster Tecnologici Nazionali",
        "status_error": "Errore: la risposta non è disponibile in questo momento. Riprova tra poco.",
        "closest": "Documenti più vicini",
        "warning": "Attenzione",
        "helpdesk": "Modalità help-desk: risposta pronta da inviare",
        "helpdesk_reply": "Risposta da inviare",
        "copy_reply": "Copia la risposta",
        "references": "Riferimenti",
        "feedback": "La risposta è utile?",
        "thumbs_up": "Utile",
        "thumbs_down": "Non utile",
        "comment": "Commento (facoltativo)",
        "feedback_saved": "Grazie: il tuo giudizio è stato registrato.",
        "feedback_no_answer": "Non c'è ancora una risposta da valutare.",
        "feedback_error": "Non è stato possibile registrare il giudizio.",
        "documents": "Documenti indicizzati",
        "documents_total": "{total} documenti",
        "documents_empty": "Nessun documento indicizzato.",
        "refresh": "Aggiorna",
        "previous": "◀ Precedenti",
        "next": "Successivi ▶",
        "col_title": "Titolo",
        "col_type": "Tipo",
        "col_act": "Atto",
        "col_year": "Anno",
        "col_language": "Lingua",
        "col_chunks": "Parti",
        "col_status": "Stato",
        "col_ingested": "Indicizzato il",
        "col_id": "ID",
        "admin": "Amministrazione",
        "admin_key": "Chiave API di amministrazione",
        "unlock": "Accedi",
        "admin_ok": "Accesso di amministrazione attivo.",
        "admin_bad": "Chiave non valida.",
        "admin_disabled": "Amministrazione disattivata: impostare CTN_ADMIN_API_KEY.",
        "upload": "Carica documenti",
        "upload_button": "Carica e indicizza",
        "upload_none": "Nessun file scelto.",
        "document": "Documento",
        "details": "Dettagli",
        "delete": "Elimina il documento",
        "deleted": "Documento eliminato: {id}",
        "not_deleted": "Documento non trovato: {id}",
        "no_document": "Scegli un documento.",
        "report_added": "aggiunti",
        "report_updated": "aggiornati",
        "report_unchanged": "invariati",
        "report_removed": "rimossi",
        "report_failed": "falliti",
        "you": "Tu",
    },
    "en": {
        "title": "National Technology Clusters assistant",
        "subtitle": ("Cited answers from the program's official documents. Every [n] links to its source; "
                     "when the documents do not answer, the assistant says so."),
        "ui_language": "Lingua / Language",
        "tab_chat": "Chat",
        "tab_documents": "Documents",
        "chat": "Conversation",
        "question": "Question",
        "question_placeholder": "Type a question about the program and press Enter…",
        "send": "Send",
        "new_chat": "New conversation",
        "examples": "Example questions",
        "filters": "Filters",
        "doc_type": "Document type",
        "act": "Act (e.g. DD 257/Ric)",
        "year": "Year",
        "doc_language": "Document language",
        "any": "Any",
        "sources": "Sources",
        "sources_empty": "The sources cited in the answer will appear here.",
        "open_page": "Open the document at page {page}",
        "open_document": "Open the document",
        "page": "p.",
        "status_retrieving": "Searching the documents…",
        "status_answered": "Answer taken from the documents",
        "status_not_found": "Not found in the documents",
        "status_not_found_hint": "The documents do not contain the answer. The documents closest to the question:",
        "status_out_of_scope": "Out of scope: the assistant only answers about the National Technology Clusters",
        "status_error": "Error: the answer is not available right now. Please try again shortly.",
        "closest": "Closest documents",
        "warning": "Warning",
        "helpdesk": "Help-desk mode: a reply ready to send",
        "helpdesk_reply": "Reply to send",
        "copy_reply": "Copy the reply",
        "references": "References",
        "feedback": "Was this answer helpful?",
        "thumbs_up": "Helpful",
        "thumbs_down": "Not helpful",
        "comment": "Comment (optional)",
        "feedback_saved": "Thank you: your rating was recorded.",
        "feedback_no_answer": "There is no answer to rate yet.",
        "feedback_error": "The rating could not be recorded.",
        "documents": "Indexed documents",
        "documents_total": "{total} documents",
        "documents_empty": "No documents indexed.",
        "refresh": "Refresh",
        "previous": "◀ Previous",
        "next": "Next ▶",
        "col_title": "Title",
        "col_type": "Type",
        "col_act": "Act",
        "col_year": "Year",
        "col_language": "Language",
        "col_chunks": "Chunks",
        "col_status": "Status",
        "col_ingested": "Ingested",
        "col_id": "ID",
        "admin": "Administration",
        "admin_key": "Admin API key",
        "unlock": "Unlock",
        "admin_ok": "Administration unlocked.",
        "admin_bad": "Invalid key.",
        "admin_disabled": "Administration disabled: set CTN_ADMIN_API_KEY.",
        "upload": "Upload documents",
        "upload_button": "Upload and index",
        "upload_none": "No file chosen.",
        "document": "Document",
        "details": "Details",
        "delete": "Delete the document",
        "deleted": "Document deleted: {id}",
        "not_deleted": "Document not found: {id}",
        "no_document": "Choose a document.",
        "report_added": "added",
        "report_updated": "updated",
        "report_unchanged": "unchanged",
        "report_removed": "removed",
        "report_failed": "failed",
        "you": "You",
    },
}

EXAMPLES: dict[str, list[str]] = {
    "it": [
        "Qual è la dotazione finanziaria dell'avviso del 2012?",
        "Quanti sono i cluster tecnologici nazionali?",
        "Qual era la scadenza per le domande dell'avviso del 2012?",
    ],
    "en": [
        "What is the budget of the 2012 notice?",
        "When is the deadline of the 2012 notice?",
        "Which clusters work on agrifood?",
    ],
}


def normalize(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def t(lang: str | None, key: str, **values: object) -> str:
    text = TEXTS[normalize(lang)][key]
    return text.format(**values) if values else text


def from_accept_language(header: str | None) -> str:
    """The first supported language in an Accept-Language header, by weight then order."""
    if not header:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and weight > 0:
            ranked.append((-weight, position, primary))
    return sorted(ranked)[0][2] if ranked else DEFAULT_LANGUAGE
