"""Reading a response as a page: elements by id, name, role or text, over BeautifulSoup.

Tests ask the page what a person (or a screen reader) would find on it: the row of a
table, the errors tied to a field, the flash messages, the value a form would send.
Every finder that expects one element fails with what it looked for, not with None.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

CONTROLS = ("input", "select", "textarea")


def words(text: str) -> str:
    """The text with its runs of spaces and line breaks made single spaces."""
    return " ".join(text.split())


def text_of(element: Tag) -> str:
    """What the element says, as one line (its markup's own spaces and line breaks count, as
    in a browser: "<strong>Dana</strong>." is "Dana.")."""
    return words(element.get_text())


class Page:
    """One HTML page, parsed."""

    def __init__(self, html: str):
        self.html = html
        self.soup = BeautifulSoup(html, "html.parser")
        for line_break in self.soup.find_all("br"):
            # A line break separates words on screen, so it does in the text we read too.
            line_break.replace_with("\n")

    @property
    def text(self) -> str:
        return text_of(self.soup)

    # --- finding elements --------------------------------------------------------------

    def find(self, selector: str, within: Tag | None = None) -> Tag | None:
        """The first element that matches the CSS selector, or None."""
        return (within or self.soup).select_one(selector)

    def one(self, selector: str, within: Tag | None = None) -> Tag:
        """The only element that matches the CSS selector."""
        found = (within or self.soup).select(selector)
        assert len(found) == 1, f"{len(found)} elements match {selector!r}"
        return found[0]

    def all(self, selector: str, within: Tag | None = None) -> list[Tag]:
        return (within or self.soup).select(selector)

    def has_id(self, element_id: str) -> bool:
        return self.soup.find(id=element_id) is not None

    def by_id(self, element_id: str) -> Tag:
        element = self.soup.find(id=element_id)
        assert element is not None, f"no element with id {element_id!r}"
        return element

    def by_label(self, aria_label: str, within: Tag | None = None) -> Tag:
        """The element whose aria-label is exactly this."""
        element = (within or self.soup).find(attrs={"aria-label": aria_label})
        assert element is not None, f"no element labelled {aria_label!r}"
        return element

    def region(self, name: str) -> Tag:
        """The element named by a heading that says exactly this (aria-labelledby), or by
        an aria-label: a section of the page as assistive technology names it."""
        for element in self.soup.find_all(attrs={"aria-labelledby": True}):
            heading = self.soup.find(id=element["aria-labelledby"])
            if heading is not None and text_of(heading) == name:
                return element
        return self.by_label(name)

    def by_role(self, role: str, within: Tag | None = None) -> list[Tag]:
        """Elements with this explicit role attribute."""
        return (within or self.soup).find_all(attrs={"role": role})

    def links(self, within: Tag | None = None) -> dict[str, str]:
        """Each link's text and where it goes."""
        return {text_of(a): a.get("href", "") for a in (within or self.soup).find_all("a")}

    def link(self, text: str, within: Tag | None = None) -> Tag:
        """The link that says exactly this."""
        return self._by_text("a", text, within)

    def button(self, text: str, within: Tag | None = None) -> Tag:
        """The button that says exactly this."""
        return self._by_text("button", text, within)

    def buttons(self, within: Tag | None = None) -> list[str]:
        """What every button says."""
        return [text_of(button) for button in (within or self.soup).find_all("button")]

    def _by_text(self, tag: str, text: str, within: Tag | None) -> Tag:
        found = [e for e in (within or self.soup).find_all(tag) if text_of(e) == text]
        assert found, f"no <{tag}> says {text!r}"
        return found[0]

    # --- what the page says ------------------------------------------------------------

    def flashes(self) -> list[str]:
        """The messages at the top of the page (flashes, and the alert a refused action
        shows), in order."""
        return [text_of(p) for p in self.soup.select("p.flash[role]")]

    def stats(self, within: Tag | None = None) -> dict[str, str]:
        """The big numbers (`.stat`): each one's label and value."""
        return {
            text_of(stat.select_one(".stat-label")): text_of(stat.select_one(".stat-value"))
            for stat in (within or self.soup).select(".stat")
        }

    def definitions(self, within: Tag | None = None) -> dict[str, str]:
        """A definition list's terms and what each says (the first list, or the one within)."""
        found = within if within is not None and within.name == "dl" else None
        found = found or (within or self.soup).find("dl")
        assert found is not None, "no definition list"
        return {text_of(dt): text_of(dt.find_next_sibling("dd")) for dt in found.find_all("dt")}

    def items(self, within: Tag) -> list[str]:
        """What each list item within the element says."""
        return [text_of(li) for li in within.find_all("li")]

    def table_rows(self, table: Tag | str | None = None) -> list[dict[str, str]]:
        """The body rows of a table (an element, an id, or the only table on the page) as
        dicts from each column's heading to the cell's text. Rows with an id carry it as "id"."""
        if table is None:
            table = self.one("table")
        elif isinstance(table, str):
            table = self.by_id(table)
        headings = [text_of(th) for th in table.select("thead th")]
        rows = []
        for tr in table.select("tbody tr"):
            cells = [text_of(cell) for cell in tr.find_all(["td", "th"], recursive=False)]
            row = dict(zip(headings, cells, strict=False))
            if tr.get("id"):
                row["id"] = tr["id"]
            rows.append(row)
        return rows

    # --- forms -------------------------------------------------------------------------

    def form_actions(self) -> list[str]:
        """Where each form of the page posts (paths, without query strings)."""
        return [urlsplit(form.get("action", "")).path for form in self.soup.find_all("form")]

    def form(self, action: str) -> Tag:
        """The first form that posts to this path (whatever its query string)."""
        for form in self.soup.find_all("form"):
            if urlsplit(form.get("action", "")).path == action:
                return form
        raise AssertionError(f"no form posts to {action!r}")

    def field(self, name: str, within: Tag | None = None) -> Tag:
        """The first form control with this name."""
        controls = (within or self.soup).find_all(CONTROLS, attrs={"name": name})
        assert controls, f"no form field named {name!r}"
        return controls[0]

    def field_value(self, name: str, within: Tag | None = None) -> str | list[str] | None:
        """What the form would send for this name: the text of a text box or area, the
        chosen option, or the list of checked boxes' values (None when nothing is chosen)."""
        controls = (within or self.soup).find_all(CONTROLS, attrs={"name": name})
        assert controls, f"no form field named {name!r}"
        first = controls[0]
        if first.name == "textarea":
            # WTForms writes a line break after the tag, which browsers drop, as HTML says.
            text = first.get_text()
            return text.removeprefix("\r\n") if text.startswith("\r\n") else text.removeprefix("\n")
        if first.name == "select":
            chosen = first.find("option", selected=True) or first.find("option")
            return None if chosen is None else chosen.get("value", chosen.get_text())
        if first.get("type") == "checkbox":
            return [c.get("value", "on") for c in controls if c.has_attr("checked")]
        if first.get("type") == "radio":
            checked = [c.get("value", "on") for c in controls if c.has_attr("checked")]
            return checked[0] if checked else None
        return first.get("value", "")

    def options(self, name: str, within: Tag | None = None) -> dict[str, str]:
        """A select's options: value to what it says."""
        return {
            option.get("value", text_of(option)): text_of(option)
            for option in self.field(name, within).find_all("option")
        }

    def checked(self) -> set[tuple[str, str]]:
        """(name, value) of every checked box and radio button."""
        return {
            (control["name"], control.get("value", "on"))
            for control in self.soup.find_all("input", checked=True)
            if control.has_attr("name")
        }

    def field_errors(self, name: str, within: Tag | None = None) -> list[str]:
        """The error messages tied to the field with this name (by its aria-describedby,
        or else its id), as a screen reader would announce them."""
        control = self.field(name, within)
        described = (control.get("aria-describedby") or "").split()
        ids = [i for i in described if i.endswith("-errors")] or [f"{control.get('id')}-errors"]
        errors = self.soup.find(id=ids[0])
        return [] if errors is None else [text_of(li) for li in errors.find_all("li")]

    def hidden_fields(self, form: Tag) -> dict[str, str]:
        """The hidden inputs of a form, name to value."""
        return {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}


def page(response_or_html) -> Page:
    """The page of a test client's response (or of HTML text)."""
    if isinstance(response_or_html, str):
        return Page(response_or_html)
    return Page(response_or_html.get_data(as_text=True))
