"""Dark-links check family: concealed spam links, cloaking, hijacked heads and script redirects."""
