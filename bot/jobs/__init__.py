"""Scheduled work: each module's `scheduled_jobs(deps)` gives `(name, job)` pairs the scheduler's
tick runs (bot.scheduler); a job finds due work, calls use cases in units of work and queues
what they cause in the outbox, which the tick's dispatch (or the dispatcher's wake) sends."""
