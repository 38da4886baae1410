"""Every field editor, in one place: importing this module registers all of them.

The editors live by idea in :mod:`.base` (the base class, context and registry), :mod:`.inputs`
(text, numbers, dates and times), :mod:`.choices` (vocabularies, yes/no, references),
:mod:`.computed`, :mod:`.scope` (a scope of fields and the groups), :mod:`.body_map` and
:mod:`.consent`. Forms import from here so that every type has its editor.
"""

from __future__ import annotations

from fieldkit.ui.forms import body_map as _body_map  # noqa: F401  (registers the body map)
from fieldkit.ui.forms import consent as _consent  # noqa: F401  (registers the consent table)
from fieldkit.ui.forms.base import (
    EditorFactory,
    FieldWidget,
    FormContext,
    RefOptions,
    RefProvider,
    editor_for,
    make_editor,
    register_editor,
    split_path,
)
from fieldkit.ui.forms.choices import (
    CheckList,
    ChoiceField,
    MultiChoiceField,
    RefField,
    SearchableCombo,
    YesNoField,
    term_tooltip,
)
from fieldkit.ui.forms.computed import ComputedField, format_minutes
from fieldkit.ui.forms.inputs import (
    DateField,
    DateTimeField,
    LongTextField,
    NumberField,
    TextField,
    TimeField,
    format_number,
    parse_number,
)
from fieldkit.ui.forms.scope import (
    LABEL_WIDTH,
    WIDE_TYPES,
    FieldRow,
    FieldsForm,
    GroupField,
    RepeatableGroupField,
)

__all__ = [
    "LABEL_WIDTH",
    "WIDE_TYPES",
    "CheckList",
    "ChoiceField",
    "ComputedField",
    "DateField",
    "DateTimeField",
    "EditorFactory",
    "FieldRow",
    "FieldWidget",
    "FieldsForm",
    "FormContext",
    "GroupField",
    "LongTextField",
    "MultiChoiceField",
    "NumberField",
    "RefField",
    "RefOptions",
    "RefProvider",
    "RepeatableGroupField",
    "SearchableCombo",
    "TextField",
    "TimeField",
    "YesNoField",
    "editor_for",
    "format_minutes",
    "format_number",
    "make_editor",
    "parse_number",
    "register_editor",
    "split_path",
    "term_tooltip",
]
