"""Availability check family: probes and up/down state, TLS certificates, HTTP→HTTPS, IPv6."""
