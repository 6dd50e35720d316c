"""Instant alerts (即时告警): a veto-level problem reaches the duty officer within minutes.

- :mod:`.transitions` reads what changed from the store (findings opened or reopened, targets down or up,
  duties failing night after night, the monitor offline), never the same open problem twice;
- :mod:`.rules` routes each transition to channels and holds the non-urgent ones during quiet hours;
- :mod:`.compose` writes the Chinese messages (grouped per run and problem type, Markdown or plain text,
  crawled content inert);
- :mod:`.queue` puts them in the durable outbox; :mod:`.send` delivers them through Apprise, at most twice.

The daemon calls :func:`.queue.queue_alerts` when a duty finishes and :func:`.send.drain` to deliver.
Importing this package imports nothing else: the daemon writes its heartbeat (:mod:`.transitions`)
without loading the rest.
"""
