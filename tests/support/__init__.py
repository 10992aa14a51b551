"""Shared test helpers: the live app, the Slack driver, databases, factories. Never tests."""
