"""Scheduled work: each job finds what is due (by indexed due times) and calls use cases that
write outbox rows; the tick's outbox dispatch sends them (bot.app.build_ticker)."""
