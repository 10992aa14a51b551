"""Pure Block Kit builders: values in (from bot.domain), message and view dicts out.

Every builder is made of the shared kit (bot.blocks.kit), so each Block Kit shape is written
once. Builders never import use cases or storage, and use cases never import builders: the
values between them live in the domain (import-linter checks it, see pyproject.toml).
"""
