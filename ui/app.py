"""The Gradio chat UI, mounted at ``/ui`` in the API's FastAPI app and calling the same service object.

``build_ui`` lays out the components and wires events to ``ui.handlers``; it holds no logic of its own
beyond choosing which component each result goes to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gradio as gr
from fastapi import FastAPI

from ui import handlers, render
from ui.i18n import DEFAULT_LANGUAGE, EXAMPLES, t

log = logging.getLogger(__name__)

UI_CONCURRENCY = 4

CSS = """
.ctn-header h1 { margin-bottom: 0.2em; }
#ctn-sources-col { max-height: 760px; overflow-y: auto; }
.ctn-sources { display: flex; flex-direction: column; gap: 10px; }
.ctn-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px;
  background: var(--background-fill-secondary); transition: box-shadow .3s, border-color .3s; }
.ctn-source.ctn-flash, .ctn-source:target { border-color: #f59e0b; box-shadow: 0 0 0 3px rgba(245,158,11,.35); }
.ctn-source-head { font-size: 0.95em; }
.ctn-n { font-weight: 700; color: var(--color-accent); margin-right: 4px; }
.ctn-meta { color: var(--body-text-color-subdued); font-size: 0.85em; margin: 2px 0 6px; }
.ctn-quote { margin: 6px 0; padding-left: 10px; border-left: 3px solid #f59e0b; font-size: 0.92em; }
.ctn-quote mark { background: #fde68a; color: #1f2937; padding: 0 2px; }
.ctn-open { font-size: 0.88em; }
a.ctn-cite { font-weight: 700; text-decoration: none; color: var(--color-accent); cursor: pointer; }
a.ctn-cite:hover { text-decoration: underline; }
.ctn-status { padding: 6px 10px; border-radius: 6px; font-weight: 600; margin: 4px 0; }
.ctn-status::before { content: ""; display: inline-block; width: 0.6em; height: 0.6em; border-radius: 50%;
  background: currentColor; margin-right: 0.5em; vertical-align: middle; }
.ctn-status-answered { background: #dcfce7; color: #14532d; }
.ctn-status-not_found { background: #fef3c7; color: #78350f; }
.ctn-status-out_of_scope { background: #e5e7eb; color: #1f2937; }
.ctn-status-error { background: #fee2e2; color: #7f1d1d; }
.ctn-status-retrieving { background: #e0f2fe; color: #0c4a6e; }
.ctn-warning { background: #fff7ed; border-left: 4px solid #f97316; color: #7c2d12; padding: 6px 10px;
  border-radius: 4px; margin: 6px 0; font-size: 0.92em; }
.ctn-badge { display: inline-block; font-weight: 600; font-size: 0.85em; padding: 2px 8px; border-radius: 10px;
  margin-bottom: 4px; }
.ctn-badge-not_found { background: #fef3c7; color: #78350f; }
.ctn-badge-out_of_scope { background: #e5e7eb; color: #1f2937; }
.ctn-badge-error { background: #fee2e2; color: #7f1d1d; }
.ctn-closest ul { margin: 4px 0 0 18px; }
.ctn-muted { color: var(--body-text-color-subdued); }
.ctn-notice { padding: 6px 10px; border-radius: 6px; margin: 4px 0; }
.ctn-notice-ok { background: #dcfce7; color: #14532d; }
.ctn-notice-warning { background: #fef3c7; color: #78350f; }
.ctn-notice-error { background: #fee2e2; color: #7f1d1d; }
.ctn-table { border-collapse: collapse; width: 100%; font-size: 0.88em; }
.ctn-chunk { border-top: 1px dashed var(--border-color-primary); padding: 6px 0; }
.ctn-chunk-text { font-size: 0.9em; }
.ctn-table th, .ctn-table td { border-bottom: 1px solid var(--border-color-primary); padding: 4px 6px;
  text-align: left; vertical-align: top; }
"""

# A citation marker scrolls the sources panel to its entry and flashes it; the entry may be rendered a
# moment later when the user clicked a marker of an earlier answer, hence the short retry.
HEAD = """
<script>
document.addEventListener('click', function (event) {
  var link = event.target && event.target.closest ? event.target.closest('a.ctn-cite') : null;
  if (!link) { return; }
  event.preventDefault();
  var id = (link.getAttribute('href') || '').replace(/^#/, '');
  var tries = 0;
  (function show() {
    var el = document.getElementById(id);
    if (el) {
      el.scrollIntoView({behavior: 'smooth', block: 'nearest'});
      el.classList.add('ctn-flash');
      setTimeout(function () { el.classList.remove('ctn-flash'); }, 2000);
    } else if (tries++ < 20) { setTimeout(show, 100); }
  })();
}, true);
</script>
"""

COPY_JS = """(text) => {
  if (navigator.clipboard && text) { navigator.clipboard.writeText(text).catch(function () {}); }
  return [];
}"""


def build_ui(service: Any) -> gr.Blocks:
    """The chat and documents tabs over ``service`` (an ``AssistantService``)."""
    lang0 = DEFAULT_LANGUAGE
    labelled: list[tuple[Any, Callable[[str], dict[str, Any]]]] = []

    def tr(component: Any, **keys: str) -> Any:
        """Register a component whose attributes (label, value, placeholder…) follow the language."""
        labelled.append((component, lambda lang: {attr: t(lang, key) for attr, key in keys.items()}))
        return component

    with gr.Blocks(title=t(lang0, "title"), fill_width=True) as demo:
        conv = gr.State(handlers.new_conversation())
        docs_offset = gr.State(0)
        with gr.Row(equal_height=True):
            header = gr.Markdown(f"# {t(lang0, 'title')}\n{t(lang0, 'subtitle')}", elem_classes="ctn-header")
            labelled.append((header, lambda lang: {"value": f"# {t(lang, 'title')}\n{t(lang, 'subtitle')}"}))
            ui_lang = gr.Radio([("Italiano", "it"), ("English", "en")], value=lang0, label=t(lang0, "ui_language"),
                               elem_id="ctn-lang", scale=0, min_width=220)

        with gr.Tabs():
            with gr.Tab(t(lang0, "tab_chat"), id="chat") as tab_chat:
                tr(tab_chat, label="tab_chat")
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = tr(gr.Chatbot(elem_id="ctn-chat", render_markdown=False, height=480,
                                                label=t(lang0, "chat"), buttons=[],
                                                feedback_options=("Like", "Dislike")), label="chat")
                        status = gr.HTML(elem_id="ctn-status")
                        with gr.Row(equal_height=True):
                            question = tr(gr.Textbox(show_label=False, placeholder=t(lang0, "question_placeholder"),
                                                     elem_id="ctn-question", scale=6, autofocus=True,
                                                     max_length=service.settings.max_question_chars),
                                          placeholder="question_placeholder")
                            send = tr(gr.Button(t(lang0, "send"), variant="primary", elem_id="ctn-send", scale=1,
                                                min_width=90), value="send")
                            new_chat = tr(gr.Button(t(lang0, "new_chat"), elem_id="ctn-new", scale=1, min_width=90),
                                          value="new_chat")
                        examples_title = gr.Markdown(f"**{t(lang0, 'examples')}**")
                        labelled.append((examples_title, lambda lang: {"value": f"**{t(lang, 'examples')}**"}))
                        with gr.Row():
                            example_buttons = []
                            for i in range(len(EXAMPLES[lang0])):
                                button = gr.Button(EXAMPLES[lang0][i], size="sm", elem_id=f"ctn-example-{i}")
                                labelled.append((button, lambda lang, i=i: {"value": EXAMPLES[lang][i]}))
                                example_buttons.append(button)
                        with gr.Accordion(t(lang0, "filters"), open=False, elem_id="ctn-filters") as filters_box:
                            tr(filters_box, label="filters")
                            with gr.Row():
                                any0 = [(t(lang0, "any"), handlers.ANY)]
                                doc_type = tr(gr.Dropdown(any0, value=handlers.ANY, label=t(lang0, "doc_type"),
                                                          elem_id="ctn-f-doc-type"), label="doc_type")
                                act = tr(gr.Dropdown(any0, value=handlers.ANY, label=t(lang0, "act"),
                                                     allow_custom_value=True, elem_id="ctn-f-act"), label="act")
                                year = tr(gr.Dropdown(any0, value=handlers.ANY, label=t(lang0, "year"),
                                                      elem_id="ctn-f-year"), label="year")
                                doc_lang = tr(gr.Dropdown(any0, value=handlers.ANY, label=t(lang0, "doc_language"),
                                                          elem_id="ctn-f-lang"), label="doc_language")
                        with gr.Accordion(t(lang0, "feedback"), open=True, elem_id="ctn-feedback") as feedback_box:
                            tr(feedback_box, label="feedback")
                            comment = tr(gr.Textbox(label=t(lang0, "comment"), elem_id="ctn-comment"),
                                         label="comment")
                            with gr.Row():
                                thumbs_up = tr(gr.Button(t(lang0, "thumbs_up"), elem_id="ctn-up", size="sm",
                                                         variant="secondary"), value="thumbs_up")
                                thumbs_down = tr(gr.Button(t(lang0, "thumbs_down"), elem_id="ctn-down", size="sm",
                                                           variant="secondary"), value="thumbs_down")
                            feedback_notice = gr.HTML(elem_id="ctn-feedback-notice")
                        with gr.Accordion(t(lang0, "helpdesk"), open=False, elem_id="ctn-helpdesk") as helpdesk_box:
                            tr(helpdesk_box, label="helpdesk")
                            reply = tr(gr.Textbox(label=t(lang0, "helpdesk_reply"), lines=8, interactive=False,
                                                  buttons=["copy"], elem_id="ctn-reply"), label="helpdesk_reply")
                            copy_reply = tr(gr.Button(t(lang0, "copy_reply"), elem_id="ctn-copy", size="sm"),
                                            value="copy_reply")
                    with gr.Column(scale=2, elem_id="ctn-sources-col"):
                        sources_title = gr.Markdown(f"### {t(lang0, 'sources')}")
                        labelled.append((sources_title, lambda lang: {"value": f"### {t(lang, 'sources')}"}))
                        sources = gr.HTML(render.sources_panel(None, lang0), elem_id="ctn-sources")

            with gr.Tab(t(lang0, "tab_documents"), id="documents", elem_id="ctn-documents-tab") as tab_docs:
                tr(tab_docs, label="tab_documents")
                docs_title = gr.Markdown(f"### {t(lang0, 'documents')}")
                labelled.append((docs_title, lambda lang: {"value": f"### {t(lang, 'documents')}"}))
                with gr.Row():
                    previous = tr(gr.Button(t(lang0, "previous"), size="sm"), value="previous")
                    refresh = tr(gr.Button(t(lang0, "refresh"), size="sm", elem_id="ctn-refresh"), value="refresh")
                    following = tr(gr.Button(t(lang0, "next"), size="sm"), value="next")
                docs_table = gr.HTML(elem_id="ctn-docs")
                doc_pick = tr(gr.Dropdown([], label=t(lang0, "document"), elem_id="ctn-doc-pick",
                                          allow_custom_value=True), label="document")
                details = gr.HTML(elem_id="ctn-doc-details")
                with gr.Accordion(t(lang0, "admin"), open=False, elem_id="ctn-admin") as admin_box:
                    tr(admin_box, label="admin")
                    with gr.Row(equal_height=True):
                        admin_key = tr(gr.Textbox(label=t(lang0, "admin_key"), type="password",
                                                  elem_id="ctn-admin-key", scale=3), label="admin_key")
                        unlock = tr(gr.Button(t(lang0, "unlock"), elem_id="ctn-unlock", scale=1), value="unlock")
                    admin_notice = gr.HTML(elem_id="ctn-admin-notice")
                    with gr.Group(visible=False) as admin_tools:
                        files = tr(gr.File(label=t(lang0, "upload"), file_count="multiple", type="filepath",
                                           elem_id="ctn-upload"), label="upload")
                        upload = tr(gr.Button(t(lang0, "upload_button"), variant="primary",
                                              elem_id="ctn-upload-btn"), value="upload_button")
                        delete = tr(gr.Button(t(lang0, "delete"), variant="stop", elem_id="ctn-delete"),
                                    value="delete")
                    admin_result = gr.HTML(elem_id="ctn-admin-result")

        # --- language ------------------------------------------------------------------------------
        filter_boxes = [doc_type, act, year, doc_lang]
        language_outputs = [c for c, _ in labelled] + filter_boxes + [sources, status]

        def apply_labels(lang: str, *current: str) -> list[Any]:
            updates = [gr.update(**texts(lang)) for _, texts in labelled]
            try:
                choices = handlers.filter_choices(service, lang)
            except Exception:
                log.exception("the filter choices are unavailable")
                choices = {}
            any_choice = [(t(lang, "any"), handlers.ANY)]
            for key, value in zip(("doc_type", "act", "year", "language"), current, strict=True):
                options = choices.get(key, any_choice)
                kept = value if key == "act" or value in {v for _, v in options} else handlers.ANY
                updates.append(gr.update(choices=options, value=kept))
            return updates

        def apply_language(lang: str, conv_value: dict[str, Any], *current: str) -> list[Any]:
            """The labels and the panels beside the chat, in the language the user picked."""
            shown = handlers.view(conv_value, lang)
            return [*apply_labels(lang, *current), shown.sources, shown.status]

        def on_load(request: gr.Request) -> str:
            return handlers.language_of(dict(request.headers) if request is not None else {})

        language_inputs = [ui_lang, conv, *filter_boxes]
        labels_inputs = [ui_lang, *filter_boxes]
        labels_outputs = [c for c, _ in labelled] + filter_boxes
        # on load only the labels: a question sent meanwhile must not have its panels overwritten
        demo.load(on_load, None, ui_lang).then(apply_labels, labels_inputs, labels_outputs)
        ui_lang.input(apply_language, language_inputs, language_outputs)

        # --- chat ----------------------------------------------------------------------------------
        chat_outputs = [chatbot, sources, status, reply, conv, question, feedback_notice]

        def ask(text: str, conv_value: dict[str, Any], dt: str, act_value: str, yr: str, dl: str, lang: str,  # noqa: ANN202
                request: gr.Request):
            # taken from each request, not at page load: a question may be sent before the load event ends
            conv_value["base_url"] = handlers.base_url_of(dict(request.headers) if request is not None else {})
            filters = handlers.build_filters(dt, act_value, yr, dl)
            for shown in handlers.respond(service, text, conv_value, filters, lang):
                yield shown.messages, shown.sources, shown.status, shown.reply, conv_value, "", ""

        ask_inputs = [conv, doc_type, act, year, doc_lang, ui_lang]
        question.submit(ask, [question, *ask_inputs], chat_outputs)
        send.click(ask, [question, *ask_inputs], chat_outputs)
        for button in example_buttons:
            button.click(ask, [button, *ask_inputs], chat_outputs)

        def restart(conv_value: dict[str, Any], lang: str):  # noqa: ANN202
            fresh = handlers.new_conversation(conv_value.get("base_url", ""))
            shown = handlers.view(fresh, lang)
            return shown.messages, shown.sources, shown.status, shown.reply, fresh, "", ""

        new_chat.click(restart, [conv, ui_lang], chat_outputs)
        chatbot.clear(restart, [conv, ui_lang], chat_outputs)  # the chat's own bin icon

        def select(conv_value: dict[str, Any], lang: str, evt: gr.SelectData):  # noqa: ANN202
            shown = handlers.select_turn(conv_value, evt.index, lang)
            return shown.sources, shown.status, shown.reply, conv_value

        chatbot.select(select, [conv, ui_lang], [sources, status, reply, conv])

        # --- feedback ------------------------------------------------------------------------------
        def feedback(rating: str) -> Callable[..., tuple[str, str]]:
            def send_feedback(conv_value: dict[str, Any], text: str, lang: str) -> tuple[str, str]:
                notice = handlers.record_feedback(service, conv_value, rating, text, lang)
                return notice, ""

            return send_feedback

        thumbs_up.click(feedback("up"), [conv, comment, ui_lang], [feedback_notice, comment])
        thumbs_down.click(feedback("down"), [conv, comment, ui_lang], [feedback_notice, comment])

        def like(conv_value: dict[str, Any], text: str, lang: str, evt: gr.LikeData) -> tuple[str, str]:
            return handlers.record_like(service, conv_value, evt.index, evt.liked, text, lang), ""

        chatbot.like(like, [conv, comment, ui_lang], [feedback_notice, comment])
        copy_reply.click(None, [reply], None, js=COPY_JS)

        # --- documents -----------------------------------------------------------------------------
        def show_documents(offset: int, lang: str, clear: bool = False):  # noqa: ANN202
            # The picked document stays picked across refreshes (a refresh racing a pick must not undo
            # it); only a deletion clears it.
            table, choices, offset = handlers.documents_page(service, offset, lang)
            picker = gr.update(choices=choices, value=None) if clear else gr.update(choices=choices)
            return table, picker, offset

        docs_outputs = [docs_table, doc_pick, docs_offset]
        tab_docs.select(show_documents, [docs_offset, ui_lang], docs_outputs)
        refresh.click(show_documents, [docs_offset, ui_lang], docs_outputs)
        previous.click(lambda o, lang: show_documents(o - handlers.PAGE_SIZE, lang), [docs_offset, ui_lang], docs_outputs)
        following.click(lambda o, lang: show_documents(o + handlers.PAGE_SIZE, lang), [docs_offset, ui_lang], docs_outputs)
        doc_pick.change(lambda d, lang: handlers.document_details(service, d, lang), [doc_pick, ui_lang], details)

        def login(key: str, lang: str) -> tuple[Any, str]:
            ok, notice = handlers.admin_login(service.settings, key, lang)
            return gr.update(visible=ok), notice

        unlock.click(login, [admin_key, ui_lang], [admin_tools, admin_notice])
        admin_key.submit(login, [admin_key, ui_lang], [admin_tools, admin_notice])
        upload.click(lambda key, paths, lang: (handlers.upload(service, key, paths, lang), None),
                     [admin_key, files, ui_lang], [admin_result, files]
                     ).then(show_documents, [docs_offset, ui_lang], docs_outputs
                     ).then(apply_labels, labels_inputs, labels_outputs)
        delete.click(lambda key, doc, lang: handlers.delete(service, key, doc, lang),
                     [admin_key, doc_pick, ui_lang], admin_result
                     ).then(lambda o, lang: show_documents(o, lang, clear=True), [docs_offset, ui_lang], docs_outputs)
    # Answers take milliseconds to a few seconds of CPU; let a few sessions be served at once rather
    # than Gradio's default of one event at a time for every user.
    demo.queue(default_concurrency_limit=UI_CONCURRENCY)
    return demo


def mount(app: FastAPI, service: Any, path: str = "/ui") -> None:
    """Serve the UI at ``path`` inside ``app`` (the API), sharing its ``service``."""
    gr.mount_gradio_app(app, build_ui(service), path=path, css=CSS, head=HEAD, theme=gr.themes.Soft(),
                        footer_links=[])
