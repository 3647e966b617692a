"""Form pieces shared by the screens."""
from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from wtforms import SelectField
from wtforms.validators import StopValidation
from wtforms.widgets import Select


class PromptSelect(Select):
    """A ``<select>`` whose first entry is the field's empty prompt ("please choose"),
    selected while the field holds no value."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        html = str(super().__call__(field, **kwargs))
        head, _, rest = html.partition(">")  # attribute values are escaped: no bare ">"
        chosen = "selected " if field.data in (None, "") else ""
        return Markup(f'{head}><option {chosen}value="">{escape(field.prompt)}</option>{rest}')


class PromptSelectField(SelectField):
    """A select that opens on an empty entry, so that nothing the user did not pick is
    preselected (the first inspector, the first role, the county).  With ``required`` (the
    message) the empty entry is refused; without it, empty means "any" (a list filter)."""

    widget = PromptSelect()

    def __init__(self, label: Any = None, validators: Any = None, *, prompt: Any,
                 required: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.prompt = prompt
        self.required = required

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and valuelist[0] == "":
            self.data = None
            return
        super().process_formdata(valuelist)

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            if self.required:
                raise StopValidation(self.required)
            return
        super().pre_validate(form)
