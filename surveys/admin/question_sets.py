"""Admin: the question sets: list, draft editor with a phone preview, publishing, history,
and which set follows a purchase (the default, and overrides by item category)."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from surveys import clock, i18n
from surveys.admin.blueprint import bp
from surveys.admin.forms import CsrfOnlyForm
from surveys.admin.question_set_forms import (
    CategoryAssignmentForm,
    DefaultQuestionSetForm,
    DiscardDraftForm,
    DraftForm,
    NewQuestionSetForm,
    apply_editor_action,
    draft_form_data,
    group_question_errors,
)
from surveys.auth import acting_user
from surveys.brand.pages import brand_page_variables
from surveys.db import db
from surveys.models import QuestionSet, QuestionSetAssignment, Survey
from surveys.models.question_sets import IMPORTED_SET_KEYS
from surveys.public.forms import survey_form_class
from surveys.security_headers import FRAMED_BY_THIS_SITE
from surveys.services.brand import current_brand
from surveys.services.question_sets import (
    assignments,
    drafts,
    publishing,
    translations,
    versions,
)
from surveys.services.question_sets.document import QuestionSetInvalid
from surveys.services.settings import get_setting
from surveys.validation.languages import language_name, language_or_none
from surveys.validation.text import unstorable_text_reason
from surveys.web_input import database_id

# The preview greets a made-up customer, as the real page greets the real one.
PREVIEW_FIRST_NAME = "Ana"
# Which survey wording the preview uses for a set (the purchase wording for any other set).
PREVIEW_KINDS = {"fix-check": "fix_check", "relationship-review": "relationship_review"}


def question_set_or_404(key: str) -> QuestionSet:
    # No set's key holds a control character, and PostgreSQL cannot even compare a NUL.
    if unstorable_text_reason(key, multiline=False):
        abort(404)
    question_set = db.session().scalar(select(QuestionSet).where(QuestionSet.key == key))
    if question_set is None:
        abort(404)
    return question_set


# --- the list, and which set follows a purchase ----------------------------------------------


@bp.get("/question-sets")
def list_question_sets():
    """Every set with its current version and answers, and which purchases get which set."""
    return _list_page()


def _list_page(*, new_form=None, default_form=None, category_form=None, status: int = 200):
    session = db.session()
    sets = session.scalars(select(QuestionSet).order_by(QuestionSet.name)).all()
    counts = versions.answer_counts_by_set(session)
    category_sets = session.scalars(
        select(QuestionSetAssignment).order_by(QuestionSetAssignment.category)
    ).all()
    rows = []
    for question_set in sets:
        version = versions.latest_version(session, question_set)
        rows.append(
            {
                "set": question_set,
                "version": version,
                "answers": counts.get(question_set.id, 0),
                "unpublished": drafts.has_unpublished_changes(session, question_set),
                "categories": [
                    a.category for a in category_sets if a.question_set_id == question_set.id
                ],
            }
        )
    published = [
        SelectChoice(row["set"].key, row["set"].name)
        for row in rows
        # A set that only holds imported history is never sent.
        if row["version"] and row["set"].key not in IMPORTED_SET_KEYS
    ]
    default_key = get_setting(session, "purchase_question_set")
    default_form = default_form or DefaultQuestionSetForm(
        formdata=None, data={"question_set": default_key}
    )
    category_form = category_form or CategoryAssignmentForm(formdata=None)
    default_form.question_set.choices = published
    category_form.question_set.choices = published
    return render_template(
        "admin/list_question_sets.html",
        rows=rows,
        assignments=category_sets,
        default_key=default_key,
        new_form=new_form or NewQuestionSetForm(formdata=None),
        default_form=default_form,
        category_form=category_form,
        remove_form=CsrfOnlyForm(),
    ), status


@bp.post("/question-sets")
def create_question_set():
    """Start a new set: an empty draft to write its questions in."""
    form = NewQuestionSetForm()
    if not form.validate():
        return _list_page(new_form=form, status=422)
    session = db.session()
    try:
        question_set = publishing.create_question_set(
            session,
            key=form.key.data,
            name=form.name.data,
            now=clock.now(),
            actor_user=acting_user(),
        )
    except QuestionSetInvalid as exc:
        for name, messages in exc.errors.items():
            form[name].errors = list(messages)
        return _list_page(new_form=form, status=422)
    session.commit()
    flash(_("“%(set)s” is ready for its first questions.", set=question_set.name))
    return redirect(url_for(".edit_question_set", key=question_set.key))


# Two segments, so that no set's key can shadow them (/question-sets/<key> is the editor).
@bp.post("/question-sets/after-purchase/default")
def set_default_question_set():
    """Choose the set sent after a purchase when no item category chooses another."""
    form = DefaultQuestionSetForm()
    form.question_set.choices = _published_choices()
    if not form.validate():
        return _list_page(default_form=form, status=422)
    session = db.session()
    question_set = question_set_or_404(form.question_set.data)
    assignments.set_purchase_question_set(
        session, question_set, actor=acting_user(), now=clock.now()
    )
    session.commit()
    flash(
        _(
            "After a purchase, customers now get “%(set)s”, unless an item category says "
            "otherwise.",
            set=question_set.name,
        )
    )
    return redirect(url_for(".list_question_sets"))


@bp.post("/question-sets/after-purchase/categories")
def assign_category():
    """Send a chosen set after purchases of items in one category."""
    form = CategoryAssignmentForm()
    form.question_set.choices = _published_choices()
    if not form.validate():
        return _list_page(category_form=form, status=422)
    session = db.session()
    question_set = question_set_or_404(form.question_set.data)
    try:
        assignments.assign_category(
            session,
            category=form.category.data,
            question_set=question_set,
            actor=acting_user(),
            now=clock.now(),
        )
    except assignments.EditorError as exc:
        form.category.errors = [str(exc)]
        return _list_page(category_form=form, status=422)
    session.commit()
    flash(
        _(
            "Purchases in “%(category)s” now get “%(set)s”.",
            category=form.category.data,
            set=question_set.name,
        )
    )
    return redirect(url_for(".list_question_sets"))


@bp.post("/question-sets/after-purchase/categories/<int:assignment_id>/remove")
def remove_category(assignment_id: int):
    """Let purchases in a category get the default set again."""
    session = db.session()
    assignment = session.get(QuestionSetAssignment, assignment_id)
    if assignment is None:
        abort(404)
    category = assignment.category
    assignments.remove_category_assignment(
        session, assignment, actor=acting_user(), now=clock.now()
    )
    session.commit()
    flash(_("Purchases in “%(category)s” get the default set again.", category=category))
    return redirect(url_for(".list_question_sets"))


def _published_choices() -> list[SelectChoice]:
    session = db.session()
    return [
        SelectChoice(qs.key, qs.name)
        for qs in session.scalars(select(QuestionSet).order_by(QuestionSet.name))
        # A set that only holds imported history is never sent.
        if qs.key not in IMPORTED_SET_KEYS and versions.latest_version(session, qs) is not None
    ]


# --- the draft editor ------------------------------------------------------------------------


@bp.get("/question-sets/<key>")
def edit_question_set(key: str):
    """The draft editor: the questions, with the phone preview beside them."""
    session = db.session()
    question_set = question_set_or_404(key)
    document = drafts.editor_document(session, question_set)
    default_language = translations.shop_default_language(session)
    languages = translations.editor_languages(
        default_language, document, in_language=i18n.current_language()
    )
    form = DraftForm(
        formdata=None,
        data=draft_form_data(
            document,
            name=question_set.name,
            revision=question_set.draft_revision,
            languages=[language.tag for language in languages],
            default_language=default_language,
        ),
    )
    return _editor_page(question_set, form, language=request.args.get("lang"))


@bp.post("/question-sets/<key>")
def save_question_set(key: str):
    """Save the draft after a button (add, remove, move, save), or publish it."""
    session = db.session()
    question_set = question_set_or_404(key)
    form = DraftForm()
    if not form.validate():
        if form.revision.errors:  # not a form this editor produced
            abort(400)
        return _editor_page(question_set, form, status=422)
    action = request.form.get("action", "save")
    # The language shown beside the default texts: a tab's button chooses another, and every
    # other button comes back to the same one.
    language = request.form.get("lang")
    if action.startswith("lang-"):
        language, action = action.removeprefix("lang-"), "switch-language"
    language = language_or_none(language)
    if action in ("publish", "publish-anyway"):
        # "publish-anyway" is the warning's own button: the admin read that no answer to
        # this version can open a case, and publishes all the same.
        return _publish(
            question_set,
            form,
            never_negative_confirmed=action == "publish-anyway",
            language=language,
        )
    document = form.to_document(translations.shop_default_language(session))
    if action not in ("save", "switch-language"):
        document = apply_editor_action(document, action)
    try:
        drafts.save_draft(
            session,
            question_set,
            document,
            loaded_revision=form.revision.data,
            actor=acting_user(),
            now=clock.now(),
            name=form.name.data,
        )
    except drafts.StaleDraft as exc:
        return _conflict_page(question_set, form, document, exc)
    session.commit()
    if action == "save":
        flash(_("Draft saved. Customers keep getting the published version until you publish."))
    return redirect(
        url_for(".edit_question_set", key=key, lang=language) + _anchor_after(action, document)
    )


def _publish(
    question_set: QuestionSet,
    form: DraftForm,
    *,
    never_negative_confirmed: bool,
    language: str | None = None,
):
    session = db.session()
    default_language = translations.shop_default_language(session)
    document = form.to_document(default_language)
    try:
        result = drafts.publish_draft(
            session,
            question_set,
            document,
            loaded_revision=form.revision.data,
            actor=acting_user(),
            now=clock.now(),
            name=form.name.data,
            never_negative_confirmed=never_negative_confirmed,
        )
    except publishing.NothingCanBeNegative as exc:
        flash(_("Not published yet: %(reason)s", reason=exc.errors["questions"][0]), "error")
        return _editor_page(question_set, form, status=422, language=language)
    except QuestionSetInvalid as exc:
        flash(_("Not published yet: fix what is marked below first."), "error")
        return _editor_page(question_set, form, errors=exc.errors, status=422, language=language)
    except drafts.StaleDraft as exc:
        return _conflict_page(question_set, form, document, exc)
    session.commit()
    if result.created:
        flash(
            _(
                "Published version %(number)s. New surveys ask these questions; surveys already "
                "sent keep the version they were sent with.",
                number=result.version.number,
            )
        )
    else:
        flash(
            _(
                "Nothing changed since version %(number)s, so nothing new was published.",
                number=result.version.number,
            )
        )
    published = versions.version_document(result.version)
    missing = translations.missing_texts(published, translations.translated_languages(published))
    if missing:
        flash(_missing_texts_warning(missing, default_language), "error")
    return redirect(url_for(".edit_question_set", key=question_set.key, lang=language))


def _missing_texts_warning(missing: dict[str, list[str]], default_language: str) -> str:
    """Which texts a version lacks in each language, and what those customers read instead."""
    reader = i18n.current_language()
    gaps = "; ".join(
        _("%(language)s: %(texts)s", language=language_name(tag, reader), texts=", ".join(items))
        for tag, items in missing.items()
    )
    return _(
        "Some texts are not translated yet (%(gaps)s). Customers who read those languages get "
        "them in %(default)s until you add them.",
        gaps=gaps,
        default=translations.name_in_sentence(default_language, reader),
    )


def _conflict_page(
    question_set: QuestionSet, form: DraftForm, document: list[dict], stale: drafts.StaleDraft
):
    """Another admin saved first: show this admin's own work back, unsaved, and say so."""
    session = db.session()
    session.rollback()
    session.refresh(question_set)
    # The form now carries the current revision: saving again is a deliberate choice to
    # replace the other admin's draft, made after reading this page.
    default_language = translations.shop_default_language(session)
    mine = DraftForm(
        formdata=None,
        data=draft_form_data(
            document,
            name=form.name.data or question_set.name,
            revision=stale.current_revision,
            languages=[
                language.tag
                for language in translations.editor_languages(default_language, document)
            ],
            default_language=default_language,
        ),
    )
    return _editor_page(question_set, mine, conflict=True, status=409)


def _anchor_after(action: str, document: list[dict]) -> str:
    verb, _, index = action.partition("-")
    if verb == "add":
        return f"#question-{len(document) - 1}"
    if verb in ("up", "down") and index.isdigit():
        moved = int(index) + (-1 if verb == "up" else 1)
        return f"#question-{max(0, min(moved, len(document) - 1))}"
    if verb == "remove":
        return "#questions"
    return ""


def _editor_page(
    question_set: QuestionSet,
    form: DraftForm,
    *,
    errors=None,
    conflict: bool = False,
    status: int = 200,
    language: str | None = None,
):
    session = db.session()
    default_language = translations.shop_default_language(session)
    document = form.to_document(default_language)
    reader = i18n.current_language()
    languages = translations.editor_languages(default_language, document, in_language=reader)
    selected = next((item for item in languages if item.tag == language_or_none(language)), None)
    missing = translations.missing_texts(document, [item.tag for item in languages])
    if errors is None:
        errors = versions.question_errors(document)
    general_errors, question_errors = group_question_errors(errors, len(form.questions))
    preview_keys = {q.key for q in versions.transient_questions(document)}
    version = versions.latest_version(session, question_set)
    response = make_response(
        render_template(
            "admin/edit_question_set.html",
            question_set=question_set,
            form=form,
            version=version,
            general_errors=general_errors,
            question_errors=question_errors,
            not_in_preview=[i for i, q in enumerate(document) if q.get("key") not in preview_keys],
            unpublished=drafts.has_unpublished_changes(session, question_set),
            never_negative=not publishing.can_be_negative(document),
            must_find_problems=question_set.key in publishing.SETS_THAT_FIND_PROBLEMS,
            behind=drafts.draft_predates_latest_version(session, question_set),
            last_change=drafts.last_draft_change(session, question_set),
            conflict=conflict,
            discard_form=DiscardDraftForm(
                formdata=None, data={"revision": question_set.draft_revision}
            ),
            default_language=translations.describe_language(default_language, reader),
            languages=languages,
            language=selected,
            missing=missing,
        ),
        status,
    )
    return response


@bp.post("/question-sets/<key>/discard")
def discard_draft(key: str):
    """Throw the draft away and start again from the published version."""
    session = db.session()
    question_set = question_set_or_404(key)
    form = DiscardDraftForm()
    if not form.validate() or not (form.revision.data or "").isdigit():
        abort(400)
    try:
        drafts.discard_draft(
            session,
            question_set,
            loaded_revision=int(form.revision.data),
            actor=acting_user(),
            now=clock.now(),
        )
    except drafts.StaleDraft:
        flash(
            _(
                "Someone saved the draft since you opened it, so it was not discarded. "
                "Have a look at their changes first."
            ),
            "error",
        )
        return redirect(url_for(".edit_question_set", key=key))
    session.commit()
    flash(_("Draft discarded. The editor shows the published version again."))
    return redirect(url_for(".edit_question_set", key=key))


@bp.get("/question-sets/<key>/preview")
def preview_question_set(key: str):
    """The draft (or `?version=N`) rendered by the customer's own survey page and form."""
    session = db.session()
    question_set = question_set_or_404(key)
    if "version" in request.args:
        # Version numbers are whole numbers in an `integer` column, like ids.
        number = database_id(request.args["version"])
        version = versions.get_version(session, question_set, number) if number else None
        if version is None:
            abort(404)
        questions = list(version.questions)
    else:
        questions = versions.transient_questions(drafts.editor_document(session, question_set))
    # `?lang=es`: the texts as a customer reading Spanish gets them (the default where missing).
    language = language_or_none(request.args.get("lang"))
    questions = translations.localized_questions(questions, language)
    if language:
        # The page around the questions speaks that language too (right to left for Arabic).
        i18n.read_in(language)
    form = survey_form_class(questions)(formdata=None)
    # An unsaved survey: the page needs its kind for the opening words, and nothing else.
    survey = Survey(kind=PREVIEW_KINDS.get(question_set.key, "purchase"))
    response = make_response(
        render_template(
            "public/show_survey.html",
            survey=survey,
            questions=questions,
            form=form,
            token="preview",
            first_name=PREVIEW_FIRST_NAME,
            **brand_page_variables(current_brand(session)),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    # The editor shows this page in a frame; other sites still may not.
    response.headers["Content-Security-Policy"] = FRAMED_BY_THIS_SITE
    return response
