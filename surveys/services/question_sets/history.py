"""What changed between two published versions of a question set, in words (the reader's
language: the history page computes them as it renders)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext


@dataclass
class QuestionChange:
    """What changed about one question between two versions, in words."""

    key: str
    kind: str  # added, removed, changed
    details: list[str] = field(default_factory=list)


@dataclass
class VersionDiff:
    changes: list[QuestionChange]
    order_before: list[str] | None = None
    order_after: list[str] | None = None

    @property
    def empty(self) -> bool:
        return not self.changes and self.order_before is None


def diff_documents(old: list[dict], new: list[dict]) -> VersionDiff:
    """What changed from one version's questions to the next's."""
    old_by_key = {q["key"]: q for q in old}
    new_by_key = {q["key"]: q for q in new}
    changes: list[QuestionChange] = []
    for question in new:
        key = question["key"]
        if key not in old_by_key:
            changes.append(QuestionChange(key, "added", [question["text"]]))
            continue
        details = _question_differences(old_by_key[key], question)
        if details:
            changes.append(QuestionChange(key, "changed", details))
    for question in old:
        if question["key"] not in new_by_key:
            changes.append(QuestionChange(question["key"], "removed", [question["text"]]))
    kept_before = [q["key"] for q in old if q["key"] in new_by_key]
    kept_after = [q["key"] for q in new if q["key"] in old_by_key]
    if kept_before != kept_after:
        return VersionDiff(changes, kept_before, kept_after)
    return VersionDiff(changes)


def _question_differences(old: dict, new: dict) -> list[str]:
    details = []
    if old["type"] != new["type"]:
        details.append(_("type: %(before)s → %(after)s", before=old["type"], after=new["type"]))
    if old["text"] != new["text"]:
        details.append(_("text: “%(before)s” → “%(after)s”", before=old["text"], after=new["text"]))
    details.extend(_translation_differences(None, old.get("translations"), new.get("translations")))
    if old["required"] != new["required"]:
        details.append(_("now required") if new["required"] else _("no longer required"))
    if (old.get("min"), old.get("max")) != (new.get("min"), new.get("max")) and new[
        "type"
    ] == "scale":
        details.append(
            _(
                "scale: %(before)s → %(after)s",
                before=f"{old.get('min')}–{old.get('max')}",
                after=f"{new.get('min')}–{new.get('max')}",
            )
        )
    details.extend(_option_differences(old.get("options") or [], new.get("options") or []))
    if old.get("negative") != new.get("negative"):
        details.append(
            _(
                "negative when: %(before)s → %(after)s",
                before=describe_rule(old),
                after=describe_rule(new),
            )
        )
        details.extend(_word_differences(old.get("negative"), new.get("negative")))
    return details


def _translation_differences(option: str | None, old: dict | None, new: dict | None) -> list[str]:
    """Languages whose text (or `option`'s label) was added or removed (one line each), and
    each text reworded."""
    old, new = old or {}, new or {}
    added = [tag for tag in new if tag not in old]
    removed = [tag for tag in old if tag not in new]
    details = []
    if added:
        languages = ", ".join(added)
        details.append(
            _("text added in %(languages)s", languages=languages)
            if option is None
            else _("option %(value)s added in %(languages)s", value=option, languages=languages)
        )
    for tag in new:
        if tag in old and old[tag] != new[tag]:
            details.append(
                _(
                    "text (%(language)s): “%(before)s” → “%(after)s”",
                    language=tag,
                    before=old[tag],
                    after=new[tag],
                )
                if option is None
                else _(
                    "option %(value)s (%(language)s): “%(before)s” → “%(after)s”",
                    value=option,
                    language=tag,
                    before=old[tag],
                    after=new[tag],
                )
            )
    if removed:
        languages = ", ".join(removed)
        details.append(
            _("text removed in %(languages)s", languages=languages)
            if option is None
            else _("option %(value)s removed in %(languages)s", value=option, languages=languages)
        )
    return details


def _words_by_language(words) -> dict[str, list[str]]:
    # A single list is the default language's (English unless the shop chose another).
    if isinstance(words, dict):
        return words
    return {"en": words} if words else {}


def _word_differences(old: dict | None, new: dict | None) -> list[str]:
    # A long word list reads "mentions any of 62 words" in the rule; say which ones changed.
    old_lists = _words_by_language((old or {}).get("words"))
    new_lists = _words_by_language((new or {}).get("words"))
    per_language = isinstance((new or {}).get("words"), dict) or isinstance(
        (old or {}).get("words"), dict
    )
    details = []
    for tag in [*new_lists, *(tag for tag in old_lists if tag not in new_lists)]:
        old_words, new_words = old_lists.get(tag) or [], new_lists.get(tag) or []
        if not old_words and new_words and per_language and old_lists:
            listed = ", ".join(new_words[:WORDS_NAMED])
            details.append(_("words (%(language)s) listed: %(words)s", language=tag, words=listed))
            continue
        if not (old_words and new_words):
            continue
        added = ", ".join(word for word in new_words if word not in old_words)
        removed = ", ".join(word for word in old_words if word not in new_words)
        if added:
            details.append(
                _("words added (%(language)s): %(words)s", language=tag, words=added)
                if per_language
                else _("words added: %(words)s", words=added)
            )
        if removed:
            details.append(
                _("words removed (%(language)s): %(words)s", language=tag, words=removed)
                if per_language
                else _("words removed: %(words)s", words=removed)
            )
    return details


def _option_differences(old: list[dict], new: list[dict]) -> list[str]:
    old_labels = {o["value"]: o["label"] for o in old}
    new_labels = {o["value"]: o["label"] for o in new}
    old_translations = {o["value"]: o.get("translations") for o in old}
    details = []
    for option in new:
        if option["value"] in old_labels:
            details.extend(
                _translation_differences(
                    option["value"],
                    old_translations[option["value"]],
                    option.get("translations"),
                )
            )
    for value, label in new_labels.items():
        if value not in old_labels:
            details.append(_("option added: %(value)s (“%(label)s”)", value=value, label=label))
        elif old_labels[value] != label:
            details.append(
                _(
                    "option %(value)s relabelled: “%(before)s” → “%(after)s”",
                    value=value,
                    before=old_labels[value],
                    after=label,
                )
            )
    for value in old_labels:
        if value not in new_labels:
            details.append(_("option removed: %(value)s", value=value))
    kept_old = [v for v in old_labels if v in new_labels]
    kept_new = [v for v in new_labels if v in old_labels]
    if kept_old != kept_new:
        details.append(
            _(
                "options reordered: %(before)s → %(after)s",
                before=", ".join(kept_old),
                after=", ".join(kept_new),
            )
        )
    return details


# How many of a rule's words its description names before "and N more".
WORDS_NAMED = 5


def describe_rule(question: dict) -> str:
    """A question's negative rule in words: "short", "at most 6", "tone below -0.4", "never"."""
    rule = question.get("negative")
    if not rule:
        return _("never")
    if "values" in rule:
        return _either(rule["values"])
    if "at_most" in rule:
        return _("at most %(number)s", number=rule["at_most"])
    parts = []
    if rule.get("sentiment_below") is not None:
        parts.append(_("tone below %(threshold)s", threshold=f"{rule['sentiment_below']:g}"))
    lists = _words_by_language(rule.get("words"))
    words = lists.get("en") or next(iter(lists.values()), [])
    if words:
        named = ", ".join(words[:WORDS_NAMED])
        more = len(words) - WORDS_NAMED
        mentions = (
            ngettext(
                "mentions %(words)s or %(num)d more word",
                "mentions %(words)s or %(num)d more words",
                more,
                words=named,
            )
            if more > 0
            else _("mentions %(words)s", words=named)
        )
        if isinstance(rule.get("words"), dict) and len(lists) > 1:
            mentions = _(
                "%(rule)s (lists in %(languages)s)", rule=mentions, languages=", ".join(lists)
            )
        parts.append(mentions)
    if rule.get("not_empty"):
        parts.append(_("any answer"))
    return _either(parts) if parts else _("never")


def _either(alternatives: list[str]) -> str:
    """ "a or b or c", in the reader's language."""
    if not alternatives:
        return ""
    text = alternatives[0]
    for alternative in alternatives[1:]:
        text = _("%(one)s or %(other)s", one=text, other=alternative)
    return text
