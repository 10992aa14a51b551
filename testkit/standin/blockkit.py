"""Slack's documented Block Kit limits, and the checker that finds a payload breaking them with
Slack's own error words (testkit.standin)."""

from __future__ import annotations

from typing import Any

# Documented Block Kit and message limits (https://docs.slack.dev/reference/block-kit).
MAX_MESSAGE_BLOCKS = 50

MAX_VIEW_BLOCKS = 100

MAX_MESSAGE_TEXT = 40_000

MAX_SECTION_TEXT = 3_000

MAX_SECTION_FIELDS = 10

MAX_SECTION_FIELD_TEXT = 2_000

MAX_HEADER_TEXT = 150

MAX_CONTEXT_ELEMENTS = 10

MAX_ACTIONS_ELEMENTS = 25

MAX_BUTTON_TEXT = 75

MAX_BUTTON_VALUE = 2_000

MAX_URL = 3_000

MAX_ACTION_ID = 255

MAX_BLOCK_ID = 255

MAX_VIEW_TITLE = 24

MAX_VIEW_BUTTON_TEXT = 24

MAX_PRIVATE_METADATA = 3_000

MAX_CALLBACK_ID = 255

MAX_EXTERNAL_ID = 255

MAX_INPUT_LABEL = 2_000

MAX_INPUT_HINT = 2_000

MAX_PLACEHOLDER = 150

MAX_SELECT_OPTIONS = 100

MAX_CHOICE_OPTIONS = 10  # radio_buttons and checkboxes

MAX_OVERFLOW_OPTIONS = 5

MAX_OPTION_TEXT = 75

MAX_OPTION_VALUE = 150

MAX_OPTION_DESCRIPTION = 75

MAX_TEXT_INPUT_LENGTH = 3_000

MAX_ALT_TEXT = 2_000

MAX_IMAGE_TITLE = 2_000

KNOWN_BLOCK_TYPES = frozenset(
    {"section", "header", "divider", "context", "actions", "input", "image", "rich_text"}
)

KNOWN_VIEW_TYPES = ("modal", "home")

_SELECT_TYPES = frozenset({"static_select", "multi_static_select"})

_PLACEHOLDER_ELEMENT_TYPES = frozenset(
    {
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "datepicker",
        "timepicker",
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
    }
)

KNOWN_ELEMENT_TYPES = _PLACEHOLDER_ELEMENT_TYPES | frozenset(
    {"button", "overflow", "radio_buttons", "checkboxes", "image", "datetimepicker"}
)


def _problem_too_long(pointer: str, limit: int) -> str:
    # Slack words a maximum of N characters as "less than N+1".
    return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{pointer}]"


def _problem_too_many(pointer: str, limit: int) -> str:
    return f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]"


def _problem_missing(pointer: str, name: str) -> str:
    return f"[ERROR] missing required field: {name} [json-pointer:{pointer}]"


class BlockKitChecker:
    """Collects Slack-style problem messages for blocks and views that break documented limits."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def _add(self, problem: str) -> None:
        self.problems.append(problem)

    def check_string(self, value: Any, pointer: str, limit: int) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self._add(f"[ERROR] must be a string [json-pointer:{pointer}]")
        elif len(value) > limit:
            self._add(_problem_too_long(pointer, limit))

    def check_text_object(
        self,
        obj: Any,
        pointer: str,
        limit: int,
        *,
        plain_text_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                parent, _, name = pointer.rpartition("/")
                self._add(_problem_missing(parent or "/", name))
            return
        if not isinstance(obj, dict):
            self._add(f"[ERROR] must be an object [json-pointer:{pointer}]")
            return
        allowed = ("plain_text",) if plain_text_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self._add(f"[ERROR] must be one of {', '.join(allowed)} [json-pointer:{pointer}/type]")
        text = obj.get("text")
        if not isinstance(text, str):
            self._add(_problem_missing(pointer, "text"))
        elif not text:
            self._add(f"[ERROR] must be more than 0 characters [json-pointer:{pointer}/text]")
        elif len(text) > limit:
            self._add(_problem_too_long(f"{pointer}/text", limit))

    def check_blocks(self, blocks: Any, pointer: str, max_blocks: int) -> None:
        if not isinstance(blocks, list):
            self._add(f"[ERROR] must be an array [json-pointer:{pointer}]")
            return
        if len(blocks) > max_blocks:
            self._add(_problem_too_many(pointer, max_blocks))
        seen_block_ids: set[str] = set()
        for index, block in enumerate(blocks):
            self.check_block(block, f"{pointer}/{index}", seen_block_ids)

    def check_block(self, block: Any, pointer: str, seen_block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self._add(f"[ERROR] must be an object [json-pointer:{pointer}]")
            return
        block_type = block.get("type")
        if block_type is None:
            self._add(_problem_missing(pointer, "type"))
            return
        if block_type not in KNOWN_BLOCK_TYPES:
            self._add(f"[ERROR] failed to match all allowed schemas [json-pointer:{pointer}]")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.check_string(block_id, f"{pointer}/block_id", MAX_BLOCK_ID)
            if block_id in seen_block_ids:
                self._add(
                    f"[ERROR] duplicate block_id value '{block_id}' "
                    f"[json-pointer:{pointer}/block_id]"
                )
            seen_block_ids.add(block_id)
        check = getattr(self, f"_check_{block_type}_block")
        check(block, pointer)

    def _check_section_block(self, block: dict[str, Any], pointer: str) -> None:
        text, fields = block.get("text"), block.get("fields")
        if text is None and fields is None:
            self._add(_problem_missing(pointer, "text"))
        if text is not None:
            self.check_text_object(text, f"{pointer}/text", MAX_SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list):
                self._add(f"[ERROR] must be an array [json-pointer:{pointer}/fields]")
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    self._add(_problem_too_many(f"{pointer}/fields", MAX_SECTION_FIELDS))
                for index, item in enumerate(fields):
                    self.check_text_object(
                        item, f"{pointer}/fields/{index}", MAX_SECTION_FIELD_TEXT
                    )
        accessory = block.get("accessory")
        if accessory is not None:
            self.check_element(accessory, f"{pointer}/accessory")

    def _check_header_block(self, block: dict[str, Any], pointer: str) -> None:
        self.check_text_object(
            block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_text_only=True
        )

    def _check_divider_block(self, block: dict[str, Any], pointer: str) -> None:
        return

    def _check_context_block(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self._add(_problem_missing(pointer, "elements"))
            return
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            self._add(_problem_too_many(f"{pointer}/elements", MAX_CONTEXT_ELEMENTS))
        for index, element in enumerate(elements):
            element_pointer = f"{pointer}/elements/{index}"
            if isinstance(element, dict) and element.get("type") == "image":
                self.check_element(element, element_pointer)
            else:
                self.check_text_object(element, element_pointer, MAX_SECTION_TEXT)

    def _check_actions_block(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self._add(_problem_missing(pointer, "elements"))
            return
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            self._add(_problem_too_many(f"{pointer}/elements", MAX_ACTIONS_ELEMENTS))
        seen_action_ids: set[str] = set()
        for index, element in enumerate(elements):
            element_pointer = f"{pointer}/elements/{index}"
            self.check_element(element, element_pointer)
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if action_id is not None:
                if action_id in seen_action_ids:
                    self._add(
                        f"[ERROR] duplicate action_id value '{action_id}' "
                        f"[json-pointer:{element_pointer}/action_id]"
                    )
                seen_action_ids.add(action_id)

    def _check_input_block(self, block: dict[str, Any], pointer: str) -> None:
        self.check_text_object(
            block.get("label"), f"{pointer}/label", MAX_INPUT_LABEL, plain_text_only=True
        )
        self.check_text_object(
            block.get("hint"),
            f"{pointer}/hint",
            MAX_INPUT_HINT,
            plain_text_only=True,
            required=False,
        )
        element = block.get("element")
        if element is None:
            self._add(_problem_missing(pointer, "element"))
        else:
            self.check_element(element, f"{pointer}/element")

    def _check_image_block(self, block: dict[str, Any], pointer: str) -> None:
        if block.get("image_url") is None and block.get("slack_file") is None:
            self._add(_problem_missing(pointer, "image_url"))
        self.check_string(block.get("image_url"), f"{pointer}/image_url", MAX_URL)
        if block.get("alt_text") is None:
            self._add(_problem_missing(pointer, "alt_text"))
        self.check_string(block.get("alt_text"), f"{pointer}/alt_text", MAX_ALT_TEXT)
        self.check_text_object(
            block.get("title"),
            f"{pointer}/title",
            MAX_IMAGE_TITLE,
            plain_text_only=True,
            required=False,
        )

    def _check_rich_text_block(self, block: dict[str, Any], pointer: str) -> None:
        if not isinstance(block.get("elements"), list):
            self._add(_problem_missing(pointer, "elements"))

    def check_element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict):
            self._add(f"[ERROR] must be an object [json-pointer:{pointer}]")
            return
        element_type = element.get("type")
        if element_type is None:
            self._add(_problem_missing(pointer, "type"))
            return
        if element_type not in KNOWN_ELEMENT_TYPES:
            self._add(f"[ERROR] failed to match all allowed schemas [json-pointer:{pointer}]")
            return
        self.check_string(element.get("action_id"), f"{pointer}/action_id", MAX_ACTION_ID)
        if element_type in _PLACEHOLDER_ELEMENT_TYPES:
            self.check_text_object(
                element.get("placeholder"),
                f"{pointer}/placeholder",
                MAX_PLACEHOLDER,
                plain_text_only=True,
                required=False,
            )
        if element_type == "button":
            self.check_text_object(
                element.get("text"), f"{pointer}/text", MAX_BUTTON_TEXT, plain_text_only=True
            )
            self.check_string(element.get("value"), f"{pointer}/value", MAX_BUTTON_VALUE)
            self.check_string(element.get("url"), f"{pointer}/url", MAX_URL)
        elif element_type in _SELECT_TYPES:
            self._check_select_options(element, pointer)
        elif element_type in ("radio_buttons", "checkboxes"):
            self._check_options(element.get("options"), f"{pointer}/options", MAX_CHOICE_OPTIONS)
        elif element_type == "overflow":
            self._check_options(element.get("options"), f"{pointer}/options", MAX_OVERFLOW_OPTIONS)
        elif element_type == "plain_text_input":
            for name in ("max_length", "min_length"):
                length = element.get(name)
                if isinstance(length, int) and length > MAX_TEXT_INPUT_LENGTH:
                    self._add(
                        f"[ERROR] must be less than {MAX_TEXT_INPUT_LENGTH + 1} "
                        f"[json-pointer:{pointer}/{name}]"
                    )
        elif element_type == "image":
            self.check_string(element.get("alt_text"), f"{pointer}/alt_text", MAX_ALT_TEXT)

    def _check_select_options(self, element: dict[str, Any], pointer: str) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if options is None and groups is None:
            self._add(_problem_missing(pointer, "options"))
            return
        if options is not None:
            self._check_options(options, f"{pointer}/options", MAX_SELECT_OPTIONS)
        if groups is not None:
            if not isinstance(groups, list):
                self._add(f"[ERROR] must be an array [json-pointer:{pointer}/option_groups]")
                return
            if len(groups) > MAX_SELECT_OPTIONS:
                self._add(_problem_too_many(f"{pointer}/option_groups", MAX_SELECT_OPTIONS))
            for index, group in enumerate(groups):
                group_pointer = f"{pointer}/option_groups/{index}"
                if not isinstance(group, dict):
                    self._add(f"[ERROR] must be an object [json-pointer:{group_pointer}]")
                    continue
                self.check_text_object(
                    group.get("label"),
                    f"{group_pointer}/label",
                    MAX_OPTION_TEXT,
                    plain_text_only=True,
                )
                self._check_options(
                    group.get("options"), f"{group_pointer}/options", MAX_SELECT_OPTIONS
                )

    def _check_options(self, options: Any, pointer: str, max_options: int) -> None:
        if not isinstance(options, list) or not options:
            parent, _, name = pointer.rpartition("/")
            self._add(_problem_missing(parent, name))
            return
        if len(options) > max_options:
            self._add(_problem_too_many(pointer, max_options))
        for index, option in enumerate(options):
            option_pointer = f"{pointer}/{index}"
            if not isinstance(option, dict):
                self._add(f"[ERROR] must be an object [json-pointer:{option_pointer}]")
                continue
            self.check_text_object(option.get("text"), f"{option_pointer}/text", MAX_OPTION_TEXT)
            value = option.get("value")
            if value is None:
                self._add(_problem_missing(option_pointer, "value"))
            self.check_string(value, f"{option_pointer}/value", MAX_OPTION_VALUE)
            self.check_text_object(
                option.get("description"),
                f"{option_pointer}/description",
                MAX_OPTION_DESCRIPTION,
                required=False,
            )

    def check_view(self, view: Any, *, allowed_types: tuple[str, ...] = KNOWN_VIEW_TYPES) -> None:
        pointer = "/view"
        if not isinstance(view, dict):
            self._add(f"[ERROR] must be an object [json-pointer:{pointer}]")
            return
        view_type = view.get("type")
        if view_type is None:
            self._add(_problem_missing(pointer, "type"))
            return
        if view_type not in allowed_types:
            self._add(
                f"[ERROR] must be one of {', '.join(allowed_types)} [json-pointer:{pointer}/type]"
            )
            return
        if view_type == "modal":
            self.check_text_object(
                view.get("title"), f"{pointer}/title", MAX_VIEW_TITLE, plain_text_only=True
            )
            for button in ("submit", "close"):
                self.check_text_object(
                    view.get(button),
                    f"{pointer}/{button}",
                    MAX_VIEW_BUTTON_TEXT,
                    plain_text_only=True,
                    required=False,
                )
        blocks = view.get("blocks")
        if blocks is None:
            self._add(_problem_missing(pointer, "blocks"))
        else:
            self.check_blocks(blocks, f"{pointer}/blocks", MAX_VIEW_BLOCKS)
            has_input = isinstance(blocks, list) and any(
                isinstance(block, dict) and block.get("type") == "input" for block in blocks
            )
            if view_type == "modal" and has_input and view.get("submit") is None:
                self._add(
                    "[ERROR] must provide a submit property when using input blocks "
                    f"[json-pointer:{pointer}]"
                )
        self.check_string(
            view.get("private_metadata"), f"{pointer}/private_metadata", MAX_PRIVATE_METADATA
        )
        self.check_string(view.get("callback_id"), f"{pointer}/callback_id", MAX_CALLBACK_ID)
        self.check_string(view.get("external_id"), f"{pointer}/external_id", MAX_EXTERNAL_ID)
