"""Scheduled work: each module's jobs find what is due, call use cases in units of work and
leave what they cause in the outbox (bot.dispatcher sends it, on the same tick)."""
