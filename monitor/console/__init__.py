"""The web console (``monitor web``, issue 23): triage and rectification (整改闭环) in a browser.

Server-rendered pages (aiohttp + Jinja2) that work without JavaScript. The console reads the store through
:mod:`monitor.store.triage` on its own read-only connection (a reader never waits for the daemon's
writes) and records every action as a finding event with its actor and reason. See docs/console.md.
"""
