"""The base for every wire model: proto3-JSON parsing rules.

Clients mix casings (google-genai sends ``generationConfig`` with ``voice_config`` inside it),
Flutter sends explicit ``null`` for absent fields, and newer clients send fields we do not know
yet. So every field is accepted in lowerCamelCase and snake_case, ``null`` means absent, and
unknown fields are kept aside (``model_extra``) so the decoder can log them or, in strict mode,
refuse them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
    )

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data

    def unknown_fields(self, path: str = "") -> list[tuple[str, str]]:
        """``(name, path)`` for every field no model declares, in this model and the ones inside it.

        Paths are snake_case like Google's error messages (``setup.generation_config``).
        """
        found = [(name, path) for name in (self.model_extra or {})]
        for name in type(self).model_fields:
            value = getattr(self, name)
            child_path = f"{path}.{name}" if path else name
            children = value if isinstance(value, list) else [value]
            for child in children:
                if isinstance(child, WireModel):
                    found.extend(child.unknown_fields(child_path))
        return found


def normalize_enum(value: str | None) -> str | None:
    """Enums are UPPER_SNAKE on the wire; tolerate ``audio``, ``Audio`` or ``no-interruption``."""
    if value is None:
        return None
    return value.strip().upper().replace("-", "_").replace(" ", "_")
