"""The application: the command line, the daemon and its schedule, systemd notification, duty locks
and the demo."""
